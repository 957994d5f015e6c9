"""Settings from the environment, in one place.

Every process (Rasa server, action server, dashboard, CLI) reads its configuration
through `get_settings()`. Secrets for a channel are optional: a channel without them
is disabled with one log line instead of crashing the others.
"""

from __future__ import annotations

import hashlib
import hmac
from functools import lru_cache
from pathlib import Path

from pydantic import BaseSettings, Field, root_validator, validator

from bot import PROJECT_ROOT

DEV_SECRET_KEY = "bousla-dev-secret-change-me"


class Settings(BaseSettings):
    # Storage
    database_url: str | None = Field(None, env="DATABASE_URL")
    redis_url: str | None = Field(None, env="REDIS_URL")
    var_dir: Path = Field(PROJECT_ROOT / "var", env="BOUSLA_VAR_DIR")

    environment: str = Field("development", env="BOUSLA_ENV")
    # Pseudonyms, sessions and the Rasa API token are derived from this key.
    secret_key: str = Field(DEV_SECRET_KEY, env="BOUSLA_SECRET_KEY")

    # Processes
    host: str = Field("127.0.0.1", env="BOUSLA_HOST")
    rasa_port: int = Field(5005, env="RASA_PORT")
    actions_port: int = Field(5055, env="ACTIONS_PORT")
    dashboard_port: int = Field(8000, env="DASHBOARD_PORT")
    rasa_url: str | None = Field(None, env="RASA_URL")
    action_server_url: str | None = Field(None, env="ACTION_SERVER_URL")
    public_url: str | None = Field(None, env="PUBLIC_URL")
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto the dashboard believes (addresses
    # or networks, comma-separated, e.g. "127.0.0.1,10.0.0.0/8"); from anyone else these
    # headers are ignored (they would let a stranger pick the address the login limits see).
    trusted_proxies: str = Field("", env="BOUSLA_TRUSTED_PROXIES")
    # How often the dashboard looks for new messages and requests (live updates).
    dashboard_poll_seconds: float = Field(0.25, env="BOUSLA_DASHBOARD_POLL_SECONDS")

    # WhatsApp through Twilio
    twilio_account_sid: str | None = Field(None, env="TWILIO_ACCOUNT_SID")
    twilio_auth_token: str | None = Field(None, env="TWILIO_AUTH_TOKEN")
    twilio_whatsapp_from: str | None = Field(None, env="TWILIO_WHATSAPP_FROM")
    twilio_base_url: str = Field("https://api.twilio.com", env="TWILIO_BASE_URL")
    # Approved content template (ContentSid "HX...") for messages sent outside WhatsApp's
    # 24-hour window; its variable {{1}} receives the message text.
    twilio_followup_content_sid: str | None = Field(None, env="TWILIO_FOLLOWUP_CONTENT_SID")

    # Telegram
    telegram_bot_token: str | None = Field(None, env="TELEGRAM_BOT_TOKEN")
    telegram_secret_token: str | None = Field(None, env="TELEGRAM_SECRET_TOKEN")
    telegram_base_url: str = Field("https://api.telegram.org", env="TELEGRAM_BASE_URL")

    # Delivery of the inbox and outbox (bot/channels/worker.py)
    channel_poll_seconds: float = Field(0.5, env="BOUSLA_CHANNEL_POLL_SECONDS")
    retry_base_seconds: float = Field(2.0, env="BOUSLA_RETRY_BASE_SECONDS")
    retry_max_seconds: float = Field(300.0, env="BOUSLA_RETRY_MAX_SECONDS")
    retry_give_up_seconds: float = Field(86400.0, env="BOUSLA_RETRY_GIVE_UP_SECONDS")

    # Follow-ups (bot/followup/): the question "did you contact the programme?" this many
    # days after a referral (0: never); the Rasa server looks for due ones this often.
    followup_days: float = Field(14.0, env="BOUSLA_FOLLOWUP_DAYS", ge=0)
    followup_poll_seconds: float = Field(60.0, env="BOUSLA_FOLLOWUP_POLL_SECONDS", gt=0)

    # Content edited by staff
    catalog_dir: Path = Field(PROJECT_ROOT / "orientation_catalog", env="BOUSLA_CATALOG_DIR")
    # A programme whose `verified_on` is older than this is stale: a caution for young people,
    # a warning in `bousla catalog validate`, listed first on the dashboard's catalogue page.
    catalog_stale_months: int = Field(6, env="BOUSLA_CATALOG_STALE_MONTHS", ge=1, le=120)
    centre_file: Path = Field(PROJECT_ROOT / "centre.yml", env="BOUSLA_CENTRE_FILE")
    models_dir: Path = Field(PROJECT_ROOT / "models", env="BOUSLA_MODELS_DIR")
    # Rasa reads a conversation as its last turns on top of the state before them
    # (bot/storage/turn_states.py); 0: the whole session at every turn, as Rasa does.
    tracker_window_turns: int = Field(8, env="BOUSLA_TRACKER_WINDOW_TURNS", ge=0)

    class Config:
        case_sensitive = False

    @validator(
        "database_url",
        "redis_url",
        "public_url",
        "twilio_account_sid",
        "twilio_auth_token",
        "twilio_whatsapp_from",
        "twilio_followup_content_sid",
        "telegram_bot_token",
        "telegram_secret_token",
        pre=True,
    )
    def _blank_is_none(cls, value: str | None) -> str | None:
        return value or None

    @validator("database_url")
    def _normalise_database_url(cls, value: str | None) -> str | None:
        # Heroku-style and SQLAlchemy 1.4 disagree on the scheme name.
        if value and value.startswith("postgres://"):
            return "postgresql://" + value[len("postgres://") :]
        return value

    @root_validator(skip_on_failure=True)
    def _no_development_key_outside_development(cls, values: dict) -> dict:
        """The published development key signs sessions and derives pseudonyms and tokens:
        refuse it as soon as anything says this is a real deployment (production, a public
        address, a provider secret or a database server)."""
        if values.get("secret_key") != DEV_SECRET_KEY:
            return values
        reasons = [variable for variable, present in development_key_refusals(values)
                   if present]  # fmt: skip
        if reasons:
            raise ValueError(
                "BOUSLA_SECRET_KEY must be set to a long random value "
                f"(e.g. `openssl rand -hex 32`) when {', '.join(reasons)} is set"
            )
        return values

    @property
    def app_database_url(self) -> str:
        """The application database: `DATABASE_URL`, or a SQLite file under `var/`."""
        return self.database_url or f"sqlite:///{self.var_dir / 'bousla.db'}"

    @property
    def tracker_database_url(self) -> str:
        """Rasa's tracker store: the same PostgreSQL database, or its own SQLite file.

        SQLite allows one writer at a time, so the tracker gets its own file to keep the
        Rasa server and the dashboard from waiting on each other.
        """
        return self.database_url or f"sqlite:///{self.var_dir / 'rasa_tracker.db'}"

    @property
    def rasa_base_url(self) -> str:
        return self.rasa_url or f"http://{self.host}:{self.rasa_port}"

    @property
    def actions_base_url(self) -> str:
        return self.action_server_url or f"http://{self.host}:{self.actions_port}"

    @property
    def rasa_api_token(self) -> str:
        """Token for Rasa's HTTP API (used by the dashboard), derived from the secret key."""
        return derive_key(self.secret_key, "rasa-api")

    @property
    def is_production(self) -> bool:
        return self.environment == "production"


def development_key_refusals(values: dict) -> list[tuple[str, bool]]:
    """What makes the development secret key unacceptable, by environment variable."""
    database_url = values.get("database_url") or ""
    return [
        ("BOUSLA_ENV=production", values.get("environment") == "production"),
        ("PUBLIC_URL", bool(values.get("public_url"))),
        *((name.upper(), bool(values.get(name))) for name in PROVIDER_SECRETS),
        ("DATABASE_URL (a database server)",
         bool(database_url) and not database_url.startswith("sqlite")),
    ]  # fmt: skip


PROVIDER_SECRETS = (
    "twilio_account_sid",
    "twilio_auth_token",
    "telegram_bot_token",
    "telegram_secret_token",
)


def derive_key(secret: str, purpose: str) -> str:
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()[:32]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
