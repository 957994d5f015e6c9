"""The domain as the action server reads it: from domain.yml, not from each request.

Rasa sends its whole domain (about 100 KB of JSON, built and parsed again on both sides)
with every call to the action server, unless `enable_selective_domain` is set on the
action endpoint (endpoints.yml), as Bousla does; and still to actions named `validate_*`,
unless told otherwise (bot/ops/rasa_tuning.py). The validation actions read the slots'
mappings and the form's questions here instead, from the domain.yml the model was
trained on (`bousla run` trains when it changed).
"""

from __future__ import annotations

import functools
from typing import Any

import yaml

from bot import PROJECT_ROOT


@functools.cache
def project_domain() -> dict[str, Any]:
    with (PROJECT_ROOT / "domain.yml").open(encoding="utf-8") as source:
        return yaml.load(source, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def domain_of(received: dict[str, Any] | None) -> dict[str, Any]:
    """The domain Rasa sent, or domain.yml's when it sent none (selective domain)."""
    return received or project_domain()
