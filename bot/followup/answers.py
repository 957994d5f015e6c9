"""Reading the answer to "did you contact the programme?" (plain Python, no Rasa).

The question offers four buttons (WhatsApp shows them as "1. … 4."): it went well, waiting
for their answer, not yet, a counsellor. People also type: "oui ça s'est bien passé",
"j'attends leur appel", "mazal ma jawbounich", "ما عيطتش", "rfdouni", "wah". `read_answer`
turns such a message into an outcome code, or None when it does not answer the question
("bghit khdma", "salam"); those messages are handled as usual.

Outcomes: went_well, waiting, contacted (a plain yes), not_well (contacted, it did not
work out), not_yet, counsellor.
"""

from __future__ import annotations

import re

from bot.language.folding import fold
from bot.language.numbers import choice_number

OUTCOMES = ("went_well", "waiting", "contacted", "not_well", "not_yet", "counsellor")
# The buttons of utter_followup_question, in order (a reply "2" or "jouj" is the second).
BUTTON_OUTCOMES = ("went_well", "waiting", "not_yet", "counsellor")
# What the intent says when the words do not: "oui" / "non" / "un conseiller stp".
INTENT_OUTCOMES = {"affirm": "contacted", "deny": "not_yet", "ask_human": "counsellor"}
ANSWER_INTENT = "followup_answer"
ENTITY = "followup_outcome"

# Whole messages: a bare yes or no (too short to look for inside sentences: "la" is also
# French's article, "ah" an exclamation).
_WHOLE = {
    "contacted": {"oui", "ouii", "ouais", "ouai", "ouep", "yes", "yep", "wah", "wa", "ah", "aah",
                  "iyeh", "iyah", "ayeh", "eyh", "ih", "ii", "ah ah", "واه", "اه", "ايه", "نعم",
                  "oui oui", "wah wah"},
    "not_yet": {"non", "nn", "nan", "no", "la", "lla", "laa", "لا", "non non", "la la", "mazal",
                "mazal la", "la mazal", "مازال", "لا مازال", "pas encore", "toujours pas"},
}  # fmt: skip


def _words(*alternatives: str) -> re.Pattern[str]:
    """Any of the alternatives (regex syntax) as whole words of a normalised message."""
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


