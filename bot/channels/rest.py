"""Rasa's REST channel (`/webhooks/rest/webhook`), for trying Bousla and for its tests and
benchmarks: the sender id comes from the JSON body, so whoever reaches it can write as
anyone. In production (`BOUSLA_ENV=production`) it answers only requests that carry the
REST token (`Authorization: Bearer <token>`, derived from BOUSLA_SECRET_KEY by
`rest_token`); nginx
does not expose it either (bot/ops/scale/templates/nginx.conf.j2)."""

from __future__ import annotations

import hmac
from typing import Any

from rasa.core.channels.rest import RestInput as RasaRestInput
from sanic import Blueprint, response
from sanic.request import Request

from bot.settings import derive_key, get_settings


def rest_token() -> str:
    return derive_key(get_settings().secret_key, "rest-channel")


def allowed(request: Request) -> bool:
    if not get_settings().is_production:
        return True
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    return bool(given) and hmac.compare_digest(given.encode(), rest_token().encode())


class RestInput(RasaRestInput):
    @classmethod
    def name(cls) -> str:
        return "rest"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> RestInput:
        return cls()

    def blueprint(self, on_new_message) -> Blueprint:
        channel_blueprint = super().blueprint(on_new_message)

        @channel_blueprint.middleware("request")
        async def token_in_production(request: Request):
            if request.method == "POST" and not allowed(request):
                return response.json(
                    {"error": "the REST channel needs its token in production"}, status=403
                )
            return None

        return channel_blueprint
