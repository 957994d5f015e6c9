"""The persona conversation scenarios (tests/conversations/scenarios/) and Rasa's test stories
(tests/stories/), played through the real stack: `bousla run` (trained model, Rasa server,
action server, dashboard) started once for the session, with WhatsApp and Telegram pointed
at the local fake providers. One test per scenario; the runner is bot/ops/conversations/.

Scenarios that fail today are listed in tests/conversations/known_failures.yml with the
checkpoints that fail. The test:

- FAILS on any checkpoint that fails without being listed: a regression;
- is XFAIL (with the listed checkpoints that still fail) when only listed ones fail;
- reports, without failing, a listed checkpoint that passes now (a `KnownFailureFixed`
  warning in pytest's summary, and the test passes if nothing listed fails any more):
  CI retrains the model, and a slightly different model may fix or re-break a borderline
  checkpoint; only a regression may stop the build. Regenerate the list after a fix.
"""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot.ops.conversations.runner import (
    Harness,
    ScenarioResult,
    compare_with_known,
    default_scenarios,
    load_known_failures,
)
from bot.ops.conversations.stack import ConversationStack
from bot.ops.conversations.stories import load_stories, run_story
from tests import background
from tests.stack_support import ensure_model

pytestmark = [
    pytest.mark.slow,
    pytest.mark.background("conversation stack"),
    # schemathesis' pytest hook re-raises the KnownFailure of an xfail as a warning.
    pytest.mark.filterwarnings("ignore::pluggy.PluggyTeardownRaisedWarning"),
]

SCENARIOS = default_scenarios()
STORIES = load_stories()
KNOWN = load_known_failures()
WORKERS = 3  # scenarios played at once (2 cores: Rasa, the action server and the harness)


class KnownFailureFixed(UserWarning):
    """Checkpoints listed in known_failures.yml that pass now: remove them from the list."""


def _param(scenario):
    return pytest.param(scenario, id=scenario.id)


@background.job("conversation stack")
def start_conversation_stack(context: background.Context) -> ConversationStack:
    """The stack starts in the background while the unit tests run (tests/background.py).
    The counsellor's account is made and the scenarios are played in the test session's
    own thread: unit tests replace pieces of this process meanwhile (the harness's in
    tests/test_conversation_harness.py, the password hasher in tests/dashboard_support.py)."""
    ensure_model(context.settings.models_dir)
    stack = ConversationStack(context.mktemp("conversations") / "var", environ=context.environ)
    context.cleanup(stack.stop)
    return stack.start(counsellor=False)


@pytest.fixture(scope="session")
def conversation_results(request) -> dict[str, ScenarioResult]:
    """Every selected scenario and story, played once through one stack (in parallel)."""
    wanted = {
        item.callspec.params["scenario"].id
        for item in request.session.items
        if hasattr(item, "callspec") and "scenario" in item.callspec.params
    }
    personas = [s for s in SCENARIOS if s.id in wanted]
    stories = [s for s in STORIES if s.scenario.id in wanted]
    stack = background.result("conversation stack")
    try:
        stack.add_counsellor()
        harness = Harness(stack)
        results = harness.run_all(personas, workers=WORKERS)
        with ThreadPoolExecutor(max_workers=WORKERS) as pool:
            for result in pool.map(lambda story: run_story(harness, story), stories):
                results[result.scenario.id] = result
    finally:
        stack.stop()
    return results


def check(result: ScenarioResult) -> None:
    known = KNOWN.get(result.scenario.id)
    unexpected, fixed = compare_with_known(result, known)
    transcript = result.transcript()
    if result.error and "scenario: error" in unexpected:
        pytest.fail(f"{result.error}\n{transcript}")
    details = "\n".join(str(f) for f in result.failures)
    assert not unexpected, f"checkpoints that fail: {unexpected}\n{details}\n\n{transcript}"
    if fixed:
        warnings.warn(
            KnownFailureFixed(
                f"{result.scenario.id}: these known failures pass now, remove them from "
                f"tests/conversations/known_failures.yml: {fixed}"
            ),
            stacklevel=2,
        )
    still = [key for key in result.failure_keys if key in (known or {}).get("fails", [])]
    if still:
        reason = (known or {}).get("reason") or "issue 16"
        pytest.xfail(f"{reason}; fails as known: {still}")


@pytest.mark.parametrize("scenario", [_param(s) for s in SCENARIOS])
def test_persona_scenario(scenario, conversation_results):
    check(conversation_results[scenario.id])


@pytest.mark.parametrize("scenario", [_param(s.scenario) for s in STORIES])
def test_story_through_the_real_stack(scenario, conversation_results):
    """tests/stories/*.yml: NLU, the policies and the real actions, step by step."""
    check(conversation_results[scenario.id])


class _Result:
    """Just what check() reads of a ScenarioResult."""

    def __init__(self, scenario_id: str, keys: list[str]) -> None:
        self.scenario = type("S", (), {"id": scenario_id})()
        self.failure_keys = keys
        self.failures = keys
        self.error = None

    def transcript(self) -> str:
        return ""


def test_known_failures_fixed_are_reported_and_regressions_fail(monkeypatch):
    """A listed checkpoint that passes now is a warning (not a failure), those still
    failing make an xfail, and an unlisted failure fails."""
    monkeypatch.setitem(KNOWN, "demo", {"reason": "issue 16", "fails": ["turn 1: a", "turn 2: b"]})
    with (
        pytest.warns(KnownFailureFixed, match="turn 2: b"),
        pytest.raises(pytest.xfail.Exception, match="turn 1: a"),
    ):
        check(_Result("demo", ["turn 1: a"]))
    with pytest.warns(KnownFailureFixed):
        check(_Result("demo", []))  # everything listed passes now: the test passes
    with pytest.raises(AssertionError, match="turn 3: c"):
        check(_Result("demo", ["turn 1: a", "turn 3: c"]))