# Checked in this order: the first that matches wins ("pas encore de réponse" is waiting,
# "ma dazatch mzyan" is not_well although it contains "mzyan", "pas encore inscrit" is
# not_yet).
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    (
        "counsellor",
        _words(
            r"(?:je )?(?:veux|voudrais|veut|prefere|besoin d) (?:parler a )?(?:un |une )?"
            r"(?:conseill\w*|humain|personne|quelqu un)",
            r"parler a (?:un |une )?(?:conseill\w*|quelqu un|humain|une personne)",
            r"bghit (?:n[h7]d[ae]?r m3a )?(?:chi )?(?:moustachar|mostachar|mustashar|mostashar|"
            r"bnadem|wa7ed|chi wa7ed)",
            r"بغيت (?:نهضر مع )?(?:شي )?(?:مستشار|بنادم|واحد)",
        ),
    ),
    (
        "not_well",
        _words(
            r"(?:pas|mal) (?:tres )?bien passe\w*",
            r"(?:s est|c est|ca s est|ca c est) mal passe\w*",
            r"mal passe\w*",
            r"refuse\w*",
            r"pas (?:ete )?(?:retenu|retenue|accepte|acceptee|pris|prise)",
            r"(?:ca )?(?:n a|a) pas marche",
            r"(?:rien|pas) donne",
            r"ils m ont dit non",
            r"ma daz(?:a|e)?t(?:ch|ch) (?:mzyan|mezyan)",
            r"r[ae]?fd(?:ou|o|u)ni",
            r"ma (?:q|9)b(?:e|a)?l(?:ou|o|u)nich",
            r"ma t(?:q|9)b(?:e|a)?ltch",
            r"ma nf3(?:at)?ch",
            r"khayb(?:a|in)?",
            r"ما دازتش|رفضوني|ما قبلونيش|ما تقبلتش|ما نفعش|خايبه",
        ),
    ),
    (
        "waiting",
        _words(
            r"j attends?",
            r"dit d attendre",
            r"(?:en|j suis en|je suis en) attente",
            r"attends? (?:leur|la|une|un) (?:reponse|appel|rappel|retour)",
            r"pas (?:encore )?(?:de|eu de) (?:reponse|nouvelles?|retour)",
            r"(?:ils|elle|il|on) (?:n ont|ont|n a|a) pas (?:encore )?(?:repondu|rappele)",
            r"(?:ils|elle|il|on) (?:va|vont|doi[st]|doivent) me (?:rappeler|repondre|appeler)",
            r"kan?(?:ts|st|ss)[ae]?nn?a",
            r"kan?ts[ae]?nnaw",
            r"tsnna|tsena",
            r"(?:mazal )?ma jawb(?:ou|o|u)(?:ni)?ch",
            r"(?:mazal )?ma 3[ae]?yt(?:ou|o|u)(?:li)?ch",
            r"gh(?:adi|a) y3[ae]?yt(?:ou|o|u)",
            r"كنتسنا|كنستنا|كنتسناو|ما جاوبونيش|ما جاوبوش|ما عيطوش|غادي يعيطو",
        ),
    ),
    (
        "not_yet",
        _words(
            r"pas encore",
            r"toujours pas",
            r"pas eu le temps",
            r"(?:je n ai|j ai|je n|jai) (?:pas|jamais) (?:encore )?(?:appele|contacte|ete|"
            r"fait|ecrit|envoye|depose|postule)",
            r"je vais (?:le faire|appeler|les appeler|y aller|postuler)",
            r"bientot",
            r"mazal(?: ma)?",
            r"ma (?:3[ae]?yy?[ae]?tt?ch|mchitch|t(?:a|e)s(?:e|a)?ltch|tw(?:a|e)s(?:e|a)?ltch|"
            r"dertch|drtch)",
            r"gh(?:adi|a) n3[ae]?yy?[ae]?t",
            r"mn b3d|men b3d",
            r"مازال|ما عيطتش|ما مشيتش|ما تاصلتش|ما تواصلتش|ما درتش|غادي نعيط|من بعد",
        ),
    ),
    (
        "went_well",
        _words(
            r"(?:s est|c est|ca s est|ca c est|tout s est|tout c est)? ?bien passe\w*",
            r"tout va bien",
            r"c est bon",
            r"inscrit|inscrite|accepte|acceptee|retenu|retenue|embauche|embauchee",
            r"(?:j ai ete|on m a|je suis) (?:pris|prise)",
            r"j ai (?:commence|trouve|ete pris|ete prise|signe)",
            r"super|genial|parfait|nickel",
            r"daz(?:a|e)?t (?:mzyan|mezyan|mzyana|mezyana|bikhir|bi5ir)",
            r"mzyan|mezyan|mzyana|mezyana|ghzal|top",
            r"t(?:q|9)b(?:e|a)?lt|(?:q|9)b(?:e|a)?l(?:ou|o|u)ni|tsj(?:e|a)?lt|bdit|khdamt",
            r"دازت مزيان\w*|مزيان\w*|تقبلت|قبلوني|تسجلت|بديت|خدمت",
        ),
    ),
    (
        "contacted",
        _words(
            r"(?:oui )?(?:je les ai|j ai) (?:appele|contacte|ecrit|vu)\w*",
            r"je suis (?:alle|allee|passe|passee)",
            r"c est fait|deja fait",
            r"3[ae]?yy?[ae]?tt? (?:lihom|3lihom)",
            r"mchit (?:lihom|l\w+)",
            r"t(?:a|e)s(?:e|a)?lt|tw(?:a|e)s(?:e|a)?lt|drtha",
            r"عيطت|مشيت|تاصلت|تواصلت|درتها",
        ),
    ),
)


_COUNSELLOR = _words(r"conseill\w*|moustachar|mostachar|mustashar|مستشار")


def read_answer(text: str | None) -> str | None:
    """The outcome a typed answer gives, or None if it does not answer the question."""
    if not text or text.lstrip().startswith("/"):
        return None  # button payloads carry their outcome as an entity
    said = fold(text, "answer")
    if not said:
        return None
    number = choice_number(said, most=len(BUTTON_OUTCOMES))
    if number is not None:
        return BUTTON_OUTCOMES[number - 1]
    for outcome, whole in _WHOLE.items():
        if said in whole:
            return outcome
    words = said.split()
    if len(words) > 25:
        return None  # a long message is a story, not an answer to a yes/no question
    if len(words) <= 4 and _COUNSELLOR.search(said):
        return "counsellor"  # "un conseiller stp" (longer: "le conseiller m'a dit...")
    for outcome, pattern in _PATTERNS:
        if pattern.search(said):
            return outcome
    return None


def outcome_of(text: str | None, intent: str | None, entities: list[dict] | None) -> str | None:
    """The outcome of a message: a button's entity, the words, else the intent's meaning."""
    for entity in entities or []:
        if entity.get("entity") == ENTITY and entity.get("value") in OUTCOMES:
            return str(entity["value"])
    return read_answer(text) or INTENT_OUTCOMES.get(intent or "")
