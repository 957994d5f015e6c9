"""Fake Telegram Bot API and builders of real update payloads.

`{root}/bot{token}/{method}` (GET or POST, form-encoded or JSON) for getMe, sendMessage,
sendPhoto, answerCallbackQuery, setWebhook, deleteWebhook and getWebhookInfo, answering
`{"ok": true, "result": ...}` like Telegram, and `{"ok": false, "error_code": ...,
"parameters": {"retry_after": ...}}` on failures. Point `TELEGRAM_BASE_URL` at `.url`.
"""

from __future__ import annotations

import itertools
import json
import re
import time
from typing import Any

from bot.ops.fakes.server import FakeServer, RecordedRequest, Reply

METHOD_PATH = re.compile(r"^/bot(?P<token>[^/]+)/(?P<method>\w+)$")
BOT_USER = {
    "id": 7000000001,
    "is_bot": True,
    "first_name": "Bousla",
    "username": "bousla_test_bot",
    "can_join_groups": False,
    "can_read_all_group_messages": False,
    "supports_inline_queries": False,
}


class FakeTelegramAPI(FakeServer):
    def __init__(self, token: str = "123456:TEST-token", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.token = token
        self.messages: list[dict[str, Any]] = []  # sendMessage / sendPhoto calls accepted
        self.callback_answers: list[str] = []  # callback_query_id of answerCallbackQuery
        self.webhook: dict[str, Any] = {}  # the last setWebhook call
        self._message_ids = itertools.count(1000)

    def sent_to(self, chat_id: int | str) -> list[dict[str, Any]]:
        return [m for m in self.messages if str(m.get("chat_id")) == str(chat_id)]

    def failure(self, status: int, retry_after: float | None) -> Reply:
        body: dict[str, Any] = {"ok": False, "error_code": status}
        if status == 429:
            seconds = int(retry_after or 1)
            body["description"] = f"Too Many Requests: retry after {seconds}"
            body["parameters"] = {"retry_after": seconds}
        else:
            body["description"] = "Internal Server Error"
        return Reply(status, body)

    def respond(self, request: RecordedRequest) -> Reply:
        match = METHOD_PATH.match(request.path)
        if match is None:
            return Reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if match["token"] != self.token:
            return Reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
        method = match["method"]
        params = request.params
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return Reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        return handler(params)

    def _ok(self, result: Any) -> Reply:
        return Reply(200, {"ok": True, "result": result})

    def _bad_request(self, description: str) -> Reply:
        return Reply(
            400, {"ok": False, "error_code": 400, "description": f"Bad Request: {description}"}
        )

    def _getMe(self, _: dict) -> Reply:  # noqa: N802 - Bot API method names
        return self._ok(BOT_USER)

    def _setWebhook(self, params: dict) -> Reply:  # noqa: N802
        self.webhook = {
            "url": params.get("url"),
            "secret_token": params.get("secret_token"),
            "allowed_updates": json.loads(params["allowed_updates"])
            if params.get("allowed_updates")
            else None,
        }
        return self._ok(True)

    def _deleteWebhook(self, _: dict) -> Reply:  # noqa: N802
        self.webhook = {}
        return self._ok(True)

    def _getWebhookInfo(self, _: dict) -> Reply:  # noqa: N802
        return self._ok(
            {"url": self.webhook.get("url", ""), "has_custom_certificate": False,
             "pending_update_count": 0}
        )  # fmt: skip

    def _answerCallbackQuery(self, params: dict) -> Reply:  # noqa: N802
        if not params.get("callback_query_id"):
            return self._bad_request("query is too old and response timeout expired")
        self.callback_answers.append(params["callback_query_id"])
        return self._ok(True)

    def _sendMessage(self, params: dict) -> Reply:  # noqa: N802
        if not params.get("chat_id"):
            return self._bad_request("chat not found")
        if not params.get("text"):
            return self._bad_request("message text is empty")
        if len(params["text"]) > 4096:
            return self._bad_request("message is too long")
        return self._accept(params, text=params["text"])

    def _sendPhoto(self, params: dict) -> Reply:  # noqa: N802
        if not params.get("chat_id") or not params.get("photo"):
            return self._bad_request("chat not found")
        return self._accept(params, caption=params.get("caption"))

    def _accept(self, params: dict, **content: Any) -> Reply:
        message_id = next(self._message_ids)
        self.messages.append({**params, "message_id": message_id})
        self.accepted(str(params["chat_id"]))
        result = {
            "message_id": message_id,
            "from": BOT_USER,
            "chat": {"id": int(params["chat_id"]), "type": "private", "first_name": "Test"},
            "date": int(time.time()),
            **{k: v for k, v in content.items() if v is not None},
        }
        if params.get("reply_markup"):
            result["reply_markup"] = json.loads(params["reply_markup"])
        return self._ok(result)


# ---------------------------------------------------------------- updates, as Telegram sends them

_update_ids = itertools.count(int(time.time()) % 100000 * 1000)


def _user(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "is_bot": False, "first_name": "Salma", "language_code": "fr"}


def _chat(chat_id: int) -> dict[str, Any]:
    return {"id": chat_id, "first_name": "Salma", "type": "private"}


def _message(chat_id: int, message_id: int, **content: Any) -> dict[str, Any]:
    return {
        "message_id": message_id,
        "from": _user(chat_id),
        "chat": _chat(chat_id),
        "date": int(time.time()),
        **content,
    }


def text_update(chat_id: int, text: str, update_id: int | None = None) -> dict[str, Any]:
    content: dict[str, Any] = {"text": text}
    if text.startswith("/"):
        content["entities"] = [{"offset": 0, "length": len(text.split()[0]), "type": "bot_command"}]
    uid = update_id or next(_update_ids)
    return {"update_id": uid, "message": _message(chat_id, uid % 100000, **content)}


def edited_text_update(chat_id: int, message_id: int, text: str) -> dict[str, Any]:
    message = _message(chat_id, message_id, text=text)
    message["edit_date"] = message["date"] + 5
    return {"update_id": next(_update_ids), "edited_message": message}


def voice_update(chat_id: int, duration: int = 4) -> dict[str, Any]:
    uid = next(_update_ids)
    voice = {
        "duration": duration,
        "mime_type": "audio/ogg",
        "file_id": f"AwACAgQAAxkBAAI{uid}",
        "file_unique_id": f"AgAD{uid}",
        "file_size": 9000,
    }
    return {"update_id": uid, "message": _message(chat_id, uid % 100000, voice=voice)}


def photo_update(chat_id: int, caption: str | None = None) -> dict[str, Any]:
    uid = next(_update_ids)
    sizes = [
        {"file_id": f"AgACAgQ-small-{uid}", "file_unique_id": f"s{uid}", "file_size": 1200,
         "width": 90, "height": 67},
        {"file_id": f"AgACAgQ-large-{uid}", "file_unique_id": f"l{uid}", "file_size": 61000,
         "width": 1280, "height": 960},
    ]  # fmt: skip
    content: dict[str, Any] = {"photo": sizes}
    if caption:
        content["caption"] = caption
    return {"update_id": uid, "message": _message(chat_id, uid % 100000, **content)}


def callback_update(chat_id: int, data: str, message_id: int = 1000) -> dict[str, Any]:
    uid = next(_update_ids)
    return {
        "update_id": uid,
        "callback_query": {
            "id": f"{chat_id}{uid}",
            "from": _user(chat_id),
            "message": _message(chat_id, message_id, text="…"),
            "chat_instance": "-1234567890",
            "data": data,
        },
    }
