"""The goal a message says ("wa9ila la, ma bghitch khdma, bghit formation" → training):
read from the words first (`profile_answers.parse`), else from the intent. Shared by the
dialogue policy (bot/nlu/conversation.py) and action_change_goal."""

from __future__ import annotations

from bot.orientation.profile_answers import parse

GOAL_BY_INTENT = {
    "seek_job": "job",
    "seek_training": "training",
    "start_project": "project",
    "seek_financing": "financing",
}


def said_goal(text: str, intent: str | None) -> str | None:
    if text and not text.startswith("/"):
        answer = parse("goal", text)
        if answer.understood:
            return answer.value
    return GOAL_BY_INTENT.get(intent or "")
