"""French labels of the codes stored in the database, and of durations, for the dashboard's
pages, the CSV exports and the impact report."""

LANGUAGE = {"fr": "Français", "ary": "Darija (arabe)", "ary_latn": "Darija (latin)"}
CHANNEL = {
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "webchat": "Chat web",
    # Rasa's REST channel: tests, benchmarks and integrations, not young people's chat
    "rest": "API REST (tests)",
}
REASON = {
    "distress": "Détresse",
    "ask_human": "Demande un conseiller",
    "need_listening": "Besoin d'écoute",
    "fallback": "Bot perdu (2 incompréhensions)",
    "counsellor": "Prise en main par un conseiller",
    "complex": "Cas complexe",
    "check_in": "A dit oui au « ça va ? »",
    "turn_failed": "Message non traité par le bot",
}
# What raised a request, for the queue's triage (bot.handoffs.views.tier_of).
TIER = {
    "danger": "Danger",
    "check_in": "Check-in accepté",
    "alert": "Alerte : message non traité",
    "human": "Demande un humain",
    "counsellor": "Pris en main",
}
# Distress categories (bot.safety.CATEGORIES).
CATEGORY = {
    "suicide": "Suicide",
    "self_harm": "Automutilation",
    "sexual_abuse": "Abus, harcèlement sexuel",
    "violence_home": "Violence à la maison",
    "violence_outside": "Violence dehors",
    "violence": "Violence",
}
PRIORITY = {"urgent": "Urgent", "normal": "Normal"}
STATUS = {
    "open": "En attente",
    "claimed": "En cours",
    "resolved": "Résolue",
    "cancelled": "Annulée",
}
OUTCOME = {
    "listened": "Écouté·e, apaisé·e",
    "listening_only": "Écoute seulement",
    "emergency_called": "Services d'urgence appelés",
    "safety_plan": "Mise en sécurité convenue (proche, lieu sûr)",
    "referred_partner": "Orienté·e vers un partenaire (santé, psy, association)",
    "referred": "Adressé à un partenaire",
    "oriented": "Orienté vers un programme",
    "no_answer": "Pas de réponse",
    "other": "Autre",
}
# Answers to the follow-up question (bot/followup/), then the questions left unanswered
# (short: chart labels are cut after 26 characters).
FOLLOWUP = {
    "went_well": "Contacté, bien passé",
    "waiting": "Contacté, attend réponse",
    "contacted": "Contacté (sans détail)",
    "not_well": "Contacté, sans succès",
    "not_yet": "Pas encore contacté",
    "counsellor": "Veut un conseiller",
    "waiting_answer": "En attente de réponse",
    "unanswered": "Sans réponse",
}
# A person's track: the goal they gave, else what Bousla did for them (bot.report.stats).
TRACK = {
    "job": "Emploi",
    "training": "Formation",
    "project": "Projet",
    "financing": "Financement",
    "orientation": "Orienté, objectif inconnu",
    "listening": "Écoute",
    "counsellor": "Conseiller",
    "information": "Information, autre",
}
AUTHOR = {"person": "Jeune", "bot": "Bousla", "counsellor": "Conseiller", "system": "Système"}
PROFILE = {
    "age": "Âge",
    "education": "Études",
    "situation": "Situation",
    "goal": "Objectif",
    "commune": "Commune",
    "project_stage": "Projet",
    "sector": "Secteur",
    "amount": "Montant",
}
ROLE = {"counsellor": "Conseiller", "admin": "Administrateur"}


def of(table: dict, code: object) -> str:
    return table.get(code, str(code) if code is not None else "—")


def short_id(person_id: str) -> str:
    """Eight characters of a person's pseudonym (`whatsapp-3f9a…` → `3f9a…`): enough for
    counsellors to tell people apart, never the phone number or chat id."""
    return person_id.rsplit("-", 1)[-1][:8]


def format_duration(seconds: int | float) -> str:
    """ "42 s", "3 min", "2 h 05", "3 j": a compact French duration."""
    seconds = int(seconds)
    if seconds < 60:
        return f"{seconds} s"
    minutes = seconds // 60
    if minutes < 60:
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d}"
    return f"{hours // 24} j"
