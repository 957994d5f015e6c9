"""The distress lexicon, its NLU component and the interruption policy (no model needed)."""

from __future__ import annotations

import csv
import re

import pytest
import yaml

from bot import PROJECT_ROOT
from bot.safety import find_distress, load_lexicon

ENTITY_MARKUP = re.compile(r"\[([^\]]*)\](?:\([^)]*\)|\{[^}]*\})")


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("je veux me suicider", "suicide"),
        ("Je vais me TUER ce soir", "suicide"),
        ("j'ai envie de mouriiiir", "suicide"),
        ("J'ai pensé au suicide hier", "suicide"),
        ("je me scarifie depuis un mois", "self_harm"),
        ("mon beau-frère me frappe", "violence_home"),
        ("bghit n9tel rassi", "suicide"),
        ("ana bghit nqatel rasi", "suicide"),
        ("kan9tel rassi", "suicide"),
        ("ghadi nenta7r", "suicide"),
        ("baba kayderbni kol nhar", "violence_home"),
        ("بغيت نقتل راسي", "suicide"),
        ("كنقتل راسي", "suicide"),
        ("بغييييت نموت", "suicide"),
        ("راجلي كيضربني", "violence_home"),
        ("salam, bghit nmout, ma b9a walo", "suicide"),
        ("wesh... je veux mourir sérieux", "suicide"),
        ("je veux en finir", "suicide"),
    ],
)
def test_distress_is_found_in_every_script_and_spelling(text, category):
    match = find_distress(text)
    assert match is not None, text
    assert match.category == category


@pytest.mark.parametrize(
    "text",
    [
        "je veux me jeter à l'eau et lancer mon projet",
        "ça me tue de rire",
        "drbni lbrd, ma9dertch nji",
        "bghit nsali lkhdma dyali 9bel l3id",
        "je veux plus vivre chez mes parents, je cherche un logement",
        "je cherche un stage de 3 mois",
        "/distress",
        "",
        "👍",
    ],
)
def test_ordinary_messages_do_not_trigger_the_lexicon(text):
    assert find_distress(text) is None


def training_examples() -> list[tuple[str, str]]:
    examples = []
    for path in sorted((PROJECT_ROOT / "bot" / "data" / "nlu").glob("*/*.yml")):
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=yaml.CSafeLoader) or {}
        for block in data.get("nlu", []):
            if "intent" not in block:
                continue
            for line in block["examples"].splitlines():
                text = ENTITY_MARKUP.sub(r"\1", line.strip().removeprefix("- ").strip())
                if text:
                    examples.append((block["intent"], text))
    return examples


def test_no_ordinary_training_example_triggers_the_lexicon_and_most_distress_ones_do():
    examples = training_examples()
    assert len(examples) > 1000
    false_alarms = [
        (intent, text) for intent, text in examples if intent != "distress" and find_distress(text)
    ]
    assert false_alarms == []
    distress = [text for intent, text in examples if intent == "distress"]
    caught = sum(1 for text in distress if find_distress(text))
    # DIET learns the rest; the lexicon is the floor that no retraining can lower.
    assert caught / len(distress) >= 0.8, f"{caught}/{len(distress)}"


def test_no_false_alarm_on_the_held_out_evaluation_set():
    """Measured once, blind (the lexicon was not tuned on this file): no false alarm."""
    path = PROJECT_ROOT / "tests" / "data" / "nlu_test.tsv"
    rows = list(csv.DictReader(path.open(encoding="utf-8"), delimiter="\t"))
    false_alarms = [
        r["text"] for r in rows if r["intent"] != "distress" and find_distress(r["text"])
    ]
    assert false_alarms == []


