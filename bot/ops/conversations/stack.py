"""The real stack for conversation scenarios: `bousla run` with the fake providers.

The only module of the harness that imports the stack launcher, the fake provider APIs and
the training: when they move, these imports are the lines to change.
"""

from __future__ import annotations

import contextlib
import secrets
from pathlib import Path
from urllib.parse import quote

import httpx
import yaml
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot import PROJECT_ROOT
from bot.dashboard.rasa_api import rasa_api_headers
from bot.ops.fakes.telegram_api import FakeTelegramAPI, callback_update, text_update
from bot.ops.fakes.twilio_api import FakeTwilioAPI, signed_headers, whatsapp_webhook_form
from bot.ops.localstack import Stack
from bot.ops.training import train
from bot.settings import DEV_SECRET_KEY, derive_key
from bot.storage.db import build_engine

__all__ = [
    "ConversationStack",
    "ensure_model",
    "FakeTelegramAPI",
    "FakeTwilioAPI",
    "callback_update",
    "signed_headers",
    "text_update",
    "whatsapp_webhook_form",
]

WHATSAPP_FROM = "whatsapp:+14155238886"
TELEGRAM_SECRET = "conversations-secret"
COUNSELLOR = "conseillere.tests"


def ensure_model() -> Path:
    """The trained model of the current data (trained first if stale)."""
    return train(quiet=True)


