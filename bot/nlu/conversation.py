"""Dialogue policy: a conversation that keeps going after the first suggestion (issue 16).

Like the other hand-written policies (`bot.nlu.chosen_action`), it learns nothing: a
function of the tracker names the action due now, or None to leave the decision to the
rules and TED. Right after the person wrote, in this order:

1. **A request for a counsellor is open** (slot `handoff_open`): whatever they write is for
   the counsellor (`action_add_to_request`); no form starts. Distress, cancelling and
   erasure keep their own paths.
2. **Their data**: "mes données ?", "chno katdir b les données dyali?" get the full privacy
   notice (`utter_privacy_notice`); the opening shows only two lines of it.
3. **A programme named** ("kifach ntsjel f intelaka", "w forsa?", "انطلاقة فين كاينة؟"),
   found in the catalogue's names and aliases (`bot.catalog.names`), or a number typed
   after a numbered list of programmes: `action_program_question` answers about that
   programme. In the profile form, only when the message does not answer the pending
   question ("stagiaire OFPPT" may answer the schooling question).
4. **A new goal** ("wa9ila la, ma bghitch khdma, bghit formation") once a goal is known:
   `action_change_goal`, then the form goes on (or the new suggestions come).
5. **An off-topic question in the form** (out of scope, not an answer):
   `action_off_topic`, one line, then the same question again.
6. **A small word** (ok, wakha, merci, chokran, 👍, "ah mzyan", "safi") outside the form,
   when the bot's last message asked no yes/no question: `action_small_word`.

After one of the side answers above, the profile form (if active) asks its pending
question again (`profile_form` predicted without validation: Rasa validates a form only
right after `action_listen`). After `action_change_goal`, the form is started or resumed.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from bot.language.small_words import (
    asks_about_data,
    asks_how_to_apply,
    is_small_word,
    item_number,
)
from bot.nlu.chosen_action import ChosenActionPolicy, action_before_latest_message
from bot.orientation.goals import GOAL_BY_INTENT, said_goal

logger = logging.getLogger(__name__)

PRIORITY = 9  # FollowupAnswerPolicy 8, InterruptionPolicy 7, RulePolicy 6
FORM = "profile_form"

ADD_TO_REQUEST = "action_add_to_request"
PRIVACY_NOTICE = "utter_privacy_notice"
PROGRAM_QUESTION = "action_program_question"
CHANGE_GOAL = "action_change_goal"
REMIND = "action_remind_programs"
OFF_TOPIC = "action_off_topic"
SMALL_WORD = "action_small_word"
# Side answers after which the form asks its pending question again.
ASIDES = (PRIVACY_NOTICE, PROGRAM_QUESTION, OFF_TOPIC, SMALL_WORD, REMIND)

# Never taken from their own path.
OWN_PATH = ("distress",)
WHILE_WAITING_OWN_PATH = ("distress", "cancel", "delete_my_data", "followup_answer")
GOAL_INTENTS = tuple(GOAL_BY_INTENT)
# Outside the form, a goal said in words under these intents changes the goal too.
GOAL_WORDS_INTENTS = (*GOAL_BY_INTENT, "inform", "deny", "nlu_fallback", "out_of_scope")
OFF_TOPIC_INTENTS = ("out_of_scope", "nlu_fallback")
# Small words these intents already answer well (rules): "merci", "salam", "bslama".
OWN_ANSWERS = ("thank", "greet", "goodbye")
PROGRAM_INTENTS = ("program_details", "how_to_apply")
# The bot's last message asked a yes/no question: "ok" answers it (stories and rules).
YES_NO_QUESTIONS = (
    "utter_offer_counsellor",
    "utter_ask_delete_my_data",
    "action_default_ask_affirmation",
    "action_two_stage_fallback",
    "action_followup_ask",
    "utter_choose_language",
)
# After these, a typed number means an item of the list of programmes just shown.
PROGRAM_LISTS = (
    "action_suggest_programs",
    "action_more_programs",
    "action_change_goal",
    "action_remind_programs",
    "action_program_question",
    "action_small_word",
)
# Housekeeping actions that are not the bot's "last message".
HOUSEKEEPING = (ACTION_LISTEN_NAME, "action_extract_slots", "action_session_start")


class _Names:
    """The catalogue's programme names, reloaded when staff edit it (same as the actions)."""

    def __init__(self) -> None:
        self._store = None
        self._lock = threading.Lock()

    def programmes_in(self, text: str) -> list[str]:
        from bot.catalog import CatalogStore
        from bot.catalog.names import find_programmes
        from bot.settings import get_settings

        directory = Path(get_settings().catalog_dir)
        with self._lock:
            if self._store is None or self._store.directory != directory:
                self._store = CatalogStore(directory)
            store = self._store
        try:
            return find_programmes(text, store.catalog)
        except Exception:  # a broken catalogue never stops the conversation
            logger.exception("Could not look for programme names")
            return []


