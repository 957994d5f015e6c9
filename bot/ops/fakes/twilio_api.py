"""Fake Twilio REST API (Messages) and helpers to sign webhooks as Twilio does.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP basic auth
with the account SID and auth token, answers 201 with a Message resource in Twilio's JSON
(and Twilio's error JSON otherwise). Point `TWILIO_BASE_URL` at `FakeTwilioAPI().url`.
"""

from __future__ import annotations

import base64
import itertools
import re
import uuid
from email.utils import formatdate
from typing import Any
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from bot.ops.fakes.server import FakeServer, RecordedRequest, Reply

ADDRESS = re.compile(r"^(whatsapp:)?\+[1-9]\d{7,14}$")
MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<sid>[^/]+)/Messages\.json$")


class FakeTwilioAPI(FakeServer):
    def __init__(self, account_sid: str = "AC" + "0" * 32, auth_token: str = "test-token",
                 **kwargs: Any) -> None:  # fmt: skip
        super().__init__(**kwargs)
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.messages: list[dict[str, str]] = []  # accepted messages (form fields + "sid")
        self._numbers = itertools.count(1)

    def sent_to(self, address: str) -> list[dict[str, str]]:
        return [m for m in self.messages if m.get("To") == address]

    def failure(self, status: int, retry_after: float | None) -> Reply:
        headers = {"Retry-After": str(int(retry_after))} if retry_after else {}
        return Reply(
            status, _error(status, 20429 if status == 429 else 20500, "Fake failure"), headers
        )

    def respond(self, request: RecordedRequest) -> Reply:
        match = MESSAGES_PATH.match(request.path)
        if request.method != "POST" or match is None:
            return Reply(404, _error(404, 20404, "The requested resource was not found"))
        expected = (
            "Basic " + base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        )
        if match["sid"] != self.account_sid or request.headers.get("authorization") != expected:
            return Reply(401, _error(401, 20003, "Authenticate"))
        fields = request.params
        if not fields.get("To") or not fields.get("From"):
            return Reply(400, _error(400, 21604, "A 'To' and a 'From' phone number are required."))
        if not ADDRESS.match(fields["To"]):
            return Reply(400, _error(400, 21211, f"Invalid 'To' Phone Number: {fields['To']}"))
        if not (fields.get("Body") or fields.get("ContentSid") or fields.get("MediaUrl")):
            return Reply(400, _error(400, 21602, "Message body is required."))
        sid = "SM" + uuid.uuid4().hex
        self.messages.append({**fields, "sid": sid})
        self.accepted(fields["To"])
        now = formatdate(usegmt=True)
        return Reply(
            201,
            {
                "account_sid": self.account_sid,
                "api_version": "2010-04-01",
                "body": fields.get("Body", ""),
                "date_created": now,
                "date_sent": None,
                "date_updated": now,
                "direction": "outbound-api",
                "error_code": None,
                "error_message": None,
                "from": fields["From"],
                "messaging_service_sid": None,
                "num_media": "0",
                "num_segments": "1",
                "price": None,
                "price_unit": "USD",
                "sid": sid,
                "status": "queued",
                "subresource_uris": {
                    "media": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}/Media.json"
                },
                "to": fields["To"],
                "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
            },
        )


def _error(status: int, code: int, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


# ---------------------------------------------------------------- inbound webhooks


def whatsapp_webhook_form(
    *,
    from_number: str,
    body: str = "",
    message_sid: str | None = None,
    to_number: str = "whatsapp:+14155238886",
    account_sid: str = "AC" + "0" * 32,
    media: list[tuple[str, str]] | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    button_payload: str | None = None,
    button_text: str | None = None,
) -> dict[str, str]:
    """The form fields Twilio posts for an incoming WhatsApp message."""
    sid = message_sid or "SM" + uuid.uuid4().hex
    form = {
        "SmsMessageSid": sid,
        "NumMedia": str(len(media or [])),
        "ProfileName": "Test",
        "MessageType": "text",
        "SmsSid": sid,
        "WaId": from_number.removeprefix("whatsapp:+"),
        "SmsStatus": "received",
        "Body": body,
        "To": to_number,
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_number,
        "ApiVersion": "2010-04-01",
    }
    for index, (url, content_type) in enumerate(media or []):
        form[f"MediaUrl{index}"] = url
        form[f"MediaContentType{index}"] = content_type
        form["MessageType"] = content_type.split("/")[0]
    if latitude is not None and longitude is not None:
        form.update(Latitude=str(latitude), Longitude=str(longitude), MessageType="location")
    if button_payload is not None:
        form.update(ButtonPayload=button_payload, ButtonText=button_text or button_payload,
                    MessageType="button")  # fmt: skip
    return form


def signed_headers(auth_token: str, url: str, form: dict[str, str]) -> dict[str, str]:
    """Headers of Twilio's POST to `url`, with the real `X-Twilio-Signature`."""
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Twilio-Signature": RequestValidator(auth_token).compute_signature(url, form),
        "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
    }


def encode_form(form: dict[str, str]) -> str:
    return urlencode(form)
