"""The shape of one programme file of `orientation_catalog/` (pydantic 1.10 models).

Unknown fields are errors (`extra = forbid`) so that a typo ("agemin") never silently drops a
rule. Every text shown to young people is a `Translated` text with the three languages
fr / ary (Darija, Arabic script) / ary_latn (Darija, Latin letters). Error messages raised here
are in plain French: `loader.py` puts the file, line and field in front of them.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from pydantic import BaseModel, Extra, Field, PydanticValueError, root_validator, validator

from bot.language import LANGUAGES

EDUCATION_LEVELS = ("none", "primary", "college", "lycee", "bac", "bac+2", "bac+3", "bac+5")
SITUATIONS = ("student", "job_seeker", "employed", "self_employed", "not_in_school")
PROJECT_STAGES = ("idea", "started", "existing")
GOALS = ("job", "training", "project", "financing", "listening")
TRACKS = (
    "listening",
    "employability",
    "training",
    "entrepreneurship",
    "financing",
    "social_inclusion",
)
SECTORS = (
    "agriculture",
    "crafts",
    "trade",
    "services",
    "industry",
    "digital",
    "tourism",
    "food",
    "construction",
    "social_economy",
)
STATUSES = ("active", "paused", "ended", "to_confirm")
OPEN_STATUSES = ("active", "to_confirm")  # may be offered to young people
CLOSED_STATUSES = ("paused", "ended")  # never offered; answered by name with `status_note`
# What a programme is on a given day (`Program.status_on`): its status, or "expired" the day
# after its `valid_until` (an open programme past its date behaves like an ended one).
EXPIRED = "expired"

# Information checked longer ago than this is flagged (warning for staff, caution for users).
# The default of `BOUSLA_CATALOG_STALE_MONTHS` (bot/settings.py), which is what counts.
STALE_AFTER_MONTHS = 6

_SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_ARABIC_LETTER = re.compile(r"[\u0600-\u06FF]")
_LATIN_LETTER = re.compile(r"[A-Za-zÀ-ÿ]")
_PHONE = re.compile(r"^\+?[0-9][0-9 .-]{7,}$")


class NotANumberError(PydanticValueError):
    code = "not_a_number"
    msg_template = "doit être un nombre"


class NotADateError(PydanticValueError):
    code = "not_a_date"
    msg_template = "doit être une date"


class UnknownValueError(PydanticValueError):
    """A value outside a fixed list; `permitted` and `suggestion` feed the French message."""

    code = "unknown_value"
    msg_template = "valeur « {given} » inconnue"


class WholeNumber(int):
    """A whole number: 18, "18" or "100 000"; never a boolean ("yes") or 18.5."""

    @classmethod
    def __get_validators__(cls):
        yield cls.validate

    @classmethod
    def validate(cls, value: Any) -> int:
        if isinstance(value, bool):
            raise NotANumberError()
        if isinstance(value, int):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        if isinstance(value, str):
            digits = re.sub(r"[\s_\u202f\u00a0]", "", value)
            if digits.isdigit():
                return int(digits)
        raise NotANumberError()


class CatalogDate(date):
    """A calendar date written 2026-11-23 (YAML gives a `date`; a quoted one is a string)."""

    @classmethod
    def __get_validators__(cls):
        yield cls.validate

    @classmethod
    def validate(cls, value: Any) -> date:
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value.strip())
            except ValueError:
                pass
        raise NotADateError()


def one_of(value: Any, permitted: tuple[str, ...]) -> str:
    """`value` if it is in `permitted`, else an UnknownValueError that suggests the closest."""
    from difflib import get_close_matches

    if isinstance(value, str) and value in permitted:
        return value
    given = str(value)
    close = get_close_matches(given.lower(), permitted, n=1, cutoff=0.6)
    raise UnknownValueError(
        given=given, permitted=", ".join(permitted), suggestion=close[0] if close else ""
    )


def _each_one_of(field: str, permitted: tuple[str, ...]) -> Any:
    """A validator: every item of the list `field` is one of `permitted` (see `one_of`)."""

    def check(cls: Any, value: str) -> str:
        return one_of(value, permitted)

    return validator(field, each_item=True, allow_reuse=True)(check)


def _text(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        raise ValueError("doit être un texte")
    value = value.strip()
    if not value:
        raise ValueError("est vide")
    return value


def _as_list(value: Any) -> Any:
    """A single value where a list is expected is taken as a one-item list."""
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


class CatalogModel(BaseModel):
    class Config:
        extra = Extra.forbid
        allow_mutation = False


class Translated(CatalogModel):
    """One text in the three languages."""

    fr: str
    ary: str
    ary_latn: str

    @validator("fr", "ary", "ary_latn", pre=True)
    def _non_empty_text(cls, value: Any) -> str:
        return _text(value)

    @validator("ary")
    def _arabic_script(cls, value: str) -> str:
        if not _ARABIC_LETTER.search(value):
            raise ValueError("doit être écrit en lettres arabes")
        return value

    @validator("ary_latn")
    def _latin_script(cls, value: str) -> str:
        if _ARABIC_LETTER.search(value) or not _LATIN_LETTER.search(value):
            raise ValueError("doit être écrit en lettres latines (arabizi)")
        return value

    def get(self, language: str) -> str:
        return getattr(self, language, None) or self.fr


class TranslatedList(CatalogModel):
    """A list of short points in the three languages, the same points in each."""

    fr: list[str]
    ary: list[str]
    ary_latn: list[str]

    @validator("fr", "ary", "ary_latn", pre=True)
    def _list_of_texts(cls, value: Any) -> list[str]:
        items = _as_list(value)
        if not items:
            raise ValueError("est vide : écrivez au moins un point")
        return [_text(item) for item in items]

    @validator("ary")
    def _arabic_script(cls, items: list[str]) -> list[str]:
        for number, item in enumerate(items, start=1):
            if not _ARABIC_LETTER.search(item):
                raise ValueError(f"point {number} : doit être écrit en lettres arabes")
        return items

    @validator("ary_latn")
    def _latin_script(cls, items: list[str]) -> list[str]:
        for number, item in enumerate(items, start=1):
            if _ARABIC_LETTER.search(item):
                raise ValueError(f"point {number} : doit être écrit en lettres latines (arabizi)")
        return items

    @root_validator(skip_on_failure=True)
    def _same_number_of_points(cls, values: dict) -> dict:
        counts = {language: len(values[language]) for language in LANGUAGES}
        if len(set(counts.values())) > 1:
            detail = ", ".join(f"{language} : {count}" for language, count in counts.items())
            raise ValueError(f"chaque point doit être traduit ; nombre de points ({detail})")
        return values

    def get(self, language: str) -> list[str]:
        return getattr(self, language, None) or self.fr


class Aliases(CatalogModel):
    """Other ways young people write a programme's name, per script (all optional).

    The programme's `name` and these aliases feed `bot.catalog.names.find_programmes`, so a
    programme added by staff is recognised by name at once. `needs_context` lists the aliases
    that are also ordinary words ("forsa" / "فرصة" is "a chance"): they name the programme only
    alone, next to "programme" / "برنامج", or in a question (see names.py).
    """

    fr: list[str] = []
    ary: list[str] = []
    ary_latn: list[str] = []
    needs_context: list[str] = []

    @validator("fr", "ary", "ary_latn", "needs_context", pre=True)
    def _list_of_names(cls, value: Any) -> list[str]:
        return [_text(item) for item in _as_list(value)]

    @validator("ary")
    def _arabic_script(cls, items: list[str]) -> list[str]:
        for number, item in enumerate(items, start=1):
            if not _ARABIC_LETTER.search(item):
                raise ValueError(f"alias {number} (« {item} ») doit être écrit en lettres arabes")
        return items

    @validator("ary_latn")
    def _latin_script(cls, items: list[str]) -> list[str]:
        for number, item in enumerate(items, start=1):
            if _ARABIC_LETTER.search(item):
                raise ValueError(
                    f"alias {number} (« {item} ») doit être écrit en lettres latines (arabizi)"
                )
        return items

    def all(self) -> list[str]:
        return [*self.fr, *self.ary, *self.ary_latn]


class Residence(CatalogModel):
    """Where applicants must live. All lists empty = open everywhere in Morocco ("national").

    A person qualifies if their commune is listed, or its prefecture, or its region.
    Slugs are those of `bot/orientation/geography.yml` (checked by `validation.py`).
    """

    communes: list[str] = []
    prefectures: list[str] = []
    regions: list[str] = []

    _lists = validator("communes", "prefectures", "regions", pre=True, allow_reuse=True)(_as_list)

    @property
    def is_national(self) -> bool:
        return not (self.communes or self.prefectures or self.regions)

    @property
    def level(self) -> str:
        """The most local level this rule names: commune, prefecture, region or national."""
        if self.communes:
            return "commune"
        if self.prefectures:
            return "prefecture"
        if self.regions:
            return "region"
        return "national"


class Eligibility(CatalogModel):
    """Who may apply, as data. An empty list or a missing bound means "no rule"."""

    age_min: WholeNumber | None = None
    age_max: WholeNumber | None = None
    education_min: str | None = None
    education_max: str | None = None
    education: list[str] = []  # explicit list, instead of education_min / education_max
    situations: list[str] = []
    project_stages: list[str] = []
    amount_min: WholeNumber | None = None  # DH
    amount_max: WholeNumber | None = None  # DH
    residence: Residence = Field(default_factory=Residence)
    sectors: list[str] = []
    goals: list[str]  # what a young person can come for: the first one is the main one

    _lists = validator(
        "education", "situations", "project_stages", "sectors", "goals", pre=True, allow_reuse=True
    )(_as_list)

    @validator("residence", pre=True)
    def _national_shortcut(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and value.strip().lower() == "national"):
            return {}
        if isinstance(value, str):
            raise ValueError(
                "doit être « national » ou une liste de communes, prefectures ou regions"
            )
        return value

    @validator("education_min", "education_max")
    def _known_level(cls, value: str | None) -> str | None:
        return None if value is None else one_of(value, EDUCATION_LEVELS)

    _known_levels = _each_one_of("education", EDUCATION_LEVELS)
    _known_situations = _each_one_of("situations", SITUATIONS)
    _known_stages = _each_one_of("project_stages", PROJECT_STAGES)
    _known_sectors = _each_one_of("sectors", SECTORS)
    _known_goals = _each_one_of("goals", GOALS)

    @validator("goals")
    def _at_least_one_goal(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("est vide : indiquez au moins un but (job, training, ...)")
        return value

    @validator("age_min", "age_max")
    def _plausible_age(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= 120:
            raise ValueError(f"doit être un âge entre 0 et 120 (reçu « {value} »)")
        return value

    @root_validator(skip_on_failure=True)
    def _consistent_bounds(cls, values: dict) -> dict:
        pairs = [("age_min", "age_max"), ("amount_min", "amount_max")]
        for low, high in pairs:
            if values[low] is not None and values[high] is not None and values[low] > values[high]:
                raise ValueError(
                    f"{low} ({values[low]}) est plus grand que {high} ({values[high]})"
                )
        low, high = values["education_min"], values["education_max"]
        if low and high and EDUCATION_LEVELS.index(low) > EDUCATION_LEVELS.index(high):
            raise ValueError(f"education_min ({low}) est au-dessus de education_max ({high})")
        if values["education"] and (low or high):
            raise ValueError(
                "utilisez soit education (liste), soit education_min / education_max, pas les deux"
            )
        return values

    def accepts_education(self, level: str) -> bool:
        if self.education:
            return level in self.education
        rank = EDUCATION_LEVELS.index(level)
        if self.education_min and rank < EDUCATION_LEVELS.index(self.education_min):
            return False
        return not (self.education_max and rank > EDUCATION_LEVELS.index(self.education_max))

    @property
    def has_education_rule(self) -> bool:
        return bool(self.education or self.education_min or self.education_max)


class Contact(CatalogModel):
    """Whom to contact. Only verified details: never a phone number nobody has called."""

    organisation: str
    address: str | None = None
    web: str | None = None
    phone: str | None = None
    note: Translated | None = None

    @validator("organisation", "address", "web", "phone", pre=True)
    def _optional_text(cls, value: Any) -> str | None:
        return None if value is None else _text(value)

    @validator("web")
    def _web_address(cls, value: str | None) -> str | None:
        if value is not None and (" " in value or "." not in value):
            raise ValueError(
                f"doit être une adresse web comme https://www.anapec.org (reçu « {value} »)"
            )
        return value

    @validator("phone")
    def _phone_number(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.match(value):
            raise ValueError(
                f"doit être un numéro de téléphone comme 05 22 00 00 00 (reçu « {value} »)"
            )
        return value

    @root_validator(skip_on_failure=True)
    def _somewhere_to_go(cls, values: dict) -> dict:
        if not (values.get("address") or values.get("web") or values.get("note")):
            raise ValueError("indiquez au moins une adresse (address), un site (web) ou une note")
        return values


class Program(CatalogModel):
    """One programme of the catalogue (one file)."""

    id: str
    status: str
    track: str  # checked against TRACKS by validation.py, with the file's line
    organisation: str
    name: Translated
    summary: Translated
    eligibility: Eligibility
    gives: TranslatedList
    documents: TranslatedList
    how_to_apply: TranslatedList
    contact: Contact
    source: list[str]
    verified_on: CatalogDate
    valid_until: CatalogDate | None = None
    points_to_confirm: list[Translated] = []
    aliases: Aliases = Field(default_factory=Aliases)
    # For paused and ended programmes: what happened, in two short lines (required then).
    status_note: Translated | None = None
    # Programmes (ids) to go to instead when this one is not open; they must exist and be open.
    instead: list[str] = []

    _texts = validator("id", "track", "organisation", pre=True, allow_reuse=True)(_text)

    @validator("instead", pre=True)
    def _instead_ids(cls, value: Any) -> list[str]:
        return [_text(item) for item in _as_list(value)]

    @validator("aliases", pre=True)
    def _no_aliases(cls, value: Any) -> Any:
        return {} if value is None else value

    @validator("source", pre=True)
    def _sources(cls, value: Any) -> list[str]:
        items = _as_list(value)
        if not items:
            raise ValueError("est vide : dites d'où viennent les informations")
        return [_text(item) for item in items]

    @validator("points_to_confirm", pre=True)
    def _points(cls, value: Any) -> Any:
        return _as_list(value)

    @validator("id")
    def _slug(cls, value: str) -> str:
        if not _SLUG.match(value):
            raise ValueError(
                f"« {value} » doit être en minuscules sans accents ni espaces, "
                "mots séparés par des tirets (ex. : anapec-idmaj)"
            )
        return value

    @validator("status")
    def _known_status(cls, value: Any) -> str:
        return one_of(value, STATUSES)

    @property
    def is_open(self) -> bool:
        """Its status lets it be offered (active, or to confirm with a caution).

        Whether it may be offered on a given day also depends on `valid_until`: see
        `is_open_on`.
        """
        return self.status in OPEN_STATUSES

    def status_on(self, today: date) -> str:
        """active | to_confirm | paused | ended, or "expired" from the day after valid_until."""
        if self.status in OPEN_STATUSES and self.is_expired_on(today):
            return EXPIRED
        return self.status

    def is_expired_on(self, today: date) -> bool:
        return self.valid_until is not None and self.valid_until < today

    def is_open_on(self, today: date) -> bool:
        """May be offered to young people on this day (open status, valid_until not passed)."""
        return self.status_on(today) in OPEN_STATUSES

    def staleness(self, today: date, stale_months: int | None = None) -> str | None:
        """Why the information may be out of date: "expired" (past valid_until), "old"
        (verified more than `stale_months` months ago, by default the setting
        BOUSLA_CATALOG_STALE_MONTHS) or None."""
        if self.is_expired_on(today):
            return "expired"
        if self.verified_on < stale_before(today, stale_months):
            return "old"
        return None


def stale_months_setting() -> int:
    """Months after which `verified_on` is stale: BOUSLA_CATALOG_STALE_MONTHS (default 6)."""
    from bot.settings import get_settings

    return get_settings().catalog_stale_months


def stale_before(today: date, stale_months: int | None = None) -> date:
    """Information verified before this date is too old (`stale_months` months back)."""
    if stale_months is None:
        stale_months = stale_months_setting()
    months = today.year * 12 + today.month - 1 - stale_months
    year, month = divmod(months, 12)
    month += 1
    day = today.day
    while True:
        try:
            return date(year, month, day)
        except ValueError:  # 29, 30 or 31 in a shorter month
            day -= 1
