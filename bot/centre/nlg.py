"""Rasa renders the emergency contacts itself, from centre.yml.

`endpoints.yml` names this class as Rasa's response generator (`nlg: type:`): it is
Rasa's own templated generator (the responses of domain.yml, with their language
conditions), and it fills `{contacts}` of `utter_distress_contacts` with the emergency
numbers of centre.yml in the person's language when nobody gave them. So the dialogue
policy can send the contacts as a plain response, before any custom action runs: they
reach the person even when the action server is down (docs/handoff.md).
"""

from __future__ import annotations

from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot.centre.config import emergency_contacts_text

# Responses whose `{contacts}` are the emergency numbers of centre.yml.
WITH_CONTACTS = frozenset({"utter_distress_contacts"})


class CentreResponses(TemplatedNaturalLanguageGenerator):
    def __init__(
        self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None
    ) -> None:
        super().__init__((domain or Domain.empty()).responses)

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        if utter_action in WITH_CONTACTS and not kwargs.get("contacts"):
            kwargs["contacts"] = emergency_contacts_text(tracker.get_slot("language"))
        return await super().generate(utter_action, tracker, output_channel, **kwargs)
