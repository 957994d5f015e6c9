"""Law 09-08 on the real stores (SQLite, and PostgreSQL when TEST_DATABASE_URL is set):
erasure leaves nothing about the person in any table of the application database or of
Rasa's tracker store, and touches nobody else; the erasure a person asks for happens at
the end of the turn, after Rasa has written it; retention; export; the staff commands."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    BotUttered,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy import create_engine, inspect, select, text, update

from bot import PROJECT_ROOT, privacy
from bot.channels import queue, worker
from bot.channels.outbound import enqueue_message
from bot.cli import main
from bot.handoffs.service import request_handoff
from bot.settings import get_settings
from bot.storage import models
from bot.storage.audit import record
from bot.storage.db import session_scope
from bot.storage.models import (
    AuditEntry,
    Counsellor,
    DashboardSession,
    HandoffNote,
    InboundMessage,
    OutboundMessage,
    Person,
    Referral,
    utcnow,
)
from bot.storage.people import ensure_person, save_profile
from bot.storage.rasa_stores import TrackerStore

PHONE = "+212600112233"
PHONE_DIGITS = "212600112233"
CHAT_ID = "5550001111"


@dataclass
class Someone:
    person_id: str
    address: str
    token: str  # a word only this person wrote or had written about them
    handoff_id: int = 0
    inbound_id: int = 0

    @property
    def markers(self) -> tuple[str, ...]:
        digits = "".join(c for c in self.address if c.isdigit())
        return (self.person_id, self.token) + ((digits,) if len(digits) >= 6 else ())


ANNA = Someone(privacy.person_id_for("whatsapp", PHONE), f"whatsapp:{PHONE}", "zitounA")
BILAL = Someone(privacy.person_id_for("telegram", CHAT_ID), CHAT_ID, "rommanB")


@pytest.fixture(scope="module")
def rasa_domain() -> Domain:
    return Domain.load(str(PROJECT_ROOT / "domain.yml"))


def add_everything(session, who: Someone, channel: str, counsellor: Counsellor) -> None:
    """One row (or more) in every table about a person, as the real code writes them."""
    ensure_person(session, person_id=who.person_id, channel=channel, address=who.address)
    save_profile(
        session,
        person_id=who.person_id,
        channel=channel,
        profile={"age": 23, "education": "bac", "commune": "ain-harrouda"},
        language="fr",
    )
    privacy.record_notice_shown(session, person_id=who.person_id, channel=channel)
    privacy.record_profile_consent(session, person_id=who.person_id, channel=channel, granted=True)
    who.inbound_id = queue.record_inbound(
        session,
        channel=channel,
        provider_message_id=f"SM-{who.token}",
        person_id=who.person_id,
        address=who.address,
        text=f"{who.token} je cherche du travail",
    )
    queue.record_inbound(
        session,
        channel=channel,
        provider_message_id=f"SM-{who.token}-voice",
        person_id=who.person_id,
        address=who.address,
        media=[{"kind": "voice", "url": f"https://api.example/Media/{who.token}"}],
    )
    handoff = request_handoff(
        session, person_id=who.person_id, channel=channel, language="fr", reason="ask_human"
    )
    handoff.status, handoff.claimed_by = "claimed", counsellor.id
    who.handoff_id = handoff.id
    session.add(HandoffNote(handoff_id=handoff.id, counsellor_id=counsellor.id, text=who.token))
    reply = enqueue_message(
        session,
        person_id=who.person_id,
        channel=channel,
        text=f"Salam {who.token}",
        author="counsellor",
        counsellor_id=counsellor.id,
        handoff_id=handoff.id,
    )
    enqueue_message(
        session,
        person_id=who.person_id,
        channel=channel,
        text="Je peux t'aider à :",
        buttons=[{"title": "Travail", "payload": "/seek_job"}],
        idempotency_key=f"in:{who.inbound_id}:1",
    )
    session.add(
        Referral(person_id=who.person_id, program_id="forsa", kind="suggested", channel=channel)
    )
    if hasattr(models, "Followup"):  # follow-ups (bot/followup/)
        session.add(
            models.Followup(
                person_id=who.person_id, program_id="forsa", channel=channel, status="asked"
            )
        )
    record(session, actor="amina", action="handoff_claimed", target_type="handoff",
           target_id=handoff.id)  # fmt: skip
    record(session, actor="amina", action="message_sent", target_type="handoff",
           target_id=handoff.id, details={"outbound_id": reply.id})  # fmt: skip
    privacy.record_export(session, person_id=who.person_id, actor="cli")
    session.commit()


async def save_history(store: SQLTrackerStore, who: Someone) -> None:
    tracker = DialogueStateTracker.from_events(
        who.person_id,
        [
            ActionExecuted("action_session_start"),
            SessionStarted(),
            ActionExecuted("action_listen"),
            UserUttered(f"{who.token} salam", {"name": "greet", "confidence": 1.0}),
            SlotSet("language", "fr"),
            BotUttered("Salut", metadata={"utter_action": "utter_greet"}),
            ActionExecuted("action_listen"),
        ],
    )
    await store.save(tracker)


@pytest.fixture
def two_people(database_url, rasa_domain):
    """Anna (WhatsApp) and Bilal (Telegram), each in every table and in the tracker."""
    with session_scope() as session:
        counsellor = Counsellor(username="amina", password_hash="x", role="counsellor")
        session.add(counsellor)
        session.flush()
        session.add(
            DashboardSession(
                token_hash="t" * 64,
                counsellor_id=counsellor.id,
                csrf_token="c",
                expires_at=utcnow() + timedelta(hours=1),
            )
        )
        session.commit()
        add_everything(session, ANNA, "whatsapp", counsellor)
        add_everything(session, BILAL, "telegram", counsellor)
    store = TrackerStore(domain=rasa_domain)
    return store


def store_urls() -> list[str]:
    settings = get_settings()
    return sorted({settings.app_database_url, settings.tracker_database_url})


def every_row() -> dict[str, set[str]]:
    """Every row of every table of both stores, as text (tables found by the inspector)."""
    rows: dict[str, set[str]] = {}
    for url in store_urls():
        engine = create_engine(url, future=True)
        with engine.connect() as connection:
            for table in inspect(connection).get_table_names():
                result = connection.execute(text(f'SELECT * FROM "{table}"'))
                rows.setdefault(table, set()).update(
                    " | ".join(str(value) for value in row) for row in result
                )
        engine.dispose()
    return rows


def about(who: Someone, row: str) -> bool:
    return any(marker in row for marker in who.markers)


def assert_nothing_about(who: Someone, rows: dict[str, set[str]]) -> None:
    left = {table: [r for r in found if about(who, r)] for table, found in rows.items()}
    assert not any(left.values()), {t: r for t, r in left.items() if r}


def audit_entries(session) -> list[AuditEntry]:
    return list(session.execute(select(AuditEntry).order_by(AuditEntry.id)).scalars())


# ---------------------------------------------------------------- staff erasure


async def test_erase_leaves_nothing_in_any_table_and_touches_nobody_else(
    two_people, capsys, caplog
):
    store = two_people
    await save_history(store, ANNA)
    await save_history(store, BILAL)
    before = every_row()
    tables = set(before)
    assert {"persons", "consents", "inbound_messages", "outbound_messages", "handoffs",
            "handoff_notes", "referrals", "audit_log", "events"} <= tables  # fmt: skip
    assert all(any(about(ANNA, r) for r in before[t]) for t in ("events", "handoff_notes"))

    caplog.set_level(logging.DEBUG)
    typed = "+212 600 11 22 33"
    assert main(["erase", "--channel", "whatsapp", "--user", typed, "--yes"]) == 0
    output = capsys.readouterr().out
    assert f"Erased {ANNA.person_id} (whatsapp)" in output
    counts = dict(line.split() for line in output.splitlines()[1:] if len(line.split()) == 2)
    assert counts["persons"] == "1" and counts["inbound_messages"] == "2"
    assert counts["handoff_notes"] == "1" and counts["events"] == "7"
    assert PHONE_DIGITS not in output and PHONE_DIGITS not in caplog.text

    after = every_row()
    assert set(after) == tables  # no table created or dropped
    assert_nothing_about(ANNA, after)
    # Bilal's rows, and everything else, are exactly as before (the audit log aside).
    for table in tables - {"audit_log"}:
        assert after[table] == {r for r in before[table] if not about(ANNA, r)}, table
    assert sum(about(BILAL, r) for t in tables for r in after[t]) == sum(
        about(BILAL, r) for t in tables for r in before[t]
    )
    with session_scope() as session:
        entries = audit_entries(session)
        by_target = {e.target_id for e in entries}
        assert str(ANNA.handoff_id) not in by_target and ANNA.person_id not in by_target
        assert str(BILAL.handoff_id) in by_target and BILAL.person_id in by_target
        unlinked = [e for e in entries if e.actor == "amina" and e.target_id is None]
        assert [e.action for e in unlinked] == ["handoff_claimed", "message_sent"]
        assert all(not (e.details or {}).get("outbound_id") for e in unlinked)
        erased = entries[-1]
        assert erased.action == "person_erased" and erased.actor.startswith("cli")
        assert erased.details["reason"] == "staff" and erased.details["counts"]["events"] == 7
        assert ANNA.person_id not in json.dumps(erased.details)
        assert session.get(Person, BILAL.person_id).age == 23

    # Again: nothing left, nothing erased, and it says so.
    assert main(["erase", "--channel", "whatsapp", "--user", "0600112233", "--yes"]) == 0
    assert "Nothing found" in capsys.readouterr().out


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_erase_on_sqlite_leaves_nothing_in_the_files_or_their_write_ahead_log(two_people):
    """SQLite keeps what was deleted in free pages and in the `-wal` file until a
    checkpoint: the erasure zeroes the rows (secure_delete) and truncates the WAL."""
    await save_history(two_people, ANNA)
    var_dir = get_settings().var_dir

    def files_holding(marker: str) -> list[str]:
        return [p.name for p in sorted(var_dir.glob("*.db*")) if marker.encode() in p.read_bytes()]

    assert files_holding(ANNA.token)  # written in the database files, or their WAL
    assert main(["erase", "--channel", "whatsapp", "--user", PHONE, "--yes"]) == 0
    for marker in (ANNA.token, PHONE_DIGITS):
        assert files_holding(marker) == [], marker
    assert files_holding(BILAL.token)  # the others are still there


def test_erase_asks_for_confirmation(two_people, capsys):
    assert main(["erase", "--channel", "telegram", "--user", CHAT_ID]) == 2
    assert "--yes" in capsys.readouterr().err
    with session_scope() as session:
        assert session.get(Person, BILAL.person_id) is not None
    assert main(["erase", "--channel", "whatsapp", "--user", "12", "--yes"]) == 2
    assert "not a phone number" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("channel", "typed", "address"),
    [
        ("whatsapp", "+212612345678", "whatsapp:+212612345678"),
        ("whatsapp", "06 12 34 56 78", "whatsapp:+212612345678"),
        ("whatsapp", "00212-612-345-678", "whatsapp:+212612345678"),
        ("whatsapp", "whatsapp:+212612345678", "whatsapp:+212612345678"),
        ("whatsapp", "212612345678", "whatsapp:+212612345678"),
        ("whatsapp", "+33612345678", "whatsapp:+33612345678"),
        ("telegram", " 5550199887 ", "5550199887"),
        ("webchat", "abcdEF12_-", "abcdEF12_-"),
        ("rest", "e2e-french", "e2e-french"),
    ],
)
def test_staff_type_a_person_the_way_they_know_them(channel, typed, address):
    from bot.channels.identity import pseudonym

    assert privacy.provider_address(channel, typed) == address
    expected = address if channel == "rest" else pseudonym(channel, address)
    assert privacy.person_id_for(channel, typed) == expected


@pytest.mark.parametrize(
    ("channel", "typed"),
    [
        ("whatsapp", "0612"),
        ("whatsapp", "+21261234567a"),
        ("telegram", "@bilal"),
        ("webchat", "short"),
        ("rest", ""),
        ("sms", "0612345678"),
    ],  # fmt: skip
)
def test_what_is_not_a_person_id_is_refused_with_a_sentence(channel, typed):
    with pytest.raises(ValueError, match=" "):
        privacy.provider_address(channel, typed)


# ---------------------------------------------------------------- the person's own erasure


async def confirm_erasure_turn(store: SQLTrackerStore, who: Someone, channel: str) -> int:
    """A turn as Rasa's processor runs it: the tracker is read, "oui" answers the erasure
    question, action_delete_my_data runs, its reply goes to the outbox (as OutboxOutput
    writes it), then the tracker is saved. Returns the confirmation's outbox id."""
    tracker = await store.retrieve(who.person_id)
    tracker.update(BotUttered("Tu veux que j'efface tout ?",
                              metadata={"utter_action": "utter_ask_delete_my_data"}))  # fmt: skip
    tracker.update(ActionExecuted("action_listen"))
    with session_scope() as session:
        inbound_id = queue.record_inbound(
            session,
            channel=channel,
            provider_message_id=f"SM-{who.token}-yes",
            person_id=who.person_id,
            address=who.address,
            text="oui",
        )
    tracker.update(
        UserUttered(
            "oui",
            {"name": "affirm", "confidence": 1.0},
            input_channel=channel,
            metadata={"inbound_id": inbound_id},
        )  # fmt: skip
    )
    tracker.update(ActionExecuted("action_delete_my_data"))
    tracker.update(SlotSet(privacy.ERASURE_SLOT, True))
    tracker.update(BotUttered("C'est fait", metadata={"utter_action": "utter_delete_my_data_done"}))
    with session_scope() as session:
        confirmation = enqueue_message(
            session,
            person_id=who.person_id,
            channel=channel,
            text="C'est fait : j'ai tout effacé",
            idempotency_key=f"in:{inbound_id}:1",
        )
    tracker.update(ActionExecuted("action_listen"))
    await store.save(tracker)
    return confirmation.id


