"""Persona conversation scenarios, run through the real stack (issue 16).

Scenarios are data (`tests/conversations/scenarios/*.yml`): a persona and the turns they
type, with checkpoints. One runner (`bot.ops.conversations.runner`) plays them through the
real Rasa server and action server, over REST, WhatsApp (signed Twilio webhooks, the
local fake Twilio API) or Telegram (the local fake Bot API), and checks every bot turn:
the test suite (`tests/test_conversations.py`) and `bousla bench conversations` share it.

- `responses`: names each bot message by matching it against domain.yml's responses.
- `checks`: script, gender, programme mentions, "didn't understand" (no stack needed).
- `scenario`: the YAML format, loaded and checked.
- `stack`: the real stack with the fake providers, the only module that imports the
  stack and fake launchers (so moving them changes one line).
- `channels`: one person's messages over REST, WhatsApp or Telegram.
- `runner`: plays scenarios, applies checkpoints, measures, writes transcripts.
- `stories`: Rasa's test stories (tests/stories/) replayed through REST.
"""
