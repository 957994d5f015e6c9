"""Input/output channels (WhatsApp through Twilio, Telegram) and the one outbound path.

`enqueue_message` is how anything (bot replies, counsellors' replies, follow-ups) sends a
message to a person: it writes an outbox row, which is also the transcript entry, and
the channel's sender delivers it with retries.
"""

from bot.channels.outbound import TranscriptEntry, enqueue_message, transcript

__all__ = ["TranscriptEntry", "enqueue_message", "transcript"]