async def test_deleting_events_during_the_turn_is_not_enough(two_people):
    """Why the erasure waits for the end of the turn: Rasa saves the turn's tracker after
    the actions ran, and writes back every event it no longer finds in the store."""
    store = two_people
    await save_history(store, ANNA)
    tracker = await store.retrieve(ANNA.person_id)
    tracker.update(UserUttered("oui", {"name": "affirm", "confidence": 1.0}))
    with store.engine.begin() as connection:  # what an action erasing "now" would do
        assert privacy.delete_tracker_events(connection, ANNA.person_id) == 7
    await SQLTrackerStore.save(store, tracker)  # Rasa's own save, at the end of the turn
    with store.engine.connect() as connection:
        rows = (
            connection.execute(
                text("SELECT data FROM events WHERE sender_id = :s"), {"s": ANNA.person_id}
            )
            .scalars()
            .all()
        )
    assert any(f"{ANNA.token} salam" in row for row in rows)  # the history is back


@pytest.mark.parametrize("status", ["pending", "sending", "sent"])
async def test_yes_erases_at_the_end_of_the_turn_and_the_last_message_still_leaves(
    two_people, status, caplog
):
    store = two_people
    await save_history(store, ANNA)
    await save_history(store, BILAL)
    before = every_row()
    caplog.set_level(logging.DEBUG)

    store_save = store.save

    async def save_with_delivery_state(tracker):
        # The delivery worker may have claimed (or sent) the confirmation before the save.
        with session_scope() as session:
            session.execute(
                update(OutboundMessage)
                .where(OutboundMessage.text.like("C'est fait%"))
                .values(status=status)
                .execution_options(synchronize_session=False)
            )
        await store_save(tracker)

    store.save = save_with_delivery_state
    confirmation_id = await confirm_erasure_turn(store, ANNA, "whatsapp")

    # Rasa's tracker holds nothing about Anna: the turn was not written back.
    with store.engine.connect() as connection:
        assert privacy.count_tracker_events(connection, ANNA.person_id) == 0
        assert privacy.count_tracker_events(connection, BILAL.person_id) == 7
    rows = every_row()
    with session_scope() as session:
        person = session.get(Person, ANNA.person_id)
        left = (
            session.execute(
                select(OutboundMessage).where(OutboundMessage.person_id == ANNA.person_id)
            )
            .scalars()
            .all()
        )
        if status == "sent":  # already delivered: nothing kept
            assert person is None and left == []
        else:  # kept to be delivered: the address, and the message itself
            assert person.address == ANNA.address and person.age is None
            assert person.language is None and person.commune is None
            assert [(r.id, r.idempotency_key) for r in left] == [
                (confirmation_id, f"erasure:{ANNA.person_id}:{confirmation_id}")
            ]
            others = {t: [r for r in found if about(ANNA, r)] for t, found in rows.items()}
            assert {t for t, r in others.items() if r} == {"persons", "outbound_messages"}
    if status == "pending":
        # The worker claims it (with the address), sends it, and the rest goes.
        with session_scope() as session:
            claimed = queue.claim_outbound(
                session, channels=["whatsapp"], limit=10, lease_seconds=30
            )
        mine = [c for c in claimed if c.person_id == ANNA.person_id]
        assert [(c.id, c.address) for c in mine] == [(confirmation_id, ANNA.address)]
        outcome = worker.SendOutcome(provider_message_id="SM-sent")
        following = await worker.in_session(
            worker._mark_sent_and_claim_next, mine[0], outcome, lease_seconds=30
        )
        assert following is None  # nothing of hers is left to send
    elif status == "sending":
        snapshot = queue.OutboundSnapshot(
            id=confirmation_id, person_id=ANNA.person_id, channel="whatsapp",
            address=ANNA.address, text="C'est fait", buttons=None, media=None,
            template=None, attempts=1, created_at=utcnow(), last_inbound_at=None,
        )  # fmt: skip
        await worker.in_session(queue.mark_failed, snapshot.id, error="Twilio 400")
        await worker.in_session(worker._after_delivery, snapshot)  # failed for good

    after = every_row()
    assert_nothing_about(ANNA, after)
    for table in set(before) - {"audit_log"}:
        assert {r for r in after[table] if about(BILAL, r)} == {
            r for r in before[table] if about(BILAL, r)
        }, table
    with session_scope() as session:
        erased = audit_entries(session)[-1]
        assert (erased.actor, erased.action) == ("bot", "person_erased")
        assert erased.details["reason"] == "request" and erased.details["counts"]["events"] == 7
    assert ANNA.person_id in caplog.text and PHONE_DIGITS not in caplog.text


