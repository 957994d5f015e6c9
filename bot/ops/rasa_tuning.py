"""What Bousla changes inside the Rasa server's process, and why (Rasa 3.6.21, pinned).

Applied by `bot/ops/rasa_server.py`, through which `bousla run` starts Rasa. Each change
keeps Rasa's behaviour and is tested against Rasa's own code (tests/test_turn_cost.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from typing import Any


def apply() -> None:
    validate_action_results_with_one_validator()
    send_the_domain_to_no_action()
    resolve_event_types_from_a_table()
    keep_connections_to_the_action_server()
    run_quick_actions_in_process()
    give_back_memory_after_loading_the_model()
    share_dialogue_states_between_policies()


def resolve_event_types_from_a_table() -> None:
    """Rasa finds the class of each stored event by walking every subclass of `Event`
    (`all_subclasses`, recursive) and comparing names: reading a tracker of 60 events
    walked the class tree 60 times, 7 % of a replica's CPU under load. Here the classes
    found are kept by name; a name not found yet goes to Rasa's own lookup (which also
    knows the old "topic" events and raises on unknown names)."""
    from rasa.shared.core.events import Event

    rasa_lookup = Event.resolve_by_type
    classes: dict[str, type] = {}

    def resolve_by_type(type_name: str, default: type | None = None) -> type | None:
        found = classes.get(type_name)
        if found is not None:
            return found
        found = rasa_lookup(type_name, default)
        if found is not None and found is not default:
            classes[type_name] = found
        return found

    Event.resolve_by_type = staticmethod(resolve_by_type)


class _KeptSession:
    """`async with` on a session that outlives the block (Rasa closes its own)."""

    def __init__(self, session: Any) -> None:
        self.session = session

    async def __aenter__(self) -> Any:
        return self.session

    async def __aexit__(self, *_: Any) -> None:
        return None


# Below the action server's keep-alive (Sanic: 5 s), so that Rasa never reuses a connection
# the server is closing.
KEEPALIVE_SECONDS = 2.0


def keep_connections_to_the_action_server() -> None:
    """Rasa opens a new HTTP session, so a new TCP connection, for every call to the
    action server (2–4 a turn): connecting cost both servers more CPU than the call's
    JSON. Here each endpoint keeps one session per event loop, with the same headers,
    authentication and timeout as Rasa's, whose connections are reused."""
    import aiohttp
    from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, EndpointConfig

    def session(self: EndpointConfig) -> _KeptSession:
        loop = asyncio.get_running_loop()
        kept = self.__dict__.get("_bousla_session")
        if kept is None or kept[0] is not loop or kept[1].closed:
            auth = None
            if self.basic_auth:
                auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            kept = (
                loop,
                aiohttp.ClientSession(
                    headers=self.headers,
                    auth=auth,
                    timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                    connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
                ),
            )
            self.__dict__["_bousla_session"] = kept
        return _KeptSession(kept[1])

    EndpointConfig.session = session


def send_the_domain_to_no_action() -> None:
    """With `enable_selective_domain` (endpoints.yml), Rasa still sends its whole domain
    (~100 KB of JSON, built and parsed again at each call) to every action whose name
    starts with `validate_`: each answer in the profile form paid for it. Bousla's
    validation actions read domain.yml themselves (bot/actions/domain.py), so no action
    needs it."""
    from rasa.shared.core.domain import Domain

    Domain.does_custom_action_explicitly_need_domain = lambda self, action_name: False


@functools.cache
def _action_result_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


@functools.cache
def _validators_by_event_type() -> tuple[Any, dict[str, Any]]:
    """The answer's schema with any list of events, and one validator per event type.

    Rasa's event schema is a `oneOf` of one sub-schema per event type, each fixing
    `event` to its own name (`const`): an event with a known name matches that one
    sub-schema or none. Checking it against that sub-schema alone (and the properties
    shared by every event) accepts exactly what the `oneOf` accepts, without trying the
    23 others."""
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction
    from rasa.shared.utils.schemas.events import EVENT_SCHEMA

    answer = RemoteAction.action_response_format_spec()
    answer = {**answer, "properties": {**answer["properties"], "events": {"type": "array"}}}
    shared = {key: value for key, value in EVENT_SCHEMA.items() if key != "oneOf"}
    by_type = {}
    for branch in EVENT_SCHEMA["oneOf"]:
        schema = {**shared, "allOf": [branch]}
        by_type[branch["properties"]["event"]["const"]] = validator_for(schema)(schema)
    return validator_for(answer)(answer), by_type


def _is_valid_action_result(result: Any) -> bool:
    answer, by_type = _validators_by_event_type()
    if not answer.is_valid(result):
        return False
    for event in result.get("events") or []:
        validator = by_type.get(event.get("event")) if isinstance(event, dict) else None
        if validator is None or not validator.is_valid(event):
            return False
    return True


