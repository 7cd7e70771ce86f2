"""What WeChat Official Account and WeCom share: the XML message format, the encrypted
envelope (tencent_crypto.py), the passive text reply and the errcode conventions of their
APIs (docs/channels.md §1, §2). Not a channel itself."""

from __future__ import annotations

import re
import time
from typing import Any

import xmltodict
from django.http import HttpResponse

from apps.ai_assistant.channels import tokens
from apps.ai_assistant.channels.base import (
    ParsedWebhook,
    PlatformError,
    WebhookRejected,
    datetime_from,
    parse_xml,
    post_json,
    xml_text,
)
from apps.ai_assistant.channels.tencent_crypto import CryptoError, WeChatCrypto
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import ChannelApp
from apps.ai_assistant.platform_http import RETRYABLE_STATUS, PlatformResponse

# Events that get an answer (a greeting); every other event is acknowledged silently.
ANSWERED_EVENTS = {"subscribe"}
# Platform errcodes meaning "token expired or replaced": refetch and retry once.
TOKEN_ERRCODES = {40001, 40014, 42001}
# Transient platform errcodes: busy / rate limited.
RETRYABLE_ERRCODES = {-1, 45009, 45011}


def rejected(error: CryptoError) -> WebhookRejected:
    return WebhookRejected(error.status, error.reason)


def crypto_for(app: ChannelApp, receive_id: str) -> WeChatCrypto:
    credentials = app.credentials
    try:
        return WeChatCrypto(credentials.token, credentials.encoding_aes_key, receive_id)
    except CryptoError as error:
        raise rejected(error) from error


def cdata(value: str) -> str:
    # "]]>" cannot appear inside CDATA: close the section and open another around it.
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def text_reply_xml(to_user: str, from_user: str, content: str) -> str:
    return (
        f"<xml><ToUserName>{cdata(to_user)}</ToUserName>"
        f"<FromUserName>{cdata(from_user)}</FromUserName>"
        f"<CreateTime>{int(time.time())}</CreateTime>"
        f"<MsgType>{cdata('text')}</MsgType>"
        f"<Content>{cdata(content)}</Content></xml>"
    )


def xml_response(body: str) -> HttpResponse:
    return HttpResponse(body.encode("utf-8"), content_type="text/xml; charset=utf-8")


def message_from_fields(
    channel: str, fields: dict[str, Any], reply_context: dict[str, Any]
) -> ParsedWebhook:
    """The decrypted WeChat/WeCom XML fields as a ParsedWebhook (shared by both channels)."""
    from_user = xml_text(fields, "FromUserName")
    create_time = xml_text(fields, "CreateTime")
    msg_type = xml_text(fields, "MsgType")
    if not from_user or not msg_type:
        raise WebhookRejected(400, "missing FromUserName or MsgType")
    if not re.fullmatch(r"-?\d{1,12}", create_time):
        raise WebhookRejected(400, "bad CreateTime")
    timestamp = datetime_from(int(create_time), "CreateTime")
    raw_data = {key: value for key, value in fields.items() if isinstance(value, str)}
    context = {**reply_context, "account": xml_text(fields, "ToUserName", required=False)}
    if msg_type == "event":
        event = xml_text(fields, "Event")
        external_id = f"{from_user}:{create_time}:{event}"
        if event not in ANSWERED_EVENTS:
            return ParsedWebhook(message=None, external_id=external_id, reply_context=context)
        message_id, content = external_id, event
    else:
        message_id = xml_text(fields, "MsgId", required=False) or f"{from_user}:{create_time}"
        external_id = message_id
        content = xml_text(fields, "Content", required=False) if msg_type == "text" else ""
        if msg_type == "voice":
            # The platform's own transcription, where the account has it switched on.
            content = xml_text(fields, "Recognition", required=False)
    message = IncomingMessage(
        message_id=message_id,
        channel=channel,
        external_user_id=from_user,
        content=content,
        timestamp=timestamp,
        message_type=msg_type,
        conversation_id=from_user,
        raw_data=raw_data,
    )
    return ParsedWebhook(message=message, external_id=external_id, reply_context=context)


def signed_ciphertext(body: bytes) -> str:
    """The `Encrypt` field that msg_signature covers; a body without it cannot carry that
    proof (403), a body that is not XML is malformed (400)."""
    encrypted = parse_xml(body).get("Encrypt")
    if encrypted is None:
        raise WebhookRejected(403, "missing Encrypt")
    if not isinstance(encrypted, str):
        raise WebhookRejected(400, "Encrypt must be text")
    return encrypted


def check_errcode(data: dict[str, Any]) -> None:
    """Raise PlatformError for a WeChat/WeCom API answer with a non-zero errcode."""
    errcode = data.get("errcode", 0)
    if errcode in (0, None):
        return
    raise PlatformError(
        errcode,
        str(data.get("errmsg", ""))[:200],
        retryable=errcode in RETRYABLE_ERRCODES or errcode in TOKEN_ERRCODES,
    )


def is_token_error(error: PlatformError) -> bool:
    return error.code in TOKEN_ERRCODES


def token_from_answer(response: PlatformResponse) -> tuple[Any, Any]:
    """(access_token, expires_in) from a token endpoint's answer; PlatformError otherwise."""
    data = response.data if isinstance(response.data, dict) else {}
    errcode = data.get("errcode", 0)
    if errcode not in (0, None):
        raise PlatformError(
            errcode, str(data.get("errmsg", ""))[:200], retryable=errcode in RETRYABLE_ERRCODES
        )
    if response.status_code >= 300:
        raise PlatformError(
            response.status_code,
            f"HTTP {response.status_code}",
            retryable=response.status_code in RETRYABLE_STATUS,
        )
    return data.get("access_token"), data.get("expires_in")


def call_platform(app: ChannelApp, url: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST `payload` to a WeChat/WeCom API with the app's access token; on an expired or
    replaced token, refetch it and try once more."""

    def attempt(access_token: str) -> dict[str, Any]:
        data = post_json(url, payload, params={"access_token": access_token})
        check_errcode(data)
        return data

    return tokens.call_with_token(app, attempt)


def reply_fields(app: Any, content: bytes) -> dict[str, str]:
    """A passive reply's XML fields, decrypted when it is encrypted (test kits, the demo)."""
    document = xmltodict.parse(content, disable_entities=True)["xml"]
    if "Encrypt" in document:
        crypto = WeChatCrypto(app.credentials.token, app.credentials.encoding_aes_key, app.app_id)
        plaintext = crypto.decrypt_message(
            document["MsgSignature"], document["TimeStamp"], document["Nonce"], document["Encrypt"]
        )
        document = xmltodict.parse(plaintext, disable_entities=True)["xml"]
    return document