async def test_the_web_chat_keeps_the_last_message_until_the_browser_fetched_it(
    two_people,
):
    from bot.channels.webchat import messages_for

    store = two_people
    browser = "browser-tinC-1"
    carla = Someone(privacy.person_id_for("webchat", browser), browser, "tinC")
    with session_scope() as session:
        ensure_person(session, person_id=carla.person_id, channel="webchat", address=None)
    await save_history(store, carla)
    confirmation_id = await confirm_erasure_turn(store, carla, "webchat")
    with session_scope() as session:  # the browser pickup "sends" it at once
        queue.mark_sent(session, confirmation_id, provider_message_id=None, template=None)
        worker._after_delivery(
            session,
            queue.OutboundSnapshot(
                id=confirmation_id, person_id=carla.person_id, channel="webchat",
                address=None, text="", buttons=None, media=None, template=None,
                attempts=1, created_at=utcnow(), last_inbound_at=None,
            ),
        )  # fmt: skip
        assert session.get(Person, carla.person_id) is not None  # not fetched yet
    with session_scope() as session:
        fetched = messages_for(session, person_id=carla.person_id, after=0)
    assert [m["id"] for m in fetched] == [confirmation_id]
    assert fetched[0]["text"].startswith("C'est fait")
    with session_scope() as session:
        assert session.get(Person, carla.person_id) is None
        assert messages_for(session, person_id=carla.person_id, after=0) == []
    assert_nothing_about(carla, every_row())