class ConversationStack:
    """Rasa, the action server and the dashboard (`bousla run`), with WhatsApp and
    Telegram pointed at local fakes, SQLite in `var_dir`, and one counsellor account."""

    def __init__(self, var_dir: Path, environ: dict[str, str] | None = None) -> None:
        self.var_dir = Path(var_dir)
        self.environ = environ  # the environment to start from (Stack.environ)
        self.twilio = FakeTwilioAPI()
        self.telegram = FakeTelegramAPI()
        self.stack: Stack | None = None
        self.engine: Engine | None = None
        self.counsellor_password = secrets.token_urlsafe(16)
        self._dashboard: httpx.Client | None = None
        self._csrf: dict[str, str] = {}

    # ------------------------------------------------------------ lifecycle

    def start(self, timeout: float = 300, counsellor: bool = True) -> ConversationStack:
        """Start everything; `counsellor=False` leaves the account to `add_counsellor()`."""
        self.twilio.start()
        self.telegram.start()
        env = {
            "TWILIO_ACCOUNT_SID": self.twilio.account_sid,
            "TWILIO_AUTH_TOKEN": self.twilio.auth_token,
            "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM,
            "TWILIO_BASE_URL": self.twilio.url,
            "TELEGRAM_BOT_TOKEN": self.telegram.token,
            "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
            "TELEGRAM_BASE_URL": self.telegram.url,
            "PUBLIC_URL": "",
            "BOUSLA_CHANNEL_POLL_SECONDS": "0.2",
            "BOUSLA_CENTRE_FILE": str(self._centre_always_open()),
        }
        self.stack = Stack(var_dir=self.var_dir, extra_env=env, environ=self.environ)
        try:
            self.stack.start(timeout=timeout)
        except BaseException:
            self.stop()
            raise
        self.engine = build_engine(f"sqlite:///{self.var_dir / 'bousla.db'}")
        if counsellor:
            self.add_counsellor()
        return self

    def _centre_always_open(self) -> Path:
        """centre.yml with counsellors on duty at every hour: the replies to a request do
        not depend on when the suite runs ("the centre is closed, someone answers at 9")."""
        centre = yaml.safe_load((PROJECT_ROOT / "centre.yml").read_text(encoding="utf-8"))
        days = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        centre["opening_hours"] = {day: ["00:00-23:59"] for day in days}
        centre["closed_on"] = []
        self.var_dir.mkdir(parents=True, exist_ok=True)
        path = self.var_dir / "centre.yml"
        path.write_text(yaml.safe_dump(centre, allow_unicode=True), encoding="utf-8")
        return path

    def stop(self) -> None:
        if self._dashboard is not None:
            self._dashboard.close()
        if self.stack is not None:
            self.stack.stop()
        if self.engine is not None:
            self.engine.dispose()
        for fake in (self.twilio, self.telegram):
            with contextlib.suppress(Exception):
                fake.stop()

    def __enter__(self) -> ConversationStack:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    # ------------------------------------------------------------ addresses and secrets

    @property
    def rasa_url(self) -> str:
        return self.stack.rasa_url

    @property
    def dashboard_url(self) -> str:
        return self.stack.dashboard_url

    @property
    def secret_key(self) -> str:
        return self.stack.env().get("BOUSLA_SECRET_KEY") or DEV_SECRET_KEY

    def log(self) -> str:
        return self.stack.log() if self.stack else ""

    def session(self) -> Session:
        return Session(self.engine, future=True)

    # ------------------------------------------------------------ Rasa

    def rest(self, sender: str, message: str, timeout: float = 60) -> list[dict]:
        response = httpx.post(
            f"{self.rasa_url}/webhooks/rest/webhook",
            json={"sender": sender, "message": message},
            timeout=timeout,
        )
        response.raise_for_status()
        return response.json()

    def tracker(self, sender: str, events: bool = False) -> dict:
        """The conversation's tracker through Rasa's HTTP API (slots, events...)."""
        response = httpx.get(
            f"{self.rasa_url}/conversations/{quote(sender, safe='')}/tracker",
            params={"include_events": "ALL" if events else "NONE"},
            headers=rasa_api_headers(derive_key(self.secret_key, "rasa-api")),
            timeout=30,
        )
        response.raise_for_status()
        return response.json()

    # ------------------------------------------------------------ providers' webhooks

    def whatsapp_post(self, address: str, body: str) -> None:
        url = f"{self.rasa_url}/webhooks/whatsapp/webhook"
        form = whatsapp_webhook_form(
            from_number=address, body=body, account_sid=self.twilio.account_sid
        )
        headers = signed_headers(self.twilio.auth_token, url, form)
        response = httpx.post(url, data=form, headers=headers, timeout=30)
        response.raise_for_status()

    def telegram_post(self, update: dict) -> None:
        response = httpx.post(
            f"{self.rasa_url}/webhooks/telegram/webhook",
            json=update,
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            timeout=30,
        )
        response.raise_for_status()

    # ------------------------------------------------------------ the counsellor

    def add_counsellor(self) -> None:
        from bot.dashboard.accounts import create_counsellor

        with self.session() as session:
            create_counsellor(
                session, username=COUNSELLOR, password=self.counsellor_password,
                display_name="Conseillère (tests)", actor="tests",
            )  # fmt: skip
            session.commit()

    def dashboard(self) -> httpx.Client:
        """A logged-in dashboard client (one for the session: calls are serialised)."""
        if self._dashboard is None:
            client = httpx.Client(base_url=self.dashboard_url, timeout=30)
            login = client.post(
                "/api/session", json={"username": COUNSELLOR, "password": self.counsellor_password}
            )
            login.raise_for_status()
            self._csrf = {"X-CSRF-Token": login.json()["csrf_token"]}
            self._dashboard = client
        return self._dashboard

    def counsellor(self, person_id: str, action: str, text: str | None = None) -> None:
        """claim | reply | hand_back on the person's latest request, as a counsellor would."""
        from bot.storage.models import Handoff

        with self.session() as session:
            handoff_id = session.execute(
                select(Handoff.id)
                .where(Handoff.person_id == person_id)
                .order_by(Handoff.id.desc())
                .limit(1)
            ).scalar()
        if handoff_id is None:
            raise AssertionError(f"no counsellor request for {person_id}")
        client = self.dashboard()
        if action == "claim":
            response = client.post(f"/api/handoffs/{handoff_id}/claim", headers=self._csrf)
        elif action == "reply":
            response = client.post(
                f"/api/handoffs/{handoff_id}/messages", json={"text": text}, headers=self._csrf
            )
        elif action == "hand_back":
            response = client.post(
                f"/api/handoffs/{handoff_id}/resolve",
                json={"outcome": "listening_only", "hand_back": True},
                headers=self._csrf,
            )
        else:
            raise ValueError(f"unknown counsellor action {action!r}")
        if response.status_code >= 400:
            raise AssertionError(f"dashboard {action}: HTTP {response.status_code} {response.text}")
