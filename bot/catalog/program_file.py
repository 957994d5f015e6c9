"""A programme read from one catalogue file, with the YAML line of each field, so that
the loader and the cross-file checks (`validation.py`) can both say where a problem is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.catalog.schema import Program

Location = tuple[Any, ...]  # ("eligibility", "age_min"), ("gives", "fr", 2)


@dataclass(frozen=True)
class ProgramFile:
    """A programme read from one file, with the line of each field."""

    path: Path
    program: Program
    lines: Mapping[Location, int] = field(repr=False)

    @property
    def name(self) -> str:
        return self.path.name

    def line_of(self, *location: Any) -> int | None:
        return line_of(self.lines, location)


def line_of(lines: Mapping[Location, int], location: Location) -> int | None:
    """Line of a field, or of the closest enclosing field that exists in the file."""
    location = tuple(part for part in location if part != "__root__")
    while location:
        if location in lines:
            return lines[location]
        location = location[:-1]
    return lines.get((), None)
