"""Queue triage in Debian's Chromium: several urgent requests, each showing what raised it
(tier), the distress category and an excerpt of the message; the request's transcript
marks that message; the outcome has no default; a conversation opened read-only leaves the
bot active (no pause, no request), and taking over stays a separate, explicit button.
Rasa's HTTP API is the recording stand-in (tests/dashboard_support.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.dashboard.app import create_app
from bot.dashboard.deps import get_rasa
from bot.handoffs.views import list_handoffs
from bot.storage.audit import record
from bot.storage.db import session_scope
from bot.storage.models import Handoff
from tests.browser_support import LiveServer, browser, requires_chromium, screenshot  # noqa: F401
from tests.conftest import free_port
from tests.dashboard_support import (
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
def dashboard(database_url, rasa):
    app = create_app(poll_seconds=0.2)
    app.dependency_overrides[get_rasa] = lambda: rasa
    with LiveServer(app, free_port()) as server:
        yield server.url


def a_busy_queue() -> dict[str, int]:
    """Three urgent requests of each kind and one ordinary request."""
    person_writes("p-suicide", "salut", language="fr")
    ids = {
        "suicide": request_for(
            "p-suicide", reason="distress", text="je veux mourir ce soir, j'ai tout préparé"
        ),
        "home": request_for(
            "p-home", reason="distress", text="بابا كيضربني كل نهار بالسمطة", language="ary"
        ),
    }
    person_writes("p-checkin", "3yit mn had l7ayat kamla", language="ary_latn")
    ids["check_in"] = request_for("p-checkin", reason="check_in", text="1", language="ary_latn")
    with session_scope() as session:  # what action_request_human records for a check-in
        record(
            session,
            actor="bot",
            action="check_in",
            target_type="handoff",
            target_id=ids["check_in"],
            details={"source": "lexicon", "category": "suicide"},
        )
    ids["human"] = request_for("p-human", text="bghit nhder m3a chi moustachar")
    return ids


def test_each_row_says_what_raised_it(database_url):
    ids = a_busy_queue()
    with session_scope() as session:
        rows = {v.handoff.id: v.as_dict() for v in list_handoffs(session)}
    suicide, home, check_in, human = (
        rows[ids[k]] for k in ("suicide", "home", "check_in", "human")
    )
    assert (suicide["tier"], suicide["category"]) == ("danger", "suicide")
    assert suicide["excerpt"] == "je veux mourir ce soir, j'ai tout préparé"
    assert (home["tier"], home["category"]) == ("danger", "violence_home")
    # The check-in's trigger is the distress message, not the "1" that accepted it.
    assert (check_in["tier"], check_in["category"], check_in["excerpt"]) == (
        "check_in",
        "suicide",
        "3yit mn had l7ayat kamla",
    )
    assert (human["tier"], human["category"]) == ("human", None)
    assert list(rows)[:3] == [ids["suicide"], ids["home"], ids["check_in"]]  # urgent first


@requires_chromium
def test_triage_then_a_read_only_conversation_in_chromium(
    dashboard,
    browser,  # noqa: F811 - the fixture
    rasa,
):
    add_account("amina")
    ids = a_busy_queue()
    person_writes("p-reader", "salam, fin kayn lmarkaz?", language="ary_latn")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    page.goto(f"{dashboard}/login")
    page.fill("input[name=username]", "amina")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{dashboard}/")

    suicide = page.wait_for_selector(f"[data-handoff-id='{ids['suicide']}']").inner_text()
    assert "Danger" in suicide and "Suicide" in suicide
    assert "je veux mourir ce soir, j'ai tout préparé" in suicide
    home = page.inner_text(f"[data-handoff-id='{ids['home']}']")
    assert "Violence à la maison" in home and "بابا كيضربني كل نهار بالسمطة" in home
    check_in = page.inner_text(f"[data-handoff-id='{ids['check_in']}']")
    assert "Check-in accepté" in check_in and "3yit mn had l7ayat kamla" in check_in
    assert "Demande un humain" in page.inner_text(f"[data-handoff-id='{ids['human']}']")
    screenshot(page, "triage-01-queue")

    # The request's transcript marks the message that raised it; the outcome has no default.
    page.click(f"[data-handoff-id='{ids['suicide']}'] a")
    marked = page.wait_for_selector("#transcript .msg.trigger")
    assert "je veux mourir ce soir" in marked.inner_text()
    assert page.locator("#transcript .msg.trigger").count() == 1
    assert page.eval_on_selector("select[name=outcome]", "s => s.value") == ""
    options = page.eval_on_selector_all("select[name=outcome] option", "os => os.map(o => o.value)")
    assert {"listened", "emergency_called", "referred_partner"} <= set(options)
    assert rasa.calls == []  # opening a request takes nothing over

    # Read-only: the conversation shows, the bot stays active, nothing is queued.
    page.goto(f"{dashboard}/people")
    page.click("a.read-only[href='/people/p-reader']")
    page.wait_for_selector("#read-only >> text=Lecture seule")
    assert "fin kayn lmarkaz" in page.inner_text("#transcript")
    assert page.locator("#takeover-form button").count() == 1
    screenshot(page, "triage-02-read-only")
    assert rasa.calls == []
    with session_scope() as session:
        held = (
            session.execute(select(Handoff).where(Handoff.person_id == "p-reader")).scalars().all()
        )
    assert held == []

    # Taking over is the separate, explicit button.
    page.click("#takeover-form button")
    page.wait_for_selector("text=Conversation prise en main")
    assert rasa.calls == [("pause", "p-reader")]
    context.close()
