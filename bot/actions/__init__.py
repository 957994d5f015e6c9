"""Custom actions served by the rasa-sdk action server (`python -m rasa_sdk --actions bot.actions`).

One module per concern; rasa-sdk imports every submodule of this package.
"""
