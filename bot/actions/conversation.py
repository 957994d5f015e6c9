"""Actions of a conversation that keeps going (issue 16), chosen by
`bot.nlu.conversation.ConversationPolicy`:

- `action_program_question`: a programme asked about by name or by its number in the last
  list, at any moment: what it is, whether it fits this person and why, how to apply;
- `action_change_goal`: a new goal ("ma bghitch khdma, bghit formation") replaces the old
  one; the form goes on or new suggestions come;
- `action_off_topic`: one line in the profile form, before the same question again;
- `action_small_word`: "ok", "wakha", "merci", "👍": a short answer that says what can
  come next;
- `action_add_to_request`: while a request for a counsellor is open, a message is for
  the counsellor.

All wording is in domain.yml; the actions pass catalogue texts as variables.
"""

from __future__ import annotations

import contextlib
import functools
import logging
from typing import Any

import yaml
from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import PROJECT_ROOT
from bot.actions.handoff import previous_action
from bot.actions.profile_form import FORM, PROJECT_GOALS, latest_intent, latest_text
from bot.actions.programs import (
    PROGRAM_LISTS_SHOWN,
    current_catalog,
    language_of,
    profile_of,
    program_they_came_for,
    say_which_programme,
    show_program_list,
    store_referrals,
)
from bot.actions.tracker import channel_of
from bot.catalog.names import find_programmes
from bot.handoffs.service import active_handoff
from bot.language.small_words import asks_how_to_apply, item_number, says_thanks
from bot.orientation.goals import said_goal
from bot.orientation.matching import describe_for_person
from bot.storage.audit import record
from bot.storage.db import in_session

logger = logging.getLogger(__name__)

FOCUS = "program_in_focus"
HANDOFF_OPEN = "handoff_open"
TURN_BUDGET = 600  # characters of one bot turn (issue 16, item 3)
ITEMS_SHOWN = 3  # steps and documents listed in an answer
NAMED_AT_ONCE = 3  # programmes one answer may name (the one asked about included)
ALTERNATIVES_NAMED = 2  # open programmes named instead of a closed one


def forget_captured_answer(tracker: Tracker) -> list[dict[str, Any]]:
    """In the profile form, the pending question's slot filled with this message's text
    (a free-text mapping) is emptied: the message was not an answer."""
    if tracker.active_loop.get("name") != FORM:
        return []
    requested = tracker.get_slot("requested_slot")
    if requested and requested in slots_set_by_this_message(tracker):
        return [SlotSet(requested, None)]
    return []


def goal_before_message(tracker: Tracker) -> str | None:
    """The goal before the latest message (the slot mappings may have set it from it)."""
    if "goal" not in slots_set_by_this_message(tracker):
        return tracker.get_slot("goal")
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            seen_user = True
        elif seen_user and event.get("event") == "slot" and event.get("name") == "goal":
            return event.get("value")
    return None


def slots_set_by_this_message(tracker: Tracker) -> set[str]:
    """Slots set since the person's latest message (by Rasa's slot mappings)."""
    names: set[str] = set()
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            break
        if event.get("event") == "slot":
            names.add(event.get("name"))
    return names


def _bullets(items: list[str]) -> str:
    return "\n".join(f"• {item}" for item in items[:ITEMS_SHOWN])


def _numbered(items: list[str]) -> str:
    return "\n".join(f"{n}. {item}" for n, item in enumerate(items[:ITEMS_SHOWN], start=1))


def _contact(program) -> str:
    contact = program.contact
    parts = [contact.organisation, contact.address, contact.phone, contact.web]
    return " · ".join(part for part in parts if part)


