"""What Bousla changes inside the Rasa server's process, and why (Rasa 3.6.21, pinned).

Applied by `bot/ops/rasa_server.py`, through which `bousla run` starts Rasa. Each change
keeps Rasa's behaviour and is tested against Rasa's own code (tests/test_turn_cost.py).
"""

from __future__ import annotations

import functools
from typing import Any


def apply() -> None:
    validate_action_results_with_one_validator()
    send_the_domain_to_no_action()


def send_the_domain_to_no_action() -> None:
    """With `enable_selective_domain` (endpoints.yml), Rasa still sends its whole domain
    (~100 KB of JSON, built and parsed again at each call) to every action whose name
    starts with `validate_`: each answer in the profile form paid for it. Bousla's
    validation actions read domain.yml themselves (bot/actions/domain.py), so no action
    needs it."""
    from rasa.shared.core.domain import Domain

    Domain.does_custom_action_explicitly_need_domain = lambda self, action_name: False


@functools.cache
def _action_result_validator() -> Any:
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def validate_action_results_with_one_validator() -> None:
    """Rasa checks each answer of the action server with `jsonschema.validate`, which
    first checks the schema itself against its meta-schema, every time: about 4 ms of CPU
    per call on an idle 2-core server and 170 ms on a loaded one, most of a round trip
    to the action server. Here the schema is checked once and its validator kept; answers
    are checked against the same schema, and an invalid one fails the same way."""
    from jsonschema import ValidationError
    from jsonschema.exceptions import best_match
    from rasa.core.actions import action

    def _validate_action_result(self: Any, result: dict[str, Any]) -> bool:
        error = best_match(_action_result_validator().iter_errors(result))
        if error is None:
            return True
        assert isinstance(error, ValidationError)
        error.message += (
            ". Failed to validate Action server response from API, make sure your "
            "response from the Action endpoint is valid. For more information about "
            f"the format visit {action.DOCS_BASE_URL}/custom-actions"
        )
        raise error

    action.RemoteAction._validate_action_result = _validate_action_result
