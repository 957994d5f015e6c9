"""Rankings a counsellor of the Aïn Harrouda centre would sign (issue 16, item 4).

Each profile is written as the young person answers the questions, in French, Darija in
Arabic script or Darija in Latin letters (read by `bot.orientation.profile_answers`, as the
profile form reads them), with the goal in their own words when they said it (`goal_text`,
as `bot.actions.programs.goal_words` takes it from the conversation). The expected ranking
says what a counsellor would put first, in the first three, never in the first five, or
before another programme, and the comment says why.

The rules these profiles hold (see `bot.orientation.matching`):
- confirmed programmes before those to confirm; closed ones (paused, ended) never offered;
- schooling steers: programmes for people without a diploma are not offered to graduates,
  programmes that need a level are not offered to those below it;
- the goal's words steer: a cooperative goes to ODCO, sewing or a snack or computing to the
  programmes of that sector;
- a minor goes to what is made for minors (the second-chance school) and never to an adult
  contract (Idmaj, from 18);
- NEET answers ("ma kan9ra ma kankhdem", "ما كنقرا ما كنخدم", "je fais rien") read as NEET;
- an activity that runs and needs money goes to the programmes that fund that amount.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from bot import PROJECT_ROOT
from bot.catalog.loader import load_catalog
from bot.orientation.matching import Profile, match
from bot.orientation.profile_answers import parse

TODAY = date(2026, 12, 7)  # the catalogue's fact check (every `verified_on`)
CATALOG = load_catalog(PROJECT_ROOT / "orientation_catalog", today=TODAY).catalog
STATUS = {program.id: program.status for program in CATALOG}
CLOSED = {"smart-initiatives", "maroc-impact-sac", "awrach", "forsa", "moubadara-pret-honneur"}
ADULTS_ONLY = {"anapec-idmaj", "forsa", "intelaka", "auto-entrepreneur", "indh-programme-3"}


def said(goal_text: str | None = None, **answers: str) -> Profile:
    """The profile the form builds from these typed answers (each must be understood)."""
    values: dict[str, object] = {"goal_text": goal_text}
    for name, text in answers.items():
        answer = parse(name, text)
        assert answer.understood, f"{name}: {text!r} is not understood"
        values[name] = answer.value
    return Profile.from_mapping(values)


@dataclass(frozen=True)
class Expected:
    description: str
    profile: Profile
    first: str | None = None
    top3: frozenset = frozenset()
    absent: frozenset = frozenset()  # never in the first five
    before: tuple = ()  # (a, b): a is ranked before b
    why: str = ""
    situation: str | None = None  # how the situation answer must read


def expect(description, profile, *, first=None, top3=(), absent=(), before=(), why="", **kw):
    return Expected(
        description,
        profile,
        first,
        frozenset(top3),
        frozenset(absent) | CLOSED,
        tuple(before),
        why,
        **kw,
    )


PROFILES = [
    expect(
        "Khadija, 31, sewing cooperative with neighbours (Arabic script)",
        said(
            "بغيت ندير تعاونية ديال الخياطة مع جوج ديال الجارات",
            age="31",
            education="وصلت للإعدادي",
            situation="ما خدامة ما والو، گالسة ف الدار",
            goal="مشروع",
            commune="عين حرودة",
            project_stage="غير فكرة",
            sector="الخياطة",
            amount="30000 درهم",
        ),
        first="odco-cooperative",
        # She answered "sewing" to the sector question, but her goal is a cooperative:
        # creating it is ODCO's job, whatever the trade.
        why="A cooperative is created with ODCO; the sector answer (sewing) does not hide it.",
        situation="not_in_school",
    ),
    expect(
        "Hanane, 34, women making couscous and bread want a cooperative (Arabizi)",
        said(
            "bghit ndir cooperative m3a l3yalat dyal l7ouma",
            age="34",
            education="ibtida2i",
            situation="kanjme3 m3a l3yalat w kansaybo lkeskso w lkhobz f dar",
            goal="projet",
            commune="3in 7rouda",
            project_stage="bdina",
            sector="cooperative dyal lmakla",
        ),
        first="odco-cooperative",
        top3={"indh-programme-3"},
        # They already make and sell: an activity of their own, not "nothing at home".
        why="ODCO registers the cooperative; INDH can co-finance a youth activity (18-35).",
        situation="self_employed",
    ),
    expect(
        "Fatima, 35, never went to school, couscous group becoming a cooperative (French)",
        said(
            "on est un groupe de femmes et on veut créer une coopérative de couscous",
            age="35",
            education="je ne suis pas allée à l'école",
            situation="je travaille avec des femmes, on fait du couscous",
            goal="un projet",
            commune="Aïn Harrouda",
            project_stage="on a déjà commencé",
            sector="coopérative alimentaire",
        ),
        first="odco-cooperative",
        # Maroc Impact SAC (2020) ended: never offered (CLOSED is always absent).
        why="ODCO creates the cooperative; Maroc Impact's 2020 operation has ended.",
    ),
    expect(
        "Honey cooperative that already sells, Arabizi",
        said(
            "3ndna ta3awniya dyal l3sel, bghina nbi3o ktar",
            age="30",
            education="primaire",
            situation="3la rassi",
            goal="projet",
            commune="3in 7rouda",
            project_stage="kayna mn 3 snin",
            sector="ta3awniya",
        ),
        first="odco-cooperative",
        before=[("odco-cooperative", "fondation-ocp-cooperatives")],
        # OCP's CoopStore fits a running cooperative, but its information is to confirm.
        why="ODCO supports existing cooperatives (confirmed) before OCP's CoopStore (to confirm).",
        situation="self_employed",
    ),
    expect(
        "Aya, 16, left school in 2e année collège, wants to learn a trade (Arabic script)",
        said(
            "بغيت نتعلم شي صنعة",
            age="16",
            education="خرجت من تانية إعدادي",
            situation="ما كنقرا ما كنخدم",
            goal="تكوين",
            commune="عين حرودة",
        ),
        first="ecole-deuxieme-chance",
        top3={"tadarroj-apprentissage"},
        absent=ADULTS_ONLY,
        why="The second-chance school is made for 13-18 year olds out of school; "
        "apprenticeship takes her from 15.",
        situation="not_in_school",
    ),
    expect(
        "Ayoub, 17, stopped at collège, wants a job (French)",
        said(
            age="17 ans",
            education="j'ai arrêté au collège",
            situation="je fais rien en ce moment",
            goal="un travail",
            commune="Aïn Harrouda",
        ),
        first="ecole-deuxieme-chance",
        top3={"tadarroj-apprentissage"},
        absent=ADULTS_ONLY,
        why="At 17 a counsellor offers what a minor can do (second chance, apprenticeship), "
        "never an Idmaj contract (from 18).",
        situation="not_in_school",
    ),
    expect(
        "17, NEET in Mohammedia, wants work (Arabizi)",
        said(
            age="17",
            education="i3dadi",
            situation="ma kan9ra ma kankhdem",
            goal="khdma",
            commune="mohammedia",
        ),
        first="ecole-deuxieme-chance",
        absent=ADULTS_ONLY | {"indh-plateforme-jeunes-mohammedia"},
        why="Same as Ayoub; the Mohammedia youth platform takes people from 18.",
        situation="not_in_school",
    ),
    expect(
        "18, NEET, collège, wants work: now Idmaj is open to him (Arabizi)",
        said(
            age="18",
            education="i3dadi",
            situation="ma kan9ra ma kankhdem",
            goal="khdma",
            commune="3in 7rouda",
        ),
        first="anapec-idmaj",
        top3={"tadarroj-apprentissage"},
        before=[("anapec-idmaj", "ecole-deuxieme-chance")],
        why="At 18 the first-job contract (no diploma needed since 2025) comes first; the "
        "second-chance school is no longer made for him.",
    ),
    expect(
        "15, primary school, does nothing, wants work, commune unknown",
        said(age="15", education="primaire", situation="je fais rien", goal="travail"),
        first="ecole-deuxieme-chance",
        absent=ADULTS_ONLY,
        why="A 15-year-old goes back to school or to apprenticeship, not to a contract.",
        situation="not_in_school",
    ),
    expect(
        "16, still at the lycée, wants a job (Arabizi)",
        said(
            age="16",
            education="tronc commun",
            situation="mazal kan9ra",
            goal="khdma",
            commune="3in 7rouda",
        ),
        first="ofppt",
        absent=ADULTS_ONLY | {"ecole-deuxieme-chance", "tadarroj-apprentissage"},
        why="A pupil who wants to work soon goes to vocational training; the second-chance "
        "school is for those out of school.",
        situation="student",
    ),
    expect(
        "Nora, 26, makes pastries at home, wants a loan for an oven (Arabizi)",
        said(
            "ana khddama f dar kansayeb l7elwa, bghit tamwil bach nchri four",
            age="26",
            education="bac",
            situation="khddama 3la rassi f dar",
            goal="tamwil",
            commune="3in 7rouda",
            project_stage="bdit",
            sector="l7elwa",
            amount="15 alf dh",
        ),
        first="indh-programme-3",
        top3={"intelaka"},
        # "khddama 3la rassi f dar": she works for herself at home, she is not NEET.
        why="INDH co-finances youth activities (confirmed); Intelaka's loan fits but its "
        "conditions are to confirm; Moubadara is paused.",
        situation="self_employed",
    ),
    expect(
        "Said, 27, repairs computers at home, 70,000 DH for a shop (Arabic script)",
        said(
            "بغيت نحل محل ديال المعلوميات",
            age="27",
            education="تقني متخصص ف المعلوميات",
            situation="كنصلح البيسيات من الدار",
            goal="مشروع",
            commune="عين حرودة",
            project_stage="بديت",
            sector="المعلوميات",
            amount="70000 درهم",
        ),
        first="indh-programme-3",
        top3={"reseau-entreprendre-maroc"},
        before=[("reseau-entreprendre-maroc", "anapec-tahfiz")],
        why="His activity runs and needs 70,000 DH: the programmes that fund that amount "
        "(INDH, Réseau Entreprendre's honour loan from 50,000) before hiring incentives.",
        situation="self_employed",
    ),
    expect(
        "Selling clothes at the souk, needs 100,000 DH to grow (Arabizi)",
        said(
            age="28",
            education="bac",
            situation="kanbi3 lhwayj f souk, 3la rassi",
            goal="projet",
            commune="3in 7rouda",
            project_stage="bdit",
            sector="tijara",
            amount="10 melyoun",
        ),
        top3={"indh-programme-3", "reseau-entreprendre-maroc"},
        why="5 melyoun is 50,000 DH: 10 melyoun is 100,000, within Réseau Entreprendre's loan.",
        situation="self_employed",
    ),
    expect(
        "Idea of a grocery, 60,000 DH (French)",
        said(
            age="25",
            education="bac",
            situation="je cherche du travail",
            goal="projet",
            commune="Aïn Harrouda",
            project_stage="juste une idée",
            sector="commerce",
            amount="60 000 DH",
        ),
        first="indh-programme-3",
        top3={"auto-entrepreneur", "indh-plateforme-jeunes-mohammedia"},
        why="An idea is prepared first (the youth platform, the self-employed status) before "
        "a loan that asks for jobs created.",
    ),
    expect(
        "Snack idea, 4 melyoun, works in a café (Arabizi)",
        said(
            "bghit n7al snack",
            age="24",
            education="bac",
            situation="khddam f café",
            goal="projet",
            commune="3in 7rouda",
            project_stage="ghir fikra",
            sector="snack",
            amount="4 melyoun",
        ),
        first="indh-programme-3",
        top3={"auto-entrepreneur"},
        why="4 melyoun is 40,000 DH, below Réseau Entreprendre's minimum; INDH and the "
        "self-employed status fit a first snack.",
        situation="employed",
    ),
    expect(
        "Sewing workshop already started, 40,000 DH (French)",
        said(
            "je veux ouvrir mon atelier de couture",
            age="32",
            education="collège",
            situation="je suis à la maison",
            goal="projet",
            commune="Aïn Harrouda",
            project_stage="j'ai commencé",
            sector="couture",
            amount="40 000 DH",
        ),
        first="indh-programme-3",
        top3={"auto-entrepreneur"},
        before=[("auto-entrepreneur", "fondation-ocp-cooperatives")],
        why="Her own workshop, not a cooperative: INDH and the status first; OCP's "
        "cooperative support is to confirm.",
        situation="not_in_school",
    ),
    expect(
        "19, NEET, wants to learn sewing (French)",
        said(
            "je veux apprendre la couture",
            age="19",
            education="college",
            situation="ni études ni travail",
            goal="formation",
            commune="Aïn Harrouda",
        ),
        first="tadarroj-apprentissage",
        top3={"ofppt"},
        why="Couture is one of the apprenticeship trades, for people without the bac.",
        situation="not_in_school",
    ),
    expect(
        "Hiba, 19, just got the bac, wants to learn web development (French)",
        said(
            "je veux une formation en informatique, développement web",
            age="19",
            education="bac sciences",
            situation="je viens d'avoir mon bac",
            goal="une formation",
            commune="Aïn Harrouda",
        ),
        first="ofppt",
        absent={"tadarroj-apprentissage", "ecole-deuxieme-chance"},
        before=[("ofppt", "cite-des-metiers-casablanca-settat")],
        # "je viens d'avoir mon bac": out of school, not yet a student nor a job seeker.
        why="OFPPT teaches development after the bac; the regional Cité des Métiers has a "
        "digital track but its opening is to confirm; apprenticeship is for the trades "
        "without a bac.",
        situation="not_in_school",
    ),
    expect(
        "24, bac+2, job seeker, wants to learn computing (Arabizi)",
        said(
            "bghit nt3llem informatique",
            age="24",
            education="bac+2",
            situation="kan9leb 3la khdma",
            goal="formation",
            commune="3in 7rouda",
        ),
        first="ofppt",
        absent={"tadarroj-apprentissage"},
        why="A graduate is not sent to apprenticeship (up to the lycée); OFPPT's digital "
        "courses first.",
        situation="job_seeker",
    ),
    expect(
        "27, master, job seeker (French)",
        said(
            age="27",
            education="master",
            situation="je suis au chômage",
            goal="un emploi",
            commune="Aïn Harrouda",
        ),
        first="anapec-idmaj",
        absent={"tadarroj-apprentissage", "ecole-deuxieme-chance"},
        why="A graduate's first job is Idmaj; programmes for people without a diploma do "
        "not come up.",
        situation="job_seeker",
    ),
    expect(
        "26, engineer, wants a training (French)",
        said(
            age="26",
            education="ingénieur",
            situation="je cherche du travail",
            goal="formation",
            commune="Mohammedia",
        ),
        first="ofppt",
        top3={"anapec-taehil"},
        absent={"tadarroj-apprentissage", "ecole-deuxieme-chance"},
        why="Retraining for a job seeker: OFPPT or Taehil (training paid for a recruiter).",
    ),
    expect(
        "22, never went to school, wants work (Arabizi)",
        said(
            age="22",
            education="ma 9ritch",
            situation="ma khdamach",
            goal="khdma",
            commune="3in 7rouda",
        ),
        first="anapec-idmaj",
        top3={"tadarroj-apprentissage"},
        absent={"ofppt"},
        why="Idmaj no longer needs a diploma; apprenticeship accepts people who only read "
        "and write; OFPPT needs at least primary school.",
        situation="job_seeker",
    ),
    expect(
        "23, primary school, NEET, wants work (Arabic script)",
        said(
            age="23",
            education="الابتدائي",
            situation="ما كنقرا ما كنخدم",
            goal="خدمة",
            commune="عين حرودة",
        ),
        first="anapec-idmaj",
        top3={"tadarroj-apprentissage"},
        absent={"ecole-deuxieme-chance"},
        why="NEET read as NEET in Arabic script; past 18 the second-chance school is not for him.",
        situation="not_in_school",
    ),
    expect(
        "21, bac, NEET in Mohammedia, wants a training (French)",
        said(
            age="21",
            education="bac",
            situation="je fais rien",
            goal="formation",
            commune="Mohammedia",
        ),
        first="ofppt",
        top3={"anapec-taehil"},
        absent={"ecole-deuxieme-chance", "tadarroj-apprentissage"},
        why="With the bac: OFPPT's technician levels and Taehil; apprenticeship is up to the "
        "lycée.",
        situation="not_in_school",
    ),
    expect(
        "20, collège, NEET, wants a training (Arabizi)",
        said(
            age="20",
            education="college",
            situation="ma kan9ra ma kankhdem",
            goal="formation",
            commune="3in 7rouda",
        ),
        first="tadarroj-apprentissage",
        top3={"ofppt"},
        absent={"ecole-deuxieme-chance"},
        why="Without the bac, apprenticeship is made for him; at 20 the second-chance school "
        "is behind him.",
        situation="not_in_school",
    ),
    expect(
        "30, bac, woman out of work in Mohammedia, wants work (Arabizi)",
        said(
            age="30",
            education="bac",
            situation="ma khdamach",
            goal="khdma",
            commune="Mohammedia",
        ),
        first="anapec-idmaj",
        top3={"indh-plateforme-jeunes-mohammedia"},
        why="Idmaj has no upper age; the prefecture's youth platform takes 18-35.",
        situation="job_seeker",
    ),
    expect(
        "23, licence student, digital marketing idea, 20,000 DH (French)",
        said(
            age="23",
            education="licence",
            situation="étudiante",
            goal="projet",
            commune="Aïn Harrouda",
            project_stage="idée",
            sector="marketing digital",
            amount="20000",
        ),
        first="indh-programme-3",
        top3={"auto-entrepreneur"},
        absent={"reseau-entreprendre-maroc"},
        why="A small idea: the self-employed status and INDH; 20,000 DH is below Réseau "
        "Entreprendre's loans.",
        situation="student",
    ),
]


@pytest.mark.parametrize("case", PROFILES, ids=[c.description for c in PROFILES])
def test_a_counsellor_would_sign_this_ranking(case: Expected) -> None:
    offers = match(case.profile, CATALOG, "fr", limit=5, today=TODAY).offers
    ranked = [offer.id for offer in offers]
    assert ranked, case.why
    if case.first:
        assert ranked[0] == case.first, (ranked, case.why)
    assert case.top3 <= set(ranked[:3]), (ranked, case.why)
    assert not case.absent & set(ranked), (ranked, case.why)
    everything = [o.id for o in match(case.profile, CATALOG, "fr", limit=30, today=TODAY).offers]
    for earlier, later in case.before:
        if later in everything:
            assert earlier in everything, (everything, case.why)
            assert everything.index(earlier) < everything.index(later), (everything, case.why)
    # Among the programmes for the person's goal, never one to confirm before a confirmed
    # one (a related goal, e.g. the youth platform for financing, comes after them all).
    strong = [STATUS[offer.id] for offer in offers if offer.goal_class == 0]
    assert "to_confirm" not in strong[: strong.count("active")], (ranked, case.why)


@pytest.mark.parametrize(
    "case",
    [c for c in PROFILES if c.situation],
    ids=[c.description for c in PROFILES if c.situation],
)
def test_the_situation_answer_reads_as_a_counsellor_hears_it(case: Expected) -> None:
    assert case.profile.situation == case.situation


def test_there_are_at_least_twenty_profiles() -> None:
    assert len(PROFILES) >= 20
