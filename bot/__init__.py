"""Bousla: the listening-and-orientation cell of the Ain Harrouda youth centre (Rasa)."""

from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
