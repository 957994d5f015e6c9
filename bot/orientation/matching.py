"""Which programmes of the catalogue fit a young person's profile, and why.

Plain Python (no Rasa): the action server, the CLI (`bousla match`) and the tests share it.

1. Hard rules filter: age, education, situation, residence, project stage, amount, and the
   programme's status (paused or ended programmes are never offered as open). A profile
   field that is unknown never excludes anyone.
2. The programmes that pass are ranked by fit to the goal (the programme's first goal counts
   most; a related goal, e.g. training for a job seeker, less; programmes for unrelated
   goals are left out), by how many of its rules the person is known to meet
   (specificity), by locality (commune > prefecture > region > national) and by sector.
3. Programmes that fail exactly one hard rule, and serve the person's goal (or a related
   one), are near misses: the reply can say what is missing ("il faut avoir au moins 18
   ans"), or that the programme is paused or ended.

Every sentence comes from `matching_phrases.yml` (beside this file) in the person's
language. Programmes whose information is to confirm, or stale (verified more than 12
months ago, or past `valid_until`) are offered with the caution "à vérifier auprès de l'organisme".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.catalog.schema import EDUCATION_LEVELS, Program
from bot.language import LANGUAGES
from bot.orientation.geography import Geography, default_geography

PHRASES_FILE = Path(__file__).with_name("matching_phrases.yml")

# Score weights (the score is clamped to 0..100).
GOAL_MAIN = 40  # the person's goal is the programme's first goal
GOAL_SECONDARY = 30  # ... one of its other goals
GOAL_RELATED = 15  # ... a goal close to it (see RELATED_GOALS)
GOAL_UNKNOWN = 20  # the person did not say: every programme gets the same
# A programme serving none of these for the person's goal is not offered at all.
RELATED_GOALS = {
    "job": ("training",),
    "training": ("job",),
    "project": ("financing",),
    "financing": ("project",),
    "listening": (),
}
# Specificity: RULE_MET for each hard rule the person is known to meet, except that an age
# rule without maximum ("18 and over") is only the legal age and does not count; a request
# of at least a tenth of the programme's maximum amount (the size class it was made for)
# earns AMOUNT_SIZED more.
RULE_MET = 6
AMOUNT_SIZED = 4
SECTOR_MET = 8
SECTOR_OTHER = -10
LOCALITY = {"commune": 20, "prefecture": 14, "region": 8, "national": 4}
LOCALITY_UNKNOWN = 4  # local programme, commune of the person unknown
CAUTION_PENALTY = 5

MET, FAILED, SILENT = "met", "failed", "silent"
OFFER, NEAR_MISS = "offer", "near_miss"


@dataclass
class Profile:
    """What we know about the person; every field is optional (None = unknown).

    Codes are those of the catalogue: education none|primary|college|lycee|bac|bac+2|bac+3|
    bac+5; situation student|job_seeker|employed|self_employed|not_in_school; goal
    job|training|project|financing|listening; project_stage idea|started|existing;
    commune a slug of bot/orientation/geography.yml (free text is looked up with find_commune);
    amount in DH.
    """

    age: int | None = None
    education: str | None = None
    situation: str | None = None
    goal: str | None = None
    commune: str | None = None
    project_stage: str | None = None
    sector: str | None = None
    amount: int | None = None

    @classmethod
    def from_mapping(cls, values: Mapping[str, Any]) -> Profile:
        """A profile from slots or a database row: unknown keys ignored, numbers parsed."""
        known = {f.name for f in fields(cls)}
        kwargs: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known or value in (None, ""):
                continue
            if name in ("age", "amount"):
                try:
                    value = int(str(value).replace(" ", ""))
                except ValueError:
                    continue
            elif isinstance(value, str):
                value = value.strip().lower() if name != "commune" else value.strip()
            kwargs[name] = value
        return cls(**kwargs)


@dataclass(frozen=True)
class ProgramMatch:
    """A programme for this person, with its score and the sentences explaining it."""

    id: str
    name: str
    score: int
    status: str
    kind: str  # "offer" or "near_miss"
    reasons: list[str]  # why it fits, in the person's language
    missing: list[str]  # near misses: the rule not met
    caution: str | None  # "à vérifier auprès de l'organisme (...)" or None
    reason_codes: list[str] = field(default_factory=list)
    program: Program | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "score": self.score,
            "status": self.status,
            "kind": self.kind,
            "caution": self.caution,
            "reasons": self.reasons,
            "missing": self.missing,
            "reason_codes": self.reason_codes,
            "verified_on": self.program.verified_on.isoformat() if self.program else None,
        }


@dataclass(frozen=True)
class MatchResult:
    offers: list[ProgramMatch]  # best first, at most `limit`
    near_misses: list[ProgramMatch]  # best first, at most `limit`
    language: str

    @property
    def ids(self) -> list[str]:
        return [offer.id for offer in self.offers]


class Phrasebook:
    """The sentences of matching_phrases.yml, rendered in one of the three languages."""

    def __init__(self, data: Mapping[str, Any]) -> None:
        self._data = data

    @classmethod
    def from_file(cls, path: Path = PHRASES_FILE) -> Phrasebook:
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    def _pick(self, section: str, code: str, language: str) -> str:
        texts = self._data[section][code]
        return texts.get(language) or texts["fr"]

    def reason(self, code: str, language: str, **params: Any) -> str:
        return self._pick("reasons", code, language).format(**params)

    def caution(self, code: str, language: str, **params: Any) -> str:
        return self._pick("caution", code, language).format(**params)

    def format(self, code: str, language: str, **params: Any) -> str:
        return self._pick("formats", code, language).format(**params)

    def label(self, kind: str, code: str, language: str) -> str:
        texts = self._data["labels"][kind].get(code)
        return (texts.get(language) or texts["fr"]) if texts else code

    def labels(self, kind: str, codes: Iterable[str], language: str) -> str:
        separator = self.format("list_separator", language)
        return separator.join(self.label(kind, code, language) for code in codes)


@lru_cache(maxsize=1)
def default_phrasebook() -> Phrasebook:
    return Phrasebook.from_file()


def _number(value: int) -> str:
    return f"{value:,}".replace(",", " ")


@dataclass(frozen=True)
class _Check:
    outcome: str  # met | failed | silent
    code: str | None = None
    text: str | None = None


@dataclass(frozen=True)
class _Context:
    """What every rule needs: the profile, the language, the phrases and the places."""

    profile: Profile
    language: str
    today: date
    geography: Geography
    phrases: Phrasebook

    def check(self, outcome: str, code: str, **params: Any) -> _Check:
        return _Check(outcome, code, self.phrases.reason(code, self.language, **params))

    def range_text(self, kind: str, low: int | None, high: int | None) -> str:
        low_text = _number(low) if low is not None else None
        high_text = _number(high) if high is not None else None
        if low is not None and high is not None:
            return self.phrases.format(
                f"{kind}_between", self.language, min=low_text, max=high_text
            )
        if low is not None:
            return self.phrases.format(f"{kind}_from", self.language, min=low_text)
        return self.phrases.format(f"{kind}_upto", self.language, max=high_text)

    def label(self, kind: str, code: str) -> str:
        return self.phrases.label(kind, code, self.language)

    def labels(self, kind: str, codes: Iterable[str]) -> str:
        return self.phrases.labels(kind, codes, self.language)


def _status_rule(program: Program, ctx: _Context) -> _Check:
    if program.status in ("paused", "ended"):
        return ctx.check(FAILED, f"status_{program.status}")
    return _Check(SILENT)


def _age_rule(program: Program, ctx: _Context) -> _Check:
    rules, age = program.eligibility, ctx.profile.age
    if age is None or (rules.age_min is None and rules.age_max is None):
        return _Check(SILENT)
    if rules.age_min is not None and age < rules.age_min:
        return ctx.check(FAILED, "age_too_young", min=rules.age_min, age=age)
    if rules.age_max is not None and age > rules.age_max:
        return ctx.check(FAILED, "age_too_old", max=rules.age_max, age=age)
    span = ctx.range_text("age", rules.age_min, rules.age_max)
    return ctx.check(MET, "age_ok", age=age, range=span)


def _education_rule(program: Program, ctx: _Context) -> _Check:
    rules, level = program.eligibility, ctx.profile.education
    if level not in EDUCATION_LEVELS or not rules.has_education_rule:
        return _Check(SILENT)
    level_name = ctx.label("education", level)
    if rules.accepts_education(level):
        return ctx.check(MET, "education_ok", level=level_name)
    if rules.education:
        levels = ctx.labels("education", rules.education)
        return ctx.check(FAILED, "education_not_listed", levels=levels, level=level_name)
    rank = EDUCATION_LEVELS.index(level)
    if rules.education_min and rank < EDUCATION_LEVELS.index(rules.education_min):
        minimum = ctx.label("education", rules.education_min)
        return ctx.check(FAILED, "education_too_low", min=minimum, level=level_name)
    maximum = ctx.label("education", rules.education_max or level)
    return ctx.check(FAILED, "education_too_high", max=maximum, level=level_name)


def _situation_rule(program: Program, ctx: _Context) -> _Check:
    situation = ctx.profile.situation
    return _listed_rule(ctx, program.eligibility.situations, situation, "situation", "situation")


def _stage_rule(program: Program, ctx: _Context) -> _Check:
    stage = ctx.profile.project_stage
    return _listed_rule(ctx, program.eligibility.project_stages, stage, "project_stage", "stage")


def _listed_rule(
    ctx: _Context, accepted: Sequence[str], value: str | None, kind: str, name: str
) -> _Check:
    """The person's `value` (a code of `kind`) is one the programme lists, if it lists any.

    The phrases are `<name>_ok` ({<name>}) and `<name>_not_listed` ({<name>s}, {<name>}).
    """
    if not accepted or value is None:
        return _Check(SILENT)
    named = ctx.label(kind, value)
    if value in accepted:
        return ctx.check(MET, f"{name}_ok", **{name: named})
    return ctx.check(
        FAILED, f"{name}_not_listed", **{f"{name}s": ctx.labels(kind, accepted), name: named}
    )


def _amount_rule(program: Program, ctx: _Context) -> _Check:
    rules, amount = program.eligibility, ctx.profile.amount
    if amount is None or (rules.amount_min is None and rules.amount_max is None):
        return _Check(SILENT)
    if rules.amount_max is not None and amount > rules.amount_max:
        return ctx.check(
            FAILED, "amount_too_high", max=_number(rules.amount_max), amount=_number(amount)
        )
    if rules.amount_min is not None and amount < rules.amount_min:
        return ctx.check(
            FAILED, "amount_too_low", min=_number(rules.amount_min), amount=_number(amount)
        )
    span = ctx.range_text("amount", rules.amount_min, rules.amount_max)
    return ctx.check(MET, "amount_ok", range=span, amount=_number(amount))


def _residence_rule(program: Program, ctx: _Context) -> tuple[_Check, str | None]:
    """The check and the locality level it matched at (None: local programme, place unknown)."""
    residence = program.eligibility.residence
    if residence.is_national:
        return ctx.check(MET, "residence_national"), "national"
    places = [
        *((slug, "commune") for slug in residence.communes),
        *((slug, "prefecture") for slug in residence.prefectures),
        *((slug, "region") for slug in residence.regions),
    ]
    area = ctx.phrases.format("list_separator", ctx.language).join(
        ctx.geography.place_name(slug, ctx.language, kind) for slug, kind in places
    )
    commune = ctx.profile.commune
    if commune not in ctx.geography.communes:
        return ctx.check(SILENT, "residence_local", area=area), None
    level = ctx.geography.in_area(
        commune, residence.communes, residence.prefectures, residence.regions
    )
    place = ctx.geography.place_name(commune, ctx.language)
    if level is None:
        return ctx.check(FAILED, "residence_outside", area=area, place=place), None
    commune_info = ctx.geography.communes[commune]
    matched_place = {
        "commune": commune_info.slug,
        "prefecture": commune_info.prefecture,
        "region": commune_info.region,
    }[level]
    matched_name = ctx.geography.place_name(matched_place, ctx.language, level)
    return ctx.check(MET, f"residence_{level}", place=matched_name), level


def _goal_points(program: Program, ctx: _Context) -> tuple[int, _Check]:
    goals, goal = program.eligibility.goals, ctx.profile.goal
    if goal is None:
        return GOAL_UNKNOWN, _Check(SILENT)
    if goal in goals:
        points = GOAL_MAIN if goals[0] == goal else GOAL_SECONDARY
        return points, ctx.check(MET, "goal_ok", goal=ctx.label("goal", goal))
    related = [other for other in goals if other in RELATED_GOALS.get(goal, ())]
    if related:
        return GOAL_RELATED, ctx.check(MET, "goal_related", goals=ctx.labels("goal", related))
    return 0, _Check(FAILED, "goal_unrelated")


def _specificity_points(
    program: Program, ctx: _Context, age: _Check, others: list[_Check], amount: _Check
) -> int:
    """RULE_MET for each rule met that targets people like this one (see constants)."""
    rules = program.eligibility
    points = 0
    if age.outcome == MET and rules.age_max is not None:
        points += RULE_MET
    points += RULE_MET * sum(1 for check in others if check.outcome == MET)
    if amount.outcome == MET:
        points += RULE_MET
        if rules.amount_max is not None and ctx.profile.amount * 10 >= rules.amount_max:
            points += AMOUNT_SIZED
    return points


def _sector_points(program: Program, ctx: _Context) -> tuple[int, _Check]:
    sectors, sector = program.eligibility.sectors, ctx.profile.sector
    if not sectors or sector is None:
        return 0, _Check(SILENT)
    if sector in sectors:
        return SECTOR_MET, ctx.check(MET, "sector_ok", sector=ctx.label("sector", sector))
    return SECTOR_OTHER, ctx.check(FAILED, "sector_other", sectors=ctx.labels("sector", sectors))


def caution_for(program: Program, language: str, today: date, phrases: Phrasebook) -> str | None:
    """The caution line for information to confirm or stale, else None.

    Example: "à vérifier auprès de l'organisme : infos vérifiées le 05/01/2025".
    """
    details = [point.get(language).rstrip(". ") for point in program.points_to_confirm]
    if program.status == "to_confirm" and not details:
        details.append(phrases.caution("to_confirm", language))
    staleness = program.staleness(today)
    if staleness == "expired":
        details.append(
            phrases.caution("expired", language, date=program.valid_until.strftime("%d/%m/%Y"))
        )
    elif staleness == "old":
        details.append(
            phrases.caution("stale", language, date=program.verified_on.strftime("%d/%m/%Y"))
        )
    if not details:
        return None
    separator = phrases.format("caution_details_separator", language)
    return phrases.format(
        "caution_line",
        language,
        check=phrases.caution("check", language),
        details=separator.join(details),
    )


def evaluate(program: Program, ctx: _Context) -> ProgramMatch | None:
    """The programme as an offer, a near miss, or None (excluded, or not for this goal)."""
    age = _age_rule(program, ctx)
    others = [
        _education_rule(program, ctx),
        _situation_rule(program, ctx),
        _stage_rule(program, ctx),
    ]
    amount = _amount_rule(program, ctx)
    residence, locality = _residence_rule(program, ctx)
    personal = [age, *others, amount]
    failed = [
        check
        for check in [_status_rule(program, ctx), *personal, residence]
        if check.outcome == FAILED
    ]
    goal_points, goal = _goal_points(program, ctx)
    sector_points, sector = _sector_points(program, ctx)
    if len(failed) > 1 or goal.outcome == FAILED:
        return None

    caution = caution_for(program, ctx.language, ctx.today, ctx.phrases)
    score = (
        goal_points
        + _specificity_points(program, ctx, age, others, amount)
        + (LOCALITY[locality] if locality else LOCALITY_UNKNOWN)
        + sector_points
        - (CAUTION_PENALTY if caution else 0)
    )
    explained = [goal, *personal, sector, residence]
    positives = [check for check in explained if check.outcome == MET]
    notes = [
        check for check in explained if check.outcome != MET and check.text and check not in failed
    ]
    shown = positives + notes
    return ProgramMatch(
        id=program.id,
        name=program.name.get(ctx.language),
        score=max(0, min(100, score)),
        status=program.status,
        kind=NEAR_MISS if failed else OFFER,
        reasons=[check.text for check in shown if check.text],
        missing=[check.text for check in failed if check.text],
        caution=caution,
        reason_codes=[check.code for check in shown + failed if check.code],
        program=program,
    )


def match(
    profile: Profile,
    catalog: Iterable[Program],
    language: str = "fr",
    limit: int = 3,
    *,
    today: date | None = None,
    geography: Geography | None = None,
    phrases: Phrasebook | None = None,
) -> MatchResult:
    """The best `limit` programmes for `profile` (and up to `limit` near misses).

    `catalog` is any iterable of programmes: a `Catalog`, or `CatalogStore(...).catalog`.
    """
    language = language if language in LANGUAGES else "fr"
    geography = geography or default_geography()
    if profile.commune and profile.commune not in geography.communes:
        profile = Profile(
            **{**profile.__dict__, "commune": geography.find_commune(profile.commune)}
        )
    ctx = _Context(
        profile, language, today or date.today(), geography, phrases or default_phrasebook()
    )
    evaluated = [item for item in (evaluate(program, ctx) for program in catalog) if item]
    ranked = sorted(evaluated, key=lambda item: (-item.score, item.id))
    offers = [item for item in ranked if item.kind == OFFER][:limit]
    near_misses = [item for item in ranked if item.kind == NEAR_MISS][:limit]
    return MatchResult(offers, near_misses, language)
