"""Programme suggestions in the conversation: the best matches, "autres options", details
and how to apply. Every suggestion and every programme chosen is stored as a referral.

The catalogue comes from one `CatalogStore` per action server process (`catalog_store()`):
edits of `orientation_catalog/` are served at the next suggestion without a restart, and a
broken edit keeps the last good catalogue in service.

All fixed wording is in domain.yml; the actions only pass catalogue texts (already in the
person's language) as variables: program_id, program_name, why, caution, missing, summary,
gives, documents, steps, contact, verified_on.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.actions.profile_form import REASKED
from bot.actions.tracker import channel_of
from bot.catalog import Catalog, CatalogStore, Program
from bot.language import LANGUAGES
from bot.language.folding import fold
from bot.orientation.goals import said_goal
from bot.orientation.matching import (
    OFFER,
    Profile,
    ProgramMatch,
    caution_for,
    default_phrasebook,
    match,
    wished_sectors,
)
from bot.settings import get_settings
from bot.storage.db import in_session
from bot.storage.referrals import record_referrals

logger = logging.getLogger(__name__)

SHOWN_AT_ONCE = 3  # suggestions per batch (first answer, then each "autres options")
KEPT_OFFERS = 9  # offers computed once; the ones not shown wait in `program_options`
KEPT_NEAR_MISSES = 3
# The most telling reasons first; "il t'aide à trouver un travail" and "ouvert partout au
# Maroc" are true of most suggestions, so they are shown only when nothing else is known.
REASON_ORDER = (
    "goal_related",
    "residence_commune",
    "residence_prefecture",
    "situation_ok",
    "stage_ok",
    "amount_ok",
    "sector_ok",
    "education_ok",
    "age_ok",
    "residence_region",
    "goal_ok",
    "residence_national",
)
GENERIC_REASONS = ("goal_ok", "residence_national")
# Sentences among the reasons that are a condition, not a fit: shown with the caution.
CONDITION_NOTES = ("residence_local",)
REASONS_SHOWN = 2
# Not ";" or ",": some reasons contain them ("il finance jusqu'à 100 000 DH ; tu cherches...").
WHY_SEPARATOR = " · "

_store: CatalogStore | None = None
_store_lock = threading.Lock()


def catalog_store() -> CatalogStore:
    """The action server's catalogue store (one per process, for the configured directory)."""
    global _store
    directory = Path(get_settings().catalog_dir)
    with _store_lock:
        if _store is None or _store.directory != directory:
            _store = CatalogStore(directory)
        return _store


async def current_catalog() -> Catalog:
    """The catalogue in service, reloaded first if staff edited it (in a worker thread)."""
    return await asyncio.to_thread(lambda: catalog_store().catalog)


def language_of(tracker: Tracker) -> str:
    language = tracker.get_slot("language")
    return language if language in LANGUAGES else "fr"


def goal_words(tracker: Tracker, goal: str | None = None) -> str | None:
    """What the person wrote about their current goal, in their own words ("bghit ndir
    ta3awniya dyal lkhyata", "je veux une formation en informatique"): the messages of
    this conversation that say this goal, joined. The sectors they name steer the ranking
    (`Profile.goal_text`): a cooperative, a snack, sewing, computing. Messages about an
    earlier goal (a change of mind) are left out; None when no message says the goal."""
    goal = goal or tracker.get_slot("goal")
    if not goal:
        return None
    texts: list[str] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            texts = []
        if event.get("event") != "user":
            continue
        text = event.get("text") or ""
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if text and not text.startswith("/") and said_goal(text, intent) == goal:
            texts.append(text)
    return "\n".join(texts) or None


def profile_of(tracker: Tracker, slots: dict[str, Any] | None = None) -> Profile:
    """The profile to match: the slots, and the goal in the person's own words."""
    slots = dict(tracker.slots if slots is None else slots)
    slots["goal_text"] = goal_words(tracker, slots.get("goal"))
    return Profile.from_mapping(slots)


