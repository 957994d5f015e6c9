"""The dashboard in Debian's Chromium: log in, see a WhatsApp request appear live, take it,
reply with a canned reply, write a note, see an injected script shown as text, resolve
with hand-back. Rasa's HTTP API is the recording stand-in; the real-stack version (with
the channels' outbox worker and the fake Twilio) is in test_handoff_stack.py."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from bot.dashboard.app import create_app
from bot.dashboard.deps import get_rasa
from bot.storage.db import session_scope
from bot.storage.models import Handoff, OutboundMessage
from tests.browser_support import LiveServer, browser, requires_chromium, screenshot  # noqa: F401
from tests.conftest import free_port
from tests.dashboard_support import (
    HANDED_BACK_TEXT,
    PASSWORD,
    FakeRasa,
    add_account,
    fast_password_hashing,  # noqa: F401 - fixture
    person_writes,
    request_for,
)

pytestmark = [requires_chromium, pytest.mark.usefixtures("fast_password_hashing")]

INJECTION = '<script>window.pwned = 1</script><img src=x onerror="window.pwned = 2">'


@pytest.fixture
def rasa() -> FakeRasa:
    return FakeRasa()


@pytest.fixture
def dashboard(database_url, rasa):
    app = create_app(poll_seconds=0.2)
    app.dependency_overrides[get_rasa] = lambda: rasa
    with LiveServer(app, free_port()) as server:
        yield server.url


def log_in(page, base_url: str, username: str = "amina") -> None:
    page.goto(f"{base_url}/")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base_url}/")


def test_a_counsellor_handles_a_request_live_from_login_to_hand_back(
    dashboard,
    browser,  # noqa: F811 - the fixture
    rasa,
):
    add_account("amina")
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = context.new_page()
    log_in(page, dashboard)
    page.wait_for_selector("body[data-live=on]")
    assert page.locator(".empty").inner_text() == "Personne n'attend. 🌿"

    # A WhatsApp request arrives while the queue is open: it appears without reloading.
    started = time.monotonic()
    handoff_id = request_for("p-live", text="salam, bghit nhder m3a chi wa7ed", language="ary_latn")
    item = page.wait_for_selector(f"[data-handoff-id='{handoff_id}']", timeout=5000)
    appeared_after = time.monotonic() - started
    assert "Demande un conseiller" in item.inner_text()
    assert "WhatsApp" in item.inner_text() and "Darija (latin)" in item.inner_text()

    # A distress request comes next and goes to the top, as urgent.
    urgent_id = request_for("p-urgent", reason="distress", text="بغيت نقتل راسي", language="ary")
    page.wait_for_selector(f"[data-handoff-id='{urgent_id}']")
    ids = page.eval_on_selector_all(".queue-item", "items => items.map(i => i.dataset.handoffId)")
    assert ids == [str(urgent_id), str(handoff_id)]
    assert page.locator("#queue-count").inner_text() == "(2)"
    screenshot(page, "01-queue-live")

    # Take the request.
    page.click(f"[data-handoff-id='{handoff_id}'] a")
    page.wait_for_selector("#claim-form")
    page.click("#claim-form button")
    page.wait_for_selector("text=Demande prise")
    assert "En cours · Amina" in page.locator("#handoff-status").inner_text()
    assert rasa.calls == [("pause", "p-live")]

    # The person writes again, in Arabic script and with a script injection: live, escaped,
    # right to left.
    page.wait_for_selector("body[data-live=on]")
    person_writes("p-live", "واش كاين شي تكوين ف المحمدية؟", language="ary")
    person_writes("p-live", INJECTION)
    page.wait_for_selector("#transcript >> text=واش كاين شي تكوين", timeout=5000)
    page.wait_for_selector("#transcript >> text=window.pwned = 1")
    arabic = page.locator(".bubble .text", has_text="واش كاين")
    assert arabic.evaluate("el => getComputedStyle(el).direction") == "rtl"
    assert page.evaluate("window.pwned") is None
    assert page.locator("#transcript img").count() == 0

    # Reply with a canned reply in Darija (Latin letters), edited before sending.
    page.click("summary:has-text('Réponses toutes prêtes')")
    page.locator(".canned-item", has_text="Bonjour, je suis là").locator(
        "button[title='Darija (latin)']"
    ).click()
    assert page.input_value("#reply-text").startswith("Salam, ana mn cellule d'écoute")
    page.fill("#reply-text", page.input_value("#reply-text") + " 🙂")
    page.click("#reply-form button[type=submit]")
    page.wait_for_selector("text=Message envoyé")
    counsellor_bubble = page.locator(".msg.counsellor .bubble .text").last
    assert counsellor_bubble.inner_text().startswith("Salam, ana mn cellule d'écoute")

    # A private note.
    page.fill("#note-text", "Cherche une formation courte ; rappeler jeudi.")
    page.click("#note-form button")
    page.wait_for_selector("#notes >> text=rappeler jeudi")
    screenshot(page, "02-conversation-claimed")

    # Phone-sized screen: the same page stays usable.
    page.set_viewport_size({"width": 390, "height": 844})
    screenshot(page, "03-conversation-phone")
    page.set_viewport_size({"width": 1280, "height": 900})

    # Resolve with hand-back.
    page.select_option("select[name=outcome]", "oriented")
    assert page.is_checked("input[name=hand_back]")
    page.click("#resolve-form button")
    page.wait_for_selector("text=Demande résolue")
    assert "Résolue" in page.locator("#handoff-status").inner_text()
    assert rasa.calls[-1] == ("hand_back", "p-live")
    assert page.locator("#reply-form").count() == 0
    page.wait_for_selector(f".msg.bot >> text={HANDED_BACK_TEXT}")
    screenshot(page, "04-resolved-handed-back")

    with session_scope() as session:
        handoff = session.get(Handoff, handoff_id)
        assert (handoff.status, handoff.outcome, handoff.handed_back) == (
            "resolved",
            "oriented",
            True,
        )
        outbox = session.execute(
            select(OutboundMessage.author, OutboundMessage.text)
            .where(OutboundMessage.person_id == "p-live")
            .order_by(OutboundMessage.id)
        ).all()
    assert [author for author, _ in outbox] == ["counsellor", "bot"]
    assert outbox[0][1].endswith("🙂")
    assert appeared_after < 3, f"the request took {appeared_after:.1f} s to appear"

    # Statistics and the catalogue render for the same session.
    page.goto(f"{dashboard}/stats")
    assert page.locator("figure.chart").count() >= 5
    screenshot(page, "05-stats")
    page.goto(f"{dashboard}/catalog")
    assert "programmes en service" in page.inner_text("main")
    screenshot(page, "06-catalog")
    context.close()
