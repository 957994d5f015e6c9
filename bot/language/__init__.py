"""Which language a message is written in: `fr`, `ary` (Darija, Arabic script) or
`ary_latn` (Darija in Latin letters, "Arabizi").

`detect(text)` is deterministic and cheap. A low confidence means "too short to tell"
("ok", "1", an emoji): callers keep the language they had.
"""

from bot.language.detect import STICKY_BELOW, Detection, detect

LANGUAGES = ("fr", "ary", "ary_latn")

__all__ = ["LANGUAGES", "STICKY_BELOW", "Detection", "detect"]
