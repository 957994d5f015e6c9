"""The dashboard's JSON API against the real database (SQLite, and PostgreSQL when
TEST_DATABASE_URL is set), with Rasa's HTTP API replaced by a recording stand-in."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.dashboard import security
from bot.dashboard.app import create_app
from bot.dashboard.deps import get_rasa
from bot.storage.models import AuditEntry, DashboardSession, Handoff, OutboundMessage
from tests.dashboard_support import (
    HANDED_BACK_TEXT,
    PASSWORD,
    FakeRasa,
    add_account,
    fast_password_hashing,  # noqa: F401 - fixture
    person_writes,
    request_for,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def client(database_url, rasa):
    app = create_app()
    app.dependency_overrides[get_rasa] = lambda: rasa
    with TestClient(app) as test_client:
        yield test_client


def login(client: TestClient, username: str = "amina", password: str = PASSWORD) -> str:
    response = client.post("/api/session", json={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return response.json()["csrf_token"]


@pytest.fixture
def csrf(client) -> dict[str, str]:
    add_account("amina")
    return {"X-CSRF-Token": login(client)}


def test_login_sets_an_httponly_samesite_cookie_and_returns_a_csrf_token(client):
    add_account("amina")
    response = client.post("/api/session", json={"username": "Amina", "password": PASSWORD})
    assert response.status_code == 200
    body = response.json()
    assert body["username"] == "amina" and len(body["csrf_token"]) > 30
    cookie = response.headers["set-cookie"]
    assert cookie.startswith(f"{security.SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Secure" not in cookie


def test_cookie_is_secure_in_production(client, monkeypatch):
    from bot.settings import get_settings

    add_account("amina")
    monkeypatch.setenv("BOUSLA_ENV", "production")
    monkeypatch.setenv("BOUSLA_SECRET_KEY", "x" * 40)
    get_settings.cache_clear()
    response = client.post("/api/session", json={"username": "amina", "password": PASSWORD})
    assert "Secure" in response.headers["set-cookie"]


def test_failed_logins_slow_down_only_the_client_that_fails(client, session):
    """Progressive delays, no lockout: a stranger's wrong passwords never keep the counsellor
    (at another address) out, and the stranger waits longer after each failure."""
    add_account("amina")
    free = security.FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS
    for _ in range(free + 2):
        response = client.post("/api/session", json={"username": "amina", "password": "nope"})
        if response.status_code == 429:
            break
        assert response.status_code == 401
        assert response.json()["detail"] == "Identifiant ou mot de passe incorrect."
    # The stranger now waits, even with the right password (no oracle while waiting)...
    response = client.post("/api/session", json={"username": "amina", "password": PASSWORD})
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= 2
    # ...twice as long after each further failure...
    assert security.login_delay(free + 3, free) == 8
    assert security.login_delay(10_000, free) == security.MAX_LOGIN_DELAY_SECONDS
    # ...and Amina, at her own address, signs in at once.
    with TestClient(client.app, client=("198.51.100.7", 50000)) as amina:
        assert login(amina)
    failures = session.execute(
        select(AuditEntry).where(AuditEntry.action == "login_failed")
    ).scalars()
    assert len(list(failures)) == free


def test_the_wait_ends_and_the_right_password_then_works(client, session):
    add_account("amina")
    free = security.FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS
    for _ in range(free):
        client.post("/api/session", json={"username": "amina", "password": "nope"})
    assert client.post("/api/session", json={"username": "amina", "password": PASSWORD}
                       ).status_code == 429  # fmt: skip
    # Two seconds later (the failures moved back in time rather than sleeping):
    for entry in session.execute(select(AuditEntry)).scalars():
        entry.at -= timedelta(seconds=2)
    session.commit()
    assert login(client)


def test_forwarded_addresses_are_believed_only_from_trusted_proxies(client, monkeypatch):
    from bot.settings import get_settings

    add_account("amina")
    free = security.FREE_FAILURES_PER_ACCOUNT_AND_ADDRESS
    # A stranger who changes X-Forwarded-For at each try is still one address.
    for index in range(free):
        forged = {"X-Forwarded-For": f"203.0.113.{index}"}
        client.post("/api/session", json={"username": "amina", "password": "x"}, headers=forged)
    forged = {"X-Forwarded-For": "203.0.113.99"}
    again = client.post("/api/session", json={"username": "amina", "password": "x"},
                        headers=forged)  # fmt: skip
    assert again.status_code == 429
    # Behind a configured proxy, the address it forwards is the client's.
    monkeypatch.setenv("BOUSLA_TRUSTED_PROXIES", "192.0.2.0/24")
    get_settings.cache_clear()
    with TestClient(client.app, client=("192.0.2.10", 40000)) as proxy:
        behind = {"X-Forwarded-For": "198.51.100.20, 192.0.2.11"}
        response = proxy.post(
            "/api/session", json={"username": "amina", "password": PASSWORD}, headers=behind
        )
        assert response.status_code == 200
        assert "Secure" not in response.headers["set-cookie"]
        https = {**behind, "X-Forwarded-Proto": "https"}
        response = proxy.post(
            "/api/session", json={"username": "amina", "password": PASSWORD}, headers=https
        )
        assert "Secure" in response.headers["set-cookie"]
    # A client that is not a proxy cannot claim https for the cookie either.
    plain = client.post(
        "/api/session",
        json={"username": "amina", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "1.2.3.4"},
    )
    assert plain.status_code == 429  # this client still waits; nothing it forwards counts


def test_unknown_user_and_disabled_account_are_401(client):
    add_account("amina")
    assert (
        client.post("/api/session", json={"username": "x", "password": PASSWORD}).status_code == 401
    )


def test_a_disabled_account_is_401_on_login_and_on_its_open_session(client, csrf):
    from bot.dashboard.accounts import get_by_username, set_active
    from bot.storage.db import session_scope

    assert client.get("/api/handoffs").status_code == 200
    with session_scope() as db:
        set_active(db, counsellor=get_by_username(db, username="amina"), active=False,
                   actor="admin")  # fmt: skip
    assert client.get("/api/handoffs").status_code == 401  # the open session ends at once
    assert client.post("/api/handoffs/1/claim", headers=csrf).status_code == 401
    relogin = client.post("/api/session", json={"username": "amina", "password": PASSWORD})
    assert relogin.status_code == 401
    assert relogin.json()["detail"] == "Identifiant ou mot de passe incorrect."


def test_no_session_is_401_and_missing_or_wrong_csrf_is_403(client):
    add_account("amina")
    handoff_id = request_for("p-1")
    assert client.get("/api/handoffs").status_code == 401
    assert client.post(f"/api/handoffs/{handoff_id}/claim").status_code == 401
    login(client)
    assert client.get("/api/handoffs").status_code == 200
    missing = client.post(f"/api/handoffs/{handoff_id}/claim")
    assert missing.status_code == 403
    wrong = client.post(f"/api/handoffs/{handoff_id}/claim", headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    note = client.post(f"/api/handoffs/{handoff_id}/notes", json={"text": "x"})
    assert note.status_code == 403


def test_queue_is_sorted_by_urgency_then_waiting_time(client, csrf, session):
    first = request_for("p-first", reason="ask_human")
    second = request_for("p-second", reason="need_listening", channel="telegram", language="ary")
    urgent = request_for("p-urgent", reason="distress", language="ary_latn")
    response = client.get("/api/handoffs")
    assert response.status_code == 200
    data = response.json()["data"]
    assert [h["id"] for h in data] == [urgent, first, second]
    assert data[0]["priority"] == "urgent" and data[0]["reason"] == "distress"
    assert {"id", "channel", "language", "priority", "reason", "status", "created_at"} <= set(
        data[1]
    )
    assert data[2]["channel"] == "telegram" and data[2]["language"] == "ary"
    assert client.get("/api/handoffs?status=resolved").json()["count"] == 0
    assert client.get("/api/handoffs?status=bogus").status_code == 422


def test_claim_reply_note_resolve_with_hand_back(client, csrf, rasa, session):
    handoff_id = request_for("p-flow", text="je veux parler à un conseiller")
    person_writes("p-flow", "vous êtes là ?")

    claimed = client.post(f"/api/handoffs/{handoff_id}/claim", headers=csrf)
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    assert claimed.json()["claimed_by"] == "amina"
    assert rasa.calls == [("pause", "p-flow")]

    sent = client.post(
        f"/api/handoffs/{handoff_id}/messages", json={"text": "Bonjour, je t'écoute."}, headers=csrf
    )
    assert sent.status_code == 201 and sent.json()["status"] == "pending"
    note = client.post(
        f"/api/handoffs/{handoff_id}/notes", json={"text": "Cherche un stage"}, headers=csrf
    )
    assert note.status_code == 201 and note.json()["counsellor"] == "Amina"

    detail = client.get(f"/api/handoffs/{handoff_id}").json()
    authors = [(m["author"], m["text"]) for m in detail["messages"]]
    assert authors == [
        ("person", "je veux parler à un conseiller"),
        ("person", "vous êtes là ?"),
        ("counsellor", "Bonjour, je t'écoute."),
    ]
    assert detail["messages"][2]["counsellor"] == "Amina"
    assert [n["text"] for n in detail["notes"]] == ["Cherche un stage"]

    resolved = client.post(
        f"/api/handoffs/{handoff_id}/resolve",
        json={"outcome": "oriented", "hand_back": True},
        headers=csrf,
    )
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved" and resolved.json()["outcome"] == "oriented"
    assert rasa.calls[-1] == ("hand_back", "p-flow")

    outbox = session.execute(select(OutboundMessage).order_by(OutboundMessage.id)).scalars().all()
    assert [(m.author, m.text, m.channel) for m in outbox] == [
        ("counsellor", "Bonjour, je t'écoute.", "whatsapp"),
        ("bot", HANDED_BACK_TEXT, "whatsapp"),
    ]
    actions = [e.action for e in session.execute(select(AuditEntry)).scalars()]
    for expected in ("login", "handoff_claimed", "message_sent", "note_added", "handoff_resolved"):
        assert expected in actions


def test_reply_to_a_resolved_handoff_is_a_clear_409(client, csrf):
    handoff_id = request_for("p-closed")
    client.post(
        f"/api/handoffs/{handoff_id}/resolve",
        json={"outcome": "no_answer", "hand_back": False},
        headers=csrf,
    )
    response = client.post(
        f"/api/handoffs/{handoff_id}/messages", json={"text": "encore là ?"}, headers=csrf
    )
    assert response.status_code == 409
    assert "déjà résolue" in response.json()["detail"]
    again = client.post(
        f"/api/handoffs/{handoff_id}/resolve", json={"outcome": "other"}, headers=csrf
    )
    assert again.status_code == 409


def test_replying_to_an_open_request_takes_it_first(client, csrf, rasa, session):
    handoff_id = request_for("p-direct")
    response = client.post(
        f"/api/handoffs/{handoff_id}/messages",
        json={"text": "Salam", "client_key": "k1"},
        headers=csrf,
    )
    assert response.status_code == 201
    twice = client.post(
        f"/api/handoffs/{handoff_id}/messages",
        json={"text": "Salam", "client_key": "k1"},
        headers=csrf,
    )
    assert twice.json()["id"] == response.json()["id"]  # a double submit sends one message
    assert session.get(Handoff, handoff_id).status == "claimed"
    assert rasa.calls == [("pause", "p-direct")]


def test_a_request_claimed_by_a_colleague_cannot_be_claimed_again(client, csrf):
    handoff_id = request_for("p-busy")
    assert client.post(f"/api/handoffs/{handoff_id}/claim", headers=csrf).status_code == 200
    client.delete("/api/session", headers=csrf)
    add_account("youssef")
    other = {"X-CSRF-Token": login(client, "youssef")}
    response = client.post(f"/api/handoffs/{handoff_id}/claim", headers=other)
    assert response.status_code == 409 and "Amina" in response.json()["detail"]


def test_only_the_holder_writes_in_a_request_a_colleague_takes_over_first(
    client, csrf, rasa, session
):
    handoff_id = request_for("p-held")
    assert client.post(f"/api/handoffs/{handoff_id}/claim", headers=csrf).status_code == 200
    client.delete("/api/session", headers=csrf)
    add_account("youssef")
    other = {"X-CSRF-Token": login(client, "youssef")}
    attempts = {
        "messages": {"text": "bonjour"},
        "notes": {"text": "note"},
        "resolve": {"outcome": "referred", "hand_back": True},
    }
    for path, body in attempts.items():
        response = client.post(f"/api/handoffs/{handoff_id}/{path}", json=body, headers=other)
        assert response.status_code == 409, path
        assert response.json()["detail"].startswith("Prise en charge par Amina : prends la main")
    session.expire_all()
    assert session.get(Handoff, handoff_id).status == "claimed"
    assert session.execute(select(OutboundMessage)).first() is None

    # Taking over is explicit and recorded; then Youssef writes and Amina no longer can.
    taken = client.post("/api/people/p-held/takeover", headers=other)
    assert taken.status_code == 200 and taken.json()["claimed_by"] == "youssef"
    transfer = session.execute(
        select(AuditEntry).where(AuditEntry.action == "handoff_transferred")
    ).scalar_one()
    assert transfer.actor == "youssef" and transfer.details == {"from": "amina"}
    sent = client.post(f"/api/handoffs/{handoff_id}/messages", json={"text": "Youssef ici"},
                       headers=other)  # fmt: skip
    assert sent.status_code == 201
    client.delete("/api/session", headers=other)
    again = {"X-CSRF-Token": login(client)}
    refused = client.post(f"/api/handoffs/{handoff_id}/notes", json={"text": "x"}, headers=again)
    assert refused.status_code == 409 and "Youssef" in refused.json()["detail"]


def test_bad_outcome_empty_text_and_unknown_handoff(client, csrf):
    handoff_id = request_for("p-bad")
    bad = client.post(
        f"/api/handoffs/{handoff_id}/resolve", json={"outcome": "fixed"}, headers=csrf
    )
    assert bad.status_code == 422
    empty = client.post(f"/api/handoffs/{handoff_id}/notes", json={"text": "  "}, headers=csrf)
    assert empty.status_code == 400
    assert client.get("/api/handoffs/9999").status_code == 404


def test_rasa_unreachable_changes_nothing_and_says_so(client, csrf, rasa, session):
    handoff_id = request_for("p-down")
    rasa.down = True
    response = client.post(f"/api/handoffs/{handoff_id}/claim", headers=csrf)
    assert response.status_code == 503 and "injoignable" in response.json()["detail"]
    session.expire_all()
    assert session.get(Handoff, handoff_id).status == "open"


def test_takeover_of_any_conversation(client, csrf, rasa):
    person_writes("p-quiet", "bghit khdma", language="ary_latn")
    response = client.post("/api/people/p-quiet/takeover", headers=csrf)
    assert response.status_code == 200
    body = response.json()
    assert (body["reason"], body["status"], body["claimed_by"]) == (
        "counsellor",
        "claimed",
        "amina",
    )
    assert rasa.calls == [("pause", "p-quiet")]


def test_logout_ends_the_session(client, csrf, session):
    assert client.delete("/api/session", headers=csrf).status_code == 204
    assert client.get("/api/handoffs").status_code == 401
    assert session.execute(select(DashboardSession)).first() is None


def test_the_api_description_needs_a_login(client):
    assert client.get("/openapi.json").status_code == 401
    docs = client.get("/docs", follow_redirects=False)
    assert docs.status_code == 303 and docs.headers["location"] == "/login?next=/docs"
    assert client.get("/redoc").status_code == 404


def test_openapi_lists_the_api_and_docs_work_under_the_csp(client, csrf):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/session",
        "/api/handoffs",
        "/api/handoffs/{handoff_id}",
        "/api/handoffs/{handoff_id}/claim",
        "/api/handoffs/{handoff_id}/messages",
        "/api/handoffs/{handoff_id}/notes",
        "/api/handoffs/{handoff_id}/resolve",
    ):
        assert path in paths
    docs = client.get("/docs")
    assert docs.status_code == 200
    assert "default-src 'self'" in docs.headers["content-security-policy"]
    # Nothing the policy would block: no inline script, nothing from another site.
    assert "<script>" not in docs.text and "cdn" not in docs.text
    assert "/api/handoffs/{handoff_id}/claim" in docs.text
