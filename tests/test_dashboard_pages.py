"""Server-rendered pages: login redirects, CSRF on forms, escaping, roles, statistics and
CSV, catalogue, the `bousla user` command."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from bot.cli import main
from bot.dashboard.app import create_app
from bot.dashboard.deps import get_rasa
from bot.report.labels import short_id
from bot.storage.models import AuditEntry, Counsellor, Handoff
from tests.dashboard_support import (
    PASSWORD,
    FakeRasa,
    add_account,
    fast_password_hashing,  # noqa: F401 - fixture
    person_writes,
    request_for,
)

pytestmark = pytest.mark.usefixtures("fast_password_hashing")
CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


@pytest.fixture
def client(database_url):
    app = create_app()
    app.dependency_overrides[get_rasa] = lambda: FakeRasa()
    with TestClient(app) as test_client:
        yield test_client


def log_in(client, username="amina") -> str:
    response = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/"})
    assert response.status_code == 200 and response.url.path == "/"
    return CSRF_FIELD.search(response.text).group(1)


def test_pages_redirect_to_login_and_back(client):
    add_account("amina")
    response = client.get("/stats?days=7", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/stats?days=7"
    page = client.post(
        "/login", data={"username": "amina", "password": PASSWORD, "next": "/stats?days=7"}
    )
    assert page.url.path == "/stats" and "Statistiques" in page.text
    assert "Content-Security-Policy" in page.headers


def test_login_page_refuses_outside_redirects_and_wrong_passwords(client):
    add_account("amina")
    wrong = client.post("/login", data={"username": "amina", "password": "x", "next": "/"})
    assert wrong.status_code == 401 and "incorrect" in wrong.text
    outside = client.post(
        "/login",
        data={"username": "amina", "password": PASSWORD, "next": "https://evil.example/"},
        follow_redirects=False,
    )
    assert outside.headers["location"] == "/"


def test_forms_need_the_csrf_token(client):
    add_account("amina")
    handoff_id = request_for("p-form")
    csrf = log_in(client)
    refused = client.post(f"/handoffs/{handoff_id}/notes", data={"text": "note"})
    assert refused.status_code == 403
    forged = client.post(
        f"/handoffs/{handoff_id}/notes", data={"text": "note", "csrf_token": "forged"}
    )
    assert forged.status_code == 403
    accepted = client.post(
        f"/handoffs/{handoff_id}/notes", data={"text": "note", "csrf_token": csrf}
    )
    assert accepted.status_code == 200 and "Note ajoutée." in accepted.text


def test_html_in_messages_and_notes_is_escaped(client):
    add_account("amina")
    handoff_id = request_for("p-xss", text="<script>alert(1)</script>")
    csrf = log_in(client)
    client.post(
        f"/handoffs/{handoff_id}/notes",
        data={"text": "<img src=x onerror=alert(2)>", "csrf_token": csrf},
    )
    page = client.get(f"/handoffs/{handoff_id}").text
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(2)&gt;" in page
    fragment = client.get(f"/handoffs/{handoff_id}/fragments/transcript").text
    assert "&lt;script&gt;" in fragment and "<script>" not in fragment


def test_distress_messages_are_flagged_in_the_transcript(client):
    add_account("amina")
    handoff_id = request_for("p-flag", text="bonjour")
    person_writes("p-flag", "bghit n9tel rassi")
    log_in(client)
    fragment = client.get(f"/handoffs/{handoff_id}/fragments/transcript").text
    assert fragment.count("⚠ détresse") == 1


def test_reply_form_to_a_resolved_request_is_refused_clearly(client, session):
    add_account("amina")
    handoff_id = request_for("p-done")
    csrf = log_in(client)
    client.post(
        f"/handoffs/{handoff_id}/resolve",
        data={"outcome": "other", "hand_back": "1", "csrf_token": csrf},
    )
    assert session.get(Handoff, handoff_id).status == "resolved"
    response = client.post(
        f"/handoffs/{handoff_id}/reply", data={"text": "encore ?", "csrf_token": csrf}
    )
    assert response.status_code == 409 and "déjà résolue" in response.text


def test_a_colleague_s_request_is_taken_over_from_the_conversations_page(client, session):
    add_account("amina")
    add_account("youssef")
    handoff_id = request_for("p-held")
    csrf = log_in(client)
    client.post(f"/handoffs/{handoff_id}/claim", data={"csrf_token": csrf})
    client.post("/logout", data={"csrf_token": csrf})
    csrf = log_in(client, "youssef")
    refused = client.post(
        f"/handoffs/{handoff_id}/reply", data={"text": "salam", "csrf_token": csrf}
    )
    assert refused.status_code == 409 and "Prise en charge par Amina" in refused.text
    page = client.get("/people").text
    assert "/people/p-held/takeover" in page and f"/handoffs/{handoff_id}" in page
    taken = client.post("/people/p-held/takeover", data={"csrf_token": csrf})
    assert taken.status_code == 200
    session.expire_all()
    holder = session.get(Counsellor, session.get(Handoff, handoff_id).claimed_by)
    assert holder.username == "youssef"
    sent = client.post(f"/handoffs/{handoff_id}/reply", data={"text": "salam", "csrf_token": csrf})
    assert sent.status_code == 200


def test_admin_pages_are_for_admins_and_manage_accounts(client, session):
    add_account("amina")
    add_account("chef", role="admin")
    log_in(client, "amina")
    assert client.get("/admin/accounts").status_code == 403
    client.cookies.clear()
    csrf = log_in(client, "chef")
    page = client.get("/admin/accounts")
    assert page.status_code == 200 and "amina" in page.text
    short = client.post(
        "/admin/accounts",
        data={"username": "nadia", "password": "short", "role": "counsellor", "csrf_token": csrf},
    )
    assert short.status_code == 400 and "au moins 10 caractères" in short.text
    created = client.post(
        "/admin/accounts",
        data={"username": "nadia", "password": "long enough pw", "csrf_token": csrf},
    )
    assert created.status_code == 200 and "Compte créé." in created.text
    amina = session.execute(select(Counsellor).where(Counsellor.username == "amina")).scalar_one()
    client.post(f"/admin/accounts/{amina.id}/active", data={"active": "0", "csrf_token": csrf})
    session.expire_all()
    assert session.get(Counsellor, amina.id).active is False
    audit = client.get("/admin/audit").text
    assert "account_created" in audit and "account_disabled" in audit


def test_statistics_and_csv_export(client, session):
    add_account("amina")
    request_for("p-s1", reason="distress", language="ary")
    request_for("p-s2", reason="ask_human", channel="telegram")
    log_in(client)
    page = client.get("/stats?days=30")
    assert page.status_code == 200 and page.text.count("<svg") >= 5
    csv_text = client.get("/stats/export.csv?days=30").content.decode("utf-8-sig")
    lines = csv_text.strip().splitlines()
    assert lines[0].startswith("id,created_at,priority,reason,status")
    assert len(lines) == 3 and ",urgent,distress," in csv_text
    assert "p-s1" not in csv_text  # no pseudonym leaves in exports
    daily = client.get("/stats/export.csv?days=7&table=daily").content.decode("utf-8-sig")
    assert daily.splitlines()[0] == "day,requests" and len(daily.splitlines()) == 8
    actions = session.execute(select(AuditEntry.action)).scalars().all()
    assert "statistics_exported" in actions


def test_catalog_page_lists_programmes(client):
    add_account("amina")
    log_in(client)
    page = client.get("/catalog")
    assert page.status_code == 200
    assert "programmes en service" in page.text and "ofppt" in page.text


def test_catalog_page_lists_programmes_to_reverify_most_urgent_first(client, tmp_path, monkeypatch):
    """Issue 18: a date passed first, then the oldest verifications, then a date coming up;
    closed programmes say they are never offered."""
    import shutil
    from datetime import date, timedelta

    from bot import PROJECT_ROOT
    from bot.dashboard.routes import catalog as catalog_route
    from bot.settings import get_settings

    directory = tmp_path / "orientation_catalog"
    shutil.copytree(PROJECT_ROOT / "orientation_catalog", directory)
    today = date.today()

    def edit(name: str, old: str, new: str) -> None:
        path = directory / f"{name}.yml"
        text = path.read_text(encoding="utf-8")
        assert old in text
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    edit("ofppt", "verified_on: 2026-12-07", f"verified_on: {today - timedelta(days=240)}")
    edit(
        "odco-cooperative", "verified_on: 2026-12-07", f"verified_on: {today - timedelta(days=420)}"
    )
    edit("intelaka", "valid_until: null", f"valid_until: {today - timedelta(days=1)}")
    edit("anapec-tahfiz", "valid_until: 2026-12-31", f"valid_until: {today + timedelta(days=10)}")
    monkeypatch.setenv("BOUSLA_CATALOG_DIR", str(directory))
    get_settings.cache_clear()
    catalog_route.catalog_store.cache_clear()
    try:
        add_account("amina")
        log_in(client)
        page = client.get("/catalog").text
    finally:
        catalog_route.catalog_store.cache_clear()
    section = page.split('id="to-review"', 1)[1].split("</section>", 1)[0]
    order = re.findall(r'data-program="([^"]+)"', section)
    mine = [
        pid for pid in order if pid in {"intelaka", "odco-cooperative", "ofppt", "anapec-tahfiz"}
    ]
    assert mine == ["intelaka", "odco-cooperative", "ofppt", "anapec-tahfiz"], order
    assert "date limite dépassée le" in section and "il y a 13 mois (plus de 6)" in section
    assert "smart-initiatives" not in section  # ended: history, nothing to re-verify
    assert "terminé (jamais proposé)" in page and "en pause (jamais proposé)" in page
    assert "date passée (plus proposé)" in page


def test_events_need_a_session(client):
    assert client.get("/events").status_code == 401


def test_people_page_and_takeover(client):
    add_account("amina")
    person_writes("p-people", "salam")
    csrf = log_in(client)
    assert f"#{short_id('p-people')}" in client.get("/people").text  # "#people"
    response = client.post("/people/p-people/takeover", data={"csrf_token": csrf})
    assert response.status_code == 200 and "Conversation prise en main" in response.text


def test_user_add_command(database_url, monkeypatch, capsys, session):
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["user", "add", "Karim", "--role", "admin", "--password-stdin"]) == 0
    assert "created (admin)" in capsys.readouterr().out
    karim = session.execute(select(Counsellor).where(Counsellor.username == "karim")).scalar_one()
    assert karim.password_hash.startswith("$argon2") and "passphrase" not in karim.password_hash
    monkeypatch.setattr("sys.stdin", io.StringIO("a long passphrase\n"))
    assert main(["user", "add", "karim", "--password-stdin"]) == 1
    assert "existe déjà" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["user", "add", "lina", "--password-stdin"]) == 1


def test_centre_check_command(capsys):
    assert main(["centre", "check"]) == 0
    assert "4 numéros d'urgence" in capsys.readouterr().out


def test_a_person_is_shown_by_a_piece_of_their_pseudonym_not_their_channel():
    from bot.channels.identity import pseudonym

    person = pseudonym("whatsapp", "+212600112233", secret_key="k")
    assert short_id(person) == person.removeprefix("whatsapp-")[:8]
    assert short_id(person) != short_id(pseudonym("whatsapp", "+212600112234", secret_key="k"))
