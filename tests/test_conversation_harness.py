"""The conversation harness itself (bot/ops/conversations/), without the stack: a checkpoint
that cannot fail is worthless, so each check is shown failing on a bad reply and passing
on a good one, and the scenario files are checked for names that do not exist."""

from __future__ import annotations

import re

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.ops.conversations import runner as runner_module
from bot.ops.conversations.channels import BotMessage, Button, Conversation, split_choices
from bot.ops.conversations.checks import (
    ProgramNames,
    gender_problem,
    gendered_forms,
    language_problem,
    latin_language,
    script_of,
)
from bot.ops.conversations.responses import VARIABLE, ResponseIndex
from bot.ops.conversations.runner import Harness, compare_with_known, load_known_failures
from bot.ops.conversations.scenario import TURN_CHECKS, ScenarioError, load_file, load_scenarios
from bot.ops.conversations.stories import first_difference, load_stories

DOMAIN = yaml.safe_load((PROJECT_ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def index() -> ResponseIndex:
    return ResponseIndex(DOMAIN)


@pytest.fixture(scope="module")
def programs() -> ProgramNames:
    return ProgramNames.from_catalog(PROJECT_ROOT / "orientation_catalog")


def variants():
    for name, items in DOMAIN["responses"].items():
        for item in items:
            language = item["condition"][0]["value"]
            yield name, language, item["text"], [b["title"] for b in item.get("buttons") or []]


# ---------------------------------------------------------------- naming responses


def test_the_reverse_index_names_a_plain_response_and_its_language(index):
    found = index.identify("Salam 👋 Ana Bousla, lbousla dyal chabab f 3in 7rouda.")
    assert (found.response, found.languages) == ("utter_greet", frozenset({"ary_latn"}))
    assert index.identify("Bonjour, je suis un message inventé.") is None


def test_catalogue_texts_are_wildcards_and_the_most_specific_template_wins(index):
    text = "📌 Programme Forsa\n✓ il finance jusqu'à 100 000 DH\n⚠️ appel à confirmer"
    found = index.identify(text, ["ℹ️ Plus d'infos", "📝 Comment postuler", "🗣️ Un conseiller"])
    # utter_program_offer ("📌 {program_name}\n✓ {why}") matches too, with less literal text.
    assert found.response == "utter_program_offer_to_check"
    assert found.variables["program_name"] == "Programme Forsa"
    # The three variants share the template: the buttons tell the language.
    assert found.languages == frozenset({"fr"})


@pytest.mark.parametrize(("name", "language", "text", "titles"), list(variants()))
def test_every_variant_of_domain_yml_is_named_back(index, name, language, text, titles):
    filled = VARIABLE.sub("Xyz", text)
    found = index.identify(filled, titles)
    assert found is not None, name
    same_text = {n for n, _, t, _ in variants() if VARIABLE.sub("Xyz", t) == filled}
    assert found.response == name or found.response in same_text


def test_misunderstandings_by_name_and_by_wording(index):
    for name in ("utter_default", "utter_ask_rephrase", "utter_ask_age_again",
                 "utter_did_you_mean_seek_job", "utter_fallback_handoff"):  # fmt: skip
        assert index.is_misunderstanding(name), name
    assert not index.is_misunderstanding("utter_greet")
    assert not index.is_misunderstanding("utter_out_of_scope")
    assert index.is_misunderstanding(None, "Sme7 lia, ma fhmtch had chi")
    assert index.is_misunderstanding(None, "ما فهمتش شنو بغيتي")
    assert not index.is_misunderstanding(None, "Merci, j'ai bien compris ta question")


def test_profile_questions_are_named_by_their_slot(index):
    assert index.form_slots[:3] == ["profile_consent", "age", "education"]
    assert index.question_of("utter_ask_age") == "age"
    assert index.question_of("utter_ask_commune_again") == "commune"
    assert index.question_of("utter_ask_delete_my_data") is None
    assert index.question_of(None) is None


# ---------------------------------------------------------------- script and language


def test_the_script_checker_flags_arabic_in_a_french_reply_and_latin_in_an_arabic_one():
    assert language_problem("واخا، غادي نسولك شي أسئلة", "fr") is not None
    assert language_problem("واخا، غادي نسولك شي أسئلة", "ary") is None
    assert language_problem("D'accord, je te pose quelques questions.", "ary") is not None
    assert language_problem("👍", "ary") is None  # nothing to tell
    assert script_of("OFPPT: forsa.ma, 100 000 DH") is None  # names and addresses only


def test_french_and_arabizi_are_told_apart_by_their_words():
    assert latin_language("D'accord, je vais te poser quelques questions pour t'aider.") == "fr"
    assert latin_language("Wakha, ghadi nsowlek chi as2ila bach n3awnek.") == "ary_latn"
    assert latin_language("OK 👍") is None
    assert language_problem("Avec plaisir 🙂 Autre chose ?", "ary_latn") is None  # too short
    assert "reads as fr" in language_problem(
        "Je ne sais pas faire ça, désolé pour toi.", "ary_latn"
    )
    assert "reads as ary_latn" in language_problem("Chno bghiti daba? Kteb lia hna.", "fr")


@pytest.mark.parametrize(("name", "language", "text", "titles"), list(variants()))
def test_every_variant_passes_the_language_check_of_its_own_language(name, language, text, titles):
    shown = "\n".join([VARIABLE.sub("", text), *titles])
    assert language_problem(shown, language) is None, name


# ---------------------------------------------------------------- gender


def test_gendered_forms_before_and_after_the_person_says_it():
    assert (
        gender_problem("F ina jama3a saken?", None) == "saken before the person said their gender"
    )
    assert gender_problem("ف أنهي جماعة ساكن؟", None) is not None
    assert gender_problem("ف أنهي جماعة ساكن؟", "m") is None
    assert gender_problem("ف أنهي جماعة ساكنة؟", "m") is not None
    assert gender_problem("Nti mohima 3ndna, wach nti khddama?", "f") is None
    assert gender_problem("Nta mohim 3ndna", "f") == "nta for a woman"
    assert gender_problem("Jusqu'où es-tu allé(e) à l'école ?", None) is None
    assert gender_problem("Tu es allée à l'école ?", None) is not None
    assert gender_problem("Tu n'es pas seul·e", None) is None
    assert gender_problem("Wach nta/nti mzyan?", None) is None


def test_words_about_a_project_or_a_programme_are_not_about_the_person():
    assert gendered_forms("🏪 Khddam mn 9bel") == ([], [])  # the project already runs
    assert gendered_forms("khass nt2akdo wach mazal khddam") == ([], [])  # the programme
    assert gendered_forms("Prêt d'honneur Moubadara") == ([], [])


# ---------------------------------------------------------------- programmes


def test_programmes_are_found_by_their_names_and_longer_names_win(programs):
    assert programs.program_ids("📌 Barnamaj Forsa\n📌 Intela9a") == ["forsa", "intelaka"]
    assert programs.program_ids("Madrasat forsa tanya") == ["ecole-deuxieme-chance"]
    assert programs.program_ids("برنامج أوراش ولا انطلاقة") == ["awrach", "intelaka"]
    assert programs.program_ids("Créer une coopérative (ODCO)") == ["odco-cooperative"]
    assert programs.program_ids("ANAPEC") == []  # shared by three programmes
    # Catalogue facts of December 2026 (issue 18): Intelaka to confirm, Forsa paused.
    assert (
        programs.status["anapec-idmaj"] == "active" and programs.status["intelaka"] == "to_confirm"
    )
    assert programs.status["forsa"] == "paused"


# ---------------------------------------------------------------- channels


def test_whatsapp_numbered_choices_are_read_back_as_buttons():
    assert split_choices("Tu veux ?\n\n1. Oui\n2. Non") == ("Tu veux ?", ["Oui", "Non"])
    assert split_choices("1. Oui\n2. Non") == ("", ["Oui", "Non"])
    assert split_choices("Étapes :\n1. Va\n3. Viens") == ("Étapes :\n1. Va\n3. Viens", [])
    assert split_choices("Salut") == ("Salut", [])


# ---------------------------------------------------------------- the checks, played


class FakeStack:
    """Stands for ConversationStack: a tracker whose slots and events the test sets."""

    def __init__(self) -> None:
        self.events: list[dict] = []
        self.slots: dict = {}
        self.active_loop: dict = {"name": "profile_form"}

    def tracker(self, sender: str, events: bool = False) -> dict:
        return {"slots": self.slots, "events": self.events, "active_loop": self.active_loop}


class ScriptedConversation(Conversation):
    channel = "rest"

    def __init__(self, stack, replies: dict[str, list[BotMessage]], on_send=None) -> None:
        super().__init__(stack, "scripted")
        self.replies = replies
        self.on_send = on_send

    def send(self, text: str) -> list[BotMessage]:
        if self.on_send:
            self.on_send(text)
        messages = [BotMessage(m.text, list(m.buttons)) for m in self.replies[text]]
        self.history += messages
        return messages


def play(monkeypatch, scenario_yaml: str, replies, on_send=None, tmp_path=None):
    path = tmp_path / "s.yml"
    path.write_text(scenario_yaml, encoding="utf-8")
    scenario = load_file(path)[0]
    stack = FakeStack()
    conversation = ScriptedConversation(stack, replies, on_send and (lambda t: on_send(stack, t)))
    monkeypatch.setattr(runner_module, "open_conversation", lambda *_: conversation)
    return Harness(stack).run(scenario)


PERSONA = """
scenarios:
  - id: self-test
    persona: {name: T, age: 20, sex: f, commune: x, schooling: x, situation: x, goal: x,
              script: ary_latn, channel: rest}
    counsellor: what a counsellor expects
    turns:
"""


def texts(domain_name: str, language: str = "ary_latn") -> BotMessage:
    item = next(
        i for i in DOMAIN["responses"][domain_name] if i["condition"][0]["value"] == language
    )
    return BotMessage(item["text"], [Button(b["title"]) for b in item.get("buttons") or []])


def test_a_misunderstanding_after_ok_fails_and_a_short_answer_passes(monkeypatch, tmp_path):
    scenario = PERSONA + '      - user: "salam"\n      - user: "ok"\n'
    bad = play(monkeypatch, scenario, {"salam": [texts("utter_greet")],
                                       "ok": [texts("utter_default")]},
               tmp_path=tmp_path)  # fmt: skip
    assert "turn 2: misunderstood" in bad.failure_keys
    good = play(monkeypatch, scenario, {"salam": [texts("utter_greet")],
                                        "ok": [texts("utter_you_are_welcome")]},
                tmp_path=tmp_path)  # fmt: skip
    assert good.failure_keys == []


def test_budgets_language_and_gender_on_every_turn(monkeypatch, tmp_path):
    scenario = PERSONA + '      - user: "salam"\n      - user: "chno kayn"\n'
    long_opening = BotMessage("Salam, ana Bousla. " + "Kan3awn chabab f 3in 7rouda. " * 20)
    replies = {
        "salam": [long_opening],
        # the masculine question (domain.yml's variant for gender m) to a person not yet known
        "chno kayn": [BotMessage("F ina jama3a saken?"), texts("utter_greet", "fr")],
    }
    result = play(monkeypatch, scenario, replies, tmp_path=tmp_path)
    assert "turn 1: budget" in result.failure_keys
    assert "turn 2: gender" in result.failure_keys  # "saken" to a person not yet known
    assert "turn 2: language" in result.failure_keys  # a French greeting to an Arabizi writer


def test_a_question_asked_again_once_answered_is_a_restart(monkeypatch, tmp_path):
    scenario = (
        PERSONA + '      - user: "bghit khdma"\n      - user: "22"\n      - user: "w forsa?"\n'
    )
    replies = {
        "bghit khdma": [texts("utter_ask_age")],
        "22": [texts("utter_ask_education")],
        "w forsa?": [texts("utter_ask_age")],
    }

    def tracker_reads(stack, text):
        if text == "22":  # the form takes the answer
            stack.events += [{"event": "action", "name": "profile_form"},
                             {"event": "slot", "name": "age", "value": 22}]  # fmt: skip

    result = play(monkeypatch, scenario, replies, tracker_reads, tmp_path=tmp_path)
    # Age again (restart), and education, which was waiting, left behind (skipped).
    assert result.failure_keys == ["turn 3: restart", "turn 3: skipped"]


def test_a_pending_question_left_for_another_is_skipped(monkeypatch, tmp_path):
    scenario = PERSONA + '      - user: "bghit khdma"\n      - user: "ch7al l7a9?"\n'
    replies = {
        "bghit khdma": [texts("utter_ask_age")],
        "ch7al l7a9?": [texts("utter_ask_education")],
    }
    result = play(monkeypatch, scenario, replies, tmp_path=tmp_path)
    assert result.failure_keys == ["turn 2: skipped"]


def test_turn_checkpoints_fail_when_the_reply_misses_them(monkeypatch, tmp_path):
    scenario = PERSONA + (
        '      - user: "w forsa?"\n'
        "        mentions: [forsa]\n        expect: [utter_program_details]\n"
        "        forbid: [utter_out_of_scope]\n        max_chars: 50\n        asks: null\n"
    )
    result = play(monkeypatch, scenario, {"w forsa?": [texts("utter_out_of_scope")]},
                  tmp_path=tmp_path)  # fmt: skip
    assert set(result.failure_keys) == {
        "turn 1: mentions forsa", "turn 1: expect utter_program_details",
        "turn 1: forbid utter_out_of_scope", "turn 1: max_chars 50",
    }  # fmt: skip


def test_known_failures_are_compared_checkpoint_by_checkpoint():
    class Result:
        failure_keys = ["turn 2: misunderstood", "turn 3: budget"]

    unexpected, fixed = compare_with_known(
        Result(), {"fails": ["turn 2: misunderstood", "turn 5: gender"]}
    )
    assert (unexpected, fixed) == (["turn 3: budget"], ["turn 5: gender"])


# ---------------------------------------------------------------- the scenario files


def test_a_bad_scenario_file_is_named_with_the_place(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text(PERSONA.replace("counsellor: what a counsellor expects", "") +
                    '      - user: "salam"\n', encoding="utf-8")  # fmt: skip
    with pytest.raises(ScenarioError, match="bad.yml: self-test: say what a counsellor"):
        load_file(path)
    path.write_text(PERSONA + '      - user: "salam"\n        mention: [forsa]\n', encoding="utf-8")
    with pytest.raises(ScenarioError, match=r"turn 1: unknown keys \['mention'\]"):
        load_file(path)


SCENARIOS = load_scenarios(runner_module.SCENARIOS_DIR)


def test_there_are_at_least_thirty_personas_with_what_a_counsellor_expects():
    assert len(SCENARIOS) >= 30
    assert all(len(s.counsellor) > 80 for s in SCENARIOS)
    assert {s.channel for s in SCENARIOS} == {"rest", "whatsapp", "telegram"}
    assert {s.language for s in SCENARIOS} == {"fr", "ary", "ary_latn"}
    assert {16, 17} <= {s.persona["age"] for s in SCENARIOS}


def test_the_scenarios_name_only_responses_and_programmes_that_exist(programs):
    unknown = []
    for scenario in SCENARIOS:
        for turn in scenario.turns:
            checks = turn.checks
            for name in (checks.get("expect") or []) + (checks.get("forbid") or []):
                if name not in DOMAIN["responses"]:
                    unknown.append(f"{scenario.id} turn {turn.index}: response {name}")
            ids = [checks.get("first"), checks.get("not_first"), *(checks.get("in_first") or []),
                   *(checks.get("in_first_any") or [])]  # fmt: skip
            ids += [m for m in (checks.get("mentions") or []) + (checks.get("not_mentions") or [])
                    if re.fullmatch(r"[a-z][a-z0-9]*(-[a-z0-9]+)+", str(m))]  # fmt: skip
            unknown += [f"{scenario.id} turn {turn.index}: programme {i}" for i in ids
                        if i and i not in programs.names]  # fmt: skip
    assert unknown == []


def test_known_failures_name_existing_scenarios_and_checkpoints():
    ids = {s.id for s in SCENARIOS} | {s.scenario.id for s in load_stories()}
    known = load_known_failures()
    assert set(known) <= ids, set(known) - ids
    for scenario_id, entry in known.items():
        assert entry.get("reason") and entry.get("fails"), scenario_id
        for key in entry["fails"]:
            assert re.fullmatch(r"(turn \d+(\.\w+)?|scenario): \S.*", key), (scenario_id, key)
            check = key.split(": ", 1)[1].split()[0]
            assert check in TURN_CHECKS or check in (
                "misunderstood", "language", "budget", "numbering", "restart", "skipped",
                "gender", "fill_form", "steps", "error", "in_first_any", "first_confirmed",
            ), key  # fmt: skip


def test_the_stories_are_read_with_their_steps():
    stories = load_stories()
    assert len(stories) >= 25
    assert all(s.steps and s.scenario.turns for s in stories)
    steps = [("intent", "greet"), ("action", "utter_greet"), ("active_loop", None)]
    assert first_difference(steps, [("intent", "greet"), ("action", "utter_greet")]) is None
    assert "expected action: utter_greet, got action: utter_default" in first_difference(
        steps, [("intent", "greet"), ("action", "utter_default")]
    )
