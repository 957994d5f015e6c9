"""A problem found in a catalogue file, worded for programme staff (plain French)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "error"
WARNING = "warning"


@dataclass(frozen=True)
class CatalogIssue:
    """`forsa.yml, ligne 12 : age_min doit être un nombre (reçu « dix-huit »)`.

    `message` already names the field; `field` (dotted path) is kept for dashboards.
    """

    file: str
    line: int | None
    message: str
    field: str | None = None
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"{self.file}, ligne {self.line}" if self.line else self.file
        return f"{where} : {self.message}"

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def as_dict(self) -> dict:
        return {**asdict(self), "text": str(self)}
