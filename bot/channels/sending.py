"""What a channel's sender is: it delivers one outbox row to its provider, and says whether
a failure may succeed later (retried with backoff by the delivery worker) or never will."""

from __future__ import annotations

from dataclasses import dataclass

from bot.channels.queue import OutboundSnapshot


class TransientSendError(Exception):
    """The provider may accept the message later (429, 5xx, network): retry with backoff."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentSendError(Exception):
    """The provider refused the message for good (bad address, bot blocked...)."""


@dataclass(frozen=True)
class SendOutcome:
    provider_message_id: str | None
    template: dict | None = None  # the content template used instead of free text, if any


class Sender:
    """Delivers one outbox row to one provider. Raises TransientSendError or
    PermanentSendError; anything else counts as transient."""

    channel: str = ""

    async def start(self) -> None:
        """Called once when the worker starts (e.g. to register a webhook)."""

    async def close(self) -> None:
        """Called once when the worker stops."""

    async def send(self, message: OutboundSnapshot) -> SendOutcome:
        raise NotImplementedError