def program_they_came_for(tracker: Tracker, catalog: Catalog) -> str | None:
    """After a list, a question that names no programme ("شنو الوراق؟", "which papers?"):
    the one programme of the list made for what the person said they came for in their
    own words (a cooperative: ODCO), if exactly one is; else None (ask which one)."""
    shown = [catalog.get(i) for i in tracker.get_slot("shown_programs") or []]
    _, own_words = wished_sectors(profile_of(tracker))
    if not own_words:
        return None
    made_for = [
        program.id
        for program in shown
        if program is not None and set(program.eligibility.sectors) & set(own_words)
    ]
    return made_for[0] if len(made_for) == 1 else None


def why_line(found: ProgramMatch) -> str:
    """One line saying why a programme fits: its most telling reasons."""
    # The codes of the reasons shown come first in `reason_codes` (then those of failures).
    coded = list(zip(found.reason_codes, found.reasons, strict=False))
    rank = {code: i for i, code in enumerate(REASON_ORDER)}
    coded.sort(key=lambda pair: rank.get(pair[0], len(REASON_ORDER)))
    coded = [(code, text) for code, text in coded if code not in CONDITION_NOTES]
    telling = [text for code, text in coded if code not in GENERIC_REASONS]
    chosen = (telling or [text for _, text in coded])[:REASONS_SHOWN]
    return WHY_SEPARATOR.join(chosen)


def caution_line(found: ProgramMatch, language: str) -> str | None:
    """The programme's caution, with the conditions the person may not meet ("réservé aux
    habitants de : Casablanca-Settat" when their commune is unknown)."""
    notes = [
        text
        for code, text in zip(found.reason_codes, found.reasons, strict=False)
        if code in CONDITION_NOTES
    ]
    parts = [part for part in (found.caution, *notes) if part]
    separator = default_phrasebook().format("caution_details_separator", language)
    return separator.join(parts) or None


def option_of(found: ProgramMatch, language: str) -> dict[str, Any]:
    """A suggestion as kept in the slot `program_options` until it is shown."""
    if found.kind == OFFER:
        line, caution = why_line(found), caution_line(found, language)
    else:
        separator = default_phrasebook().format("caution_details_separator", language)
        line, caution = separator.join(found.missing), None
    return {
        "id": found.id,
        "kind": found.kind,
        "name": found.name,
        "line": line,
        "caution": caution,
    }


def utter_option(dispatcher: CollectingDispatcher, option: dict[str, Any]) -> None:
    common = {"program_id": option["id"], "program_name": option["name"]}
    if option["kind"] != OFFER:
        dispatcher.utter_message(
            response="utter_program_near_miss", missing=option["line"], **common
        )
    elif option.get("caution"):
        dispatcher.utter_message(
            response="utter_program_offer_to_check",
            why=option["line"],
            caution=option["caution"],
            **common,
        )
    else:
        dispatcher.utter_message(response="utter_program_offer", why=option["line"], **common)


async def store_referrals(tracker: Tracker, program_ids: Iterable[str], kind: str) -> None:
    """Record referrals; a database failure is logged and never stops the reply."""
    program_ids = list(program_ids)
    if not program_ids:
        return
    try:
        await in_session(
            lambda session: record_referrals(
                session,
                person_id=tracker.sender_id,
                program_ids=program_ids,
                kind=kind,
                channel=channel_of(tracker),
                language=language_of(tracker),
            )
        )
    except Exception:
        logger.exception("Could not record %s referrals for %s", kind, tracker.sender_id)


# Actions whose last message is a numbered list of programmes ("2" then means its item 2).
PROGRAM_LISTS_SHOWN = (
    "action_suggest_programs",
    "action_more_programs",
    "action_change_goal",
    "action_remind_programs",
)
# The same list, ending with "« autres » pour d'autres pistes" when more are waiting.
WITH_MORE = {
    "utter_programs_list": "utter_programs_list_more",
    "utter_programs_next": "utter_programs_next_more",
    "utter_programs_recap": "utter_programs_recap_more",
}
LINE_LIMIT = 110  # characters of one "why" line in the list


