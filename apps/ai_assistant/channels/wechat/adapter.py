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

from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from apps.ai_assistant.channels.base import (
    Channel,
    ParsedWebhook,
    WebhookRejected,
    check_timestamp,
    parse_xml,
    register,
    xml_text,
)
from apps.ai_assistant.channels.chunking import WECHAT_TEXT_BYTES, utf8_length
from apps.ai_assistant.channels.tencent import (
    call_platform,
    crypto_for,
    message_from_fields,
    rejected,
    signed_ciphertext,
    text_reply_xml,
    xml_response,
)
from apps.ai_assistant.channels.tencent_crypto import CryptoError, signature, signature_matches
from apps.ai_assistant.messages import IncomingMessage, OutgoingMessage
from apps.ai_assistant.models import ChannelApp


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
