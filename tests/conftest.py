"""Shared fixtures: real databases (SQLite, and PostgreSQL when TEST_DATABASE_URL is set),
the real trained model (once per session, loaded once in this process for the modules that
only parse messages), the real stack shared by the modules that only talk to it, trackers
and dispatchers for action tests.

Stacks and `rasa test core` start in the background as soon as the tests are collected, and
the modules using them run last (tests/background.py): their start-ups overlap the unit
tests instead of adding to them.
"""

from __future__ import annotations

import copy
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import inspect, text
from sqlalchemy.orm import Session, sessionmaker

from bot import PROJECT_ROOT
from bot.settings import get_settings
from bot.storage import db as storage_db
from tests import background
from tests.stack_support import SharedStack, ensure_model
from tests.system_deps import check as check_system_deps
from tests.system_deps import require_system

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# Tests set provider secrets (for the fake APIs) and PostgreSQL URLs: the development key is
# refused then (bot.settings), so the whole session uses its own.
os.environ.setdefault("BOUSLA_SECRET_KEY", "bousla-tests-" + os.urandom(16).hex())

TEST_DATABASE_URL = os.environ.get("TEST_DATABASE_URL")
requires_postgres = require_system("test-database")


def pytest_runtest_setup(item: pytest.Item) -> None:
    check_system_deps(item)


# Fixtures that need the trained model: in a new checkout it is trained in the background
# from the session's start (3-4 minutes), so the tests using them run after the others.
MODEL_FIXTURES = {"trained_model", "loaded_model"}


def needs_model(item: pytest.Item) -> bool:
    return not MODEL_FIXTURES.isdisjoint(getattr(item, "fixturenames", ()))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    background.run_last(items, middle=needs_model)


def pytest_collection_finish(session: pytest.Session) -> None:
    if not session.config.option.collectonly:
        temporary = session.config._tmp_path_factory
        temporary.getbasetemp()  # made here, not by two threads at once
        model = ["model"] if any(needs_model(item) for item in session.items) else []
        background.start(session.items, temporary.mktemp, first=model)


def pytest_sessionfinish(session: pytest.Session) -> None:
    background.finish()


def pytest_terminal_summary(terminalreporter) -> None:
    lines = background.summary()
    if lines:
        terminalreporter.write_sep("-", "background jobs (seconds from the session's start)")
        for line in lines:
            terminalreporter.write_line(line)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def reset_postgres(url: str) -> None:
    """Drop Bousla's and Rasa's tables so migrations start from nothing."""
    engine = storage_db.build_engine(url)
    with engine.begin() as connection:
        for table in inspect(connection).get_table_names():
            connection.execute(text(f'DROP TABLE IF EXISTS "{table}" CASCADE'))
    engine.dispose()


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory, monkeypatch) -> Iterator[None]:
    """Each test gets its own var/ directory and SQLite database; caches are cleared."""
    var_dir = tmp_path_factory.mktemp("var")
    monkeypatch.setenv("BOUSLA_VAR_DIR", str(var_dir))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)
    get_settings.cache_clear()
    storage_db.get_engine.cache_clear()
    storage_db._session_factory.cache_clear()
    yield
    get_settings.cache_clear()
    storage_db.get_engine.cache_clear()
    storage_db._session_factory.cache_clear()


DATABASE_PARAMS = ["sqlite", pytest.param("postgresql", marks=requires_postgres)]


@pytest.fixture(params=DATABASE_PARAMS)
def database_url(request, monkeypatch) -> str:
    """The application database, migrated: SQLite, then PostgreSQL when available.

    The URL is also put in DATABASE_URL so that code using the settings sees it.
    """
    if request.param == "sqlite":
        url = get_settings().app_database_url
    else:
        url = TEST_DATABASE_URL
        reset_postgres(url)
        monkeypatch.setenv("DATABASE_URL", url)
        get_settings.cache_clear()
    storage_db.upgrade_database(url)
    yield url
    storage_db.get_engine.cache_clear()
    storage_db._session_factory.cache_clear()


@pytest.fixture
def session(database_url) -> Iterator[Session]:
    engine = storage_db.get_engine(database_url)
    with sessionmaker(bind=engine, future=True)() as session:
        yield session


@pytest.fixture(scope="session")
def trained_model() -> Path:
    """The real model, trained once per test session (reused when already up to date):
    the background job `model` trains it from the session's start."""
    return ensure_model(get_settings().models_dir)


@pytest.fixture(scope="session")
def loaded_model(trained_model):
    """The trained model loaded once in this process (Rasa's Agent, in-memory stores), for
    the modules that parse messages, read the policies or keep trackers of their own people:
    each load takes 30-60 s. Modules that need an action endpoint load their own."""
    from bot.ops.nlu_eval import load_agent

    return load_agent(trained_model)


def agent_sharing(loaded, *, action_endpoint=None, tracker_store=None, lock_store=None):
    """A Rasa agent of its own (stores, action server) on the session's loaded model, as a
    Rasa server would be: the model's graph holds nothing about conversations, and loading
    it again costs 40-60 s."""
    from rasa.core.agent import Agent

    agent = copy.copy(loaded)
    agent.processor = copy.copy(loaded.processor)
    agent.tracker_store = Agent._create_tracker_store(tracker_store, loaded.domain)
    agent.lock_store = Agent._create_lock_store(lock_store)
    agent.action_endpoint = action_endpoint
    agent.processor.tracker_store = agent.tracker_store
    agent.processor.lock_store = agent.lock_store
    agent.processor.action_endpoint = action_endpoint
    return agent


@pytest.fixture(scope="session")
def shared_stack() -> SharedStack:
    """The real stack (and its fake Twilio API) that tests/test_handoff_stack.py,
    tests/test_language_e2e.py and tests/test_privacy_stack.py share instead of starting
    one each (tests/stack_support.py). It starts in the background at the session's start;
    a module using it is marked `pytest.mark.background("shared stack")` and runs last."""
    return background.result("shared stack")


@pytest.fixture
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def make_tracker(
    sender_id: str = "test-person",
    text: str = "",
    intent: str | None = None,
    entities: list[dict] | None = None,
    slots: dict | None = None,
    channel: str = "rest",
    intent_ranking: list[dict] | None = None,
    events: list[dict] | None = None,
    active_loop: dict | None = None,
) -> Tracker:
    """A tracker as the action server receives it after the person wrote `text`."""
    slots = {"language": "fr", "language_locked": False, **(slots or {})}
    latest_message = {
        "text": text,
        "intent": {"name": intent, "confidence": 1.0} if intent else {},
        "entities": entities or [],
        "intent_ranking": intent_ranking or [],
    }
    user_event = {
        "event": "user",
        "text": text,
        "parse_data": latest_message,
        "input_channel": channel,
    }
    return Tracker(
        sender_id=sender_id,
        slots=slots,
        latest_message=latest_message,
        events=(events or []) + [user_event],
        paused=False,
        followup_action=None,
        active_loop=active_loop or {},
        latest_action_name="action_listen",
    )


@pytest.fixture
def tracker_factory():
    return make_tracker


@pytest.fixture(scope="session")
def domain() -> dict:
    import yaml

    return yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))
