"""Who writes: the pseudonym that stands for a provider user everywhere but `persons.address`,
and the web chat's browser ids.

The Rasa sender id, the tracker, the logs and every table use the pseudonym, a keyed hash
(HMAC-SHA256 with `BOUSLA_SECRET_KEY`) of the channel and the provider's user id. Without
the key, a pseudonym cannot be traced back to a phone number or a chat id.
"""

from __future__ import annotations

import hashlib
import hmac
import re

from bot.settings import get_settings

# The web chat's random id, kept in the browser's localStorage.
BROWSER_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def pseudonym(channel: str, provider_user_id: str, secret_key: str | None = None) -> str:
    """`<channel>-<32 hex>`: stable for one person on one channel, opaque without the key."""
    key = (secret_key or get_settings().secret_key).encode()
    digest = hmac.new(key, f"{channel}:{provider_user_id}".encode(), hashlib.sha256)
    return f"{channel}-{digest.hexdigest()[:32]}"
