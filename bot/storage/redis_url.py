"""`REDIS_URL` for Rasa's lock store: connection options and a reachability check.

Kept apart from `bot.storage.rasa_stores` (which imports Rasa) so that `bousla run` can
check Redis before starting anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit


class RedisUnavailable(RuntimeError):
    """Redis cannot be reached; the message says where and why, in one sentence."""


@dataclass(frozen=True)
class RedisOptions:
    host: str
    port: int
    db: int
    username: str | None
    password: str | None
    use_ssl: bool

    def describe(self) -> str:
        """The address without the password, for messages and logs."""
        scheme = "rediss" if self.use_ssl else "redis"
        return f"{scheme}://{self.host}:{self.port}/{self.db}"


def redis_options(url: str) -> RedisOptions:
    """`redis://[user:password@]host[:port][/db]` (or `rediss://` for TLS).

    Without a database number, db 1, Rasa's default for its lock store (as in
    `bot.storage.rasa_stores.LockStoreFromSettings`).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("redis", "rediss"):
        raise ValueError(f"REDIS_URL must start with redis:// or rediss:// (got {parts.scheme}://)")
    path = parts.path.strip("/")
    return RedisOptions(
        host=parts.hostname or "localhost",
        port=parts.port or 6379,
        db=int(path) if path.isdigit() else 1,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        use_ssl=parts.scheme == "rediss",
    )


def check_redis(url: str, timeout: float = 3.0) -> None:
    """Raise `RedisUnavailable` with one clear sentence if Redis does not answer a PING."""
    import redis

    options = redis_options(url)
    client = redis.Redis(
        host=options.host,
        port=options.port,
        db=options.db,
        username=options.username,
        password=options.password,
        ssl=options.use_ssl,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
    )
    try:
        client.ping()
    except redis.RedisError as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise RedisUnavailable(
            f"Cannot reach Redis at {options.describe()} ({reason}); start it, fix REDIS_URL, "
            "or unset it to keep Rasa's locks in memory (one replica only)."
        ) from None
    finally:
        client.close()