def test_lexicon_rejects_an_unknown_script(tmp_path):
    broken = tmp_path / "lexicon.yml"
    broken.write_text("suicide:\n  en: [kill myself]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="unknown script"):
        load_lexicon(broken)


# ---------------------------------------------------------------- the Rasa components


def parsed(text: str, intent: str, confidence: float = 0.9):
    from rasa.shared.nlu.training_data.message import Message

    message = Message(data={"text": text})
    message.set("intent", {"name": intent, "confidence": confidence}, add_to_output=True)
    message.set("intent_ranking", [{"name": intent, "confidence": confidence}], add_to_output=True)
    return message


@pytest.mark.parametrize(
    ("text", "predicted", "expected"),
    [
        ("bghit n9tel rassi", "nlu_fallback", "distress"),
        ("je vais me tuer", "goodbye", "distress"),
        ("بغيت نموت", "need_listening", "distress"),
        ("je cherche un travail", "seek_job", "seek_job"),
    ],
)
def test_distress_detector_sets_the_intent(text, predicted, expected):
    from bot.nlu.distress import DistressDetector

    [message] = DistressDetector({}).process([parsed(text, predicted)])
    assert message.get("intent")["name"] == expected
    if expected == "distress":
        assert message.get("intent")["confidence"] == 1.0
        assert message.get("intent_ranking")[0]["name"] == "distress"
        assert message.get("safety")["source"] == "lexicon"
        assert "safety" in message.output_properties
        # the lexicon entry, never the person's own words
        assert message.get("safety")["phrase"] in {phrase.text for phrase in load_lexicon()}


def tracker_with(intent: str, *, active_loop: str | None = None, after_action: str | None = None):
    from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    events = [ActionExecuted("action_listen")]
    if active_loop:
        events += [
            ActionExecuted(active_loop),
            ActiveLoop(active_loop),
            ActionExecuted("action_listen"),
        ]
    events.append(UserUttered("...", intent={"name": intent, "confidence": 1.0}))
    if after_action:
        events.append(ActionExecuted(after_action))
    return DialogueStateTracker.from_events("p", events)


@pytest.mark.parametrize(
    ("intent", "active_loop", "after_action", "expected"),
    [
        # danger: the contacts first, as a plain response Rasa renders itself, then the action
        ("distress", "profile_form", None, "utter_distress_contacts"),
        ("ask_human", "profile_form", None, "action_request_human"),
        ("distress", None, None, "utter_distress_contacts"),
        ("distress", None, "utter_distress_contacts", "action_distress"),
        ("seek_job", "profile_form", None, None),
        ("distress", None, "action_distress", None),  # only right after the person wrote
    ],
)
def test_interruption_policy_wins_over_any_form(
    intent, active_loop, after_action, expected, tmp_path
):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.domain import Domain

    from bot.nlu.interruptions import InterruptionPolicy

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    policy = InterruptionPolicy.create(
        InterruptionPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("interruptions"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    tracker = tracker_with(intent, active_loop=active_loop, after_action=after_action)
    prediction = policy.predict_action_probabilities(tracker, domain)
    if expected is None:
        assert max(prediction.probabilities) == 0.0
        return
    assert domain.action_names_or_texts[prediction.max_confidence_index] == expected
    assert prediction.max_confidence == 1.0
    # the standing of a form's happy path, with a higher priority than the RulePolicy (6)
    assert prediction.is_no_user_prediction and prediction.policy_priority == 7


# ---------------------------------------------------------------- categories, idioms, tiers


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("je me coupe les bras avec un cutter", "self_harm"),
        ("kanjre7 yddi b chefra mli kankoun bo7di", "self_harm"),
        ("كنحرق يدي بالبريكة", "self_harm"),
        ("mon oncle me touche quand on est seuls", "sexual_abuse"),
        ("khali kaytharrech 3liya", "sexual_abuse"),  # issue 15: "th" for ح, by a relative
        ("wld 3ammi kayt7arach biya", "sexual_abuse"),
        ("ولد عمي كيتحرش بيا", "sexual_abuse"),
        ("mon patron me harcèle", "sexual_abuse"),
        ("lboulis drbouni f lcommissariat", "violence_outside"),
        ("des mecs du quartier m'ont tabassé", "violence_outside"),
        ("البوليس ضربوني فالزنقة", "violence_outside"),
        ("baba kayderbni b smta", "violence_home"),
        ("ma mère m'enferme dans ma chambre", "violence_home"),
        ("مرات بابا كتحبسني فالبيت", "violence_home"),
    ],
)
def test_each_category_is_found(text, category):
    match = find_distress(text)
    assert match is not None, text
    assert (match.category, match.tier) == (category, "danger")


@pytest.mark.parametrize(
    "text",
    [
        # idioms and hyperbole in the three scripts, alone
        "mat b d7k 😂",
        "mtt b d7k m3a s7abi",
        "ghadi nmout bl jou3",
        "bghit nmout 3la lpizza dyal mama",
        "9telni had lmatch",
        "9tlatni b d7k khti",
        "drbni lberd lyoum",
        "n9tlo lwa9t f café",
        "ghadi n9tel rassi b l9raya bach nakhod lbac",
        "متت بالضحك",
        "غادي نموت بالجوع",
        "قتلني هاد الماتش",
        "ضربتني الشمس",
        "je meurs de faim",
        "je veux tuer le temps",
        "je suis mort de rire",
        "je vais me tuer à la tâche pour ce projet",
        "je veux en finir avec ce dossier",
        # ordinary words that the old lexicon or its prefix rule took for distress
        "fo9ach kat7ello?",
        "chkoun rbe7 lmatch lbare7?",
        "بغيت نفتح محلبة فالحي ديالنا",
        "na9sani lflouss bach nbda projet",
        "7aydouni mn la liste",
        "accompagnement création d'entreprise",
        "ah tbe3an",
        "thalla f rassek",
        "je joue du violon",
        "ton message m'a touchée, merci",
        "une campagne contre le harcèlement",
        "j'écris un article sur le suicide des jeunes",
        "ghadi nchri javel l dar",
        "je me suis coupé le doigt en cuisinant",
    ],
)
def test_idioms_and_ordinary_words_never_raise_the_alarm(text):
    assert find_distress(text) is None, find_distress(text)


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("mat b d7k... walakin bse7 bghit nmout", "suicide"),
        ("9telni had lmatch, w baba kayderbni kol lila", "violence_home"),
        ("je meurs de faim et je veux mourir", "suicide"),
        ("متت بالضحك ولكن بصح كنجرح راسي", "self_harm"),
        ("je tue le temps pour oublier que mon beau-père me touche", "sexual_abuse"),
    ],
)
def test_an_idiom_never_masks_a_danger_statement_in_the_same_message(text, category):
    match = find_distress(text)
    assert match is not None, text
    assert (match.category, match.tier) == (category, "danger")


