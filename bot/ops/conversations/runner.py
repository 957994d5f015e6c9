"""Plays scenarios through the real stack and checks every bot turn.

Generic checks (every bot turn, unless the scenario or the turn opts out):

- misunderstood: no reply saying "I didn't understand" (utter_default, the two-stage
  fallback's replies, any response whose wording says so);
- language: the replies are in the person's script, and French vs Darija in Latin
  letters by their words (the response's variant when it can be told);
- budget: the opening turn ≤ 450 characters, a suggestion turn ≤ 600 and ≤ 3
  programmes, any other turn ≤ 600 (text and button titles, what the phone shows);
- numbering: on WhatsApp, at most one numbered list per turn (what "2" refers to);
- restart: no profile question asked again once answered (the tracker says answered);
- skipped: a pending question is not left behind for another one unless answered or
  skipped on purpose ("je sais pas": utter_profile_skip);
- gender: no masculine- or feminine-only form before the person's own words say it
  (`says_gender`), and only the right one after.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import traceback
import uuid
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot import PROJECT_ROOT
from bot.ops.conversations.channels import BotMessage, Conversation, open_conversation
from bot.ops.conversations.checks import ProgramNames, fold, gender_problem, language_problem
from bot.ops.conversations.responses import ResponseIndex
from bot.ops.conversations.scenario import Scenario, Turn, load_scenarios
from bot.ops.conversations.stack import ConversationStack

SCENARIOS_DIR = PROJECT_ROOT / "tests" / "conversations" / "scenarios"
KNOWN_FAILURES = PROJECT_ROOT / "tests" / "conversations" / "known_failures.yml"

OPENING_BUDGET = 450
SUGGESTION_BUDGET = 600
TURN_BUDGET = 600
MAX_PROGRAMS_SHOWN = 3
SUGGESTION_RESPONSES = frozenset(
    {"utter_programs_intro", "utter_program_offer", "utter_program_offer_to_check",
     "utter_program_near_miss"}
)  # fmt: skip
SKIP_RESPONSES = frozenset({"utter_profile_skip"})
MAX_FORM_QUESTIONS = 15
ANSWERS_PER_QUESTION = 2  # the persona's answer, then once more when asked again


@dataclass(frozen=True)
class Failure:
    turn: str | None
    check: str
    detail: str

    @property
    def key(self) -> str:
        """Stable name of the checkpoint (what known_failures.yml lists)."""
        return f"turn {self.turn}: {self.check}" if self.turn else f"scenario: {self.check}"

    def __str__(self) -> str:
        return f"{self.key} — {self.detail}"


@dataclass
class TurnRecord:
    turn: Turn
    messages: list[BotMessage]
    seconds: float
    name: str = ""  # "4", or "4.age" for the answer to a question within `fill_form`
    label: str = ""  # what the person did
    pending_before: str | None = None  # the question waiting when the person wrote
    programs: list[str] = field(default_factory=list)
    suggestion: bool = False
    asked: list[str] = field(default_factory=list)
    misunderstood: bool = False
    restart: bool = False
    failures: list[Failure] = field(default_factory=list)

    def fail(self, check: str, detail: str) -> None:
        self.failures.append(Failure(self.name, check, detail))

    @property
    def bot_messages(self) -> list[BotMessage]:
        return [m for m in self.messages if m.author == "bot"]

    @property
    def chars(self) -> int:
        return sum(m.chars for m in self.bot_messages)

    @property
    def responses(self) -> list[str]:
        return [m.response or "?" for m in self.messages]


@dataclass
class ScenarioResult:
    scenario: Scenario
    sender_id: str = ""
    records: list[TurnRecord] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0
    steps: list[str] = field(default_factory=list)  # stories: the tracker's steps

    @property
    def passed(self) -> bool:
        return not self.failures and self.error is None

    @property
    def failure_keys(self) -> list[str]:
        keys = [f.key for f in self.failures]
        if self.error:
            keys.append("scenario: error")
        return list(dict.fromkeys(keys))

    # ------------------------------------------------------------ figures

    @property
    def turns_to_first_suggestion(self) -> int | None:
        user_turns = 0
        for record in self.records:
            if record.turn.action != "counsellor":
                user_turns += 1
            if record.suggestion:
                return user_turns
        return None

    @property
    def turn_chars(self) -> list[int]:
        return [r.chars for r in self.records if r.bot_messages]

    def metrics(self) -> dict[str, Any]:
        chars = self.turn_chars
        return {
            "scenario": self.scenario.id,
            "channel": self.scenario.channel,
            "turns": len(self.records),
            "to_suggestion": self.turns_to_first_suggestion,
            "chars_mean": round(statistics.fmean(chars)) if chars else 0,
            "chars_max": max(chars, default=0),
            "misunderstood": sum(r.misunderstood for r in self.records),
            "restarts": sum(r.restart for r in self.records),
            "failures": len(self.failure_keys),
        }

    # ------------------------------------------------------------ transcript

    def transcript(self, failures: bool = True) -> str:
        persona = self.scenario.persona
        lines = [
            f"# {self.scenario.id} ({persona.get('name')}, {persona.get('age')}, "
            f"{self.scenario.channel}, {self.scenario.language})"
        ]
        for record in self.records:
            lines.append(f"👤 {record.label}")
            if not record.messages:
                lines.append("   (no reply)")
            for message in record.messages:
                name = message.response or ("counsellor" if message.author != "bot" else "?")
                body = message.text.replace("\n", "\n     ")
                lines.append(f"🤖 [{name}] {body}")
                if message.buttons:
                    marks = [
                        f"{i}. {b.title}" if message.numbered else b.title
                        for i, b in enumerate(message.buttons, 1)
                    ]
                    lines.append(f"     {' | '.join(marks)}")
            if failures:
                lines += [f"   ✗ {f.check}: {f.detail}" for f in record.failures]
        if self.steps:
            lines.append("tracker steps: " + " → ".join(self.steps))
        if failures and self.records:
            lines += [f"   ✗ {f.check}: {f.detail}" for f in self.failures if f.turn is None]
        if self.error:
            lines.append(f"   ✗ error: {self.error.strip().splitlines()[-1]}")
        return "\n".join(lines)


# ---------------------------------------------------------------- the harness


class Harness:
    """Runs scenarios on a started ConversationStack (several at a time if asked)."""

    def __init__(
        self,
        stack: ConversationStack,
        responses: ResponseIndex | None = None,
        programs: ProgramNames | None = None,
    ) -> None:
        self.stack = stack
        self.responses = responses or ResponseIndex.from_file(PROJECT_ROOT / "domain.yml")
        self.programs = programs or ProgramNames.from_catalog(PROJECT_ROOT / "orientation_catalog")
        self._counsellor_lock = threading.Lock()

    def run_all(
        self,
        scenarios: Iterable[Scenario],
        workers: int = 4,
        progress: Callable[[ScenarioResult], None] | None = None,
    ) -> dict[str, ScenarioResult]:
        scenarios = list(scenarios)
        results: dict[str, ScenarioResult] = {}
        with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
            for result in pool.map(self.run, scenarios):
                results[result.scenario.id] = result
                if progress:
                    progress(result)
        return results

    def run(self, scenario: Scenario) -> ScenarioResult:
        started = time.monotonic()
        sender = f"conv-{scenario.id}-{uuid.uuid4().hex[:6]}"
        conversation = open_conversation(self.stack, scenario.channel, sender)
        result = ScenarioResult(scenario, conversation.sender_id)
        state = _State(language=scenario.language)
        try:
            for turn in scenario.turns:
                first = len(result.records)
                if turn.action == "fill_form":
                    self._fill_form(scenario, conversation, turn, state, result.records)
                else:
                    record = self.play(conversation, turn, turn.label)
                    result.records.append(record)
                    self._generic_checks(scenario, conversation, record, state, turn)
                if len(result.records) > first:
                    self._turn_checks(conversation, result.records[-1], turn, state)
                for record in result.records[first:]:
                    result.failures += record.failures
        except Exception:  # noqa: BLE001 - reported with the transcript
            result.error = traceback.format_exc()
        result.seconds = time.monotonic() - started
        return result

    def _fill_form(
        self,
        scenario: Scenario,
        conversation: Conversation,
        turn: Turn,
        state: _State,
        records: list[TurnRecord],
    ) -> None:
        """Answer each profile question the bot asks with the persona's answer, until it
        asks none (the suggestions, or anything else)."""
        answers = scenario.persona.get("answers") or {}
        sent: dict[str, int] = {}
        for _ in range(MAX_FORM_QUESTIONS):
            question = state.pending
            if question is None:
                return
            if question not in answers:
                raise AssertionError(f"the persona has no answer for {question} (answers:)")
            if sent.get(question, 0) >= ANSWERS_PER_QUESTION:
                # A person would rephrase or give up here; the scenario goes on.
                records[-1].fail("fill_form", f"asks {question} again after "
                                              f"{ANSWERS_PER_QUESTION} answers")  # fmt: skip
                return
            sent[question] = sent.get(question, 0) + 1
            record = self.play(
                conversation, turn, f"{answers[question]}  ⟵ {question}", answers[question],
                sub=question,
            )  # fmt: skip
            records.append(record)
            self._generic_checks(scenario, conversation, record, state, turn)
        raise AssertionError(f"still asking after {MAX_FORM_QUESTIONS} answers")

    # ------------------------------------------------------------ one turn

    def play(
        self,
        conversation: Conversation,
        turn: Turn,
        label: str,
        text: str | None = None,
        sub: str | None = None,
    ) -> TurnRecord:
        begun = time.monotonic()
        if text is not None or turn.action == "user":
            messages = conversation.send(text if text is not None else turn.value)
        elif turn.action == "tap":
            messages = conversation.tap(turn.value)
        else:
            action, words = (
                (next(iter(turn.value)), next(iter(turn.value.values())))
                if isinstance(turn.value, dict)
                else (turn.value, None)
            )
            with self._counsellor_lock:
                messages = conversation.counsellor(action, words)
        seconds = time.monotonic() - begun
        for message in messages:
            if message.author != "bot":
                continue
            found = self.responses.identify(message.text, [b.title for b in message.buttons])
            if found:
                message.response, message.languages = found.response, found.languages
        name = f"{turn.index}.{sub}" if sub else str(turn.index)
        record = TurnRecord(turn=turn, messages=messages, seconds=seconds, name=name, label=label)
        shown = "\n".join(m.shown for m in record.bot_messages)
        record.programs = self.programs.program_ids(shown)
        names = set(record.responses)
        record.suggestion = bool(names & SUGGESTION_RESPONSES) or len(record.programs) >= 2
        record.asked = [
            q for q in (self.responses.question_of(m.response) for m in record.bot_messages) if q
        ]
        record.misunderstood = any(
            self.responses.is_misunderstanding(m.response, m.text) for m in record.bot_messages
        )
        return record

    def _generic_checks(
        self,
        scenario: Scenario,
        conversation: Conversation,
        record: TurnRecord,
        state: _State,
        turn: Turn,
    ) -> None:
        skipped = set(scenario.skip_checks) | set(turn.skip_checks)
        fail = record.fail
        if turn.language:
            state.language = turn.language
        if turn.says_gender:
            state.gender = scenario.sex
        bot = record.bot_messages
        by_person = turn.action != "counsellor"
        record.pending_before = state.pending

        if "misunderstood" not in skipped and record.misunderstood:
            said = next(m for m in bot if self.responses.is_misunderstanding(m.response, m.text))
            fail("misunderstood", f"{said.response or '?'}: {_short(said.text)}")
        expected_language = turn.checks.get("script", state.language)
        if "language" not in skipped and expected_language != "any":
            for message in bot:
                problem = self._language(message, expected_language)
                if problem:
                    fail("language", problem)
                    break
        if "budget" not in skipped and bot and by_person:
            if not state.opened:
                limit, what = OPENING_BUDGET, "opening"
            elif record.suggestion:
                limit, what = SUGGESTION_BUDGET, "suggestion turn"
            else:
                limit, what = TURN_BUDGET, "turn"
            if record.chars > limit:
                fail("budget", f"{what} of {record.chars} characters (> {limit})")
            if record.suggestion and len(record.programs) > MAX_PROGRAMS_SHOWN:
                fail("budget", f"{len(record.programs)} programmes in one turn "
                               f"(> {MAX_PROGRAMS_SHOWN})")  # fmt: skip
        if bot and by_person:
            state.opened = True
        if "numbering" not in skipped and scenario.channel == "whatsapp":
            numbered = [m for m in bot if _numbered_items(m)]
            if len(numbered) > 1:
                fail("numbering", f"{len(numbered)} numbered lists in one turn")
        if "gender" not in skipped:
            for message in bot:
                problem = gender_problem(message.shown, state.gender)
                if problem:
                    fail("gender", f"{problem} ({message.response or '?'})")
                    break

        # Questions: what the tracker says was answered during this turn.
        filled: set[str] = set()
        tracker: dict = {}
        if by_person:
            tracker = self.stack.tracker(conversation.sender_id, events=True)
            events = tracker.get("events") or []
            filled = self._answered_in(events[state.events_seen :])
            state.events_seen = len(events)
        slots = tracker.get("slots") or {}
        if "restart" not in skipped:
            again = [q for q in record.asked if q in state.answered]
            if again:
                record.restart = True
                where = ", ".join(f"{q} (answered at turn {state.answered[q]})" for q in again)
                fail("restart", f"asks again {where}")
        if "skipped" not in skipped and state.pending and by_person:
            pending = state.pending
            # an answer about a programme names one: not a move on if the question comes again
            moved_on = pending not in record.asked and (bool(record.asked) or record.suggestion)
            left_empty = pending not in filled and pending not in (
                slots.get("profile_skipped") or []
            )
            on_purpose = SKIP_RESPONSES & set(record.responses)
            if moved_on and left_empty and not on_purpose:
                fail(
                    "skipped", f"{pending} left unanswered for {record.asked or 'the suggestions'}"
                )
        for slot in self.responses.form_slots:
            if slot in filled and slot not in state.answered:
                state.answered[slot] = record.name
        if record.asked:
            state.pending = record.asked[-1]
        if state.pending and (
            state.pending in state.answered
            or (record.suggestion and state.pending not in record.asked)
            or (tracker and not (tracker.get("active_loop") or {}).get("name"))
        ):
            state.pending = None

    def _turn_checks(
        self, conversation: Conversation, record: TurnRecord, turn: Turn, state: _State
    ) -> None:
        """The checkpoints the scenario wrote for this turn (on the last reply of a
        `fill_form` step)."""
        checks, fail = turn.checks, record.fail
        bot = record.bot_messages
        names = set(record.responses)
        for name in checks.get("expect") or []:
            if name not in names:
                fail(f"expect {name}", f"got {record.responses}")
        for name in checks.get("forbid") or []:
            if name in names:
                fail(f"forbid {name}", f"got {record.responses}")
        shown = "\n".join(m.shown for m in bot)
        for item in checks.get("mentions") or []:
            if not self._mentions(item, shown, record):
                fail(f"mentions {item}", self._mentions_detail(item, record))
        for item in checks.get("not_mentions") or []:
            if self._mentions(item, shown, record):
                fail(f"not_mentions {item}", self._mentions_detail(item, record))
        if "first" in checks and record.programs[:1] != [checks["first"]]:
            fail(f"first {checks['first']}", f"named {record.programs or 'no programme'}")
        if "not_first" in checks and record.programs[:1] == [checks["not_first"]]:
            fail(f"not_first {checks['not_first']}", f"named {record.programs}")
        for item in checks.get("in_first") or []:
            if item not in record.programs[:MAX_PROGRAMS_SHOWN]:
                fail(f"in_first {item}", f"named {record.programs or 'no programme'}")
        any_of = checks.get("in_first_any") or []
        if any_of and not set(any_of) & set(record.programs[:MAX_PROGRAMS_SHOWN]):
            fail("in_first_any", f"none of {any_of} in {record.programs[:MAX_PROGRAMS_SHOWN]}")
        if checks.get("first_confirmed"):
            first = record.programs[0] if record.programs else None
            status = self.programs.status.get(first) if first else None
            if status != "active":
                fail("first_confirmed", f"first named: {first} ({status})")
        if "max_chars" in checks and record.chars > checks["max_chars"]:
            fail(f"max_chars {checks['max_chars']}", f"{record.chars} characters")
        if "max_programs" in checks and len(record.programs) > checks["max_programs"]:
            fail(f"max_programs {checks['max_programs']}", f"named {record.programs}")
        if "asks" in checks:
            wanted = checks["asks"]
            if wanted == "same":
                wanted = record.pending_before
            last = record.asked[-1] if record.asked else None
            if last != wanted:
                fail(f"asks {checks['asks']}", f"asked {last or 'nothing'}, expected {wanted}")
        if checks.get("no_reply") and bot:
            fail("no_reply", f"got {record.responses}")
        if checks.get("reply") and not bot:
            fail("reply", "no answer")
        if "handoff_open" in checks:
            is_open = self._handoff_open(conversation.sender_id)
            if is_open != bool(checks["handoff_open"]):
                fail(f"handoff_open {checks['handoff_open']}", f"open request: {is_open}")
        if "refers_to_item" in checks:
            problem = self._refers_to_item(conversation, record, int(checks["refers_to_item"]))
            if problem:
                fail(f"refers_to_item {checks['refers_to_item']}", problem)
        if "numbered_lists" in checks:
            count = sum(1 for m in bot if _numbered_items(m))
            if count > checks["numbered_lists"]:
                fail(f"numbered_lists {checks['numbered_lists']}", f"{count} numbered lists")
        if "db" in checks:
            for problem in self._db_problems(conversation.sender_id, checks["db"]):
                fail("db", problem)

    # ------------------------------------------------------------ helpers

    def _answered_in(self, events: list[dict]) -> set[str]:
        """Form questions answered by these events: the slot's last value as the message
        was read and the form validated it (a text caught then rejected is not an answer;
        answers emptied later by another action, e.g. without consent, still count)."""
        readers = {"action_extract_slots", *(self.responses.domain.get("forms") or {})}
        values: dict[str, object] = {}
        action = None
        for event in events:
            if event.get("event") == "action":
                action = event.get("name")
            elif event.get("event") == "slot" and action in readers:
                values[event.get("name")] = event.get("value")
        return {name for name, value in values.items() if value not in (None, [], "")}

    def _language(self, message: BotMessage, expected: str) -> str | None:
        if message.languages and expected not in message.languages:
            return (
                f"{message.response} in {'/'.join(sorted(message.languages))} for a person "
                f"writing {expected}"
            )
        problem = language_problem(message.shown, expected)
        return f"{problem}: {_short(message.shown)}" if problem else None

    def _mentions(self, item: str, shown: str, record: TurnRecord) -> bool:
        if item in self.programs.names:
            return item in record.programs
        return fold(item) in fold(shown)

    def _mentions_detail(self, item: str, record: TurnRecord) -> str:
        if item in self.programs.names:
            return f"named {record.programs or 'no programme'}"
        return f"{'not ' if item not in record.programs else ''}in the replies {record.responses}"

    def _handoff_open(self, person_id: str) -> bool:
        from bot.storage.models import Handoff

        with self.stack.session() as session:
            status = session.execute(
                select(Handoff.status)
                .where(Handoff.person_id == person_id)
                .order_by(Handoff.id.desc())
                .limit(1)
            ).scalar()
        return status in ("open", "claimed")

    def _db_problems(self, person_id: str, wanted: dict) -> list[str]:
        from bot.storage.models import Person

        fields = ("age", "education", "situation", "goal", "commune", "project_stage", "sector",
                  "amount")  # fmt: skip
        with self.stack.session() as session:
            person = session.get(Person, person_id)
            stored = {f: getattr(person, f) for f in fields} if person else {}
        problems = []
        if wanted.get("profile_empty"):
            kept = {k: v for k, v in stored.items() if v is not None}
            if kept:
                problems.append(f"profile stored without consent: {kept}")
        for key, value in (wanted.get("profile") or {}).items():
            if stored.get(key) != value:
                problems.append(f"profile {key} is {stored.get(key)!r}, not {value!r}")
        return problems

    def _refers_to_item(self, conversation: Conversation, record: TurnRecord, n: int) -> str | None:
        before = conversation.history[: len(conversation.history) - len(record.messages)]
        items = next((_numbered_items(m) for m in reversed(before) if _numbered_items(m)), None)
        if not items:
            return "no numbered list was shown before"
        if n > len(items):
            return f"the last list has {len(items)} items"
        named = self.programs.program_ids(items[n - 1])
        if not named:
            return f"item {n} of the last list ({items[n - 1]!r}) names no programme"
        if record.programs[:1] != named[:1]:
            return f"item {n} is {named[0]}; the reply names {record.programs or 'no programme'}"
        return None


@dataclass
class _State:
    language: str
    gender: str | None = None
    opened: bool = False
    pending: str | None = None
    answered: dict[str, str] = field(default_factory=dict)  # question: turn it was answered
    events_seen: int = 0


def _numbered_items(message: BotMessage) -> list[str]:
    """The items of a numbered list the message shows (choices or "1. …" lines)."""
    if message.numbered:
        return [b.title for b in message.buttons]
    lines = [line.strip() for line in message.text.splitlines()]
    items = []
    for line in lines:
        head, dot, rest = line.partition(". ")
        if dot and head.isdigit() and int(head) == len(items) + 1:
            items.append(rest)
    return items if len(items) >= 2 else []


def _short(text: str, limit: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


# ---------------------------------------------------------------- known failures


def load_known_failures(path: Path = KNOWN_FAILURES) -> dict[str, dict]:
    """{scenario id: {"reason": ..., "fails": [checkpoint keys]}}."""
    import yaml

    if not path.exists():
        return {}
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return {str(k): dict(v or {}) for k, v in data.items()}


def compare_with_known(result: ScenarioResult, known: dict | None) -> tuple[list[str], list[str]]:
    """(failures not listed as known, listed failures that no longer happen)."""
    listed = list((known or {}).get("fails") or [])
    actual = result.failure_keys
    return [k for k in actual if k not in listed], [k for k in listed if k not in actual]


# What a failing checkpoint says about the bot, by check (the items of issue 16).
CAUSES = {
    "misunderstood": "says it did not understand (item 5)",
    "budget": "too long for a phone (item 3)",
    "numbering": "several numbered lists in one WhatsApp turn (item 3)",
    "refers_to_item": "a typed number means another list's item (item 3)",
    "gender": "gendered forms before the person said it (item 7)",
    "language": "replies in another language (item 5)",
    "restart": "the questionnaire restarts (items 1, 2)",
    "skipped": "a pending question is dropped (item 6)",
    "asks": "the pending question is not asked again after an aside (item 6)",
    "fill_form": "an answer is never understood (items 4, 5)",
    "mentions": "the reply does not name what was asked: a programme, the notice (items 1, 3, 8)",
    "max_programs": "the cards come back instead of one programme (item 1)",
    "forbid": "the cards come back instead of one programme (item 1)",
    "expect": "the expected reply is missing",
    "reply": "no reply",
    "no_reply": "the bot answers while it should stay silent (item 5)",
    "handoff_open": "the counsellor request is not open",
    "first": "ranking (item 4)",
    "not_first": "ranking (item 4)",
    "in_first": "ranking (item 4)",
    "in_first_any": "ranking (item 4)",
    "first_confirmed": "ranking: a programme to confirm comes first (item 4)",
    "not_mentions": "ranking: a programme that does not fit is suggested (item 4)",
    "db": "the profile is stored wrong (items 2, 4)",
    "max_chars": "too long for a phone (item 3)",
    "numbered_lists": "several numbered lists in one WhatsApp turn (item 3)",
}


def failure_reason(result_or_keys, scenario=None) -> str:
    """One line for known_failures.yml: the causes of the failing checkpoints."""
    if isinstance(result_or_keys, ScenarioResult):
        scenario, keys = result_or_keys.scenario, result_or_keys.failure_keys
    else:
        keys = list(result_or_keys)
    if scenario is not None and scenario.kind == "story":
        detail = (
            result_or_keys.failures[0].detail
            if isinstance(result_or_keys, ScenarioResult) and result_or_keys.failures
            else "its steps"
        )
        return f"issue 16, tests that say what they do: through the real model, {detail}"
    checks = [key.split(": ", 1)[1].split()[0] for key in keys]
    causes = list(dict.fromkeys(CAUSES.get(check, check) for check in checks))
    return "issue 16: " + "; ".join(causes)


def known_failures_yaml(results: Iterable[ScenarioResult]) -> str:
    """known_failures.yml for these results."""
    lines = [
        "# Conversation scenarios that fail today, with the checkpoints that fail (issue 16).",
        "# tests/test_conversations.py: a checkpoint failing that is not listed is a regression",
        "# and fails at once; listed ones make the test xfail; a listed checkpoint that passes",
        "# now is reported (a KnownFailureFixed warning), not failed: remove it from here.",
        "# Regenerate after a fix: bousla bench conversations --stories --known-failures",
    ]
    for result in results:
        if result.passed:
            continue
        lines.append(f"{result.scenario.id}:")
        lines.append(f"  reason: {json.dumps(failure_reason(result), ensure_ascii=False)}")
        lines.append("  fails:")
        lines += [f"    - {json.dumps(key, ensure_ascii=False)}" for key in result.failure_keys]
    return "\n".join(lines) + "\n"


def default_scenarios(directory: Path = SCENARIOS_DIR) -> list[Scenario]:
    return load_scenarios(directory)
