"""The profile form: consent first, then a few short questions, then the suggestions.

Questions (slots, in this order): profile_consent, age, education, situation, goal,
commune; for the project and financing goals also project_stage, sector, amount. Answers
already given (entities of the first message: "bghit khdma, 3andi 24 3am f ain harrouda")
are not asked again. Answers are read by `bot.orientation.profile_answers` (no Rasa there).

- An answer that is not understood is asked again ONCE, with an example
  (`utter_ask_<slot>_again`); a second miss, or "je sais pas" / "skip", leaves the slot
  empty and the form moves on (`profile_skipped`).
- The profile is stored on the person's row only when they said yes to
  `utter_ask_profile_consent`; the answer itself is recorded in `consents`.
- Intents in FORM_INTERRUPTIONS are never read as answers (`not_intent` on every mapping of
  the form's slots in domain.yml): the form is rejected at once and the rules of
  bot/data/orientation.yml take over (counsellor, distress, menu...). need_listening
  (SOFT_EXITS) leaves the form too, unless the message answers the question.
"""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from dataclasses import asdict
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActionExecutionRejected, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT

from bot.actions.domain import domain_of
from bot.actions.tracker import channel_of
from bot.language.small_words import is_small_word
from bot.orientation.matching import Profile
from bot.orientation.profile_answers import parse
from bot.privacy.consent import record_profile_consent
from bot.storage.db import in_session
from bot.storage.people import PROFILE_FIELDS, clear_profile, save_profile

logger = logging.getLogger(__name__)

FORM = "profile_form"
CONSENT = "profile_consent"
REASKED = "profile_reasked"
SKIPPED = "profile_skipped"
PROJECT_SLOTS = ("project_stage", "sector", "amount")
PROJECT_GOALS = ("project", "financing")

# Intents that leave the form (rules in bot/data/orientation.yml)...
FORM_EXITS = ("ask_human", "distress", "cancel", "main_menu", "goodbye", "delete_my_data")
# ... and intents answered on the side before the form asks its question again.
FORM_ASIDES = ("bot_challenge", "ask_center_info", "media_received", "change_language")
# Never read as answers: `not_intent` of every mapping of the form's slots (domain.yml).
FORM_INTERRUPTIONS = FORM_EXITS + FORM_ASIDES
# Leave the form too (rule in orientation.yml), unless the message answers the question:
# "je sais pas" or "ma3rftch" may be classified need_listening, and they answer it.
SOFT_EXITS = ("need_listening",)
# Messages that answer nothing ("salam", "merci", or any small word such as "ok"): the
# question is asked again, and this does not count as the one retry.
NOT_ANSWERS = ("greet", "thank")


# Answers on the side (bot/actions/conversation.py) after which the form asks again.
ASIDE_ACTIONS = (
    "action_program_question",
    "action_off_topic",
    "action_small_word",
    "action_remind_programs",
    "utter_privacy_notice",
)


