"""`bousla bench catalog`: catalogue load time and match latency (no server needed).

Figures, each as p50/p95/mean over its runs:
- a bare YAML parse of the same files (same libyaml loader): the baseline for the full load;
- a cold load (parse with line numbers, schema, cross-file checks), what a reload costs;
- `CatalogStore.catalog` when nothing changed: what every match pays to notice edits;
- `match()` over the whole catalogue for a few hundred varied profiles.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import yaml

from bot.catalog.loader import FAST_LOADER, catalog_files, load_catalog
from bot.catalog.schema import EDUCATION_LEVELS, GOALS, PROJECT_STAGES, SECTORS, SITUATIONS
from bot.catalog.store import CatalogStore
from bot.language import LANGUAGES
from bot.ops.bench.stats import print_rows, summarize
from bot.orientation.geography import default_geography
from bot.orientation.matching import Profile, match


def varied_profiles(count: int, seed: int = 2026) -> list[Profile]:
    """Profiles with every field sometimes unknown, communes near and far, all languages."""
    rng = random.Random(seed)
    communes = list(default_geography().communes)

    def maybe(values: list | tuple) -> object:
        return rng.choice(values) if rng.random() < 0.75 else None

    return [
        Profile(
            age=maybe(list(range(14, 50))),
            education=maybe(EDUCATION_LEVELS),
            situation=maybe(SITUATIONS),
            goal=maybe(GOALS),
            commune=maybe(communes),
            project_stage=maybe(PROJECT_STAGES),
            sector=maybe(SECTORS),
            amount=maybe([5_000, 30_000, 80_000, 150_000, 500_000]),
        )
        for _ in range(count)
    ]


def _timed(function, repeats: int) -> list[float]:
    durations = []
    for _ in range(repeats):
        begun = time.perf_counter()
        function()
        durations.append(time.perf_counter() - begun)
    return durations


def run_benchmark(directory: Path, repeats: int = 20, profiles: int = 300) -> list[dict]:
    files = catalog_files(directory)
    program_count = len(load_catalog(directory).catalog)

    def parse_only() -> None:
        for path in files:
            yaml.load(path.read_text(encoding="utf-8"), Loader=FAST_LOADER)

    rows = [
        summarize(
            f"YAML parse only (libyaml), {len(files)} files, baseline", _timed(parse_only, repeats)
        ),
        summarize(
            f"cold load + validate, {program_count} programmes",
            _timed(lambda: load_catalog(directory), repeats),
        ),
    ]
    store = CatalogStore(directory)
    store.refresh()
    rows.append(summarize("store access, no change", _timed(lambda: store.catalog, 200)))

    catalog = store.catalog
    durations = []
    for index, profile in enumerate(varied_profiles(profiles)):
        language = LANGUAGES[index % len(LANGUAGES)]
        begun = time.perf_counter()
        match(profile, catalog, language, limit=3)
        durations.append(time.perf_counter() - begun)
    rows.append(summarize(f"match, {profiles} profiles x {program_count} programmes", durations))
    return rows


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("catalog", help="catalogue load time and match latency")
    parser.add_argument("--repeat", type=int, default=20, help="cold loads to time")
    parser.add_argument("--profiles", type=int, default=300, help="profiles to match")
    parser.add_argument("--catalog", type=Path, help="catalogue folder")
    parser.add_argument("--json", action="store_true")

    def handler(args: argparse.Namespace) -> int:
        from bot.settings import get_settings

        directory = args.catalog or get_settings().catalog_dir
        print_rows(run_benchmark(directory, args.repeat, args.profiles), as_json=args.json)
        return 0

    parser.set_defaults(handler=handler)
