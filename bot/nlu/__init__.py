"""Bousla's own Rasa graph components (listed in config.yml by their dotted path).

- `normaliser.TextNormaliser` / `normaliser.OriginalText`: NLU reads normalised text
  (and at most 1,000 characters); the parse data keeps the person's words.
- `distress.DistressDetector`: the deterministic distress safety net (NLU).
- `stateless.StatelessComponent`: what these NLU components share (built from their
  config alone).
- `interruptions.InterruptionPolicy`: distress and requests for a human win over any
  active form or loop (dialogue).
"""
