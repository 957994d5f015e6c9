"""Which follow-ups are due and who may ask them, on SQLite and PostgreSQL (no Rasa here:
the conversation side is in test_followup_delivery.py)."""

from __future__ import annotations

import threading
from datetime import timedelta

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from bot.followup import store
from bot.handoffs.service import request_handoff
from bot.storage.db import build_engine
from bot.storage.models import Base, Consent, Followup, Person, Referral, utcnow

CHANNELS = ["whatsapp", "telegram", "webchat"]
DAYS = 14


def person(session, person_id: str, *, channel: str = "whatsapp", address: str | None = "x"):
    now = utcnow()
    row = Person(
        id=person_id,
        channel=channel,
        address=f"whatsapp:+2126{abs(hash(person_id)) % 10**8:08d}" if address else None,
        language="fr",
        created_at=now - timedelta(days=60),
        last_seen_at=now - timedelta(days=20),
        last_inbound_at=now - timedelta(days=20),
    )
    session.add(row)
    session.flush()
    return row


def referral(session, person_id: str, program_id: str, *, days_ago: float, kind="suggested"):
    session.add(
        Referral(
            person_id=person_id,
            program_id=program_id,
            kind=kind,
            channel="whatsapp",
            language="fr",
            created_at=utcnow() - timedelta(days=days_ago),
        )
    )
    session.flush()


def claim(session, **kwargs) -> list[store.FollowupClaim]:
    return store.claim_due(session, days=DAYS, channels=CHANNELS, **kwargs)


def test_the_migration_creates_the_table_the_model_describes(session):
    context = MigrationContext.configure(session.connection())
    differences = [d for d in compare_metadata(context, Base.metadata) if "followups" in repr(d)]
    assert differences == []


def test_due_two_weeks_after_the_latest_referral_and_not_months_later(session):
    for name, days_ago in (("p-15", 15), ("p-3", 3), ("p-50", 50)):
        person(session, name)
        referral(session, name, "ofppt", days_ago=days_ago)
    # Suggested 20 days ago but chosen again 5 days ago: the person is still deciding.
    person(session, "p-again")
    referral(session, "p-again", "forsa", days_ago=20)
    referral(session, "p-again", "forsa", days_ago=5, kind="chosen")
    session.commit()

    claims = claim(session)
    assert [(c.person_id, c.program_id, c.channel) for c in claims] == [
        ("p-15", "ofppt", "whatsapp")
    ]
    assert claim(session) == []  # a second round claims nothing more
    row = session.execute(select(Followup)).scalar_one()
    assert (row.status, row.attempts) == ("claimed", 1)


def test_never_for_refusals_counsellors_or_people_without_an_address(session):
    for name in (
        "refused",
        "refused-then-granted",
        "waiting-counsellor",
        "with-counsellor",
        "resolved",
        "no-address",
        "erased",
        "ok-telegram",
    ):
        person(
            session,
            name,
            channel="telegram" if name == "ok-telegram" else "whatsapp",
            address=None if name == "no-address" else "x",
        )
        referral(session, name, "ofppt", days_ago=15)
    now = utcnow()
    session.add_all(
        [
            Consent(person_id="refused", kind="profile", version="v", granted=False, at=now),
            Consent(
                person_id="refused-then-granted",
                kind="profile",
                version="v",
                granted=False,
                at=now - timedelta(days=16),
            ),
            Consent(
                person_id="refused-then-granted",
                kind="profile",
                version="v",
                granted=True,
                at=now - timedelta(days=15),
            ),
        ]
    )
    for name in ("waiting-counsellor", "with-counsellor", "resolved"):
        handoff = request_handoff(
            session, person_id=name, channel="whatsapp", language="fr", reason="ask_human"
        )
        handoff.status = {"with-counsellor": "claimed", "resolved": "resolved"}.get(name, "open")
    session.delete(session.get(Person, "erased"))  # erasure: every row about them goes
    session.commit()

    claimed = sorted(c.person_id for c in claim(session))
    assert claimed == ["ok-telegram", "refused-then-granted", "resolved"]
    # A counsellor takes the conversation after the claim: the question waits.
    request_handoff(
        session, person_id="resolved", channel="whatsapp", language="fr", reason="ask_human"
    )
    session.commit()
    assert store.eligibility(session, "resolved") == "busy"
    assert store.eligibility(session, "ok-telegram") == "ok"
    assert store.eligibility(session, "refused") == "never"


def test_one_question_at_a_time_chosen_programmes_first(session):
    person(session, "p")
    referral(session, "p", "ofppt", days_ago=16)
    referral(session, "p", "forsa", days_ago=15)
    referral(session, "p", "anapec-idmaj", days_ago=17, kind="chosen")
    session.commit()

    first = claim(session)
    assert [c.program_id for c in first] == ["anapec-idmaj"]
    store.mark_asked(session, first[0].id, outbound_id=None)
    assert claim(session) == []  # the question is open
    store.record_answer(session, person_id="p", outcome="waiting")
    session.commit()
    assert claim(session) == []  # answered, but asked less than a day ago
    later = utcnow() + timedelta(days=1, minutes=1)
    second = claim(session, now=later)
    assert [c.program_id for c in second] == ["forsa"]  # then the most recent one


