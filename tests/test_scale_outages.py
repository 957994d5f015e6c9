"""A store down while the channels run (the small, fast version of tests/test_faults_load.py):
a webhook that arrives while the database is down is kept in the local spool, acknowledged,
and answered once after recovery (with no help from the provider); turns failing because
Redis is down wait, are never given up, are never processed twice, and the log says so
once."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import pytest
import redis
from sqlalchemy import text

from bot.channels import worker as channel_worker
from bot.channels.whatsapp import WhatsAppInput
from bot.ops.fakes.twilio_api import FakeTwilioAPI, whatsapp_webhook_form
from bot.ops.scale.private import PrivatePostgres
from bot.settings import get_settings
from bot.storage import db as storage_db
from tests.channels_support import ScriptedBot, start_channel_server, wait_for


def whatsapp(twilio: FakeTwilioAPI) -> WhatsAppInput:
    return WhatsAppInput(
        account_sid=twilio.account_sid,
        auth_token=twilio.auth_token,
        whatsapp_from="whatsapp:+14155238886",
        base_url=twilio.url,
    )


@dataclass
class LocklessBot(ScriptedBot):
    """Fails its first turns the way Rasa does when Redis (its lock store) is down."""

    failures: int = 7
    calls: int = 0

    async def __call__(self, message) -> None:
        self.calls += 1
        if self.failures > 0:
            self.failures -= 1
            raise redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:1.")
        await super().__call__(message)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_redis_down_turns_wait_without_being_given_up(database_url, monkeypatch, caplog):
    monkeypatch.setenv("BOUSLA_CHANNEL_POLL_SECONDS", "0.05")
    monkeypatch.setattr(channel_worker, "STORE_RETRY_SECONDS", 0.05)
    get_settings.cache_clear()
    caplog.set_level(logging.INFO, logger="bot.channels.worker")
    bot = LocklessBot()
    assert bot.failures > channel_worker.INBOX_MAX_ATTEMPTS  # more than a real error gets
    with FakeTwilioAPI() as twilio:
        server = await start_channel_server([whatsapp(twilio)], bot)
        try:
            form = whatsapp_webhook_form(from_number="whatsapp:+212600000077", body="hello")
            assert (await server.post_whatsapp(form, twilio.auth_token)).status_code == 200
            assert await wait_for(lambda: len(twilio.messages) == 1, timeout=20)
            await wait_for(lambda: False, timeout=0.5)
        finally:
            await server.stop()
    assert [m["Body"] for m in twilio.messages] == ["echo:hello"]
    assert bot.calls == 8 and bot.texts() == ["hello"]  # 7 refused turns, then one
    with storage_db.get_engine(database_url).connect() as connection:
        status, attempts = connection.execute(
            text("SELECT status, attempts FROM inbound_messages")
        ).one()
    assert status == "done" and attempts <= 2  # outage attempts were taken back
    messages = [r.getMessage() for r in caplog.records]
    assert sum("Redis (Rasa's lock store) is unavailable" in m for m in messages) == 1
    assert sum("Redis (Rasa's lock store) answers again" in m for m in messages) == 1
    assert not [r for r in caplog.records if r.exc_info]  # no traceback per attempt


async def test_a_webhook_during_a_database_outage_is_spooled_acknowledged_and_answered(
    monkeypatch, caplog
):
    caplog.set_level(logging.INFO, logger="bot.channels")
    with PrivatePostgres() as postgres, FakeTwilioAPI() as twilio:
        monkeypatch.setenv("DATABASE_URL", postgres.url)
        monkeypatch.setenv("BOUSLA_CHANNEL_POLL_SECONDS", "0.05")
        get_settings.cache_clear()
        storage_db.get_engine.cache_clear()
        storage_db._session_factory.cache_clear()
        storage_db.upgrade_database(postgres.url)
        server = await start_channel_server([whatsapp(twilio)], ScriptedBot())
        try:
            postgres.stop()
            forms = [
                whatsapp_webhook_form(from_number="whatsapp:+212600000078", body=body)
                for body in ("salam", "bghit khdma")
            ]
            for form in forms:
                accepted = await server.post_whatsapp(form, twilio.auth_token)
                assert accepted.status_code == 200, accepted.text  # on disk, acknowledged
            spooled = list((get_settings().var_dir / "spool").iterdir())
            assert all(path.stat().st_mode & 0o777 == 0o600 for path in spooled)
            assert "bghit khdma" in "".join(path.read_text() for path in spooled)
            postgres.start()
            # Twilio does not resend; a provider that does resend changes nothing.
            again = await server.post_whatsapp(forms[0], twilio.auth_token)
            assert again.status_code == 200
            assert await wait_for(lambda: len(twilio.messages) >= 2, timeout=20)
            await wait_for(lambda: False, timeout=1)
            assert list((get_settings().var_dir / "spool").iterdir()) == []
        finally:
            await server.stop()
            storage_db.get_engine.cache_clear()
            storage_db._session_factory.cache_clear()
    assert sorted(m["Body"] for m in twilio.messages) == ["echo:bghit khdma", "echo:salam"]
    messages = [r.getMessage() for r in caplog.records]
    assert any(m.startswith("The database is unavailable (") for m in messages), messages
    assert any(m.startswith("Replayed 2 spooled message(s)") for m in messages), messages
