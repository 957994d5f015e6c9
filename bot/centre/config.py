"""The centre's own settings from `centre.yml` (edited by staff): address, opening hours,
emergency contacts, canned replies for counsellors.

Read again whenever the file changes, so an edit applies without a restart. A broken edit
raises `CentreConfigError` with a sentence naming the problem; `bousla centre check` shows it.
"""

from __future__ import annotations

import logging
import re
import threading
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ValidationError, validator

from bot.language import LANGUAGES
from bot.settings import get_settings

logger = logging.getLogger(__name__)

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
PHRASES_PATH = Path(__file__).resolve().parent / "centre_phrases.yml"
_RANGE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


class CentreConfigError(ValueError):
    """centre.yml cannot be used; the message says where and why (in plain words)."""


class Translated(BaseModel):
    fr: str
    ary: str
    ary_latn: str

    def get(self, language: str | None) -> str:
        return getattr(self, language or "fr", None) or self.fr


class EmergencyContact(BaseModel):
    number: str
    label: Translated

    @validator("number", pre=True)
    def _number_as_text(cls, value: object) -> str:
        return str(value).strip()


class CannedReply(BaseModel):
    title: str
    fr: str
    ary: str
    ary_latn: str

    def get(self, language: str | None) -> str:
        return getattr(self, language or "fr", None) or self.fr


class OpeningRange(BaseModel):
    start: time
    end: time


class Centre(BaseModel):
    name: str
    address: Translated
    timezone: str = "Africa/Casablanca"
    opening_hours: dict[str, list[OpeningRange]]
    closed_on: list[date] = []
    emergency_contacts: list[EmergencyContact]
    canned_replies: list[CannedReply] = []

    @validator("timezone")
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"fuseau horaire inconnu : {value!r}") from None
        return value

    @validator("opening_hours", pre=True)
    def _parse_hours(cls, value: object) -> dict[str, list[dict]]:
        if not isinstance(value, dict):
            raise ValueError("opening_hours doit donner une liste d'horaires par jour")
        parsed: dict[str, list[dict]] = {}
        for day, ranges in value.items():
            if day not in WEEKDAYS:
                raise ValueError(f"jour inconnu {day!r} (attendu : {', '.join(WEEKDAYS)})")
            parsed[day] = []
            for text in ranges or []:
                match = _RANGE.match(str(text))
                if not match:
                    raise ValueError(f"{day} : horaire {text!r} illisible (attendu 09:00-12:30)")
                h1, m1, h2, m2 = (int(g) for g in match.groups())
                start, end = time(h1, m1), time(h2 % 24, m2)
                if (h2, m2) <= (h1, m1):
                    raise ValueError(f"{day} : {text!r} finit avant de commencer")
                parsed[day].append({"start": start, "end": end})
        return parsed

    @validator("emergency_contacts")
    def _at_least_one_contact(cls, value: list[EmergencyContact]) -> list[EmergencyContact]:
        if not value:
            raise ValueError("il faut au moins un numéro d'urgence")
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def local(self, moment: datetime | None = None) -> datetime:
        """`moment` (UTC, naive or aware; now by default) in the centre's time zone."""
        moment = moment or datetime.now(timezone.utc)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=timezone.utc)
        return moment.astimezone(self.zone)

    def _ranges_on(self, day: date) -> list[OpeningRange]:
        if day in self.closed_on:
            return []
        return self.opening_hours.get(WEEKDAYS[day.weekday()], [])

    def is_open(self, moment: datetime | None = None) -> bool:
        now = self.local(moment)
        return any(r.start <= now.time() < r.end for r in self._ranges_on(now.date()))

    def next_opening(self, moment: datetime | None = None) -> datetime | None:
        """When counsellors are next on duty (local time); None when open now or never."""
        now = self.local(moment)
        if self.is_open(now):
            return None
        for offset in range(0, 15):
            day = now.date() + timedelta(days=offset)
            for opening in sorted(self._ranges_on(day), key=lambda r: r.start):
                start = datetime.combine(day, opening.start, tzinfo=self.zone)
                if start > now:
                    return start
        return None

    def when_open_phrase(self, language: str | None, moment: datetime | None = None) -> str:
        """ "demain à 9h00" / "غدا مع 9:00" / "ghedda m3a 9:00" (empty when open now)."""
        opening = self.next_opening(moment)
        if opening is None:
            return ""
        phrases = _phrases()
        language = language if language in LANGUAGES else "fr"
        clock = (
            f"{opening.hour}h{opening.minute:02d}"
            if language == "fr"
            else f"{opening.hour}:{opening.minute:02d}"
        )
        days_ahead = (opening.date() - self.local(moment).date()).days
        key = {0: "today", 1: "tomorrow"}.get(days_ahead, "later")
        day_name = phrases["days"][language][opening.weekday()]
        return phrases[key][language].format(time=clock, day=day_name)

    def emergency_lines(self, language: str | None) -> str:
        """One line per emergency number, labelled in the person's language."""
        return "\n".join(
            f"📞 {contact.number} — {contact.label.get(language)}"
            for contact in self.emergency_contacts
        )


_cache: dict[Path, tuple[int, Centre]] = {}
_lock = threading.Lock()


def load_centre(path: Path | None = None) -> Centre:
    """The centre's settings, read again when the file changed since the last read."""
    path = Path(path or get_settings().centre_file)
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as error:
        raise CentreConfigError(f"{path} : fichier introuvable ({error.strerror})") from None
    with _lock:
        cached = _cache.get(path)
        if cached and cached[0] == stamp:
            return cached[1]
        try:
            centre = parse_centre(path)
        except CentreConfigError:
            if cached is None:
                raise
            # A broken edit: keep serving the last good version, and say so in the logs.
            logger.exception("%s has errors; the previous version stays in use", path)
            return cached[1]
        _cache[path] = (stamp, centre)
        return centre


def parse_centre(path: Path) -> Centre:
    """Read and check `path` (no cache); `CentreConfigError` says what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return Centre.parse_obj(data)
    except OSError as error:
        raise CentreConfigError(f"{path} : fichier illisible ({error.strerror})") from None
    except yaml.YAMLError as error:
        raise CentreConfigError(f"{path.name} : YAML illisible ({error})") from None
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])} : {e['msg']}" for e in error.errors()
        )
        raise CentreConfigError(f"{path.name} : {problems}") from None


_phrases_cache: dict | None = None


def _phrases() -> dict:
    global _phrases_cache
    if _phrases_cache is None:
        _phrases_cache = yaml.safe_load(PHRASES_PATH.read_text(encoding="utf-8"))
    return _phrases_cache


# Last resort if no centre.yml can be read: the national numbers, without labels.
NATIONAL_EMERGENCY_NUMBERS = ("15", "19", "177", "112")


def emergency_contacts_text(language: str | None) -> str:
    """The emergency numbers to send now, in `language`: those of centre.yml as configured,
    else of the shipped copy, else the national numbers. Never raises: the numbers must go
    out whatever is broken (each failure is logged)."""
    from bot import PROJECT_ROOT

    for path in (None, PROJECT_ROOT / "centre.yml"):
        try:
            return load_centre(path).emergency_lines(language)
        except Exception:  # noqa: BLE001 - any failure: try the next source
            logger.exception("Emergency contacts: %s cannot be used", path or "centre.yml")
    return "\n".join(f"📞 {number}" for number in NATIONAL_EMERGENCY_NUMBERS)