def test_an_unanswered_question_stops_questions_about_earlier_referrals(session):
    person(session, "p")
    referral(session, "p", "forsa", days_ago=23)
    referral(session, "p", "ofppt", days_ago=24)
    session.commit()
    eight_days_ago = utcnow() - timedelta(days=8)
    asked = claim(session, now=eight_days_ago)
    assert [c.program_id for c in asked] == ["forsa"]
    store.mark_asked(session, asked[0].id, outbound_id=None, now=eight_days_ago)
    assert claim(session) == []  # closed as unanswered after ANSWER_DAYS...
    assert session.get(Followup, asked[0].id).status == "unanswered"
    # ... and "ofppt", referred before that question, is never asked.
    assert claim(session, now=utcnow() + timedelta(days=3)) == []
    referral(session, "p", "ofppt", days_ago=5)  # referred again after the question
    session.commit()
    assert [c.program_id for c in claim(session, now=utcnow() + timedelta(days=10))] == ["ofppt"]


def test_an_expired_lease_is_taken_again_then_given_up(session):
    person(session, "p")
    referral(session, "p", "ofppt", days_ago=15)
    session.commit()
    [first] = claim(session, lease_seconds=60)
    assert claim(session) == []  # lease held
    [again] = claim(session, now=utcnow() + timedelta(seconds=61))  # its worker died
    assert (again.id, again.attempts) == (first.id, 2)
    statuses = []
    for _ in range(6):  # the action server stays down
        status = store.retry_later(session, first.id, error="action server down", delay_seconds=1)
        statuses.append(status)
        if status == "failed":
            break
        [again] = claim(session, now=utcnow() + timedelta(seconds=2))
        assert again.id == first.id
    assert statuses == ["claimed"] * (store.MAX_ATTEMPTS - 2) + ["failed"]
    row = session.get(Followup, first.id)
    session.refresh(row)
    assert (row.status, row.attempts, row.error) == ("failed", 5, "action server down")
    assert claim(session, now=utcnow() + timedelta(days=2)) == []  # never again


def test_busy_does_not_use_up_attempts(session):
    person(session, "p")
    referral(session, "p", "ofppt", days_ago=15)
    session.commit()
    [first] = claim(session)
    for _ in range(10):
        store.retry_later(session, first.id, error=None, delay_seconds=1, counts=False)
    row = session.get(Followup, first.id)
    session.refresh(row)
    assert (row.status, row.attempts) == ("claimed", 0)


def test_workers_racing_claim_each_follow_up_once(database_url, session):
    for index in range(6):
        person(session, f"p{index}")
        referral(session, f"p{index}", "ofppt", days_ago=15)
        referral(session, f"p{index}", "forsa", days_ago=16)
    session.commit()
    workers = 4
    barrier = threading.Barrier(workers)
    results: list[list[store.FollowupClaim]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        engine = build_engine(database_url)  # its own connections, like another replica
        try:
            with sessionmaker(bind=engine, future=True)() as own:
                barrier.wait(timeout=10)
                results.append(claim(own))
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors, errors
    claimed = [c for result in results for c in result]
    assert sorted(c.person_id for c in claimed) == [f"p{i}" for i in range(6)]
    rows = session.execute(select(Followup.person_id, Followup.program_id)).all()
    assert len(rows) == 6  # one question per person, none twice


def test_the_answer_is_stored_on_the_follow_up_and_its_referrals(session):
    person(session, "p")
    referral(session, "p", "ofppt", days_ago=16)
    referral(session, "p", "ofppt", days_ago=15, kind="chosen")
    session.commit()
    [claimed] = claim(session)
    store.mark_asked(session, claimed.id, outbound_id=None)
    row = store.record_answer(session, person_id="p", outcome="went_well")
    session.commit()
    assert (row.id, row.status, row.outcome) == (claimed.id, "answered", "went_well")
    assert row.answered_at is not None
    referrals = session.execute(select(Referral).where(Referral.person_id == "p")).scalars()
    assert {(r.followup_answer, r.followup_sent_at is not None) for r in referrals} == {
        ("went_well", True)
    }
    assert store.record_answer(session, person_id="nobody", outcome="not_yet") is None


def test_erasure_takes_the_follow_ups_with_it(session):
    person(session, "p")
    referral(session, "p", "ofppt", days_ago=15)
    session.commit()
    claim(session)
    session.delete(session.get(Person, "p"))
    session.commit()
    assert session.execute(select(Followup)).all() == []
