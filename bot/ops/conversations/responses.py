"""Which domain response a bot message is: a reverse index of domain.yml's variants.

Every fixed wording lives in domain.yml (three variants per response, by the slot
`language`); actions fill `{variables}` with catalogue texts. A message is matched
against every variant, its variables turned into wildcards; when several match (a
template that is a prefix of another, identical templates in two languages), the one
with the most literal text wins, then the one whose button titles are the message's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml

VARIABLE = re.compile(r"\{(\w+)\}")

# Responses that say the bot did not understand, whatever their wording.
MISUNDERSTOOD_NAMES = ("utter_default", "utter_ask_rephrase", "utter_fallback_handoff")
MISUNDERSTOOD_PREFIXES = ("utter_did_you_mean_",)
# ... and wordings that say so ("je n'ai pas compris", "ma fhmtch", "ما فهمتش").
MISUNDERSTOOD_TEXT = re.compile(
    r"pas (bien )?compris|ne (te )?comprends|n'arrive pas à comprendre"
    r"|\bma fh[e]?mt|\bfhmtek|\bfhmtch|ma 9dertch nfhem"
    r"|ما فهمت|ما قدرتش نفهم",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Variant:
    response: str
    language: str | None  # the slot value of the variant's condition (None: no condition)
    text: str
    button_titles: tuple[str, ...]

    @cached_property
    def pattern(self) -> re.Pattern:
        parts = VARIABLE.split(self.text)
        regex, seen = [], set()
        for index, part in enumerate(parts):
            if index % 2 == 0:
                regex.append(re.escape(part))
            elif part in seen:
                regex.append(f"(?P={part})")
            else:
                seen.add(part)
                regex.append(f"(?P<{part}>.*?)")
        return re.compile("".join(regex), re.DOTALL)

    @cached_property
    def literal_length(self) -> int:
        return len(VARIABLE.sub("", self.text))


@dataclass(frozen=True)
class Identified:
    """What a message is: its response name, the languages of the variants that match
    equally well, and the variables' values."""

    response: str
    languages: frozenset[str]
    variables: dict[str, str] = field(default_factory=dict, compare=False)


def _normalised(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines())


class ResponseIndex:
    def __init__(self, domain: dict) -> None:
        self.domain = domain
        self.variants: list[Variant] = []
        for name, variants in (domain.get("responses") or {}).items():
            for variant in variants or []:
                text = variant.get("text")
                if not text:
                    continue
                language = None
                for condition in variant.get("condition") or []:
                    if condition.get("name") == "language":
                        language = condition.get("value")
                titles = tuple(str(b.get("title", "")) for b in variant.get("buttons") or [])
                self.variants.append(Variant(name, language, _normalised(text), titles))
        self.names = {v.response for v in self.variants}

    @classmethod
    def from_file(cls, path: Path) -> ResponseIndex:
        return cls(yaml.safe_load(path.read_text(encoding="utf-8")))

    def identify(
        self, text: str | None, button_titles: list[str] | None = None
    ) -> Identified | None:
        """The response this message is, or None when no variant matches."""
        if not text:
            return None
        text = _normalised(text)
        titles = tuple(button_titles or ())
        best: list[tuple[tuple[int, int], Variant, dict]] = []
        for variant in self.variants:
            found = variant.pattern.fullmatch(text)
            if found is None:
                continue
            score = (variant.literal_length, int(bool(titles) and variant.button_titles == titles))
            best.append((score, variant, found.groupdict()))
        if not best:
            return None
        top = max(score for score, _, _ in best)
        winners = [(v, values) for score, v, values in best if score == top]
        names = {v.response for v, _ in winners}
        name = sorted(names)[0]
        languages = frozenset(v.language for v, _ in winners if v.response == name and v.language)
        return Identified(name, languages, winners[0][1])

    def texts(self, response: str) -> list[str]:
        return [v.text for v in self.variants if v.response == response]

    # ------------------------------------------------------------ response families

    def is_misunderstanding(self, response: str | None, text: str | None = None) -> bool:
        if response and (
            response in MISUNDERSTOOD_NAMES or response.startswith(MISUNDERSTOOD_PREFIXES)
        ):
            return True
        if response and any(MISUNDERSTOOD_TEXT.search(t) for t in self.texts(response)):
            return True
        return bool(text and MISUNDERSTOOD_TEXT.search(text))

    @cached_property
    def form_slots(self) -> list[str]:
        """The questions of every form, in order (profile_consent, age, education...)."""
        slots: list[str] = []
        for form in (self.domain.get("forms") or {}).values():
            for slot in (form or {}).get("required_slots") or []:
                if slot not in slots:
                    slots.append(slot)
        return slots

    def question_of(self, response: str | None) -> str | None:
        """The form question a response asks (`utter_ask_age`, `utter_ask_age_again`: age)."""
        if not response or not response.startswith("utter_ask_"):
            return None
        slot = response.removeprefix("utter_ask_").removesuffix("_again")
        return slot if slot in self.form_slots else None
