"""Fuzzing: schemathesis against the dashboard's OpenAPI, hypothesis on the webhook parsers
(WhatsApp forms with real signatures, Telegram updates with the secret token) and on the
catalogue loader. None of them may answer 5xx or raise: bad input gets a clear 4xx or a
catalogue error naming the file.

Runs are derandomised (the same examples every run, so CI is repeatable); set
BOUSLA_FUZZ_EXAMPLES to a larger number for a longer hunt on a workstation.
"""

from __future__ import annotations

import os
import string
from pathlib import Path

import httpx
import pytest
import schemathesis
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from sqlalchemy import func, select

from bot import PROJECT_ROOT
from bot.catalog.loader import load_catalog
from bot.channels.telegram import TelegramInput
from bot.channels.whatsapp import WhatsAppInput
from bot.dashboard.app import create_app
from bot.dashboard.deps import get_rasa
from bot.dashboard.threaded import ThreadedDashboard
from bot.ops.fakes.telegram_api import FakeTelegramAPI
from bot.ops.fakes.twilio_api import FakeTwilioAPI
from bot.settings import get_settings
from bot.storage.db import session_scope
from bot.storage.models import InboundMessage
from tests.channels_support import ScriptedBot, start_channel_server, wait_for
from tests.conftest import free_port
from tests.dashboard_support import (
    PASSWORD,
    FakeRasa,
    add_account,
    fast_password_hashing,  # noqa: F401 - fixture
    person_writes,
    request_for,
)

