"""The distress safety net: a deterministic lexicon in French, Darija and Arabizi.

It runs in the Rasa process (`bot.nlu.distress.DistressDetector`) and in the dashboard (to
flag messages in transcripts). The matcher is `lexicon.py`, the phrases `safety_lexicon.yml`.
"""

from bot.safety.lexicon import DistressMatch, find_distress, load_lexicon

__all__ = ["DistressMatch", "find_distress", "load_lexicon"]