async def test_a_person_who_writes_again_before_delivery_is_a_new_person(two_people):
    store = two_people
    await save_history(store, ANNA)
    confirmation_id = await confirm_erasure_turn(store, ANNA, "whatsapp")
    with session_scope() as session:  # writes again while the confirmation waits
        queue.record_inbound(
            session, channel="whatsapp", provider_message_id="SM-again",
            person_id=ANNA.person_id, address=ANNA.address, text="salam",
        )  # fmt: skip
        claimed = queue.claim_outbound(session, channels=["whatsapp"], limit=9, lease_seconds=30)
        assert confirmation_id in [c.id for c in claimed]
        queue.mark_sent(session, confirmation_id, provider_message_id="SM", template=None)
        assert privacy.after_delivery(
            session, outbound_id=confirmation_id, person_id=ANNA.person_id, channel="whatsapp"
        )
    with session_scope() as session:
        assert session.get(OutboundMessage, confirmation_id) is None
        assert session.get(Person, ANNA.person_id).address == ANNA.address
        texts = (
            session.execute(
                select(InboundMessage.text).where(InboundMessage.person_id == ANNA.person_id)
            )
            .scalars()
            .all()
        )
        assert texts == ["salam"]


# ---------------------------------------------------------------- retention


async def test_purge_erases_the_silent_and_old_rows_and_dry_run_changes_nothing(two_people, capsys):
    store = two_people
    await save_history(store, ANNA)
    await save_history(store, BILAL)
    long_ago = utcnow() - timedelta(days=400)
    with session_scope() as session:
        # Anna has been silent for 400 days; Bilal wrote today, but also 400 days ago.
        session.execute(
            update(Person)
            .where(Person.id == ANNA.person_id)
            .values(created_at=long_ago, last_seen_at=long_ago, last_inbound_at=long_ago)
        )
        old = queue.record_inbound(
            session, channel="telegram", provider_message_id="SM-old",
            person_id=BILAL.person_id, address=BILAL.address, text="old message",
        )  # fmt: skip
        session.execute(
            update(InboundMessage)
            .where(InboundMessage.id == old)
            .values(received_at=long_ago, status="done")
        )
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.person_id == BILAL.person_id)
            .values(created_at=long_ago)
        )
        # One of Bilal's old replies never left: it stays until sent.
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.person_id == BILAL.person_id, OutboundMessage.author == "bot")
            .values(status="sent")
        )
    # Bilal's tracker: an old session (400 days ago), then today's.
    old_time = long_ago.timestamp()
    tracker = await store.retrieve(BILAL.person_id)
    old_events = DialogueStateTracker.from_events(
        BILAL.person_id,
        [ActionExecuted("action_session_start", timestamp=old_time - 10),
         SessionStarted(timestamp=old_time - 9),
         UserUttered("old session", {"name": "greet"}, timestamp=old_time - 8)],
    )  # fmt: skip
    with store.engine.begin() as connection:
        privacy.delete_tracker_events(connection, BILAL.person_id)
    await store.save(old_events)
    tracker = await store.retrieve(BILAL.person_id)
    tracker.update(ActionExecuted("action_session_start"))
    tracker.update(SessionStarted())
    tracker.update(UserUttered("today", {"name": "greet"}))
    await store.save(tracker)
    before = every_row()

    assert main(["purge", "--older-than", "365d", "--dry-run"]) == 0
    dry = capsys.readouterr().out
    assert "Would erase 1 person(s)" in dry and "Dry run" in dry
    assert every_row() == before

    assert main(["purge", "--older-than", "365d"]) == 0
    output = capsys.readouterr().out
    assert "Erased 1 person(s)" in output
    counts = dict(line.split() for line in output.splitlines()[1:] if len(line.split()) == 2)
    assert counts == {k: v for k, v in dict(line.split() for line in dry.splitlines()[1:]
                                              if len(line.split()) == 2).items()}  # fmt: skip
    after = every_row()
    assert_nothing_about(ANNA, after)
    with session_scope() as session:
        bilal = session.get(Person, BILAL.person_id)
        assert bilal is not None and bilal.age == 23
        kept = (
            session.execute(
                select(InboundMessage.text).where(InboundMessage.person_id == BILAL.person_id)
            )
            .scalars()
            .all()
        )
        assert "old message" not in kept and f"{BILAL.token} je cherche du travail" in kept
        outbox = (
            session.execute(
                select(OutboundMessage.status).where(OutboundMessage.person_id == BILAL.person_id)
            )
            .scalars()
            .all()
        )
        assert outbox == ["pending"]  # the old reply still waiting to be sent
        entry = audit_entries(session)[-1]
        assert entry.action == "retention_purge" and entry.details["people"] == 1
    with store.engine.connect() as connection:
        rows = (
            connection.execute(
                text("SELECT data FROM events WHERE sender_id = :s"), {"s": BILAL.person_id}
            )
            .scalars()
            .all()
        )
    assert not any("old session" in r for r in rows) and any("today" in r for r in rows)
    restored = await store.retrieve(BILAL.person_id)
    assert restored.latest_message.text == "today"

    assert main(["purge", "--older-than", "0d"]) == 2
    assert "365d" in capsys.readouterr().err


