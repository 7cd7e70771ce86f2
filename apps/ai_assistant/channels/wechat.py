"""WeChat Official Account (公众号): plain, compatible and safe mode (docs/channels.md §1).

- GET: URL verification with the plain signature; echostr comes back unchanged.
- POST: the plain `signature` is checked on every request, plus `msg_signature` over
  `Encrypt` when `encrypt_type=aes` (compatible and safe mode; then the decrypted XML is what
  counts, the plaintext fields of a compatible-mode body are ignored). The timestamp must lie
  within AI_ASSISTANT_WEBHOOK_MAX_AGE_SECONDS. An app in compatible or safe mode refuses a
  body without Encrypt; in plaintext mode the signature, which does not cover the body, is
  bound to the first body it came with (webhook_proofs.py).
- Text → IncomingMessage (user and conversation = the OpenID, de-dup key MsgId).
  subscribe → message_type "event", content "subscribe" (the handler greets);
  unsubscribe and other events → nothing to answer. Image/voice/... → message_type = MsgType
  (the handler says only text is understood). Event de-dup key: "FromUserName:CreateTime:Event".
- Passive reply: XML with To/From swapped, encrypted when the request was. It carries only the
  first part of a reply longer than 2048 bytes; the other parts go through the customer-service
  API (`send`), which the webhook view calls once the passive answer has been written.
- Nothing to say: `success`.
"""

from __future__ import annotations

import re
import time
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.ai_assistant.channels.base import (
    Channel,
    ParsedWebhook,
    PlatformError,
    WebhookRejected,
    check_timestamp,
    datetime_from,
    parse_xml,
    post_json,
    register,
    xml_text,
)
from apps.ai_assistant.channels.chunking import WECHAT_TEXT_BYTES, utf8_length
from apps.ai_assistant.channels.wechat_crypto import (
    CryptoError,
    WeChatCrypto,
    signature,
    signature_matches,
)
from apps.ai_assistant.messages import IncomingMessage, OutgoingMessage
from apps.ai_assistant.models import ChannelApp

# Events that get an answer (a greeting); every other event is acknowledged silently.
ANSWERED_EVENTS = {"subscribe"}
# Platform errcodes meaning "token expired or replaced": refetch and retry once.
TOKEN_ERRCODES = {40001, 40014, 42001}
# Transient platform errcodes: busy / rate limited.
RETRYABLE_ERRCODES = {-1, 45009, 45011}


def rejected(error: CryptoError) -> WebhookRejected:
    return WebhookRejected(error.status, error.reason)


def crypto_for(app: ChannelApp, receive_id: str) -> WeChatCrypto:
    try:
        return WeChatCrypto(app.token, app.encoding_aes_key, receive_id)
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


@register
class WeChatChannel(Channel):
    name = "wechat"
    text_limit = WECHAT_TEXT_BYTES
    measure = staticmethod(utf8_length)

    def handshake(self, request: HttpRequest, app: ChannelApp) -> HttpResponse:
        # No timestamp window here: the answer only echoes the platform's own nonce string.
        self._check_plain_signature(request, app)
        echostr = request.GET.get("echostr")
        if not echostr:
            raise WebhookRejected(400, "missing echostr")
        return HttpResponse(echostr, content_type="text/plain")

    def verify(self, request: HttpRequest, app: ChannelApp) -> None:
        self._check_plain_signature(request, app)
        check_timestamp(request.GET.get("timestamp"))
        if not self._encrypted(request) and not app.accepts_plaintext:
            # The plain signature does not cover the body: only Encrypt proves who wrote it.
            raise WebhookRejected(403, f"plaintext message refused in {app.security_mode} mode")
        if self._encrypted(request):
            encrypted = signed_ciphertext(request.body)
            crypto = crypto_for(app, app.app_id)
            try:
                crypto.check_signature(
                    request.GET.get("msg_signature"),
                    request.GET["timestamp"],
                    request.GET["nonce"],
                    encrypted,
                )
            except CryptoError as error:
                raise rejected(error) from error

    def unbound_proof(self, request: HttpRequest, app: ChannelApp) -> str | None:
        if self._encrypted(request):
            return None  # msg_signature covers Encrypt, the only part that is trusted
        return ":".join(request.GET.get(name, "") for name in ("timestamp", "nonce", "signature"))

    def parse(self, request: HttpRequest, app: ChannelApp) -> ParsedWebhook:
        fields = parse_xml(request.body)
        encrypted = self._encrypted(request)
        if encrypted:
            try:
                plaintext = crypto_for(app, app.app_id).decrypt(xml_text(fields, "Encrypt"))
            except CryptoError as error:
                raise rejected(error) from error
            fields = parse_xml(plaintext.encode("utf-8"))
        return message_from_fields(self.name, fields, {"encrypted": encrypted})

    def acknowledge(self, request: HttpRequest, app: ChannelApp) -> HttpResponse:
        return HttpResponse(b"success", content_type="text/plain")

    def render_reply(
        self,
        request: HttpRequest,
        app: ChannelApp,
        parsed: ParsedWebhook,
        reply: OutgoingMessage | None,
    ) -> HttpResponse:
        if reply is None or parsed.message is None:
            return self.acknowledge(request, app)
        first_part, _ = self.passive_parts(reply.content)
        context = parsed.reply_context
        reply_xml = text_reply_xml(
            parsed.message.external_user_id, context.get("account", ""), first_part
        )
        if context.get("encrypted"):
            reply_xml = crypto_for(app, app.app_id).encrypt_reply(reply_xml)
        return xml_response(reply_xml)

    def send(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        text: str,
        reply_context: dict[str, Any],
    ) -> str:
        """Customer-service message (48 h window after the user's last message)."""
        payload = {
            "touser": message.external_user_id,
            "msgtype": "text",
            "text": {"content": text},
        }
        url = f"{settings.AI_ASSISTANT_WECHAT_API_BASE}/cgi-bin/message/custom/send"
        data = call_platform(app, url, payload)
        return str(data.get("msgid", ""))

    def _encrypted(self, request: HttpRequest) -> bool:
        return request.GET.get("encrypt_type", "raw") == "aes"

    def _check_plain_signature(self, request: HttpRequest, app: ChannelApp) -> None:
        timestamp = request.GET.get("timestamp", "")
        nonce = request.GET.get("nonce", "")
        given = request.GET.get("signature")
        if not given or not timestamp or not nonce:
            raise WebhookRejected(403, "missing signature")
        if not signature_matches(signature(app.token, timestamp, nonce), given):
            raise WebhookRejected(403, "bad signature")


def call_platform(app: ChannelApp, url: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST `payload` to a WeChat/WeCom API with the app's access token; on an expired or
    replaced token, refetch it and try once more."""
    from apps.ai_assistant import tokens

    def attempt(access_token: str) -> dict[str, Any]:
        data = post_json(url, payload, params={"access_token": access_token})
        check_errcode(data)
        return data

    return tokens.call_with_token(app, attempt)
