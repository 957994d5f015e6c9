"""Tables of the application database.

People are known only by a pseudonym (`Person.id`, the Rasa sender id: a keyed hash of
channel and provider user id). The provider address needed to answer (phone number,
chat id) is kept in `Person.address` and nowhere else. Every row about a person
references `persons.id` with ON DELETE CASCADE, so erasure is one delete.

Times are naive UTC (`utcnow()`), the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def person_fk() -> ForeignKey:
    return ForeignKey("persons.id", ondelete="CASCADE")


class Person(Base):
    """One young person, by pseudonym, with the short profile built by the form."""

    __tablename__ = "persons"

    id = Column(String(64), primary_key=True)  # pseudonym = Rasa sender id
    channel = Column(String(16), nullable=False)  # whatsapp | telegram | rest | webchat
    address = Column(String(128))  # provider address to reply to; only stored here
    language = Column(String(8))  # fr | ary | ary_latn
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)
    last_inbound_at = Column(DateTime)  # WhatsApp's 24-hour window starts here

    # Short profile (only filled after explicit consent to the profile questions).
    age = Column(Integer)
    education = Column(String(16))
    situation = Column(String(24))
    goal = Column(String(16))
    commune = Column(String(64))
    project_stage = Column(String(16))
    sector = Column(String(32))
    amount = Column(Integer)

    consents = relationship("Consent", cascade="all, delete-orphan", passive_deletes=True)


class Consent(Base):
    """A consent notice shown or a consent answer given, with the notice version (law 09-08)."""

    __tablename__ = "consents"

    id = Column(Integer, primary_key=True)
    person_id = Column(String(64), person_fk(), nullable=False, index=True)
    kind = Column(String(16), nullable=False)  # notice (shown) | profile (asked and answered)
    version = Column(String(16), nullable=False)
    granted = Column(Boolean)  # None for a notice that is only shown
    at = Column(DateTime, nullable=False, default=utcnow)


class InboundMessage(Base):
    """Inbox: what a person wrote, persisted before the provider is acknowledged.

    Unique on (channel, provider_message_id): a replayed webhook finds its row and is
    answered once. Rows also form the person's side of the transcript.
    """

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("channel", "provider_message_id", name="uq_inbound_provider_id"),
        Index("ix_inbound_status_received", "status", "received_at"),
    )

    id = Column(Integer, primary_key=True)
    channel = Column(String(16), nullable=False)
    provider_message_id = Column(String(128), nullable=False)
    person_id = Column(String(64), person_fk(), nullable=False, index=True)
    text = Column(Text)
    payload = Column(String(512))  # button payload when the person tapped a button
    media = Column(JSON)  # [{"kind": "voice", "url": ..., "content_type": ...}]
    location = Column(JSON)  # {"latitude": .., "longitude": ..}
    received_at = Column(DateTime, nullable=False, default=utcnow)
    status = Column(String(16), nullable=False, default="pending")  # pending|processing|done|failed
    attempts = Column(Integer, nullable=False, default=0)
    lease_until = Column(DateTime)
    processed_at = Column(DateTime)
    error = Column(Text)


class OutboundMessage(Base):
    """Outbox: every message sent to a person (bot, counsellor or system), kept until accepted.

    `idempotency_key` (e.g. "<inbound id>:<n>") makes re-processing an inbound message
    produce the same outbound rows instead of new ones.
    """

    __tablename__ = "outbound_messages"
    __table_args__ = (Index("ix_outbound_status_next", "status", "next_attempt_at"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(String(64), person_fk(), nullable=False, index=True)
    channel = Column(String(16), nullable=False)
    author = Column(String(16), nullable=False, default="bot")  # bot | counsellor | system
    counsellor_id = Column(Integer, ForeignKey("counsellors.id", ondelete="SET NULL"))
    handoff_id = Column(Integer, ForeignKey("handoffs.id", ondelete="SET NULL"))
    text = Column(Text)
    buttons = Column(JSON)  # [{"title": .., "payload": ..}]
    media = Column(JSON)
    template = Column(JSON)  # {"content_sid": .., "variables": {..}} outside the 24 h window
    idempotency_key = Column(String(128), unique=True)
    status = Column(String(16), nullable=False, default="pending")
    # pending | sending | sent | delivered | read | failed | undelivered
    attempts = Column(Integer, nullable=False, default=0)
    next_attempt_at = Column(DateTime, nullable=False, default=utcnow)
    lease_until = Column(DateTime)
    provider_message_id = Column(String(128), index=True)
    error = Column(Text)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    sent_at = Column(DateTime)
    delivered_at = Column(DateTime)
    # The last message to a person erased at their request: once it is delivered, what
    # was kept to send it goes too (bot.privacy.erasure).
    erasure_pending = Column(Boolean, nullable=False, default=False)


class Counsellor(Base):
    __tablename__ = "counsellors"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    display_name = Column(String(128))
    password_hash = Column(String(256), nullable=False)  # argon2
    role = Column(String(16), nullable=False, default="counsellor")  # counsellor | admin
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_login_at = Column(DateTime)


class Handoff(Base):
    """A request for a human: queued at once, claimed by a counsellor, resolved, handed back."""

    __tablename__ = "handoffs"
    __table_args__ = (Index("ix_handoffs_status_created", "status", "created_at"),)

    id = Column(Integer, primary_key=True)
    person_id = Column(String(64), person_fk(), nullable=False, index=True)
    channel = Column(String(16), nullable=False)
    language = Column(String(8))
    reason = Column(String(24), nullable=False)
    # ask_human | need_listening | fallback | distress | check_in | turn_failed | counsellor
    # | complex
    priority = Column(String(8), nullable=False, default="normal")  # urgent | normal
    status = Column(String(12), nullable=False, default="open")
    # open | claimed | resolved | cancelled
    created_at = Column(DateTime, nullable=False, default=utcnow)
    claimed_at = Column(DateTime)
    claimed_by = Column(Integer, ForeignKey("counsellors.id", ondelete="SET NULL"))
    resolved_at = Column(DateTime)
    outcome = Column(String(24))  # bot.handoffs.service.OUTCOMES
    handed_back = Column(Boolean)

    notes = relationship(
        "HandoffNote", cascade="all, delete-orphan", passive_deletes=True, order_by="HandoffNote.id"
    )


class HandoffNote(Base):
    """A counsellor's private note on a handoff (never sent to the person)."""

    __tablename__ = "handoff_notes"

    id = Column(Integer, primary_key=True)
    handoff_id = Column(
        Integer, ForeignKey("handoffs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    counsellor_id = Column(Integer, ForeignKey("counsellors.id", ondelete="SET NULL"))
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class Referral(Base):
    """A program suggested to a person or chosen by them, for follow-up and impact reports."""

    __tablename__ = "referrals"

    id = Column(Integer, primary_key=True)
    person_id = Column(String(64), person_fk(), nullable=False, index=True)
    program_id = Column(String(64), nullable=False, index=True)
    kind = Column(String(12), nullable=False)  # suggested | chosen
    channel = Column(String(16), nullable=False)
    language = Column(String(8))
    created_at = Column(DateTime, nullable=False, default=utcnow)
    followup_sent_at = Column(DateTime)
    followup_answer = Column(String(24))  # contacted | not_contacted | enrolled | ...
    followup_answered_at = Column(DateTime)


# Follow-up statuses that still hold the person's one open question (see Followup).
FOLLOWUP_OPEN_STATUSES = ("claimed", "asked")


class Followup(Base):
    """The follow-up question about one programme a person was referred to (bot.followup).

    At most one per (person, programme), ever: the unique constraint is the claim, so
    several replicas never ask twice. At most one open (claimed or asked) per person: one
    question at a time. Statuses: claimed (being asked, `lease_until`) -> asked -> answered,
    or unanswered (no answer in time), failed (could not be asked), skipped.
    """

    __tablename__ = "followups"
    __table_args__ = (
        UniqueConstraint("person_id", "program_id", name="uq_followups_person_program"),
        Index(
            "uq_followups_one_open_per_person",
            "person_id",
            unique=True,
            sqlite_where=text("status IN ('claimed', 'asked')"),
            postgresql_where=text("status IN ('claimed', 'asked')"),
        ),
        Index("ix_followups_status", "status"),
    )

    id = Column(Integer, primary_key=True)
    person_id = Column(String(64), person_fk(), nullable=False)
    program_id = Column(String(64), nullable=False)
    referral_id = Column(Integer, ForeignKey("referrals.id", ondelete="SET NULL"))
    channel = Column(String(16), nullable=False)
    language = Column(String(8))
    status = Column(String(12), nullable=False, default="claimed")
    attempts = Column(Integer, nullable=False, default=1)
    lease_until = Column(DateTime)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    asked_at = Column(DateTime)
    outbound_id = Column(Integer, ForeignKey("outbound_messages.id", ondelete="SET NULL"))
    outcome = Column(String(24))  # bot.followup.answers.OUTCOMES
    answered_at = Column(DateTime)
    error = Column(Text)


class DashboardSession(Base):
    """A counsellor's login session; the cookie holds a token whose hash is the key."""

    __tablename__ = "dashboard_sessions"

    token_hash = Column(String(64), primary_key=True)
    counsellor_id = Column(
        Integer, ForeignKey("counsellors.id", ondelete="CASCADE"), nullable=False, index=True
    )
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    expires_at = Column(DateTime, nullable=False)


class AuditEntry(Base):
    """Who did what in the dashboard or with staff commands (erasure, exports, accounts)."""

    __tablename__ = "audit_log"

    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    actor = Column(String(64), nullable=False)  # counsellor username, or "cli", "bot"
    action = Column(String(48), nullable=False)
    target_type = Column(String(24))
    target_id = Column(String(64))
    details = Column(JSON)