@pytest.mark.parametrize(
    "text",
    ["je me coupe, walakin ma kan9olch l7ta wa7ed", "bghit nmout, j'en peux plus"],
)
def test_mixed_scripts_are_read_word_by_word(text):
    assert find_distress(text) is not None


@pytest.mark.parametrize(
    "text",
    [
        "je sers à rien, je suis un poids pour tous",
        "ma b9itch fahem walo f had dnya",
        "كلشي ظلام",
        "kanlbes kmam twal bach ma ychoufouch",
        "ce soir je m'en vais, merci pour tout ce que tu as fait",
        "hadi akher lila, ghadi nmchi w chokran 3la kolchi",
        "الليلة غادي نمشي، شكرا ليكم على كلشي",
        "mon oncle m'a dit que c'est notre secret",
    ],
)
def test_weak_entries_ask_how_the_person_is(text):
    match = find_distress(text)
    assert match is not None and match.tier == "check_in"


@pytest.mark.parametrize(
    "text",
    [
        "merci pour tout, je m'en vais m'inscrire demain",  # no night
        "je pars ce soir",  # no thanks
        "merci pour tout, bonne nuit",  # no leaving
        "ghadi nmchi ghda l lformation, chokran 3la kolchi",
        "c'est notre secret, je prépare une surprise",  # no relative
    ],
)
def test_every_part_of_an_entry_must_be_in_the_message(text):
    assert find_distress(text) is None


