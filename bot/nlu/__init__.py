"""Bousla's own Rasa graph components (listed in config.yml by their dotted path).

- `distress.DistressDetector`: the deterministic distress safety net (NLU).
- `interruptions.InterruptionPolicy`: distress and requests for a human win over any
  active form or loop (dialogue).
"""
