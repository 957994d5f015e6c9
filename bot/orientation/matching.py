"""Which programmes of the catalogue fit a young person's profile, and why.

Plain Python (no Rasa): the action server, the CLI (`bousla match`) and the tests share it.

1. Hard rules filter: age, education, situation, residence, project stage, amount, and the
   programme's status on the day (paused or ended programmes, and open ones the day after
   their `valid_until`, are never offered). A profile field that is unknown never excludes
   anyone.
2. The programmes that pass are ranked as a counsellor would (see `_rank_key`): first the
   programmes for the person's goal, before those for a related goal (training for a job
   seeker); within each, confirmed programmes (status active, verified recently) before
   those to confirm or stale; then by score: fit to the goal (the programme's first goal
   counts most), how many of its rules the person is known to meet (specificity, which is
   how schooling steers: a programme for people without a diploma excludes graduates and
   ranks first for those it targets; a programme made for minors, such as the second-chance
   school, ranks first for a minor), the money a project holder whose activity runs said
   they need (programmes that fund that amount first), locality (commune > prefecture >
   region > national) and sector, where the sectors the person named in their own words
   ("ta3awniya", "khyata", "snack", "informatique": `Profile.goal_text`, taken from the
   conversation by `bot.actions.programs.goal_words`) count like the sector answer.
   Programmes for unrelated goals are left out.
3. Programmes that fail exactly one hard rule, and serve the person's goal (or a related
   one), are near misses: the reply can say what is missing ("il faut avoir au moins 18
   ans"), or that the programme is paused or ended.

`describe_for_person` answers a question about one programme by name ("chno hiya
forsa?"): open, paused, ended or expired, what happened, whether it fits this person and
why, and where to go instead.

Every sentence comes from `matching_phrases.yml` (beside this file) in the person's
language. Programmes whose information is to confirm, or stale (verified more than
BOUSLA_CATALOG_STALE_MONTHS months ago, 6 by default) are offered with the caution
"à vérifier auprès de l'organisme".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from bot.catalog.schema import EDUCATION_LEVELS, EXPIRED, OPEN_STATUSES, Program
from bot.language import LANGUAGES
from bot.orientation.geography import Geography, default_geography
from bot.orientation.profile_answers import find_sectors

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
# A programme made for people without a diploma (an `education_max`, e.g. the apprenticeship
# programme), for someone it targets: ranks above programmes open to every level.
EDUCATION_TARGETED = 5
# A programme made for minors (an age band ending at the age of majority or before, e.g.
# the second-chance school, 13-18), for a minor: what a counsellor names first for them.
MAJORITY = 18
MINOR_TARGETED = 10
# A project holder whose activity already runs (started, existing) and who said how much
# money they need is looking for that money: programmes that fund projects (goal
# `financing`) and whose amount rule, if any, takes this amount rank above those that only
# help to set up (a status, advice). An idea is prepared first (the youth platform).
FUNDS_THE_AMOUNT = 8
RUNNING = ("started", "existing")
SECTOR_MET = 8
SECTOR_OTHER = -10
# The person named the sector in their own words (goal text): a strong sign, e.g. a woman who
# wants "ta3awniya dyal lkhyata" is looking for the cooperative programmes first.
SECTOR_IN_OWN_WORDS = 12
# A programme for some sectors only, when a project holder's sector is unknown: it may not
# fit (the sector is asked for the project and financing goals only).
SECTOR_UNKNOWN = -6
SECTOR_GOALS = ("project", "financing")
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
    amount in DH. `goal_text` is what the person wrote about their goal, in their own words
    ("bghit ndir ta3awniya dyal lkhyata"): the sectors it names steer the ranking.
    """

    age: int | None = None
    education: str | None = None
    situation: str | None = None
    goal: str | None = None
    commune: str | None = None
    project_stage: str | None = None
    sector: str | None = None
    amount: int | None = None
    goal_text: str | None = None

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
                keep_case = name in ("commune", "goal_text")
                value = value.strip() if keep_case else value.strip().lower()
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
    # Ranking (see _rank_key): 0 the programme serves the person's goal (or the goal is
    # unknown) in their sector, 1 a weaker fit (a related goal only, or other sectors);
    # 0 confirmed, 1 to confirm or stale.
    goal_class: int = field(default=0, compare=False)
    doubt: int = field(default=0, compare=False)

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
            # Offers are ranked by this first, then by score (see _rank_key).
            "rank_tier": [self.goal_class, self.doubt],
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
    """Closed on this day: paused, ended, or past its valid_until (expired)."""
    status = program.status_on(ctx.today)
    if status == EXPIRED:
        return ctx.check(FAILED, "status_expired", date=program.valid_until.strftime("%d/%m/%Y"))
    if status not in OPEN_STATUSES:
        return ctx.check(FAILED, f"status_{status}")
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


