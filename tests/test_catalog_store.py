"""Hot reload: an edit is seen by the next match; a broken edit keeps the last good
catalogue in service and records the error for the dashboard."""

from __future__ import annotations

import os
import shutil
from datetime import date
from pathlib import Path

import pytest

from bot import PROJECT_ROOT
from bot.catalog import store as store_module
from bot.catalog.store import CatalogStatus, CatalogStore
from bot.orientation.matching import Profile, match

# The catalogue's facts were re-checked on 7 December 2026 (every `verified_on`).
TODAY = date(2026, 12, 7)
SHIPPED_COUNT = 24  # the 20 required programmes and the 4 added in issue 18


@pytest.fixture
def catalog_dir(tmp_path) -> Path:
    directory = tmp_path / "orientation_catalog"
    shutil.copytree(PROJECT_ROOT / "orientation_catalog", directory)
    return directory


def edit(path: Path, old: str, new: str) -> None:
    """Replace text in a file and move its modification time forward, as an editor would."""
    text = path.read_text(encoding="utf-8")
    assert old in text
    stat = path.stat()
    path.write_text(text.replace(old, new), encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


# Intelaka rather than Forsa: Forsa is paused (no call since 2023), never offered.
def intelaka_offered(store: CatalogStore, amount: int) -> bool:
    profile = Profile(age=25, goal="financing", project_stage="idea", amount=amount)
    return "intelaka" in match(profile, store.catalog, "fr", limit=20, today=TODAY).ids


def test_an_edit_is_seen_by_the_next_match(catalog_dir):
    store = CatalogStore(catalog_dir, today=lambda: TODAY)
    assert not intelaka_offered(store, 1_500_000)
    edit(catalog_dir / "intelaka.yml", "amount_max: 1200000", "amount_max: 2000000")
    assert intelaka_offered(store, 1_500_000)
    assert store.catalog.get("intelaka").eligibility.amount_max == 2_000_000


def test_a_broken_edit_keeps_the_last_good_catalogue(catalog_dir):
    changes: list[CatalogStatus] = []
    store = CatalogStore(catalog_dir, on_status_change=changes.append, today=lambda: TODAY)
    assert len(store.catalog) == SHIPPED_COUNT and store.status().ok
    first_loaded_at = store.status().loaded_at

    edit(catalog_dir / "intelaka.yml", "  age_min: 18", "  age_min: dix-huit")
    assert len(store.catalog) == SHIPPED_COUNT
    assert intelaka_offered(store, 50_000)  # the previous intelaka is still served
    status = store.status()
    assert not status.ok and status.serving_previous
    assert status.loaded_at == first_loaded_at
    [error] = status.errors
    assert error.file == "intelaka.yml" and error.line
    assert "age_min doit être un nombre" in str(error)
    assert status.as_dict()["errors"][0]["text"].startswith("intelaka.yml, ligne ")

    edit(catalog_dir / "intelaka.yml", "  age_min: dix-huit", "  age_min: 21")
    status = store.status()
    assert status.ok and not status.serving_previous
    assert store.catalog.get("intelaka").eligibility.age_min == 21
    assert [change.ok for change in changes] == [True, False, True]


def test_added_and_removed_files_are_seen(catalog_dir):
    store = CatalogStore(catalog_dir, today=lambda: TODAY)
    assert "ads-agr" in store.catalog
    (catalog_dir / "ads-agr.yml").unlink()
    assert "ads-agr" not in store.catalog and len(store.catalog) == SHIPPED_COUNT - 1
    sample = (PROJECT_ROOT / "tests" / "catalog_fixtures" / "sample.yml").read_text("utf-8")
    # The fixture copies Forsa's names; a name may name one programme only (issue 16).
    sample = sample.replace("Forsa", "Exemple").replace("فرصة", "مثال")
    (catalog_dir / "sample.yml").write_text(sample, "utf-8")
    assert "sample" in store.catalog and store.status().program_count == SHIPPED_COUNT


def test_no_reload_without_change(catalog_dir, monkeypatch):
    calls = []
    real_load = store_module.load_catalog
    monkeypatch.setattr(
        store_module, "load_catalog", lambda *a, **k: calls.append(1) or real_load(*a, **k)
    )
    store = CatalogStore(catalog_dir, today=lambda: TODAY)
    for _ in range(50):
        assert len(store.catalog) == SHIPPED_COUNT
    assert len(calls) == 1


def test_the_day_changing_refreshes_freshness_warnings(catalog_dir):
    today = [TODAY]
    store = CatalogStore(catalog_dir, today=lambda: today[0])
    # On TODAY, only Tahfiz warns (it closes on 31 December 2026, in less than 30 days).
    assert [w.file for w in store.status().warnings] == ["anapec-tahfiz.yml"]
    today[0] = date(2028, 1, 10)
    warnings = store.status().warnings
    # Stale after 6 months since issue 18; the 2 ended programmes are history (no warning)
    # and Tahfiz warns that its valid_until has passed.
    assert len(warnings) == SHIPPED_COUNT - 2
    assert sum("il y a plus de 6 mois" in str(w) for w in warnings) == SHIPPED_COUNT - 3


def test_a_failing_status_hook_does_not_stop_the_catalogue(catalog_dir):
    def hook(status: CatalogStatus) -> None:
        raise RuntimeError("database down")

    store = CatalogStore(catalog_dir, on_status_change=hook, today=lambda: TODAY)
    assert len(store.catalog) == SHIPPED_COUNT


def test_broken_catalogue_at_start_serves_the_valid_files(catalog_dir):
    edit(catalog_dir / "forsa.yml", "track:", "trak:")
    store = CatalogStore(catalog_dir, today=lambda: TODAY)
    assert len(store.catalog) == SHIPPED_COUNT - 1 and "forsa" not in store.catalog
    status = store.status()
    assert not status.ok and not status.serving_previous


def test_default_directory_comes_from_the_settings(catalog_dir, monkeypatch):
    from bot.settings import get_settings

    monkeypatch.setenv("BOUSLA_CATALOG_DIR", str(catalog_dir))
    get_settings.cache_clear()
    assert CatalogStore().directory == catalog_dir
