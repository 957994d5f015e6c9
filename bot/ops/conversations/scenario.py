"""Scenarios as data: one YAML file per group of personas (tests/conversations/scenarios/).

```yaml
scenarios:
  - id: sewing-cooperative-arabic           # unique; also the pytest id
    persona: {name: Fatima Zahra, age: 29, sex: f, commune: ain-harrouda,
              schooling: bac, situation: NEET, goal: sewing cooperative,
              script: ary, channel: rest,   # channel: rest | whatsapp | telegram
              answers: {profile_consent: "إيه", age: "29", education: "الباك", ...}}
    counsellor: >                           # what a counsellor expects, and why
      ...
    issue_items: [1, 4, 7]                  # the items of issue 16 it encodes
    skip_checks: [gender]                   # generic checks this scenario opts out of
    turns:
      - user: "السلام عليكم"
        expect: [utter_greet]
      - user: "شنو الوراق؟"
        mentions: [awrach]
        says_gender: true                   # from here on the person's gender is known
```

A turn is `user: text`, or `tap: N` / `tap: "title"` (a button of the last message that
had some: the payload over REST, a callback_query on Telegram), or `counsellor: claim`,
`counsellor: {reply: text}`, `counsellor: hand_back` (through the dashboard's API), or
`fill_form: true`: the persona answers (`persona.answers`) each profile question the bot
asks, whatever their order, until it asks none; that step's checkpoints apply to the
last reply (usually the suggestions), its answers are reported as "4.age", "4.commune".
Per-turn checkpoints are listed in TURN_CHECKS; generic checks (GENERIC_CHECKS) apply to
every bot turn unless `skip_checks` (scenario or turn) names them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.ops.conversations.checks import LANGUAGES

CHANNELS = ("rest", "whatsapp", "telegram")
GENERIC_CHECKS = (
    "misunderstood",  # no "didn't understand" reply
    "numbering",  # WhatsApp: at most one numbered list per turn
    "language",  # replies in the person's script and language
    "budget",  # characters per turn, programmes per suggestion turn
    "restart",  # no profile question asked again once answered
    "skipped",  # no profile question left behind silently
    "gender",  # no gendered form before the person's words say it, the right one after
)
TURN_CHECKS = {
    "expect": "responses that must appear in this turn",
    "forbid": "responses that must not appear",
    "mentions": "programme ids (or plain words) the replies must name",
    "not_mentions": "programme ids (or plain words) the replies must not name",
    "first": "programme id named first among the programmes of this turn",
    "not_first": "programme id that must not be named first",
    "in_first": "programme ids that must be among the first three named",
    "in_first_any": "at least one of these programme ids among the first three named",
    "first_confirmed": "true: the first programme named is confirmed (status active)",
    "max_chars": "characters of this turn (text and button titles)",
    "max_programs": "programmes named in this turn",
    "script": "language of this turn's replies (fr, ary, ary_latn or any)",
    "asks": "the profile question this turn asks (null: none; same: the one pending before)",
    "no_reply": "true: the bot stays silent",
    "reply": "true: the bot answers something",
    "handoff_open": "true/false: the person has an open (or claimed) counsellor request",
    "refers_to_item": "N: the reply is about the programme of item N of the last list",
    "numbered_lists": "at most this many numbered lists in the turn (WhatsApp)",
    "db": "profile_empty: true | profile: {field: value}",
}
TURN_FLAGS = {"says_gender", "language", "skip_checks", "note"}
ACTIONS = {"user", "tap", "counsellor", "fill_form"}


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message names the file and the place."""


@dataclass
class Turn:
    index: int  # 1-based, as reported
    action: str  # user | tap | counsellor
    value: Any
    checks: dict[str, Any] = field(default_factory=dict)
    says_gender: bool = False
    language: str | None = None  # the person writes this language from this turn on
    skip_checks: tuple[str, ...] = ()
    note: str | None = None

    @property
    def label(self) -> str:
        if self.action == "user":
            return str(self.value)
        if self.action == "tap":
            return f"[tap {self.value}]"
        if self.action == "fill_form":
            return "[answers to the questions]"
        return f"[counsellor: {self.value}]"


@dataclass
class Scenario:
    id: str
    persona: dict[str, Any]
    counsellor: str
    turns: list[Turn]
    issue_items: tuple[int, ...] = ()
    skip_checks: tuple[str, ...] = ()
    source: str = ""
    kind: str = "persona"  # persona | story (tests/stories replayed)
    actions: list[tuple[str, str | None]] | None = None  # story: expected steps

    @property
    def channel(self) -> str:
        return self.persona.get("channel", "rest")

    @property
    def language(self) -> str:
        return self.persona["script"]

    @property
    def sex(self) -> str | None:
        return self.persona.get("sex")