async def test_erasure_messages_left_behind_go_after_a_day(two_people, capsys):
    store = two_people
    await save_history(store, ANNA)
    await confirm_erasure_turn(store, ANNA, "whatsapp")
    with session_scope() as session:
        session.execute(
            update(OutboundMessage)
            .where(OutboundMessage.person_id == ANNA.person_id)
            .values(created_at=utcnow() - timedelta(days=2), status="sent")
        )
    assert main(["purge"]) == 0  # default: the retention period of the notice
    assert "erasure messages left over" in capsys.readouterr().out
    assert_nothing_about(ANNA, every_row())


# ---------------------------------------------------------------- export


async def test_export_gives_one_persons_data_without_their_number(two_people, tmp_path, capsys):
    out = tmp_path / "anna.json"
    assert main(["export", "--channel", "whatsapp", "--user", "0600112233", "--out", str(out)]) == 0
    assert PHONE_DIGITS not in capsys.readouterr().out
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["person"]["pseudonym"] == ANNA.person_id
    assert data["profile"] == {"age": 23, "education": "bac", "commune": "ain-harrouda"}
    assert [(c["kind"], c["version"]) for c in data["consents"]] == [
        ("notice", privacy.NOTICE_VERSION),
        ("profile", privacy.NOTICE_VERSION),
    ]
    assert all(c["at"] for c in data["consents"]) and data["consents"][1]["granted"] is True
    texts = [m["text"] for m in data["messages"]]
    assert f"{ANNA.token} je cherche du travail" in texts and f"Salam {ANNA.token}" in texts
    assert any(m["media"] for m in data["messages"] if m["from"] == "person")
    assert [r["program"] for r in data["referrals"]] == ["forsa"]
    assert data["handoffs"][0]["notes"][0]["text"] == ANNA.token
    assert PHONE_DIGITS not in out.read_text() and BILAL.token not in out.read_text()

    assert main(["export", "--channel", "telegram", "--user", CHAT_ID]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["person"]["pseudonym"] == BILAL.person_id
    with session_scope() as session:
        exports = [e for e in audit_entries(session) if e.action == "person_exported"]
        assert {e.target_id for e in exports} >= {ANNA.person_id, BILAL.person_id}

    assert main(["export", "--channel", "telegram", "--user", "42"]) == 1
    assert "nothing is kept" in capsys.readouterr().err