def _minor_points(program: Program, ctx: _Context, age: _Check) -> int:
    """MINOR_TARGETED when the person is a minor and the programme is made for minors."""
    age_max = program.eligibility.age_max
    targeted = age_max is not None and age_max <= MAJORITY
    minor = ctx.profile.age is not None and ctx.profile.age < MAJORITY
    return MINOR_TARGETED if targeted and minor and age.outcome == MET else 0


def _funding_points(program: Program, ctx: _Context, amount: _Check) -> int:
    """FUNDS_THE_AMOUNT for a project holder who needs an amount, and a programme that
    funds projects and takes that amount (see the constant)."""
    profile = ctx.profile
    if profile.goal != "project" or not profile.amount or profile.project_stage not in RUNNING:
        return 0
    funds = "financing" in program.eligibility.goals
    return FUNDS_THE_AMOUNT if funds and amount.outcome != FAILED else 0


def _schooling_points(program: Program, education: _Check) -> int:
    """EDUCATION_TARGETED when the programme is for people up to a level and the person is."""
    targeted = program.eligibility.education_max is not None
    return EDUCATION_TARGETED if targeted and education.outcome == MET else 0


def wished_sectors(profile: Profile) -> tuple[list[str], list[str]]:
    """The sectors the person wants: (answered or named in their goal, named in their goal)."""
    own_words = find_sectors(profile.goal_text) if profile.goal_text else []
    said = [profile.sector] if profile.sector else []
    return list(dict.fromkeys(said + own_words)), own_words


def _sector_points(program: Program, ctx: _Context) -> tuple[int, _Check]:
    sectors = program.eligibility.sectors
    wished, own_words = wished_sectors(ctx.profile)
    if not sectors:
        return 0, _Check(SILENT)
    if not wished:
        unknown = ctx.profile.goal in SECTOR_GOALS
        return (SECTOR_UNKNOWN if unknown else 0), _Check(SILENT)
    shared = [sector for sector in wished if sector in sectors]
    if shared:
        bonus = SECTOR_IN_OWN_WORDS if any(sector in own_words for sector in shared) else 0
        check = ctx.check(MET, "sector_ok", sector=ctx.label("sector", shared[0]))
        return SECTOR_MET + bonus, check
    return SECTOR_OTHER, ctx.check(FAILED, "sector_other", sectors=ctx.labels("sector", sectors))


def caution_for(
    program: Program,
    language: str,
    today: date,
    phrases: Phrasebook,
    stale_months: int | None = None,
) -> str | None:
    """The caution line for information to confirm or stale, else None.

    Example: "à vérifier auprès de l'organisme : infos vérifiées le 05/01/2025".
    `stale_months`: default the setting BOUSLA_CATALOG_STALE_MONTHS.
    """
    details = [point.get(language).rstrip(". ") for point in program.points_to_confirm]
    if program.status == "to_confirm" and not details:
        details.append(phrases.caution("to_confirm", language))
    staleness = program.staleness(today, stale_months)
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


