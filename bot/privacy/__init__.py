"""Privacy by default (Moroccan law 09-08).

- `consent`: the notice shown on first contact and the answer to "may I keep your answers?";
- `addresses`: a person named as staff know them (number, chat id) and their pseudonym;
- `erasure`: everything about a person deleted, at their request (at the end of that turn,
  their last message kept until delivered) or by staff;
- `retention`: people and messages older than the retention period purged;
- `export`: one person's data as JSON;
- `cli`: `bousla erase`, `bousla purge`, `bousla export`.
"""

from bot.privacy.addresses import CHANNELS, person_id_for, provider_address
from bot.privacy.consent import NOTICE_VERSION, record_notice_shown, record_profile_consent
from bot.privacy.erasure import (
    ERASURE_SLOT,
    Erasure,
    after_delivery,
    after_pickup,
    count_tracker_events,
    delete_tracker_events,
    erase_after_turn,
    erase_person,
    erasure_confirmed,
    latest_inbound_id,
)
from bot.privacy.export import export_person, record_export
from bot.privacy.retention import RETENTION_DAYS, Purge, parse_age, purge

__all__ = [
    "CHANNELS",
    "ERASURE_SLOT",
    "NOTICE_VERSION",
    "RETENTION_DAYS",
    "Erasure",
    "Purge",
    "after_delivery",
    "after_pickup",
    "count_tracker_events",
    "delete_tracker_events",
    "erase_after_turn",
    "erase_person",
    "erasure_confirmed",
    "export_person",
    "latest_inbound_id",
    "parse_age",
    "person_id_for",
    "provider_address",
    "purge",
    "record_export",
    "record_notice_shown",
    "record_profile_consent",
]