def validate_action_results_with_one_validator() -> None:
    """Rasa checks each answer of the action server with `jsonschema.validate`, which
    first checks the schema itself against its meta-schema, every time: about 4 ms of CPU
    per call on an idle 2-core server and 170 ms on a loaded one, most of a round trip
    to the action server. Here the schemas are checked once and their validators kept,
    and each event is checked against its own type's schema (`_validators_by_event_type`),
    5 % of the Rasa process's CPU otherwise. An answer these checks refuse is checked
    again as Rasa checks it, so that it fails the same way, with the same message."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.core.actions import action

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        if _is_valid_action_result(result):
            return True
        error = best_match(_action_result_validator().iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            ". Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid. For more information about "
            f"the format visit {action.DOCS_BASE_URL}/custom-actions"
        )
        raise error

    action.RemoteAction._validate_action_result = _validate_action_result


@functools.cache
def _in_process_executor() -> Any:
    """rasa-sdk's own executor, with only the actions of `in_process_actions`."""
    from rasa_sdk.executor import ActionExecutor

    from bot.actions import profile_form
    from bot.actions.language import ActionDetectLanguage
    from bot.actions.slot_mappings import ValidateSlotMappings

    executor = ActionExecutor()
    # The two actions Rasa calls on every message, before the answer is predicted: the
    # language slot's custom mapping and the global slot validation (consent notice,
    # truncated messages).
    executor.register_action(ActionDetectLanguage)
    executor.register_action(ValidateSlotMappings)
    # The profile form's validation and questions: two calls for each answer in the form.
    executor.register_action(profile_form.ValidateProfileForm)
    for question in profile_form.AskProfileQuestion.__subclasses__():
        executor.register_action(question)
    return executor


def in_process_actions() -> frozenset[str]:
    """The actions the Rasa process runs itself (`run_quick_actions_in_process`)."""
    return frozenset(_in_process_executor().actions)


def run_quick_actions_in_process() -> None:
    """Every message cost two round trips to the action server before its answer, and
    each answer in the profile form two more, each carrying the whole tracker as 32 KB of
    JSON, encoded by Rasa, decoded by the action server, and the answer back: a fifth of a
    turn's CPU under load. These actions (`in_process_actions`: quick, asynchronous where
    they use the database) run here instead, through rasa-sdk's own executor with the
    same action call (tracker state, no domain), and their answer goes through Rasa's own
    checks and `_utter_responses`, as an answer from the action server would.
    An error becomes the `RasaException` a failed call raises, so Rasa's handling of a
    failing action is unchanged. The action server still serves them (any other client
    of the action server, and the tests, call them there)."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction
    from rasa.shared.core import events as rasa_events
    from rasa.shared.exceptions import RasaException
    from rasa_sdk.interfaces import ActionExecutionRejection as SdkRejection

    remote_run = RemoteAction.run
    local = in_process_actions()  # imported (and the language model built) now

    async def run(
        self: RemoteAction, output_channel: Any, nlg: Any, tracker: Any, domain: Any
    ) -> list[Any]:
        if self.name() not in local:
            return await remote_run(self, output_channel, nlg, tracker, domain)
        action_call = self._action_call_format(tracker, domain)
        try:
            result = await _in_process_executor().run(action_call)
        except SdkRejection as rejection:
            raise ActionExecutionRejection(rejection.action_name, rejection.message) from None
        except Exception as error:
            raise RasaException(f"Failed to execute custom action '{self.name()}'") from error
        result = result or {}
        self._validate_action_result(result)
        bot_messages = await self._utter_responses(
            result.get("responses", []), output_channel, nlg, tracker
        )
        return [*bot_messages, *rasa_events.deserialise_events(result.get("events", []))]

    RemoteAction.run = run


def release_free_memory() -> None:
    """Give the memory Python has freed back to the system (glibc's `malloc_trim`).

    Loading a model allocates and frees hundreds of MB (the archive, TensorFlow's graph
    building); glibc keeps the freed pages in the process. Elsewhere than glibc: nothing."""
    import ctypes
    import ctypes.util
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):  # not glibc: nothing to give back
        ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim(0)


def give_back_memory_after_loading_the_model() -> None:
    """The Rasa server kept ~37 MB it had freed while loading the model (1,152 MB
    resident after loading, 1,116 MB once given back: `release_free_memory`)."""
    import rasa.core.run

    load = rasa.core.run.load_agent_on_start

    @functools.wraps(load)
    async def load_agent_on_start(*args: Any, **kwargs: Any) -> Any:
        loaded = await load(*args, **kwargs)
        release_free_memory()
        return loaded

    rasa.core.run.load_agent_on_start = load_agent_on_start


def _copy_states(states: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """States are dicts of sub-state dicts of immutable values; featurizers delete keys
    of the sub-states (`_choose_last_user_input`), so both levels are copied."""
    return [{name: dict(sub_state) for name, sub_state in state.items()} for state in states]


def share_dialogue_states_between_policies() -> None:
    """Every policy, at every prediction, asks the tracker for its dialogue states, and
    Rasa rebuilds them each time by replaying every event of the conversation
    (`generate_all_prior_trackers`): 13 % of a replica's CPU under load. A tracker now
    keeps the states it built, for each set of options, while its events stay the same
    (same number, same last event), and gives each caller its own copy. States depend
    only on the events and the domain (the replay starts from a fresh tracker), so the
    copy is what Rasa would have built."""
    from rasa.shared.core.trackers import DialogueStateTracker

    rasa_past_states = DialogueStateTracker.past_states

    def past_states(
        self: DialogueStateTracker,
        domain: Any,
        omit_unset_slots: bool = False,
        ignore_rule_only_turns: bool = False,
        rule_only_data: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        options = (omit_unset_slots, ignore_rule_only_turns)
        events = self.events
        last = events[-1] if events else None
        kept = self.__dict__.setdefault("_bousla_states", {})
        found = kept.get(options)  # (events, last event, domain, rule_only_data, states)
        if (
            found is None
            or found[0] != len(events)
            or found[1] is not last
            or found[2] is not domain
            or found[3] is not rule_only_data
        ):
            states = rasa_past_states(
                self, domain, omit_unset_slots, ignore_rule_only_turns, rule_only_data
            )
            found = (len(events), last, domain, rule_only_data, states)
            kept[options] = found
        return _copy_states(found[4])

    DialogueStateTracker.past_states = past_states