EXAMPLES = int(os.environ.get("BOUSLA_FUZZ_EXAMPLES", "40"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Text as people and broken clients send it: any Unicode (NUL, lone surrogates excluded by
# HTTP itself), emoji, Arabic, very long runs.
ANY_TEXT = st.text(max_size=300) | st.text(alphabet="٠١٢٣aé3ع7ح 😀\x00\n", max_size=5000)


# ------------------------------------------------------------------ dashboard (schemathesis)
@pytest.fixture
def dashboard_app(database_url, fast_password_hashing):  # noqa: F811 - the fixture
    app = create_app()
    app.dependency_overrides[get_rasa] = lambda: FakeRasa()
    add_account("amina", role="admin")
    # Something to find behind the ids the fuzzer tries first (1, 2, 3...).
    request_for("fuzz-1", text="salam", language="ary_latn")
    request_for("fuzz-2", reason="distress", text="بغيت نموت", language="ary")
    person_writes("fuzz-3", "Bonjour")
    return app


@pytest.fixture
def dashboard_url(dashboard_app):
    """The dashboard on real HTTP (uvicorn in a thread), as counsellors' browsers reach it."""
    with ThreadedDashboard(dashboard_app, free_port()) as server:
        yield server.url


@pytest.fixture
def dashboard_schema(dashboard_app, dashboard_url):
    # /openapi.json needs a login: the schema straight from the app.
    return schemathesis.from_dict(dashboard_app.openapi(), base_url=dashboard_url)


@pytest.fixture
def signed_in(dashboard_url) -> dict[str, str]:
    """Headers of a logged-in counsellor: session cookie and CSRF token."""
    response = httpx.post(
        f"{dashboard_url}/api/session", json={"username": "amina", "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    cookie = "; ".join(f"{k}={v}" for k, v in response.cookies.items())
    return {"Cookie": cookie, "X-CSRF-Token": response.json()["csrf_token"]}


# FastAPI publishes OpenAPI 3.1; schemathesis 3.21 reads it behind this switch.
schemathesis.experimental.OPEN_API_3_1.enable()
schema = schemathesis.from_pytest_fixture("dashboard_schema")


@FUZZ  # above parametrize: schemathesis reads the settings of the test it wraps
@schema.parametrize(endpoint="^/(api|healthz|chat)")  # /events streams forever
def test_dashboard_api_never_answers_5xx(case, signed_in):
    if case.method == "DELETE" and case.path == "/api/session":
        return  # logging out would only end the fuzzing session
    response = case.call(headers={**signed_in, **(case.headers or {})}, timeout=30)
    case.validate_response(response, checks=(not_a_server_error,))


PUBLIC_ROUTES = {("GET", "/healthz"), ("GET", "/chat"), ("GET", "/login"), ("POST", "/login"),
                 ("POST", "/api/session")}  # fmt: skip


def anonymous_calls(app) -> list[tuple[str, str]]:
    """Every route of the dashboard with the ids of rows that exist (fuzz-1's request 1,
    the person fuzz-1): nothing may tell a stranger more than "log in" (401 from the API,
    the login page for pages and forms), never a 404, 405 or 422 that says what exists."""
    calls = []
    for route in app.routes:
        path = getattr(route, "path", "")
        if path.startswith("/static") or not getattr(route, "methods", None):
            continue
        concrete = (path.replace("{handoff_id}", "1").replace("{person_id}", "fuzz-1")
                    .replace("{counsellor_id}", "1").replace("{part}", "transcript"))  # fmt: skip
        for method in sorted(route.methods - {"HEAD", "OPTIONS"}):
            if (method, path) not in PUBLIC_ROUTES:
                calls.append((method, concrete))
    return calls


def test_every_route_answers_an_anonymous_caller_exactly_401(dashboard_app, dashboard_url):
    calls = anonymous_calls(dashboard_app)
    assert ("POST", "/api/handoffs/1/claim") in calls and ("GET", "/openapi.json") in calls
    assert all("{" not in path for _, path in calls), calls
    for method, path in calls:
        response = httpx.request(method, f"{dashboard_url}{path}", json={"text": "x"},
                                 timeout=10, follow_redirects=False)  # fmt: skip
        if path.startswith(("/api/", "/openapi", "/events")):
            assert response.status_code == 401, (method, path, response.status_code)
        elif response.status_code != 401:
            # A page or a form: the login page, and nothing else.
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"].startswith("/login?next="), (method, path)


# ------------------------------------------------------------------ WhatsApp webhook
TWILIO_FIELDS = [
    "MessageSid", "SmsMessageSid", "From", "To", "Body", "NumMedia", "ButtonText",
    "ButtonPayload", "Latitude", "Longitude", "Address", "Label", "MediaUrl0",
    "MediaContentType0", "MediaUrl1", "MediaContentType1", "ProfileName", "WaId",
]  # fmt: skip
SENDER = "whatsapp:+14155238886"


def whatsapp_forms() -> st.SearchStrategy[dict[str, str]]:
    known = st.dictionaries(st.sampled_from(TWILIO_FIELDS), ANY_TEXT, max_size=10)
    plausible = st.fixed_dictionaries(
        {
            "MessageSid": st.text(string.ascii_letters + string.digits, min_size=1, max_size=40),
            "From": st.from_regex(r"whatsapp:\+212[0-9]{9}", fullmatch=True),
            "Body": ANY_TEXT,
            "NumMedia": st.sampled_from(["0", "1", "2", "-1", "99", "x", ""]),
        },
        optional={
            "MediaContentType0": st.sampled_from(["audio/ogg", "image/jpeg", "", "x/y"]),
            "MediaUrl0": ANY_TEXT,
            "Latitude": ANY_TEXT,
            "Longitude": ANY_TEXT,
            "ButtonPayload": ANY_TEXT,
        },
    )
    extra = st.dictionaries(st.text(min_size=1, max_size=20), ANY_TEXT, max_size=3)
    return st.builds(lambda a, b: {**a, **b}, plausible | known, extra)


@pytest.fixture
def fast_worker(monkeypatch):
    monkeypatch.setenv("BOUSLA_CHANNEL_POLL_SECONDS", "0.05")
    get_settings.cache_clear()


@pytest.fixture
async def whatsapp_server(database_url, fast_worker):
    with FakeTwilioAPI() as twilio:
        channel = WhatsAppInput(
            account_sid=twilio.account_sid,
            auth_token=twilio.auth_token,
            whatsapp_from=SENDER,
            base_url=twilio.url,
        )
        server = await start_channel_server([channel], ScriptedBot())
        yield server, twilio
        await server.stop()


def inbox_has(channel: str, provider_message_id: str) -> bool:
    with session_scope() as session:
        count = session.execute(
            select(func.count())
            .select_from(InboundMessage)
            .where(
                InboundMessage.channel == channel,
                InboundMessage.provider_message_id == provider_message_id,
            )
        ).scalar_one()
    return count == 1


@given(form=whatsapp_forms())
@FUZZ
async def test_whatsapp_webhook_takes_any_signed_form_without_5xx(whatsapp_server, form):
    server, twilio = whatsapp_server
    response = await server.post_whatsapp(form, twilio.auth_token)
    assert response.status_code in (200, 400), response.text
    message_sid = form.get("MessageSid") or form.get("SmsMessageSid")
    if response.status_code == 200:
        assert inbox_has("whatsapp", message_sid), "acknowledged but not in the inbox"
    else:
        assert not (message_sid and form.get("From")), response.text


@given(body=st.binary(max_size=2000), content_type=st.sampled_from(
    ["application/x-www-form-urlencoded", "application/json", "text/plain", ""]
))  # fmt: skip
@FUZZ
async def test_whatsapp_webhook_refuses_unsigned_bytes(whatsapp_server, body, content_type):
    server, _ = whatsapp_server
    async with httpx.AsyncClient() as client:
        response = await client.post(
            f"{server.url}/webhooks/whatsapp/webhook",
            content=body,
            headers={"Content-Type": content_type} if content_type else {},
        )
    assert response.status_code == 403


# ------------------------------------------------------------------ Telegram webhook
SECRET = "fuzz-secret-token"
JSON = st.recursive(
    # No NaN or infinity: JSON has none (the HTTP client refuses to send them).
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | ANY_TEXT,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def telegram_updates() -> st.SearchStrategy:
    chat = st.fixed_dictionaries(
        {"id": st.integers(-(10**12), 10**12), "type": st.sampled_from(["private", "group", "x"])}
    )
    message = st.fixed_dictionaries(
        {
            "message_id": st.integers(0, 10**9),
            "date": st.integers(0, 2**31),
            "chat": chat,
        },
        optional={
            "text": ANY_TEXT,
            "caption": ANY_TEXT,
            "voice": st.fixed_dictionaries(
                {"file_id": ANY_TEXT, "file_unique_id": ANY_TEXT, "duration": st.integers(0, 999)}
            ),
            "photo": st.lists(
                st.fixed_dictionaries(
                    {
                        "file_id": ANY_TEXT,
                        "file_unique_id": ANY_TEXT,
                        "width": st.integers(0, 5000),
                        "height": st.integers(0, 5000),
                    }
                ),
                max_size=3,
            ),
            "location": st.fixed_dictionaries(
                {"latitude": st.floats(-90, 90), "longitude": st.floats(-180, 180)}
            ),
            "from": JSON,
            "entities": JSON,
        },
    )
    update = st.fixed_dictionaries(
        {"update_id": st.integers(-(2**31), 2**53)},
        optional={
            "message": message | JSON,
            "edited_message": message,
            "callback_query": st.fixed_dictionaries(
                {"id": ANY_TEXT, "chat_instance": ANY_TEXT, "from": JSON},
                optional={"data": ANY_TEXT, "message": message},
            ),
        },
    )
    return update | JSON


@pytest.fixture
async def telegram_server(database_url, fast_worker):
    with FakeTelegramAPI() as telegram:
        channel = TelegramInput(token=telegram.token, secret_token=SECRET, base_url=telegram.url)
        server = await start_channel_server([channel], ScriptedBot())
        assert await wait_for(lambda: True)
        yield server
        await server.stop()


@given(update=telegram_updates())
@FUZZ
async def test_telegram_webhook_takes_any_json_without_5xx(telegram_server, update):
    response = await telegram_server.post_telegram(update, SECRET)
    assert response.status_code in (200, 400), response.text
    if response.status_code == 200 and private_chat(update):
        assert inbox_has("telegram", str(update["update_id"])), "acknowledged, not in the inbox"


def private_chat(update) -> bool:
    """Whether an update comes from a person's private chat (what Bousla answers), read from
    the JSON as Telegram documents it: the tapped message's chat, else the message's."""
    if not isinstance(update, dict):
        return False
    callback = update.get("callback_query")
    message = update.get("message") or update.get("edited_message")
    if isinstance(callback, dict) and isinstance(callback.get("message"), dict):
        message = callback["message"]
    chat = message.get("chat") if isinstance(message, dict) else None
    return isinstance(chat, dict) and chat.get("type") == "private"


# ------------------------------------------------------------------ catalogue loader
SHIPPED = PROJECT_ROOT / "orientation_catalog" / "forsa.yml"


def mutate(data, path_choices, replacement):
    """Replace (or delete, when replacement is ...) the value at a path chosen by hypothesis."""
    node, parent, key = data, None, None
    for choice in path_choices:
        if isinstance(node, dict) and node:
            key = sorted(node, key=str)[choice % len(node)]
        elif isinstance(node, list) and node:
            key = choice % len(node)
        else:
            break
        parent, node = node, node[key]
    if parent is None:
        return replacement if replacement is not ... else None
    if replacement is ...:
        del parent[key]
    else:
        parent[key] = replacement
    return data


@given(
    paths=st.lists(st.lists(st.integers(0, 50), max_size=4), min_size=1, max_size=3),
    replacement=st.just(...) | JSON,
)
@FUZZ
def test_catalog_loader_reports_any_mutation_as_an_error_with_file(tmp_path_factory, paths,
                                                                   replacement):  # fmt: skip
    directory = tmp_path_factory.mktemp("catalog")
    data = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    for path in paths:
        data = mutate(data, path, replacement)
    (directory / "forsa.yml").write_text(
        yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8"
    )
    load = load_catalog(directory)
    for issue in load.errors + load.warnings:
        assert str(issue).startswith("forsa.yml"), str(issue)
    if not load.ok:
        assert "forsa" not in load.catalog


@given(text=ANY_TEXT | st.text(alphabet=":-[]{}#&*!|>'\"%@` \n\t", max_size=200))
@FUZZ
def test_catalog_loader_takes_any_text(tmp_path_factory, text):
    directory = tmp_path_factory.mktemp("catalog")
    Path(directory / "broken.yml").write_text(text, encoding="utf-8", errors="surrogatepass")
    load = load_catalog(directory)
    assert all(str(issue).startswith("broken.yml") for issue in load.errors + load.warnings)


# ------------------------------------------------------------------ what fuzzing found
async def test_a_nul_character_in_a_whatsapp_message_is_stored_without_it(whatsapp_server):
    """PostgreSQL refuses NUL in text: the webhook answered 500 and Twilio retried forever."""
    server, twilio = whatsapp_server
    form = {"MessageSid": "SMnul", "From": "whatsapp:+212600000001", "Body": "sa\x00lam"}
    response = await server.post_whatsapp(form, twilio.auth_token)
    assert response.status_code == 200, response.text
    with session_scope() as session:
        stored = session.execute(
            select(InboundMessage.text).where(InboundMessage.provider_message_id == "SMnul")
        ).scalar_one()
    assert stored == "salam"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", f"/api/handoffs/{2**63}"),
        ("post", f"/api/handoffs/{2**63}/claim"),
        ("post", "/api/handoffs/0/claim"),
        ("post", "/api/people/%00/takeover"),
        ("post", f"/api/people/{'x' * 65}/takeover"),
    ],
)
def test_out_of_range_ids_are_refused_with_422(dashboard_url, signed_in, method, path):
    """A row id beyond 64 bits overflowed SQLite's driver; a NUL in a person id broke
    PostgreSQL: both were 500s."""
    response = httpx.request(method, f"{dashboard_url}{path}", headers=signed_in, timeout=10)
    assert response.status_code == 422, response.text