def ranking(confidence: float, top: str = "distress") -> list[dict]:
    rest = round(1 - confidence, 4)
    other = "need_listening" if top == "distress" else "distress"
    return [{"name": top, "confidence": confidence}, {"name": other, "confidence": rest}]


def test_assess_decides_the_tier_in_one_place():
    from bot.safety import CHECK_IN_CONFIDENCE, DANGER_CONFIDENCE, assess

    assert 0 < CHECK_IN_CONFIDENCE < DANGER_CONFIDENCE <= 1
    lexicon = assess("bghit n9tel rassi", ranking(0.1, "greet"))
    assert (lexicon.tier, lexicon.source, lexicon.category) == ("danger", "lexicon", "suicide")
    strong = assess("ana machi mzyan bzaf", ranking(DANGER_CONFIDENCE))
    assert (strong.tier, strong.source, strong.category) == ("danger", "model", None)
    weak = assess("ana machi mzyan bzaf", ranking(CHECK_IN_CONFIDENCE))
    assert (weak.tier, weak.source) == ("check_in", "model")
    nothing = assess("ana machi mzyan bzaf", ranking(CHECK_IN_CONFIDENCE - 0.01))
    assert nothing.tier is None
    lexicon_weak = assess("je sers à rien", [])
    assert (lexicon_weak.tier, lexicon_weak.source) == ("check_in", "lexicon")
    assert assess("bonjour", None).tier is None


def test_an_idiom_alone_gets_at_most_a_check_in_from_the_model():
    from bot.safety import CHECK_IN_CONFIDENCE, DANGER_CONFIDENCE, assess

    assert assess("ghadi nmout bl jou3", ranking(DANGER_CONFIDENCE)).tier == "check_in"
    assert assess("ghadi nmout bl jou3", ranking(CHECK_IN_CONFIDENCE)).tier is None
    danger = assess("ghadi nmout bl jou3, w kayderbni baba", ranking(DANGER_CONFIDENCE))
    assert (danger.tier, danger.source) == ("danger", "lexicon")


def test_the_parse_data_never_carries_the_persons_words():
    from bot.safety import assess

    data = assess("baba kayderbni kol nhar, 3afakom", ranking(0.2, "greet")).as_parse_data()
    assert set(data) == {"tier", "category", "source", "phrase", "confidence"}
    assert data["phrase"] in {phrase.text for phrase in load_lexicon()}
    assert "3afakom" not in str(data)


@pytest.mark.parametrize(
    ("text", "top", "confidence", "intent", "tier"),
    [
        ("ana machi mzyan", "distress", 0.99, "distress", "danger"),
        ("ana machi mzyan", "distress", 0.6, "need_listening", "check_in"),
        ("ana machi mzyan", "nlu_fallback", 0.45, "nlu_fallback", None),
        ("je sers à rien", "out_of_scope", 0.9, "out_of_scope", "check_in"),
        ("fo9ach kat7ello?", "ask_center_info", 0.9, "ask_center_info", None),
    ],
)
def test_distress_detector_sets_the_intent_only_for_danger(text, top, confidence, intent, tier):
    from bot.nlu.distress import DistressDetector
    from bot.safety import CHECK_IN_CONFIDENCE, DANGER_CONFIDENCE

    if top == "distress":  # scale the scenario to the chosen thresholds
        confidence = DANGER_CONFIDENCE if confidence > 0.9 else CHECK_IN_CONFIDENCE
    message = parsed(text, top, confidence)
    if top == "nlu_fallback":  # DIET's distress, under the check-in threshold
        message.set(
            "intent_ranking",
            [
                {"name": "nlu_fallback", "confidence": 0.45},
                {"name": "distress", "confidence": CHECK_IN_CONFIDENCE - 0.05},
            ],
        )
    [message] = DistressDetector({}).process([message])
    assert message.get("intent")["name"] == intent
    safety = message.get("safety")
    assert (safety or {}).get("tier") == tier
    if tier != "danger":
        assert "distress" not in {e["name"] for e in message.get("intent_ranking")}


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("violence:\n  fr: [me frappe]\n", "unknown section"),
        ("suicide:\n  fr: ['... mourir']\n", "starting or ending"),
        ("places:\n  school:\n    fr: [lycee]\n", "unknown place"),
        ("suicide:\n  check_in:\n    en: [sad]\n", "unknown script"),
    ],
)
def test_lexicon_errors_name_the_entry(tmp_path, content, error):
    broken = tmp_path / "lexicon.yml"
    broken.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=error):
        load_lexicon(broken)


