"""Communes, prefectures and regions that Bousla knows, and finding a commune in free text.

The data lives in `geography.yml` beside this file (content, not code). `find_commune`
reads what a young person wrote ("ana mn 3in 7rouda", "j'habite à Mohamedia",
"ساكن فالمحمدية") and returns a commune slug, tolerating case, accents, Arabic spelling
variants, attached prefixes (f-/b-/l-, ف/ب/ل/و) and small typos.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache
from pathlib import Path

import yaml

from bot.language.folding import fold

GEOGRAPHY_FILE = Path(__file__).with_name("geography.yml")

# Below this similarity a typo is not accepted; forms shorter than FUZZY_MIN_LENGTH
# letters must be written exactly (fuzzy "sla" would match far too much).
FUZZY_THRESHOLD = 0.84
FUZZY_MIN_LENGTH = 5

_LATIN_PREFIXES = ("f", "b", "l")
_ARABIC_PREFIXES = ("فال", "بال", "وال", "ف", "ب", "ل", "و")


@dataclass(frozen=True)
class Region:
    slug: str
    name: Mapping[str, str]


@dataclass(frozen=True)
class Prefecture:
    slug: str
    region: str
    name: Mapping[str, str]


@dataclass(frozen=True)
class Commune:
    slug: str
    prefecture: str
    region: str
    name: Mapping[str, str]
    forms: tuple[str, ...] = field(default=(), repr=False)


def _without_prefix(token: str) -> str | None:
    prefixes = _ARABIC_PREFIXES if "\u0600" <= token[:1] <= "\u06ff" else _LATIN_PREFIXES
    for prefix in prefixes:
        if token.startswith(prefix) and len(token) - len(prefix) >= 3:
            return token[len(prefix) :]
    return None


class Geography:
    """The places of `geography.yml`, indexed for lookups."""

    def __init__(self, data: dict) -> None:
        self.regions = {
            slug: Region(slug, entry["name"]) for slug, entry in data["regions"].items()
        }
        self.prefectures = {
            slug: Prefecture(slug, entry["region"], entry["name"])
            for slug, entry in data["prefectures"].items()
        }
        self.communes: dict[str, Commune] = {}
        self._forms: dict[str, str] = {}  # normalized form -> commune slug
        for slug, entry in data["communes"].items():
            prefecture = self.prefectures[entry["prefecture"]]
            written = [slug.replace("-", " "), *entry["name"].values(), *entry.get("forms", [])]
            forms = tuple(dict.fromkeys(fold(str(form), "place") for form in written))
            self.communes[slug] = Commune(
                slug, prefecture.slug, prefecture.region, entry["name"], forms
            )
            for form in forms:
                self._forms.setdefault(form, slug)
        self._not_places = {fold(str(word), "place") for word in data.get("not_places", [])}
        self._longest_form = max(len(form.split()) for form in self._forms)
        self._fuzzy_forms = [
            (form, fold(form, "place_skeleton"), slug)
            for form, slug in self._forms.items()
            if len(form.replace(" ", "")) >= FUZZY_MIN_LENGTH
        ]

    @classmethod
    def from_file(cls, path: Path = GEOGRAPHY_FILE) -> Geography:
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    def place_name(self, slug: str, language: str, kind: str = "commune") -> str:
        """Display name of a commune, prefecture or region (`kind`); the slug if unknown.

        Kinds matter: "mohammedia" is both a commune and a prefecture.
        """
        places = {"commune": self.communes, "prefecture": self.prefectures, "region": self.regions}
        place = places[kind].get(slug)
        if place is None:
            return slug
        return place.name.get(language) or place.name["fr"]

    def _candidates(self, text: str) -> list[str]:
        """Word sequences of the text (longest first), with and without attached prefixes."""
        tokens = fold(text, "place").split()
        candidates: list[str] = []
        for size in range(min(len(tokens), self._longest_form + 1), 0, -1):
            for start in range(len(tokens) - size + 1):
                words = tokens[start : start + size]
                candidates.append(" ".join(words))
                stripped = _without_prefix(words[0])
                if stripped:
                    candidates.append(" ".join([stripped, *words[1:]]))
        return candidates

    def find_commune(self, text: str) -> str | None:
        """Slug of the commune named in `text`, or None when none (or no clear one) is named."""
        if not text or not text.strip():
            return None
        candidates = self._candidates(text)
        for candidate in candidates:  # exact forms first, longest first
            if candidate in self._forms:
                return self._forms[candidate]
        best_slug, best_score = None, 0.0
        for candidate in candidates:
            if len(candidate.replace(" ", "")) < FUZZY_MIN_LENGTH - 1:
                continue
            if candidate in self._not_places:
                continue
            candidate_skeleton = fold(candidate, "place_skeleton")
            for form, form_skeleton, slug in self._fuzzy_forms:
                if abs(len(candidate) - len(form)) > max(3, len(form) // 3):
                    continue
                score = SequenceMatcher(None, candidate, form).ratio()
                if candidate_skeleton == form_skeleton and len(form_skeleton) >= 3:
                    score = max(score, 0.9)
                if score > best_score:
                    best_slug, best_score = slug, score
        return best_slug if best_score >= FUZZY_THRESHOLD else None

    def in_area(
        self,
        commune_slug: str,
        communes: list[str] | tuple[str, ...] = (),
        prefectures: list[str] | tuple[str, ...] = (),
        regions: list[str] | tuple[str, ...] = (),
    ) -> str | None:
        """The level ("commune", "prefecture", "region") at which a commune is in an area."""
        commune = self.communes.get(commune_slug)
        if commune is None:
            return None
        if commune.slug in communes:
            return "commune"
        if commune.prefecture in prefectures:
            return "prefecture"
        if commune.region in regions:
            return "region"
        return None


@lru_cache(maxsize=1)
def default_geography() -> Geography:
    return Geography.from_file()


def find_commune(text: str) -> str | None:
    """Slug of the commune named in free text (any script), or None. See `Geography`."""
    return default_geography().find_commune(text)


def get_commune(slug: str) -> Commune | None:
    return default_geography().communes.get(slug)


def place_name(slug: str, language: str = "fr", kind: str = "commune") -> str:
    return default_geography().place_name(slug, language, kind)
