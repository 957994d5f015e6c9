"""What actions read from the tracker beyond slots and the latest message."""

from __future__ import annotations

from rasa_sdk import Tracker


def channel_of(tracker: Tracker) -> str:
    """The input channel of the conversation (`rest` when unknown)."""
    return tracker.get_latest_input_channel() or "rest"