def _fail(source: str, where: str, message: str) -> ScenarioError:
    return ScenarioError(f"{source}: {where}: {message}")


def _turn(source: str, scenario_id: str, index: int, raw: Any) -> Turn:
    where = f"{scenario_id} turn {index}"
    if not isinstance(raw, dict):
        raise _fail(source, where, "a turn is a mapping (user: ..., checkpoints)")
    actions = ACTIONS & raw.keys()
    if len(actions) != 1:
        raise _fail(source, where, "one of user, tap, counsellor or fill_form")
    action = actions.pop()
    unknown = raw.keys() - ACTIONS - TURN_CHECKS.keys() - TURN_FLAGS
    if unknown:
        raise _fail(source, where, f"unknown keys {sorted(unknown)} (see TURN_CHECKS)")
    if action == "user" and not isinstance(raw["user"], str):
        raise _fail(source, where, 'user: a text (quote numbers: "2")')
    language = raw.get("language")
    if language is not None and language not in LANGUAGES:
        raise _fail(source, where, f"language: one of {LANGUAGES}")
    script = raw.get("script")
    if script is not None and script not in (*LANGUAGES, "any"):
        raise _fail(source, where, f"script: one of {LANGUAGES} or any")
    skips = tuple(raw.get("skip_checks") or ())
    if set(skips) - set(GENERIC_CHECKS):
        raise _fail(source, where, f"skip_checks: among {GENERIC_CHECKS}")
    for key in ("expect", "forbid", "mentions", "not_mentions", "in_first", "in_first_any"):
        if key in raw and not isinstance(raw[key], list):
            raise _fail(source, where, f"{key}: a list")
    return Turn(
        index=index,
        action=action,
        value=raw[action],
        checks={k: v for k, v in raw.items() if k in TURN_CHECKS},
        says_gender=bool(raw.get("says_gender")),
        language=language,
        skip_checks=skips,
        note=raw.get("note"),
    )


PERSONA_FIELDS = ("name", "age", "sex", "commune", "schooling", "situation", "goal", "script",
                  "channel")  # fmt: skip


def load_file(path: Path) -> list[Scenario]:
    source = path.name
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        raise ScenarioError(f"{source}: not valid YAML: {error}") from None
    scenarios = []
    for raw in data.get("scenarios") or []:
        scenario_id = raw.get("id") or "?"
        persona = raw.get("persona") or {}
        missing = [f for f in PERSONA_FIELDS if f not in persona]
        if missing:
            raise _fail(source, scenario_id, f"persona without {missing}")
        if persona["script"] not in LANGUAGES:
            raise _fail(source, scenario_id, f"persona script: one of {LANGUAGES}")
        if persona["channel"] not in CHANNELS:
            raise _fail(source, scenario_id, f"persona channel: one of {CHANNELS}")
        if persona["sex"] not in ("f", "m"):
            raise _fail(source, scenario_id, "persona sex: f or m")
        if not (raw.get("counsellor") or "").strip():
            raise _fail(source, scenario_id, "say what a counsellor expects (counsellor: ...)")
        skips = tuple(raw.get("skip_checks") or ())
        if set(skips) - set(GENERIC_CHECKS):
            raise _fail(source, scenario_id, f"skip_checks: among {GENERIC_CHECKS}")
        turns = [_turn(source, scenario_id, i, t) for i, t in enumerate(raw.get("turns") or [], 1)]
        if not turns:
            raise _fail(source, scenario_id, "no turns")
        scenarios.append(
            Scenario(
                id=scenario_id,
                persona=persona,
                counsellor=" ".join(raw["counsellor"].split()),
                turns=turns,
                issue_items=tuple(raw.get("issue_items") or ()),
                skip_checks=skips,
                source=source,
            )
        )
    return scenarios


def load_scenarios(directory: Path) -> list[Scenario]:
    """Every scenario of the directory's YAML files; ids must be unique."""
    scenarios: list[Scenario] = []
    for path in sorted(Path(directory).glob("*.yml")):
        scenarios += load_file(path)
    seen: dict[str, str] = {}
    for scenario in scenarios:
        if scenario.id in seen:
            raise ScenarioError(f"{scenario.source}: {scenario.id}: id already used in "
                                f"{seen[scenario.id]}")  # fmt: skip
        seen[scenario.id] = scenario.source
    return scenarios
