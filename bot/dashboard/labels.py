"""French labels of the codes stored in the database, for the pages and the CSV export."""

LANGUAGE = {"fr": "Français", "ary": "Darija (arabe)", "ary_latn": "Darija (latin)"}
CHANNEL = {
    "whatsapp": "WhatsApp",
    "telegram": "Telegram",
    "rest": "Chat web",
    "webchat": "Chat web",
}
REASON = {
    "distress": "Détresse",
    "ask_human": "Demande un conseiller",
    "need_listening": "Besoin d'écoute",
    "fallback": "Bot perdu (2 incompréhensions)",
    "counsellor": "Prise en main par un conseiller",
    "complex": "Cas complexe",
}
PRIORITY = {"urgent": "Urgent", "normal": "Normal"}
STATUS = {
    "open": "En attente",
    "claimed": "En cours",
    "resolved": "Résolue",
    "cancelled": "Annulée",
}
OUTCOME = {
    "oriented": "Orienté vers un programme",
    "referred": "Adressé à un partenaire",
    "listening_only": "Écoute seulement",
    "no_answer": "Pas de réponse",
    "other": "Autre",
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