class ActionProgramQuestion(Action):
    """A programme asked about: what it is, whether it fits and why, how to apply."""

    def name(self) -> str:
        return "action_program_question"

    def program_id(self, tracker: Tracker, catalog) -> str | None:
        text = latest_text(tracker)
        number = item_number(text)
        shown = list(tracker.get_slot("shown_programs") or [])
        if number is not None and number <= len(shown):
            return shown[number - 1]
        named = find_programmes(text, catalog)
        if named:
            return named[0]
        entity = next(tracker.get_latest_entity_values("program_id"), None)
        if entity:
            return str(entity)
        return tracker.get_slot(FOCUS) or program_they_came_for(tracker, catalog)

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        language = language_of(tracker)
        catalog = await current_catalog()
        events = forget_captured_answer(tracker)
        program_id = self.program_id(tracker, catalog)
        program = catalog.get(program_id) if program_id else None
        if program is None:  # "comment postuler ?" after a list: which one?
            say_which_programme(dispatcher, tracker, catalog, program_id, "program_details")
            return events
        slots = {k: v for k, v in tracker.slots.items() if v is not None}
        for event in events:
            slots.pop(event["name"], None)
        answer = describe_for_person(program, profile_of(tracker, slots), catalog, None, language)
        wants_papers = latest_intent(tracker) == "how_to_apply" or asks_how_to_apply(
            latest_text(tracker)
        )
        reserved = 0
        requested = tracker.get_slot("requested_slot")
        if tracker.active_loop.get("name") == FORM and requested:
            # the form asks its question again in the same turn
            reserved = replies_length(domain, language, [(f"utter_ask_{requested}", {})])
        # WhatsApp: one numbering per turn (the form's question may follow with its own)
        numbered = channel_of(tracker) != "whatsapp"
        messages = self.answer(
            answer, program, catalog, language, wants_papers, domain, reserved, numbered
        )
        for response, variables in messages:
            dispatcher.utter_message(response=response, **variables)
        await store_referrals(tracker, [program.id], "chosen")
        return [*events, SlotSet(FOCUS, program.id)]

    def answer(
        self,
        answer,
        program,
        catalog,
        language: str,
        wants_papers: bool,
        domain: dict[str, Any],
        reserved: int = 0,
        numbered: bool = True,
    ) -> list[tuple[str, dict[str, str]]]:
        """(response, variables) of the reply, cut to fit the turn's budget."""
        name = program.name.get(language)
        summary = program.summary.get(language).split("\n")[0]
        head: list[tuple[str, dict[str, str]]] = [
            ("utter_program_answer", {"program_name": name, "summary": summary})
        ]
        # At most NAMED_AT_ONCE programmes in the answer (issue 16, item 3): this one, those
        # its note already names ("va plutôt vers Réseau Entreprendre ou Alliance..."),
        # then alternatives up to the limit.
        named = set(find_programmes(answer.status_note or "", [program, *catalog]))
        others = [a.name for a in answer.alternatives if a.id not in named]
        room = max(0, NAMED_AT_ONCE - 1 - len(named - {program.id}))
        alternatives = ", ".join(others[: min(room, ALTERNATIVES_NAMED)])
        if answer.status != "open":
            note = {"status_note": answer.status_note or "", "alternatives": alternatives}
            response = (
                "utter_program_answer_closed_instead"
                if alternatives
                else "utter_program_answer_closed"
            )
            return [*head, (response, note)]
        if answer.missing:
            response = (
                "utter_program_answer_not_for_you_instead"
                if alternatives
                else "utter_program_answer_not_for_you"
            )
            missing = " · ".join(answer.missing[:2])
            head.append((response, {"missing": missing, "alternatives": alternatives}))
        elif answer.reasons:
            head.append(("utter_program_answer_fits", {"why": " · ".join(answer.reasons[:2])}))
        else:
            head.append(("utter_program_answer_depends", {}))
        if answer.caution:
            head.append(("utter_program_caution", {"caution": answer.caution}))
        steps = list(program.how_to_apply.get(language))
        documents = list(program.documents.get(language))
        contact = _contact(program)
        # WhatsApp: one numbering per turn, and the form's question may follow with its own
        listed = _numbered if numbered else _bullets
        full = {"steps": listed(steps), "documents": _bullets(documents), "contact": contact}
        short = {"steps": listed(steps[:2]), "contact": contact}
        tails = [
            [("utter_program_answer_apply_papers", full)],
            [("utter_program_answer_apply", short)],
            [("utter_program_answer_apply_hint", {})],
        ]
        if not wants_papers:
            tails = tails[1:]
        for tail in tails:
            reply = [*head, *tail]
            if replies_length(domain, language, reply) + reserved <= TURN_BUDGET:
                return reply
        return [*head[:2], *tails[-1]]