def _short(text: str, limit: int = LINE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def list_item(option: dict[str, Any]) -> str:
    """One line of the numbered list: name, then why it fits (or what is missing)."""
    mark = "🔸" if option["kind"] != OFFER else ("⚠️" if option.get("caution") else "📌")
    line = option["line"].split(WHY_SEPARATOR)[0] if option["line"] else ""
    return f"{mark} {option['name']}" + (f" — {_short(line)}" if line else "")


def utter_program_list(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    options: list[dict[str, Any]],
    *,
    more: bool,
    intro: str = "utter_programs_list",
) -> None:
    """Up to three programmes in ONE message, numbered (issue 16, item 3). A typed number
    means an item of this list (bot/nlu/conversation.py); on Telegram and the web chat the
    names are also buttons. WhatsApp gets no buttons: its numbered choices would make a
    second numbering in the same turn."""
    items = "\n".join(f"{n}. {list_item(o)}" for n, o in enumerate(options, start=1))
    buttons = None
    if channel_of(tracker) != "whatsapp":
        buttons = [
            {"title": o["name"], "payload": f'/program_details{{"program_id":"{o["id"]}"}}'}
            for o in options
        ]
    response = WITH_MORE[intro] if more else intro
    dispatcher.utter_message(response=response, items=items, buttons=buttons or [])


def show_program_list(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    catalog: Catalog,
    language: str,
    program_ids: list[str],
) -> None:
    """The programmes already shown, as a list again (their names only)."""
    options = [
        {"id": p.id, "kind": OFFER, "name": p.name.get(language), "line": ""}
        for p in (catalog.get(i) for i in program_ids)
        if p is not None
    ]
    utter_program_list(
        dispatcher,
        tracker,
        options,
        more=bool(tracker.get_slot("program_options")),
        intro="utter_programs_recap",
    )


class ActionSuggestPrograms(Action):
    """After the profile form: the three best programmes, each with its buttons."""

    def name(self) -> str:
        return "action_suggest_programs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        catalog = await current_catalog()
        result = match(profile_of(tracker), catalog, language, limit=KEPT_OFFERS)
        offers = [option_of(found, language) for found in result.offers]
        near_misses = [
            option_of(found, language) for found in result.near_misses[:KEPT_NEAR_MISSES]
        ]
        options = offers + near_misses
        shown, rest = options[:SHOWN_AT_ONCE], options[SHOWN_AT_ONCE:]
        if not offers:
            dispatcher.utter_message(response="utter_programs_none")
        if shown:
            utter_program_list(dispatcher, tracker, shown, more=bool(rest))
        await store_referrals(tracker, [o["id"] for o in shown if o["kind"] == OFFER], "suggested")

        events = [
            SlotSet("program_options", rest),
            SlotSet("shown_programs", [option["id"] for option in shown]),
            SlotSet(REASKED, []),
        ]  # questions skipped stay skipped: a new goal does not ask them again
        # Without consent the answers stay in this conversation's slots (never in the
        # database: validate_profile_form stores them only with consent), so that they
        # are not asked again (issue 16, item 2).
        return events


class ActionMorePrograms(Action):
    """ "Autres options": the next suggestions, then the near misses with what is missing."""

    def name(self) -> str:
        return "action_more_programs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        options = list(tracker.get_slot("program_options") or [])
        if not options:
            dispatcher.utter_message(response="utter_programs_no_more")
            return []
        shown, rest = options[:SHOWN_AT_ONCE], options[SHOWN_AT_ONCE:]
        utter_program_list(dispatcher, tracker, shown, more=bool(rest), intro="utter_programs_next")
        await store_referrals(tracker, [o["id"] for o in shown if o["kind"] == OFFER], "suggested")
        return [
            SlotSet("program_options", rest),
            SlotSet("shown_programs", [option["id"] for option in shown]),
        ]


def bullets(items: Iterable[str]) -> str:
    return "\n".join(f"• {item}" for item in items)


def numbered(items: Iterable[str]) -> str:
    return "\n".join(f"{number}. {item}" for number, item in enumerate(items, start=1))


def contact_text(program: Program, language: str) -> str:
    contact = program.contact
    parts = [contact.organisation, contact.address, contact.web, contact.phone]
    text = " · ".join(part for part in parts if part)
    if contact.note is not None:
        text += "\n" + contact.note.get(language)
    return text


def program_variables(program: Program, language: str) -> dict[str, str]:
    """The catalogue texts that fill utter_program_details / utter_program_how_to_apply."""
    return {
        "program_id": program.id,
        "program_name": program.name.get(language),
        "summary": program.summary.get(language),
        "gives": bullets(program.gives.get(language)),
        "documents": bullets(program.documents.get(language)),
        "steps": numbered(program.how_to_apply.get(language)),
        "contact": contact_text(program, language),
        "verified_on": program.verified_on.strftime("%d/%m/%Y"),
    }


def _distinctive_words(catalog: Catalog) -> dict[str, str]:
    """Words of programme ids that name one programme only ("forsa", "idmaj", "ofppt")."""
    owners: dict[str, set[str]] = {}
    for program in catalog:
        for word in program.id.split("-"):
            if len(word) >= 5:
                owners.setdefault(word, set()).add(program.id)
    return {word: next(iter(ids)) for word, ids in owners.items() if len(ids) == 1}


def program_named_in(text: str, catalog: Catalog) -> str | None:
    """The programme a typed message names ("c'est quoi forsa ?"), if exactly one."""
    cleaned = f" {fold(text, 'profile')} "
    found = set()
    for program in catalog:
        names = [program.id.replace("-", " ")]
        names += [fold(program.name.get(language), "profile") for language in LANGUAGES]
        if any(f" {name} " in cleaned for name in names):
            found.add(program.id)
    for word, program_id in _distinctive_words(catalog).items():
        if f" {word} " in cleaned:
            found.add(program_id)
    return found.pop() if len(found) == 1 else None


def say_which_programme(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    catalog: Catalog,
    program_id: str | None,
    intent: str,
) -> None:
    """No programme to answer about: "which one?" with the programmes of the last list as
    buttons (`/<intent>{"program_id": ...}`), or "I don't know that one"."""
    language = language_of(tracker)
    shown = [catalog.get(i) for i in tracker.get_slot("shown_programs") or []]
    shown = [p for p in shown if p is not None]
    if program_id is None and shown:  # "comment postuler ?" typed after suggestions
        buttons = [
            {"title": p.name.get(language), "payload": f'/{intent}{{"program_id":"{p.id}"}}'}
            for p in shown
        ]
        dispatcher.utter_message(response="utter_program_which", buttons=buttons)
    else:
        dispatcher.utter_message(response="utter_program_unknown")


class ProgramInformation(Action, ABC):
    """Shared by "plus d'infos" and "comment postuler": find the programme, answer, record."""

    intent: str = ""
    response: str = ""

    @abstractmethod
    def name(self) -> str: ...

    def program_id(self, tracker: Tracker, catalog: Catalog) -> str | None:
        entity = next(tracker.get_latest_entity_values("program_id"), None)
        if entity:
            return str(entity)
        named = program_named_in((tracker.latest_message or {}).get("text") or "", catalog)
        if named:
            return named
        if tracker.get_slot("program_in_focus"):  # "et on s'inscrit où ?" after an answer
            return tracker.get_slot("program_in_focus")
        shown = tracker.get_slot("shown_programs") or []
        return shown[0] if len(shown) == 1 else program_they_came_for(tracker, catalog)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        catalog = await current_catalog()
        program_id = self.program_id(tracker, catalog)
        program = catalog.get(program_id) if program_id else None
        if program is None:
            say_which_programme(dispatcher, tracker, catalog, program_id, self.intent)
            return []

        dispatcher.utter_message(response=self.response, **program_variables(program, language))
        caution = caution_for(program, language, date.today(), default_phrasebook())
        if caution:
            dispatcher.utter_message(response="utter_program_caution", caution=caution)
        await store_referrals(tracker, [program.id], "chosen")
        return [SlotSet("program_in_focus", program.id)]


class ActionProgramDetails(ProgramInformation):
    intent = "program_details"
    response = "utter_program_details"

    def name(self) -> str:
        return "action_program_details"


class ActionHowToApply(ProgramInformation):
    intent = "how_to_apply"
    response = "utter_program_how_to_apply"

    def name(self) -> str:
        return "action_how_to_apply"