@dataclass(frozen=True)
class _Assessment:
    """Every rule of one programme checked against one person."""

    status: _Check
    age: _Check
    others: list[_Check]  # education, situation, project stage
    amount: _Check
    residence: _Check
    locality: str | None
    goal_points: int
    goal: _Check
    sector_points: int
    sector: _Check

    @property
    def personal(self) -> list[_Check]:
        return [self.age, *self.others, self.amount]

    @property
    def failed(self) -> list[_Check]:
        """Hard rules not met (status first), in the order a counsellor would say them."""
        checks = [self.status, *self.personal, self.residence]
        return [check for check in checks if check.outcome == FAILED]


def _assess(program: Program, ctx: _Context) -> _Assessment:
    residence, locality = _residence_rule(program, ctx)
    goal_points, goal = _goal_points(program, ctx)
    sector_points, sector = _sector_points(program, ctx)
    return _Assessment(
        status=_status_rule(program, ctx),
        age=_age_rule(program, ctx),
        others=[
            _education_rule(program, ctx),
            _situation_rule(program, ctx),
            _stage_rule(program, ctx),
        ],
        amount=_amount_rule(program, ctx),
        residence=residence,
        locality=locality,
        goal_points=goal_points,
        goal=goal,
        sector_points=sector_points,
        sector=sector,
    )


def evaluate(program: Program, ctx: _Context) -> ProgramMatch | None:
    """The programme as an offer, a near miss, or None (excluded, or not for this goal)."""
    checks = _assess(program, ctx)
    failed = checks.failed
    if len(failed) > 1 or checks.goal.outcome == FAILED:
        return None

    caution = caution_for(program, ctx.language, ctx.today, ctx.phrases)
    score = (
        checks.goal_points
        + _specificity_points(program, ctx, checks.age, checks.others, checks.amount)
        + _schooling_points(program, checks.others[0])
        + _minor_points(program, ctx, checks.age)
        + _funding_points(program, ctx, checks.amount)
        + (LOCALITY[checks.locality] if checks.locality else LOCALITY_UNKNOWN)
        + checks.sector_points
        - (CAUTION_PENALTY if caution else 0)
    )
    explained = [checks.goal, *checks.personal, checks.sector, checks.residence]
    positives = [check for check in explained if check.outcome == MET]
    notes = [
        check for check in explained if check.outcome != MET and check.text and check not in failed
    ]
    shown = positives + notes
    return ProgramMatch(
        id=program.id,
        name=program.name.get(ctx.language),
        score=max(0, min(100, score)),
        status=program.status_on(ctx.today),
        kind=NEAR_MISS if failed else OFFER,
        reasons=[check.text for check in shown if check.text],
        missing=[check.text for check in failed if check.text],
        caution=caution,
        reason_codes=[check.code for check in shown + failed if check.code],
        program=program,
        goal_class=1
        if checks.goal.code == "goal_related" or checks.sector.outcome == FAILED
        else 0,
        doubt=_doubt(program, ctx.today),
    )


def _doubt(program: Program, today: date) -> int:
    """0: confirmed (status active, verified recently); 1: to confirm, or stale."""
    return 0 if program.status == "active" and program.staleness(today) is None else 1


def _rank_key(item: ProgramMatch) -> tuple:
    """How a counsellor orders suggestions: strong fits (the person's goal, their sector)
    before weaker ones (a related goal, other sectors); within each, confirmed before to
    confirm (a programme whose sources say it may have ended is `to_confirm` at best, so it
    never comes before a confirmed one); then by score."""
    return (item.goal_class, item.doubt, -item.score, item.id)