@functools.lru_cache(maxsize=1)
def _project_responses() -> dict[str, Any]:
    with (PROJECT_ROOT / "domain.yml").open(encoding="utf-8") as source:
        return yaml.safe_load(source).get("responses") or {}


def responses_of(domain: dict[str, Any] | None) -> dict[str, Any]:
    """The responses Rasa sent with the domain, or domain.yml's when it sent none (Rasa's
    selective domain sends only what an action needs)."""
    return (domain or {}).get("responses") or _project_responses()


def _render(domain: dict[str, Any], response: str, language: str, variables: dict) -> str:
    for variant in responses_of(domain).get(response) or []:
        conditions = variant.get("condition") or []
        if any(c.get("name") == "language" and c.get("value") == language for c in conditions):
            text = variant.get("text") or ""
            with contextlib.suppress(KeyError, IndexError, ValueError):
                text = text.format(**variables)
            titles = [button.get("title", "") for button in variant.get("buttons") or []]
            return text + "".join(titles)
    return ""


def replies_length(domain: dict[str, Any], language: str, replies: list[tuple]) -> int:
    """Characters of these replies as the person will read them."""
    return sum(len(_render(domain, response, language, v)) for response, v in replies)


class ActionChangeGoal(Action):
    """A new goal said during or after the questions: it replaces the old one (the form
    then goes on, or the new suggestions come: bot/nlu/conversation.py)."""

    def name(self) -> str:
        return "action_change_goal"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        events = forget_captured_answer(tracker)
        goal = said_goal(latest_text(tracker), latest_intent(tracker))
        if goal is None:
            return events
        if goal != goal_before_message(tracker):
            dispatcher.utter_message(response=f"utter_goal_changed_{goal}")
        events += [SlotSet("goal", goal), SlotSet("program_options", None)]
        if goal not in PROJECT_GOALS:
            events += [SlotSet(slot, None) for slot in ("project_stage", "sector", "amount")]
        return events


class ActionRemindPrograms(Action):
    """The same goal again after the suggestions: the list already shown, names only, not
    the same cards again nor the questions."""

    def name(self) -> str:
        return "action_remind_programs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        catalog = await current_catalog()
        shown = list(tracker.get_slot("shown_programs") or [])
        show_program_list(dispatcher, tracker, catalog, language_of(tracker), shown)
        return forget_captured_answer(tracker)


class ActionOffTopic(Action):
    """In the profile form, a question Bousla cannot answer: one line, then the question."""

    def name(self) -> str:
        return "action_off_topic"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        dispatcher.utter_message(response="utter_off_topic_in_form")
        return forget_captured_answer(tracker)


class ActionSmallWord(Action):
    """ok, wakha, merci, 👍: a short answer that says what can come next."""

    def name(self) -> str:
        return "action_small_word"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        thanks = says_thanks(latest_text(tracker))
        after_list = previous_action(tracker) in PROGRAM_LISTS_SHOWN and bool(
            tracker.get_slot("shown_programs")
        )
        if after_list:
            response = "utter_ack_programs"
        elif thanks:
            response = "utter_you_are_welcome"
        else:
            response = "utter_ack"
        dispatcher.utter_message(response=response)
        return []


class ActionAddToRequest(Action):
    """While a request for a counsellor is open: the message is for the counsellor."""

    def name(self) -> str:
        return "action_add_to_request"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        person_id = tracker.sender_id

        def add(session) -> bool:
            handoff = active_handoff(session, person_id=person_id)
            if handoff is None:
                return False
            record(
                session,
                actor="bot",
                action="message_added_to_request",
                target_type="handoff",
                target_id=handoff.id,
            )
            return True

        try:
            still_open = await in_session(add)
        except Exception:  # the person is still told; the transcript keeps the message
            logger.exception("Could not add a message to the request of %s", person_id)
            still_open = True
        if not still_open:  # closed from the dashboard without a hand-back
            dispatcher.utter_message(response="utter_ack")
            return [SlotSet(HANDOFF_OPEN, None)]
        dispatcher.utter_message(response="utter_handoff_message_added")
        return []