def _policy(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.core.domain import Domain

    from bot.nlu.interruptions import InterruptionPolicy

    domain = Domain.load(str(PROJECT_ROOT / "domain.yml"))
    policy = InterruptionPolicy.create(
        InterruptionPolicy.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("interruptions"),
        ExecutionContext(GraphSchema({}), "test"),
    )
    return policy, domain


def _said(intent: str, tier: str | None = None):
    from rasa.shared.core.events import UserUttered

    parse_data = {"safety": {"tier": tier, "category": None}} if tier else {}
    event = UserUttered("...", intent={"name": intent, "confidence": 1.0}, parse_data=parse_data)
    if tier:
        event.parse_data["safety"] = {"tier": tier, "category": None}
    return event


@pytest.mark.parametrize(
    ("bot_said", "intent", "tier", "expected"),
    [
        # a weak signal: the gentle check-in, then the person's answer
        (None, "need_listening", "check_in", "utter_safety_check_in"),
        (None, "seek_job", "check_in", "utter_safety_check_in"),
        ("utter_safety_check_in", "ask_human", None, "action_request_human"),
        ("utter_safety_check_in", "affirm", None, "action_request_human"),
        ("utter_safety_check_in", "need_listening", "check_in", "action_request_human"),
        ("utter_safety_check_in", "deny", None, "utter_safety_check_in_ok"),
        ("utter_safety_check_in", "distress", "danger", "utter_distress_contacts"),
        # after a hand-back, small words get a short answer, new distress the alarm
        ("utter_handed_back", "affirm", None, "utter_you_are_welcome"),
        ("utter_handed_back", "thank", None, "utter_you_are_welcome"),
        ("utter_handed_back", "distress", "danger", "utter_distress_contacts"),
        ("utter_handed_back", "seek_job", None, None),
        (None, "affirm", None, None),
    ],
)
def test_the_policy_checks_in_on_weak_signals_and_quiets_small_words_after_a_hand_back(
    bot_said, intent, tier, expected, tmp_path
):
    from rasa.shared.core.events import ActionExecuted
    from rasa.shared.core.trackers import DialogueStateTracker

    policy, domain = _policy(tmp_path)
    events = [ActionExecuted("action_listen"), _said("greet")]
    if bot_said:
        events.append(ActionExecuted(bot_said))
    events += [ActionExecuted("action_listen"), _said(intent, tier)]
    tracker = DialogueStateTracker.from_events("p", events)
    prediction = policy.predict_action_probabilities(tracker, domain)
    if expected is None:
        assert max(prediction.probabilities) == 0.0
        return
    assert domain.action_names_or_texts[prediction.max_confidence_index] == expected
    # After what the policy said, it listens (no other policy adds to it).
    tracker.update(ActionExecuted(expected))
    if expected in ("utter_safety_check_in", "utter_safety_check_in_ok", "utter_you_are_welcome"):
        after = policy.predict_action_probabilities(tracker, domain)
        assert domain.action_names_or_texts[after.max_confidence_index] == "action_listen"