def _context(
    profile: Profile,
    language: str,
    today: date | None,
    geography: Geography | None,
    phrases: Phrasebook | None,
) -> _Context:
    language = language if language in LANGUAGES else "fr"
    geography = geography or default_geography()
    if profile.commune and profile.commune not in geography.communes:
        profile = Profile(
            **{**profile.__dict__, "commune": geography.find_commune(profile.commune)}
        )
    return _Context(
        profile, language, today or date.today(), geography, phrases or default_phrasebook()
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
    `today` (default: the current date) decides which programmes are open: one whose
    `valid_until` has passed is not offered from the next day.
    """
    ctx = _context(profile, language, today, geography, phrases)
    evaluated = [item for item in (evaluate(program, ctx) for program in catalog) if item]
    offers = sorted((item for item in evaluated if item.kind == OFFER), key=_rank_key)[:limit]
    # Near misses: what the person could change first; closed programmes last (they are
    # answered by name, see describe_for_person).
    near_misses = sorted(
        (item for item in evaluated if item.kind == NEAR_MISS),
        key=lambda i: (i.status not in OPEN_STATUSES, -i.score, i.id),
    )[:limit]
    return MatchResult(offers, near_misses, ctx.language)


# ------------------------------------------------------------------ one programme, by name
OPEN, PAUSED, ENDED = "open", "paused", "ended"  # and EXPIRED ("expired")
ALTERNATIVES_SHOWN = 3
# The profile fields a programme's rules read: asked when unknown to say whether it fits.
_RULE_FIELDS = {
    "age": lambda r: r.age_min is not None or r.age_max is not None,
    "education": lambda r: r.has_education_rule,
    "situation": lambda r: bool(r.situations),
    "commune": lambda r: not r.residence.is_national,
    "project_stage": lambda r: bool(r.project_stages),
    "amount": lambda r: r.amount_min is not None or r.amount_max is not None,
}


@dataclass(frozen=True)
class Alternative:
    """A programme to go to instead, and whether it fits the person."""

    id: str
    name: str
    fits: bool  # no rule the person is known to break
    why: list[str]  # why it fits (or, when it does not, what is missing)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "fits": self.fits, "why": self.why}


@dataclass(frozen=True)
class ProgramAnswer:
    """What Bousla says when someone asks about one programme by name.

    - `status`: "open" (active or to confirm), "paused", "ended", or "expired" (open
      programme past its valid_until); `status_note`: what happened, for the last three
      (the programme's own `status_note`, or the date that passed).
    - `fits`: no eligibility rule the person is known to break (age, schooling, situation,
      place, project stage, amount); `reasons` say why it fits, `missing` why not (the
      goal too: "il sert surtout à lancer ton projet" for someone looking for a job).
    - `serves_goal`: the programme is for the person's goal (or a related one); None when
      the goal is unknown. `to_know`: profile fields its rules read that are unknown
      ("age", "commune"...): ask them to say whether it fits.
    - `alternatives`: when it is not open, its `instead` programmes that are open (those
      that fit first), else the best matches for the person; when it is open but does not
      fit, the best open matches that do.
    """

    id: str
    name: str
    language: str
    status: str
    status_note: str | None
    fits: bool
    serves_goal: bool | None
    reasons: list[str]
    missing: list[str]
    to_know: list[str]
    caution: str | None
    alternatives: list[Alternative]
    program: Program = field(repr=False, compare=False)

    @property
    def is_open(self) -> bool:
        return self.status == OPEN

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "language": self.language,
            "status": self.status,
            "status_note": self.status_note,
            "fits": self.fits,
            "serves_goal": self.serves_goal,
            "reasons": self.reasons,
            "missing": self.missing,
            "to_know": self.to_know,
            "caution": self.caution,
            "alternatives": [alternative.as_dict() for alternative in self.alternatives],
            "verified_on": self.program.verified_on.isoformat(),
        }


def _answer_status(program: Program, today: date) -> str:
    status = program.status_on(today)
    return OPEN if status in OPEN_STATUSES else status


def _status_note(program: Program, status: str, ctx: _Context) -> str | None:
    if status == OPEN:
        return None
    if program.status_note is not None:
        return program.status_note.get(ctx.language)
    if status == EXPIRED:
        date_text = program.valid_until.strftime("%d/%m/%Y")
        return ctx.phrases.reason("status_expired_note", ctx.language, date=date_text)
    return ctx.phrases.reason(f"status_{status}", ctx.language)


def _alternative(program: Program, ctx: _Context) -> Alternative:
    checks = _assess(program, ctx)
    failed = [check for check in checks.failed if check is not checks.status]
    explained = [checks.goal, *checks.personal, checks.sector, checks.residence]
    fits = not failed
    if fits:
        texts = [check.text for check in explained if check.outcome == MET and check.text]
    else:
        texts = [check.text for check in failed if check.text]
    return Alternative(program.id, program.name.get(ctx.language), fits, texts)


def describe_for_person(
    program: Program | str,
    profile: Profile,
    catalog: Iterable[Program],
    today: date | None = None,
    language: str = "fr",
    *,
    geography: Geography | None = None,
    phrases: Phrasebook | None = None,
) -> ProgramAnswer:
    """The answer to "chno hiya forsa?" for this person (see ProgramAnswer).

    `program` is a Program or an id of `catalog`; `catalog` resolves the alternatives
    (`instead`) and the best matches; `today` (default: the current date) decides whether
    the programme is open, as in `match`. Raises KeyError for an unknown id.
    """
    programs = {item.id: item for item in catalog}
    if isinstance(program, str):
        program = programs[program]
    ctx = _context(profile, language, today, geography, phrases)
    checks = _assess(program, ctx)
    status = _answer_status(program, ctx.today)
    failed = [check for check in checks.failed if check is not checks.status]
    explained = [*checks.personal, checks.residence, checks.sector]
    reasons = [
        check.text
        for check in [checks.goal, *explained]
        if check.outcome == MET and check.text and check.code != "residence_national"
    ]
    missing = [check.text for check in failed if check.text]
    serves_goal: bool | None = None
    if ctx.profile.goal is not None:
        serves_goal = checks.goal.outcome == MET
        if not serves_goal:
            missing.append(
                ctx.phrases.reason(
                    "goal_other",
                    ctx.language,
                    goals=ctx.labels("goal", program.eligibility.goals[:2]),
                    goal=ctx.label("goal", ctx.profile.goal),
                )
            )
    rules = program.eligibility
    known = {name: getattr(ctx.profile, name) for name in _RULE_FIELDS}
    to_know = [
        name for name, has_rule in _RULE_FIELDS.items() if has_rule(rules) and known[name] is None
    ]
    fits = not failed

    alternatives: list[Alternative] = []
    if status != OPEN or not fits:
        candidates = [
            programs[target]
            for target in program.instead
            if target in programs and programs[target].is_open_on(ctx.today)
        ]
        alternatives = [_alternative(candidate, ctx) for candidate in candidates]
        alternatives = [a for a in alternatives if a.fits] + [
            a for a in alternatives if not a.fits and status != OPEN
        ]
        if not any(alternative.fits for alternative in alternatives):
            best = match(
                ctx.profile,
                [item for item in programs.values() if item.id != program.id],
                ctx.language,
                limit=ALTERNATIVES_SHOWN,
                today=ctx.today,
                geography=ctx.geography,
                phrases=ctx.phrases,
            )
            chosen = {alternative.id for alternative in alternatives}
            alternatives = [
                Alternative(offer.id, offer.name, True, offer.reasons[:2])
                for offer in best.offers
                if offer.id not in chosen
            ] + alternatives
        alternatives = alternatives[:ALTERNATIVES_SHOWN]

    return ProgramAnswer(
        id=program.id,
        name=program.name.get(ctx.language),
        language=ctx.language,
        status=status,
        status_note=_status_note(program, status, ctx),
        fits=fits,
        serves_goal=serves_goal,
        reasons=reasons,
        missing=missing,
        to_know=to_know,
        caution=caution_for(program, ctx.language, ctx.today, ctx.phrases)
        if status == OPEN
        else None,
        alternatives=alternatives,
        program=program,
    )


def describe_named(
    text: str,
    profile: Profile,
    catalog: Iterable[Program],
    today: date | None = None,
    language: str = "fr",
) -> list[ProgramAnswer]:
    """Answers for every programme a message names ("w forsa?", "kifach ntsjel f awrach")."""
    from bot.catalog.names import find_programmes

    programs = list(catalog)
    return [
        describe_for_person(program_id, profile, programs, today, language)
        for program_id in find_programmes(text, programs)
    ]
