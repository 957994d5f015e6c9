"""Rasa's test stories (tests/stories/*.yml) replayed through the real stack.

`rasa test core` never runs the action server, and without `--e2e` it does not even read
the messages: it checks the policies on the story's own intents. Here each story's
messages go through Rasa's REST channel (NLU, the policies and the real actions, whose
events shape what comes next), then the conversation's tracker must hold the story's
steps in order: each intent the model found, each action that ran, each loop started or
ended. Events the stories never write (action_listen, slot events...) are left out.
"""

from __future__ import annotations

import re
import time
import traceback
import uuid
from dataclasses import dataclass
from pathlib import Path

import yaml

from bot import PROJECT_ROOT
from bot.ops.conversations.channels import RestConversation
from bot.ops.conversations.runner import Failure, Harness, ScenarioResult
from bot.ops.conversations.scenario import Scenario, Turn

STORIES_DIR = PROJECT_ROOT / "tests" / "stories"
# Actions Rasa runs on every turn, which stories never write.
UNWRITTEN_ACTIONS = frozenset(
    {"action_listen", "action_session_start", "action_extract_slots", "action_unlikely_intent"}
)

ERASURE_ACTION = "action_delete_my_data"
ERASURE_DONE = "utter_delete_my_data_done"

Step = tuple[str, "str | None"]  # ("intent" | "action" | "active_loop", name)


@dataclass
class Story:
    scenario: Scenario
    steps: list[Step]


def _slug(text: str) -> str:
    keep = [c.lower() if c.isalnum() else "-" for c in text]
    return re.sub(r"-+", "-", "".join(keep)).strip("-")[:60].strip("-")


def load_stories(directory: Path = STORIES_DIR) -> list[Story]:
    stories = []
    for path in sorted(Path(directory).glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for raw in data.get("stories") or []:
            steps: list[Step] = []
            turns: list[Turn] = []
            for step in raw.get("steps") or []:
                if "user" in step:
                    turns.append(Turn(len(turns) + 1, "user", str(step["user"]).strip()))
                    if step.get("intent"):
                        steps.append(("intent", step["intent"]))
                elif "intent" in step:
                    raise ValueError(f"{path.name}: {raw['story']}: an intent without its message")
                elif "action" in step:
                    steps.append(("action", step["action"]))
                elif "active_loop" in step:
                    steps.append(("active_loop", step["active_loop"]))
            scenario = Scenario(
                id=f"story-{path.stem.removeprefix('test_')}-{_slug(raw['story'])}",
                persona={"script": "fr", "channel": "rest", "sex": None, "name": raw["story"]},
                counsellor=raw["story"],
                turns=turns,
                source=path.name,
                kind="story",
            )
            stories.append(Story(scenario, steps))
    return stories


def tracker_steps(events: list[dict]) -> list[Step]:
    steps: list[Step] = []
    for event in events:
        kind = event.get("event")
        if kind == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            steps.append(("intent", intent))
        elif kind == "action" and event.get("name") not in UNWRITTEN_ACTIONS:
            steps.append(("action", event.get("name")))
        elif kind == "active_loop":
            steps.append(("active_loop", event.get("name")))
    return steps


def first_difference(expected: list[Step], actual: list[Step]) -> str | None:
    """Where the tracker's steps stop following the story's, or None.

    Intents and actions must come in the story's order. A loop written in the story
    (`active_loop: profile_form`) may be a state rather than an event: it holds when the
    loop is already that one (a form asked again after an aside logs no new event). Loop
    events the story does not write are followed, not required.
    """
    loop: str | None = None
    position = 0
    for number, step in enumerate(expected, 1):
        while (
            position < len(actual)
            and actual[position][0] == "active_loop"
            and actual[position] != step
        ):
            loop = actual[position][1]
            position += 1
        if step[0] == "active_loop":
            if position < len(actual) and actual[position] == step:
                loop = step[1]
                position += 1
            elif loop != step[1]:
                return f"step {number}: expected {_format(step)}, the loop is {loop}"
            continue
        if position >= len(actual):
            return f"step {number}: expected {_format(step)}, got nothing more"
        if actual[position] != step:
            return f"step {number}: expected {_format(step)}, got {_format(actual[position])}"
        position += 1
    return None


def _format(step: Step) -> str:
    return f"{step[0]}: {step[1]}"


def run_story(harness: Harness, story: Story) -> ScenarioResult:
    """Send the story's messages over REST; after each, read the tracker's new steps; then
    compare them with the story's.

    A yes to the erasure question erases the tracker at the end of that turn (law 09-08):
    the steps of that last turn cannot be read back, so the story's remaining steps must
    be that erasure and the person must have been told it is done.
    """
    started = time.monotonic()
    sender = f"story-{uuid.uuid4().hex[:10]}"
    result = ScenarioResult(story.scenario, sender)
    conversation = RestConversation(harness.stack, sender)
    actual: list[Step] = []
    seen = 0
    erased_at: int | None = None
    try:
        for turn in story.scenario.turns:
            record = harness.play(conversation, turn, turn.label)
            result.records.append(record)
            events = harness.stack.tracker(sender, events=True).get("events") or []
            if len(events) < seen:  # erased
                erased_at = len(actual)
                if ERASURE_DONE not in record.responses:
                    result.failures.append(
                        Failure(
                            None, "steps", f"the tracker was erased without {ERASURE_DONE}"
                        )  # fmt: skip
                    )
                break
            actual += tracker_steps(events[seen:])
            seen = len(events)
        expected = story.steps
        if erased_at is not None:
            rest = expected[erased_at:]
            if ("action", ERASURE_ACTION) not in rest:
                result.failures.append(
                    Failure(None, "steps", f"the tracker was erased after step {erased_at}; "
                                           f"the story expected {[_format(s) for s in rest]}")
                )  # fmt: skip
            expected = expected[:erased_at]
        mismatch = first_difference(expected, actual)
        if mismatch:
            result.failures.append(Failure(None, "steps", mismatch))
        result.steps = [_format(step) for step in actual]
    except Exception:  # noqa: BLE001
        result.error = traceback.format_exc()
    result.seconds = time.monotonic() - started
    return result
