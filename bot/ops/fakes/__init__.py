"""Local stand-ins for the providers' HTTP APIs, speaking their wire format.

Real HTTP servers (threads of the calling process) that the real clients (twilio's
Client, python-telegram-bot's Bot) talk to when `TWILIO_BASE_URL` / `TELEGRAM_BASE_URL`
point at them. Tests and `bousla bench channels` use them; each can be told to fail
(`fail_next`), to be unreachable for a while (`go_down`), or to rate-limit.
"""

from bot.ops.fakes.telegram_api import FakeTelegramAPI
from bot.ops.fakes.twilio_api import FakeTwilioAPI

__all__ = ["FakeTelegramAPI", "FakeTwilioAPI"]