def latest_action(tracker: Tracker) -> str | None:
    """The last action run (the form's own run is not logged yet)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return "action_listen"
        if event.get("event") == "action":
            return event.get("name")
    return None


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_intent(tracker: Tracker) -> str | None:
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def is_button_payload(value: Any) -> bool:
    """A payload of another button ("/seek_job") caught by a free-text mapping."""
    return isinstance(value, str) and value.lstrip().startswith("/")


def known_profile(slots: dict[str, Any]) -> dict[str, Any]:
    """The profile fields of the slots, with valid types only (as stored and matched)."""
    return {k: v for k, v in asdict(Profile.from_mapping(slots)).items() if v is not None}


class ValidateProfileForm(FormValidationAction):
    def name(self) -> str:
        return "validate_profile_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        domain = domain_of(domain)  # domain.yml's: Rasa does not send it (rasa_tuning.py)
        leaving = self.leaves_the_form(tracker, domain)
        if leaving is not None:
            return leaving
        events = await super().run(dispatcher, tracker, domain)
        changed = {e["name"] for e in events if e.get("event") == "slot"}
        if tracker.slots.get(CONSENT) is True and changed & {CONSENT, *PROFILE_FIELDS}:
            await self._store_profile(tracker)
        return events

    def leaves_the_form(self, tracker: Tracker, domain: dict[str, Any]) -> list | None:
        """Reject the form for a SOFT_EXITS message that does not answer the question.

        The text caught by the mappings is emptied and the rules of orientation.yml take
        over (e.g. listening). None: the message is an answer (or not a soft exit).
        """
        requested = tracker.slots.get(REQUESTED_SLOT)
        if latest_intent(tracker) not in SOFT_EXITS or requested is None:
            return None
        if latest_action(tracker) in ASIDE_ACTIONS:
            return None  # the form asks again after an aside: nothing to read
        answer = parse(requested, latest_text(tracker))
        if answer.understood or answer.unknown:
            return None
        form_slots = set(self.domain_slots(domain))
        caught = [name for name in tracker.slots_to_validate() if name in form_slots]
        return [SlotSet(name, None) for name in caught] + [ActionExecutionRejected(FORM)]

    async def _store_profile(self, tracker: Tracker) -> None:
        profile = known_profile(tracker.slots)
        try:
            await in_session(
                lambda session: save_profile(
                    session,
                    person_id=tracker.sender_id,
                    channel=channel_of(tracker),
                    profile=profile,
                    language=tracker.slots.get("language"),
                )
            )
        except Exception:  # the conversation goes on; the profile is stored next turn
            logger.exception("Could not store the profile of %s", tracker.sender_id)

    async def next_requested_slot(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """The next question: skipped ones and project questions (for job and training
        goals) are left out. `None` ends the form."""
        goal = tracker.slots.get("goal")
        skipped = set(tracker.slots.get(SKIPPED) or [])
        for slot in self.domain_slots(domain):
            if slot in skipped or (slot in PROJECT_SLOTS and goal not in PROJECT_GOALS):
                continue
            if tracker.slots.get(slot) is None:
                return SlotSet(REQUESTED_SLOT, slot)
        return SlotSet(REQUESTED_SLOT, None)

    async def extract_goal(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> dict[str, Any]:
        """At the start, the goal said in free words ("3andi 24 3am w bghit khdma" may be
        classified `inform`, not seek_job): read it from the text, not asked again."""
        starting = tracker.slots.get(REQUESTED_SLOT) is None  # no question asked yet
        if tracker.slots.get("goal") is not None or not starting:
            return {}
        answer = parse("goal", latest_text(tracker))
        return {"goal": answer.value} if answer.understood else {}

    async def _check(
        self, slot: str, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker
    ) -> dict[str, Any]:
        """The slot's value if understood; else ask again once, then skip the question."""
        answering = tracker.slots.get(REQUESTED_SLOT) == slot
        if value is None:
            return {slot: None}  # emptied by an aside (bot/actions/conversation.py)
        if is_button_payload(value):
            return {slot: None}  # another button: the question is simply asked again
        answer = parse(slot, value)
        text = latest_text(tracker)
        if answering and text and text != value and not is_button_payload(text):
            # An answer typed in full is read whole: an entity may be only a part of it
            # ("vingt" of "vingt-deux", "50" of "50 alf").
            whole = parse(slot, text)
            if whole.understood or (whole.unknown and not answer.understood):
                answer = whole
        if answer.understood:
            return {slot: answer.value}
        if not answering:
            return {slot: None}  # a stray value in an answer to another question: dropped
        if not answer.unknown and (latest_intent(tracker) in NOT_ANSWERS or is_small_word(text)):
            return {slot: None}  # "ok", "merci": the question again, without "ma fhmtch"
        reasked = list(tracker.slots.get(REASKED) or [])
        if not answer.unknown and slot not in reasked:
            return {slot: None, REASKED: [*reasked, slot]}  # action_ask_<slot> gives an example
        skipped = list(tracker.slots.get(SKIPPED) or [])
        if slot == CONSENT:
            dispatcher.utter_message(response="utter_profile_consent_refused")
        else:
            dispatcher.utter_message(response="utter_profile_skip")
        return {slot: None, SKIPPED: [*skipped, slot]}

    async def validate_profile_consent(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict
    ) -> dict[str, Any]:
        result = await self._check(CONSENT, value, dispatcher, tracker)
        granted = result.get(CONSENT)
        if granted is None or tracker.slots.get(REQUESTED_SLOT) != CONSENT:
            return result  # no answer, or a consent given in an earlier journey
        person_id, channel = tracker.sender_id, channel_of(tracker)

        def record(session) -> None:
            record_profile_consent(session, person_id=person_id, channel=channel, granted=granted)
            if not granted:
                clear_profile(session, person_id=person_id)

        try:
            await in_session(record)
        except Exception:  # the answer still holds for this conversation (slot); logged
            logger.exception("Could not record the profile consent of %s", person_id)
        if not granted:
            dispatcher.utter_message(response="utter_profile_consent_refused")
        return result

    async def validate_age(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._check("age", value, dispatcher, tracker)

    async def validate_education(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._check("education", value, dispatcher, tracker)

    async def validate_situation(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._check("situation", value, dispatcher, tracker)

    async def validate_goal(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._check("goal", value, dispatcher, tracker)

    async def validate_commune(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._check("commune", value, dispatcher, tracker)

    async def validate_project_stage(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._check("project_stage", value, dispatcher, tracker)

    async def validate_sector(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._check("sector", value, dispatcher, tracker)

    async def validate_amount(self, value, dispatcher, tracker, domain) -> dict[str, Any]:
        return await self._check("amount", value, dispatcher, tracker)


class AskProfileQuestion(Action, ABC):
    """`action_ask_<slot>`: the question, or the question with an example after a miss."""

    @property
    @abstractmethod
    def slot(self) -> str: ...

    def name(self) -> str:
        return f"action_ask_{self.slot}"

    def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[dict[str, Any]]:
        again = missed_just_now(tracker, self.slot)
        dispatcher.utter_message(response=f"utter_ask_{self.slot}{'_again' if again else ''}")
        return []


def missed_just_now(tracker: Tracker, slot: str) -> bool:
    """Whether the person's latest message was a miss for `slot`: its validation, in this
    turn, put the slot in REASKED. An "ok", "merci" or a question about a programme after
    a miss gets the question again without "ma fhmtch" (the slot stays in REASKED: the
    next miss skips it)."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "slot" and event.get("name") == REASKED:
            return slot in (event.get("value") or [])
    return False


class ActionAskProfileConsent(AskProfileQuestion):
    slot = CONSENT


class ActionAskAge(AskProfileQuestion):
    slot = "age"


class ActionAskEducation(AskProfileQuestion):
    slot = "education"


class ActionAskSituation(AskProfileQuestion):
    slot = "situation"


class ActionAskGoal(AskProfileQuestion):
    slot = "goal"


class ActionAskCommune(AskProfileQuestion):
    slot = "commune"


class ActionAskProjectStage(AskProfileQuestion):
    slot = "project_stage"


class ActionAskSector(AskProfileQuestion):
    slot = "sector"


class ActionAskAmount(AskProfileQuestion):
    slot = "amount"
