"""The distress safety net: a deterministic lexicon in French, Darija and Arabizi, and the
one place where a message's tier is decided (`assess`: danger, check_in or nothing).

It runs in the Rasa process (`bot.nlu.distress.DistressDetector`) and in the dashboard (to
flag messages in transcripts). The matcher is `lexicon.py`, the phrases `safety_lexicon.yml`.
"""

from bot.safety.lexicon import (
    CATEGORIES,
    CHECK_IN,
    CHECK_IN_CONFIDENCE,
    DANGER,
    DANGER_CONFIDENCE,
    Assessment,
    DistressMatch,
    assess,
    find_distress,
    load_lexicon,
)

__all__ = [
    "CATEGORIES",
    "CHECK_IN",
    "CHECK_IN_CONFIDENCE",
    "DANGER",
    "DANGER_CONFIDENCE",
    "Assessment",
    "DistressMatch",
    "assess",
    "find_distress",
    "load_lexicon",
]
