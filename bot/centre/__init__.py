"""The centre itself: address, opening hours, emergency contacts and counsellors' canned
replies, read from `centre.yml` (edited by staff); `bousla centre check` checks an edit."""

from bot.centre.config import (
    Centre,
    CentreConfigError,
    emergency_contacts_text,
    load_centre,
    parse_centre,
)

__all__ = ["Centre", "CentreConfigError", "emergency_contacts_text", "load_centre", "parse_centre"]
