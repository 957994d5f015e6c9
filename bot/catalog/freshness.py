"""Which programmes staff should re-verify, most urgent first (dashboard's catalogue page).

1. open programmes whose `valid_until` has passed: Bousla no longer offers them;
2. programmes verified more than BOUSLA_CATALOG_STALE_MONTHS months ago (6 by default),
   oldest first: Bousla offers them with "à vérifier auprès de l'organisme";
3. open programmes whose `valid_until` comes within EXPIRES_SOON_DAYS days.

Ended programmes are history and never listed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from bot.catalog.schema import Program, stale_before, stale_months_setting

EXPIRES_SOON_DAYS = 30
EXPIRED, STALE, EXPIRES_SOON = "expired", "stale", "expires_soon"
_ORDER = {EXPIRED: 0, STALE: 1, EXPIRES_SOON: 2}


@dataclass(frozen=True)
class Review:
    """A programme to re-verify: why, since when, and a sentence for programme staff."""

    program: Program
    reason: str  # expired | stale | expires_soon
    since: date  # the date that makes it urgent (valid_until or verified_on)
    text: str  # in French, for programme staff


def _months_between(earlier: date, later: date) -> int:
    months = (later.year - earlier.year) * 12 + later.month - earlier.month
    return months - (1 if later.day < earlier.day else 0)


def to_review(
    programs: Iterable[Program], today: date, stale_months: int | None = None
) -> list[Review]:
    """The programmes to re-verify, most urgent first (see the module's order)."""
    if stale_months is None:
        stale_months = stale_months_setting()
    limit = stale_before(today, stale_months)
    reviews = []
    for program in programs:
        if program.status == "ended":
            continue
        until = program.valid_until
        if program.is_open and until is not None and until < today:
            text = (
                f"date limite dépassée le {until.strftime('%d/%m/%Y')} : Bousla ne le "
                "propose plus ; prolongé ou terminé ?"
            )
            reviews.append(Review(program, EXPIRED, until, text))
        elif program.verified_on < limit:
            months = _months_between(program.verified_on, today)
            text = (
                f"vérifié le {program.verified_on.strftime('%d/%m/%Y')}, il y a {months} mois "
                f"(plus de {stale_months}) : montré avec « à vérifier »"
            )
            reviews.append(Review(program, STALE, program.verified_on, text))
        elif program.is_open and until is not None and (until - today).days <= EXPIRES_SOON_DAYS:
            days = (until - today).days
            text = (
                f"se termine le {until.strftime('%d/%m/%Y')} (dans {days} jour(s)) : "
                "Bousla ne le proposera plus le lendemain"
            )
            reviews.append(Review(program, EXPIRES_SOON, until, text))
    return sorted(reviews, key=lambda r: (_ORDER[r.reason], r.since, r.program.id))
