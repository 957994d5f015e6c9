"""The economies of a turn (issue 19) keep every behaviour: the domain the action server
reads itself, TED's remembered predictions, and the turn benchmark's own arithmetic."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
import yaml
from rasa.shared.core.domain import Domain
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import func, select

from bot import PROJECT_ROOT
from bot.actions.domain import domain_of, project_domain
from bot.actions.slot_mappings import ValidateSlotMappings
from bot.ops.bench.turn import breakdown, growth_rows, growth_windows, whatsapp_breakdown
from bot.ops.bench.turn_probe import WEBHOOK_STEP, WHATSAPP_PATH
from bot.storage.turn_states import TURN_STATES


def test_the_action_endpoint_does_not_send_the_domain():
    endpoints = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text())
    assert endpoints["action_endpoint"]["enable_selective_domain"] is True
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    needs_it = domain.does_custom_action_explicitly_need_domain
    needing = [action for action in domain.user_actions if needs_it(action)]
    # Rasa's own rule sends it to a form's validation (`validate_<form>`) whatever the
    # endpoint says; Bousla's Rasa process sends it to no action (bot/ops/rasa_tuning.py).
    assert needing == ["validate_profile_form"]
    from bot.ops import rasa_tuning

    rasa_own = Domain.does_custom_action_explicitly_need_domain
    try:
        rasa_tuning.send_the_domain_to_no_action()
        assert [
            a for a in domain.user_actions if domain.does_custom_action_explicitly_need_domain(a)
        ] == []
    finally:
        Domain.does_custom_action_explicitly_need_domain = rasa_own


@pytest.mark.parametrize(
    ("slot", "text", "language", "expected"),
    [("age", "3andi 22 3am", "ary_latn", 22), ("commune", "عين حرودة", "ary", "ain-harrouda")],
)
async def test_the_form_validates_the_same_without_a_domain_in_the_request(
    slot, text, language, expected
):
    from bot.actions.profile_form import ValidateProfileForm
    from tests.test_profile_form import BASICS, form_tracker, slot_events

    slots = {**BASICS, "goal": "project", "profile_consent": False}
    slots.pop(slot, None)
    with_domain, without = CollectingDispatcher(), CollectingDispatcher()
    tracker = form_tracker(text, {slot: text}, requested=slot, slots=slots, language=language)
    sent = await ValidateProfileForm().run(with_domain, tracker, project_domain())
    selective = await ValidateProfileForm().run(without, tracker, {})
    assert slot_events(selective)[slot] == expected
    assert selective == sent and without.messages == with_domain.messages


def test_the_action_server_reads_what_rasa_would_have_sent():
    """What rasa-sdk reads of the domain (slot mappings, the form's questions) is the same
    in domain.yml as in the domain Rasa builds from it."""
    rasa_domain = Domain.load(str(PROJECT_ROOT / "domain.yml")).as_dict()
    ours = project_domain()
    assert ours["forms"] == {
        name: {"required_slots": form["required_slots"]}
        for name, form in rasa_domain["forms"].items()
    }
    for name, slot in ours["slots"].items():
        assert slot.get("mappings") == rasa_domain["slots"][name]["mappings"], name
    assert domain_of({}) is ours
    assert domain_of({"slots": {}}) == {"slots": {}}


async def test_the_slot_mappings_validate_the_same_without_a_domain(tracker_factory):
    tracker = tracker_factory(text="salam", intent="greet")
    sent, selective = CollectingDispatcher(), CollectingDispatcher()
    events = await ValidateSlotMappings().run(sent, tracker, project_domain())
    assert await ValidateSlotMappings().run(selective, tracker, {}) == events
    assert selective.messages == sent.messages


def test_the_breakdown_counts_per_turn_and_by_window(tmp_path):
    timings = tmp_path / "t.jsonl"
    records = [
        {"turn": "long-a#1", "part": "NLU (parse)", "ms": 10.0},
        {"turn": "long-a#1", "part": "graph: run_TEDPolicy", "ms": 4.0},
        {"turn": "long-a#1", "part": "graph: run_TEDPolicy", "ms": 6.0},
        {"turn": "long-a#1", "part": "action server payload", "ms": 0, "bytes": 1000, "events": 4},
        {"turn": "long-a#2", "part": "NLU (parse)", "ms": 30.0},
        {"turn": "long-a#2", "part": "action server payload", "ms": 0, "bytes": 3000, "events": 8},
        {"turn": "warmup-x#1", "part": "NLU (parse)", "ms": 999.0},
        {"turn": WHATSAPP_PATH, "part": WEBHOOK_STEP, "ms": 4.0},
        {"turn": WHATSAPP_PATH, "part": WEBHOOK_STEP, "ms": 6.0},
        {"turn": WHATSAPP_PATH, "part": "reply sent to Twilio", "ms": 3.0},
        {"turn": WHATSAPP_PATH, "part": "reply sent to Twilio", "ms": 3.0},
        {"turn": WHATSAPP_PATH, "part": "reply sent to Twilio", "ms": 6.0},
    ]
    timings.write_text("\n".join(json.dumps(r) for r in records))
    rows = {r["step"]: r for r in breakdown(timings)}
    assert rows["NLU (parse)"]["ms_per_turn"] == 20.0  # (10 + 30) / 2 turns, warm-up left out
    assert rows["graph: run_TEDPolicy"] == {
        "step": "graph: run_TEDPolicy",
        "calls_per_turn": 1.0,
        "ms_per_turn": 5.0,
    }
    assert rows["action server payload (bytes, events per call)"]["calls_per_turn"] == 2000
    early = {r["step"]: r for r in breakdown(timings, {"long-": range(1, 2)})}
    assert early["NLU (parse)"]["ms_per_turn"] == 10.0
    assert not any(WHATSAPP_PATH in step or "Twilio" in step for step in rows)
    # The WhatsApp path: per message (one webhook each), not per turn of the Rasa server.
    whatsapp = {r["step"]: r for r in whatsapp_breakdown(timings)}
    assert whatsapp["reply sent to Twilio"] == {
        "step": "reply sent to Twilio", "calls_per_message": 1.5, "ms_per_message": 6.0
    }  # fmt: skip
    assert whatsapp[WEBHOOK_STEP]["ms_per_message"] == 5.0


def test_growth_compares_windows_of_the_same_messages():
    windows = growth_windows(300)
    assert [len(w) for w in windows.values()] == [10, 10, 10]
    per_turn = [0.1] * 290 + [0.15] * 10
    rows = growth_rows(per_turn, 300)
    assert rows[-1] == {"turns": "ratio last / early", "median_ms": 1.5}


@pytest.fixture(scope="module")
def agent(loaded_model):
    return loaded_model  # the session's (conftest.py): loading it takes 30-60 s


def ted_of(agent):
    from bot.nlu.remembered_ted import RememberedTEDPolicy

    nodes = agent.processor.graph_runner._instantiated_nodes.values()
    return next(n._component for n in nodes if isinstance(n._component, RememberedTEDPolicy))


def tracker_after(agent, intent: str, slots: dict | None = None):
    from rasa.shared.core.events import ActionExecuted, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [ActionExecuted("action_listen")]
    events += [SlotSet(name, value) for name, value in (slots or {}).items()]
    events += [UserUttered("…", intent={"name": intent, "confidence": 1.0})]
    return DialogueStateTracker.from_events("ted-test", events, agent.domain.slots)


def test_ted_remembers_exactly_what_it_would_compute(agent):
    from rasa.core.policies.ted_policy import TEDPolicy

    ted = ted_of(agent)
    ted._memory.clear()
    for intent, slots in [
        ("seek_job", {"language": "ary_latn"}),
        ("seek_training", {"language": "fr"}),
        ("greet", {"language": "ary"}),
    ]:
        tracker = tracker_after(agent, intent, slots)
        computed = TEDPolicy.predict_action_probabilities(ted, tracker, agent.domain)
        first = ted.predict_action_probabilities(tracker, agent.domain)
        again = ted.predict_action_probabilities(tracker, agent.domain)
        assert first.probabilities == pytest.approx(computed.probabilities, abs=1e-6)
        assert again.probabilities == first.probabilities
        assert again.policy_name == first.policy_name == "RememberedTEDPolicy"
    assert len(ted._memory) == 3  # three different dialogue states, each computed once


# ------------------------------------------------------------ the tracker read as a window
def conversation_events(turn: int) -> list:
    """One turn of a realistic conversation: the person writes, slots change, the form
    starts at turn 3, the bot pauses at turn 9 (a counsellor) and resumes at turn 11."""
    from rasa.shared.core.events import (
        ActionExecuted,
        ActiveLoop,
        BotUttered,
        ConversationPaused,
        ConversationResumed,
        SlotSet,
        UserUttered,
    )

    events = [UserUttered(f"message {turn}", intent={"name": "seek_job", "confidence": 0.9})]
    events.append(SlotSet("language", ["fr", "ary", "ary_latn"][turn % 3]))
    if turn == 3:
        events += [ActionExecuted("profile_form"), ActiveLoop("profile_form")]
    if 3 <= turn < 7:
        events += [SlotSet("requested_slot", "age"), ActionExecuted("action_ask_age")]
    if turn == 5:
        events.append(SlotSet("age", 22))
    if turn == 7:
        events += [
            ActionExecuted("profile_form"),
            ActiveLoop(None),
            SlotSet("requested_slot", None),
        ]
    if turn == 9:
        events.append(ConversationPaused())
    if turn == 11:
        events.append(ConversationResumed())
    events += [BotUttered(f"reply {turn}"), ActionExecuted("action_listen")]
    return events


def summary(tracker) -> dict:
    return {
        "slots": tracker.current_slot_values(),
        "active_loop": tracker.active_loop_name,
        "paused": tracker.is_paused(),
        "latest_message": tracker.latest_message.text,
        "latest_action": tracker.latest_action_name,
        "last_events": [e.as_dict() for e in list(tracker.events)[-12:]],
    }


@pytest.mark.parametrize("turns", [4, 12, 40])
async def test_a_long_conversation_is_read_as_its_last_turns_on_top_of_its_state(
    database_url, monkeypatch, turns
):
    from rasa.shared.core.events import ActionExecuted

    from bot.settings import get_settings
    from bot.storage.rasa_stores import TrackerStore

    monkeypatch.setenv("BOUSLA_TRACKER_WINDOW_TURNS", "3")
    get_settings.cache_clear()
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    store = TrackerStore(domain=domain)
    tracker = store.init_tracker("window-test")
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    for turn in range(1, turns + 1):
        tracker = await store.retrieve("window-test")
        for event in conversation_events(turn):
            tracker.update(event)
        await store.save(tracker)

    read = await store.retrieve("window-test")
    whole = await store.retrieve_full_tracker("window-test")
    assert summary(read) == summary(whole)
    user_turns = sum(1 for e in read.events if e.type_name == "user")
    assert user_turns == min(turns, 3)  # the window: 3 turns, not the whole conversation
    assert read.copy().current_slot_values() == whole.current_slot_values()
    with store.session_scope() as session:
        kept = session.execute(
            select(func.count())
            .select_from(TURN_STATES)
            .where(TURN_STATES.c.sender_id == "window-test")
        ).scalar_one()
    assert kept <= 3 + 2  # older states are deleted as the window moves on


async def test_the_worker_reads_back_the_tracker_of_its_turn_without_the_database(
    database_url,
):
    """The safety net's check after a delivery-worker turn takes the tracker as saved;
    other turns (REST) are not kept, and a tracker is handed out once."""
    from rasa.core.tracker_store import FailSafeTrackerStore
    from rasa.shared.core.events import ActionExecuted, UserUttered

    from bot.storage.rasa_stores import TrackerStore, tracker_saved_after_turn

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    store = FailSafeTrackerStore(TrackerStore(domain=domain))
    for sender, metadata in (("worker-turn", {"inbound_id": 7}), ("rest-turn", {})):
        tracker = await store.retrieve(sender) or store.init_tracker(sender)
        tracker.update(UserUttered("salam", message_id="whatsapp:SM1", metadata=metadata))
        tracker.update(ActionExecuted("action_listen"))
        await store.save(tracker)

    assert tracker_saved_after_turn(store, "worker-turn", "whatsapp:SM2") is None  # another turn
    tracker = await store.retrieve("worker-turn")
    tracker.update(UserUttered("wakha", message_id="whatsapp:SM2", metadata={"inbound_id": 8}))
    await store.save(tracker)
    kept = tracker_saved_after_turn(store, "worker-turn", "whatsapp:SM2")
    assert kept is tracker and kept.latest_message.text == "wakha"
    assert tracker_saved_after_turn(store, "worker-turn", "whatsapp:SM2") is None  # once
    assert tracker_saved_after_turn(store, "rest-turn", "whatsapp:SM1") is None


# ------------------------------------------------------------ Rasa's process, as Bousla runs it
ACTION_RESULTS = [
    {"events": [{"event": "slot", "name": "language", "value": "ary"}], "responses": []},
    {"events": [], "responses": [{"response": "utter_greet"}, {"text": "salam"}]},
    {"events": "not a list", "responses": []},
    {"events": [{"name": "language"}], "responses": []},  # an event without its type
    {"events": [], "responses": "nope"},
    {"events": [{"event": "no such event"}], "responses": []},
    {"events": [{"event": "slot", "name": "age"}], "responses": []},  # no value
    {"events": [{"event": "slot", "name": 3, "value": 1}], "responses": []},
    {"events": [{"event": "user", "text": 7}], "responses": []},
    {"events": [{"event": "user", "text": "ah", "parse_data": {"intent": "ok"}}]},
    {"events": [{"event": "bot", "text": "salam", "timestamp": "now"}], "responses": []},
    {"events": [{"event": "action", "name": "utter_greet", "confidence": None}]},
    {"events": [{"event": "active_loop", "name": None}, {"event": "reset_slots"}]},
    {"events": ["slot"], "responses": []},
    {"events": [], "responses": ["text"]},
    "not an object",
    {
        "events": [
            {"event": "user", "text": "salam", "parse_data": {"entities": [{"entity": "x"}]}},
            {"event": "session_started", "metadata": {"channel": "whatsapp"}},
        ]
    },
]


@pytest.mark.parametrize("result", ACTION_RESULTS)
def test_action_results_are_validated_as_rasa_validates_them(result):
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    from bot.ops import rasa_tuning

    rasa_own = RemoteAction._validate_action_result
    action = RemoteAction("action_detect_language", None)
    try:
        try:
            expected = rasa_own(action, result)
        except ValidationError as error:
            expected = ("invalid", error.message)
        rasa_tuning.validate_action_results_with_one_validator()
        try:
            ours = action._validate_action_result(result)
        except ValidationError as error:
            ours = ("invalid", error.message)
    finally:
        RemoteAction._validate_action_result = rasa_own
    assert ours == expected


def test_event_types_resolve_as_rasa_resolves_them(monkeypatch):
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered
    from rasa.shared.utils.common import all_subclasses

    from bot.ops import rasa_tuning

    monkeypatch.setattr(Event, "resolve_by_type", Event.__dict__["resolve_by_type"])
    rasa_tuning.resolve_event_types_from_a_table()
    for _ in range(2):  # looked up, then taken from the table
        for cls in all_subclasses(Event):
            if getattr(cls, "type_name", None):
                first = next(c for c in all_subclasses(Event) if c.type_name == cls.type_name)
                assert Event.resolve_by_type(cls.type_name) is first
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("no such event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no such event")
    events = [UserUttered("salam"), ActionExecuted("action_listen"), SlotSet("age", 19)]
    assert Event.from_parameters(events[2].as_dict()) == events[2]


@contextlib.asynccontextmanager
async def _action_server(answer: Callable[[dict], Awaitable[dict]], peers: list | None = None):
    """A local HTTP action server answering each call with `answer(call)` (the callers'
    addresses in `peers`); yields its webhook URL."""
    from aiohttp import web

    async def webhook(request: web.Request) -> web.Response:
        if peers is not None:
            peers.append(request.transport.get_extra_info("peername"))
        return web.json_response(await answer(await request.json()))

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/webhook"
    finally:
        await runner.cleanup()


async def test_calls_to_the_action_server_reuse_one_connection(monkeypatch):
    from rasa.utils.endpoints import EndpointConfig

    from bot.ops import rasa_tuning

    monkeypatch.setattr(EndpointConfig, "session", EndpointConfig.session)
    peers: list = []

    async def echo(call: dict) -> dict:
        return {"events": [], "responses": [{"text": call["next_action"]}]}

    async with _action_server(echo, peers) as url:
        endpoint = EndpointConfig(url)
        await endpoint.request(json={"next_action": "rasa"}, method="post")
        await endpoint.request(json={"next_action": "rasa"}, method="post")
        assert len(set(peers)) == 2  # Rasa's own: a connection per call

        rasa_tuning.keep_connections_to_the_action_server()
        peers.clear()
        answers = [
            await endpoint.request(json={"next_action": f"action_{n}"}, method="post")
            for n in range(3)
        ]
        assert [a["responses"][0]["text"] for a in answers] == [
            "action_0",
            "action_1",
            "action_2",
        ]
        assert len(peers) == 3 and len(set(peers)) == 1  # one connection, kept
        await endpoint.session().session.close()


@pytest.mark.parametrize("window_turns", ["0", "3"])
async def test_a_tracker_is_read_as_rasa_reads_its_latest_session(
    database_url, monkeypatch, window_turns
):
    """Bousla's store reads the same tracker as Rasa's SQL store (the same events; with a
    window, the same conversation): the latest session only (a conversation that started
    again), slots carried over, nothing for a stranger."""
    from rasa.core.tracker_store import SQLTrackerStore
    from rasa.shared.core.events import ActionExecuted, SessionStarted, SlotSet, UserUttered

    from bot.settings import get_settings
    from bot.storage.rasa_stores import TrackerStore

    monkeypatch.setenv("BOUSLA_TRACKER_WINDOW_TURNS", window_turns)
    get_settings.cache_clear()
    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    store = TrackerStore(domain=domain)
    sender = f"sessions-{window_turns}"
    tracker = store.init_tracker(sender)
    for session in range(2):
        tracker.update(ActionExecuted("action_session_start"))
        tracker.update(SessionStarted())
        if session:
            tracker.update(SlotSet("language", "ary"))  # carried over
        for turn in range(5):
            tracker.update(UserUttered(f"session {session} turn {turn}"))
            tracker.update(SlotSet("age", 18 + turn))
            tracker.update(ActionExecuted("action_listen"))
            await store.save(tracker)
            tracker = await store.retrieve(sender)
            rasa = await SQLTrackerStore.retrieve(store, sender)
            if window_turns == "0":
                assert [e.as_dict() for e in tracker.events] == [e.as_dict() for e in rasa.events]
            else:  # the last turns on top of the state before them: the same conversation
                assert summary(tracker) | {"last_events": None} == summary(rasa) | {
                    "last_events": None
                }
                last_turns = [e.as_dict() for e in list(tracker.events)[-9:]]
                assert last_turns == [e.as_dict() for e in list(rasa.events)[-9:]]
    assert tracker.latest_message.text == "session 1 turn 4"
    assert not any(e.type_name == "user" and "session 0" in e.text for e in tracker.events)
    assert await store.retrieve("nobody") is None


@functools.cache
def _rasa_domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


@functools.cache
def _sdk_executor():
    """rasa-sdk's executor with every Bousla action, as the action server has it."""
    from rasa_sdk.executor import ActionExecutor

    executor = ActionExecutor()
    executor.register_package("bot.actions")
    return executor


def _rasa_tracker(sender: str, messages: list[tuple[str, str]], slots: dict, after: dict):
    """A Rasa tracker whose person wrote `messages` ((text, intent), the last one now),
    with `slots` set before them and `after` (slots extracted from the last) after."""
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    domain = _rasa_domain()
    events = [
        ActiveLoop(value) if name == "active_loop" else SlotSet(name, value)
        for name, value in slots.items()
    ]
    for text, intent in messages:
        events += [
            ActionExecuted("action_listen"),
            UserUttered(text, {"name": intent, "confidence": 0.9}, parse_data={"text": text}),
        ]
    events += [SlotSet(name, value) for name, value in after.items()]
    return DialogueStateTracker.from_events(sender, events, slots=domain.slots), domain


IN_THE_FORM = {"active_loop": "profile_form", "language": "ary_latn", "profile_consent": False}
IN_PROCESS_CASES = [  # (action, messages, slots, slots after, whether it returns something)
    ("action_detect_language", [("salam", "greet"), ("بغيت نخدم", "seek_job")], {}, {}, True),
    ("action_detect_language", [("ana khddama", "inform")], {"language": "fr"}, {}, True),
    ("action_detect_language", [("ok", "affirm")], {"language": "ary_latn"}, {}, False),
    (
        "action_detect_language",
        [("parle en français", "change_language")],
        {"language": "ary"},
        {},
        True,
    ),
    ("action_validate_slot_mappings", [("Bonjour", "greet")], {}, {}, True),
    (
        "action_validate_slot_mappings",
        [("hello, do you speak english?", "other_language")],
        {},
        {},
        False,
    ),
    (
        "validate_profile_form",
        [("3andi 22 3am", "inform")],
        {**IN_THE_FORM, "requested_slot": "age"},
        {"age": "3andi 22 3am"},
        True,
    ),
    (
        "validate_profile_form",
        [("bla bla", "inform")],
        {**IN_THE_FORM, "requested_slot": "age"},
        {"age": "bla bla"},
        True,
    ),
    ("action_ask_age", [("bghit formation", "seek_training")], IN_THE_FORM, {}, True),
    (
        "action_ask_commune",
        [("bghit formation", "seek_training")],
        {**IN_THE_FORM, "language": "ary"},
        {},
        True,
    ),
]


@pytest.mark.parametrize(("action_name", "messages", "slots", "after", "says"), IN_PROCESS_CASES)
async def test_quick_actions_answer_in_process_as_the_action_server_does(
    database_url, monkeypatch, action_name, messages, slots, after, says
):
    """The two actions of every message and the profile form's give the Rasa process the
    same events and messages run in-process as through an action server (rasa-sdk's
    executor behind HTTP, JSON both ways); a failing action fails as a failed call does."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.nlg import TemplatedNaturalLanguageGenerator
    from rasa.shared.exceptions import RasaException
    from rasa.utils.endpoints import EndpointConfig

    from bot.ops import rasa_tuning

    async def run_once(endpoint: EndpointConfig | None, sender: str) -> tuple[list, list]:
        tracker, domain = _rasa_tracker(sender, messages, slots, after)
        output = CollectingOutputChannel()
        nlg = TemplatedNaturalLanguageGenerator(domain.responses)
        events = await RemoteAction(action_name, endpoint).run(output, nlg, tracker, domain)
        return events, output.messages

    monkeypatch.setattr(RemoteAction, "run", RemoteAction.run)
    async with _action_server(_sdk_executor().run) as url:
        through_http = await run_once(EndpointConfig(url), "every-turn-remote")
    rasa_tuning.run_quick_actions_in_process()
    in_process = await run_once(None, "every-turn-local")  # no action server at all
    assert in_process == through_http
    assert bool(through_http[0]) is says  # a slot, a notice; nothing for a sticky "ok"

    monkeypatch.setattr(
        rasa_tuning._in_process_executor(), "run", _raise_database_down, raising=True
    )
    with pytest.raises(RasaException, match=action_name):
        await run_once(None, "every-turn-failing")


async def _raise_database_down(action_call: dict) -> dict:
    raise ConnectionError("database down")


@pytest.mark.parametrize("result", ACTION_RESULTS)
def test_events_checked_by_their_type_accept_what_rasa_accepts(result):
    """The quick check (each event against its own type's schema) says valid exactly
    when Rasa's `oneOf` over every event type does."""
    from jsonschema import ValidationError
    from rasa.core.actions.action import RemoteAction

    from bot.ops.rasa_tuning import _is_valid_action_result

    try:
        RemoteAction("action_detect_language", None)._validate_action_result(result)
        rasa_says_valid = True
    except ValidationError:
        rasa_says_valid = False
    assert _is_valid_action_result(result) is rasa_says_valid


def _resident_mb() -> float:
    status = (Path("/proc/self/status")).read_text()
    return int(status.split("VmRSS:")[1].split()[0]) / 1024


def test_memory_freed_is_given_back_after_the_model_loads(monkeypatch):
    """What the process freed (here 200 MB of small objects, as loading a model frees)
    leaves its resident memory once the model is loaded."""
    import rasa.core.run

    from bot.ops import rasa_tuning

    monkeypatch.setattr(rasa.core.run, "load_agent_on_start", rasa.core.run.load_agent_on_start)
    kept = []

    async def loading(*args, **kwargs):
        garbage = [bytes(1000) for _ in range(200_000)]
        kept.append(bytes(1000))  # something allocated after: the freed pages are inside
        kept.append(_resident_mb())
        del garbage
        return "agent"

    monkeypatch.setattr(rasa.core.run, "load_agent_on_start", loading)
    rasa_tuning.give_back_memory_after_loading_the_model()
    assert asyncio.run(rasa.core.run.load_agent_on_start("model", None, None, None, None)) == (
        "agent"
    )
    assert _resident_mb() < kept[1] - 150


def test_dialogue_states_are_shared_between_policies_as_rasa_builds_them(monkeypatch):
    """States asked again for the same events come from the tracker's copy, equal to what
    Rasa builds, whatever the caller did to the previous copy; new events, another domain
    or other options build them again."""
    from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.ops import rasa_tuning

    rasa_own = DialogueStateTracker.past_states
    monkeypatch.setattr(DialogueStateTracker, "past_states", rasa_own)
    tracker, domain = _rasa_tracker(
        "states", [("salam", "greet"), ("bghit nkhdem", "seek_job")], {"language": "ary_latn"}, {}
    )
    other_domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    rule_only = {"slots": ["requested_slot"], "loops": ["profile_form"]}
    options = [
        {},
        {"ignore_rule_only_turns": True, "rule_only_data": rule_only},
        {"omit_unset_slots": True},
    ]
    calls = []
    counting = lambda self, *args, **kwargs: calls.append(1) or rasa_own(self, *args, **kwargs)  # noqa: E731
    monkeypatch.setattr(DialogueStateTracker, "past_states", counting)
    rasa_tuning.share_dialogue_states_between_policies()

    def check(expected_builds: int) -> None:
        calls.clear()
        for _ in range(3):
            for option in options:
                shared = tracker.past_states(domain, **option)
                assert shared == rasa_own(tracker, domain, **option)
                for state in shared:  # as the featurizers do to the last state
                    for sub_state in state.values():
                        sub_state.clear()
        assert len(calls) == expected_builds  # Rasa's own builds, not the direct calls

    check(expected_builds=3)  # one build per set of options
    check(expected_builds=0)  # then copies
    for event in (ActionExecuted("utter_ask_age"), BotUttered("3achrin?"), SlotSet("age", 20)):
        tracker.update(event)
        check(expected_builds=3)
    assert tracker.past_states(other_domain) == rasa_own(tracker, other_domain)
    assert tracker.past_states(domain, rule_only_data=dict(rule_only)) == rasa_own(
        tracker, domain, rule_only_data=dict(rule_only)
    )
    tracker.update(UserUttered("wakha", {"name": "affirm", "confidence": 0.9}))
    assert tracker.past_states(domain) == rasa_own(tracker, domain)