NAMES = _Names()


def previous_bot_action(tracker: DialogueStateTracker) -> str | None:
    """The last action the bot ran before the person's latest message."""
    return action_before_latest_message(tracker, ignored=HOUSEKEEPING)


def slot_before_message(tracker: DialogueStateTracker, name: str):
    """A slot's value before the person's latest message (Rasa's slot mappings may already
    have set it from that message: "je préfère une formation" fills `goal`). Reads back
    from the end, so that a tracker that keeps only its last turns gives the same."""
    set_by_message: bool | None = False
    for event in reversed(tracker.events):
        if event is tracker.latest_message:
            if not set_by_message:
                return tracker.get_slot(name)
            set_by_message = None  # now looking for the value before the message
        elif isinstance(event, SlotSet) and event.key == name:
            if set_by_message is None:
                return event.value
            set_by_message = True
    return None


def answers_pending_question(tracker: DialogueStateTracker, text: str) -> bool:
    """The message answers the profile form's pending question."""
    requested = tracker.get_slot("requested_slot")
    if tracker.active_loop_name != FORM or not requested:
        return False
    from bot.orientation.profile_answers import parse

    try:
        answer = parse(requested, text)
    except Exception:
        logger.exception("Could not read an answer to %s", requested)
        return False
    return bool(answer.understood or answer.unknown)


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.POLICY_WITHOUT_END_TO_END_SUPPORT, is_trainable=True
)
class ConversationPolicy(ChosenActionPolicy):
    PRIORITY = PRIORITY

    def choose(self, tracker: DialogueStateTracker) -> str | None:
        latest = tracker.latest_action_name
        if latest == CHANGE_GOAL:
            return FORM  # resumed, or started (and done at once: the new suggestions)
        if latest in (*ASIDES, ADD_TO_REQUEST):
            return FORM if tracker.active_loop_name == FORM else ACTION_LISTEN_NAME
        if latest != ACTION_LISTEN_NAME or tracker.latest_message is None:
            return None
        return self.choose_after_message(tracker)

    def choose_after_message(self, tracker: DialogueStateTracker) -> str | None:
        message = tracker.latest_message
        intent = message.intent.get("name")
        text = message.text or ""
        if intent in OWN_PATH:
            return None
        if tracker.get_slot("handoff_open"):
            return None if intent in WHILE_WAITING_OWN_PATH else ADD_TO_REQUEST
        if tracker.get_slot("followup_id") or intent == "ask_human":
            return None
        in_form = tracker.active_loop_name == FORM
        goal = slot_before_message(tracker, "goal")
        if text.startswith("/"):  # a button: its own intent (rules), except these
            if intent in GOAL_INTENTS and not in_form and goal is not None:
                return self.new_goal(tracker, text, intent)
            if intent in PROGRAM_INTENTS:
                return PROGRAM_QUESTION
            return None
        if in_form and answers_pending_question(tracker, text):
            return None
        if asks_about_data(text):
            return PRIVACY_NOTICE
        previous = previous_bot_action(tracker)
        number = item_number(text)
        if (
            number is not None
            and not in_form
            and (previous in PROGRAM_LISTS or intent in PROGRAM_INTENTS)
            and number <= len(tracker.get_slot("shown_programs") or [])
        ):
            return PROGRAM_QUESTION  # "2", "le premier", "numéro 3" after a list
        if NAMES.programmes_in(text):
            return PROGRAM_QUESTION
        if intent in PROGRAM_INTENTS and not in_form:
            return PROGRAM_QUESTION  # "plus d'infos ?": the programme in focus, or which one
        if (
            not in_form
            and tracker.get_slot("program_in_focus")
            and previous == PROGRAM_QUESTION
            and asks_how_to_apply(text)
        ):
            return PROGRAM_QUESTION  # "et on s'inscrit où ?" right after an answer
        if intent in GOAL_WORDS_INTENTS and (in_form or goal is not None):
            chosen = self.new_goal(tracker, text, intent)
            if chosen:
                return chosen
        if in_form and intent in OFF_TOPIC_INTENTS and not is_small_word(text):
            return OFF_TOPIC
        if (
            not in_form
            and intent not in OWN_ANSWERS
            and is_small_word(text)
            and previous not in YES_NO_QUESTIONS
        ):
            return SMALL_WORD
        return None

    @staticmethod
    def new_goal(tracker: DialogueStateTracker, text: str, intent: str | None) -> str | None:
        """A goal said again: the list already shown (not the same cards), or the new goal."""
        said = said_goal(text, intent)
        if said is None:
            return None
        in_form = tracker.active_loop_name == FORM
        if said == slot_before_message(tracker, "goal"):  # the form reads it as any answer
            return None if in_form or not tracker.get_slot("shown_programs") else REMIND
        return CHANGE_GOAL
