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

from typing import Any, Literal

from django.http import HttpRequest, HttpResponse

from apps.ai_assistant.channels.base import (
    Channel,
    Credentials,
    ParsedWebhook,
    PlatformError,
    WebhookRejected,
    check_timestamp,
    option_field,
    parse_xml,
    register,
    secret_field,
    xml_text,
)
from apps.ai_assistant.channels.chunking import WECHAT_TEXT_BYTES, utf8_length
from apps.ai_assistant.channels.tencent import (
    TOKEN_ERRCODES,
    call_platform,
    crypto_for,
    message_from_fields,
    rejected,
    signed_ciphertext,
    text_reply_xml,
    token_from_answer,
    xml_response,
)
from apps.ai_assistant.channels.tencent_crypto import CryptoError, signature, signature_matches
from apps.ai_assistant.messages import IncomingMessage, OutgoingMessage
from apps.ai_assistant.models import ChannelApp
from apps.ai_assistant.platform_http import platform_request

SECURITY_MODES = ("plaintext", "compatible", "safe")
PLAINTEXT_WARNING = (
    "{app} is in plaintext mode: its messages are signed by a signature that does not cover "
    "them, so anyone who sees one request's URL can send messages as your users for a few "
    "minutes. Switch the app to safe mode on the WeChat console and here."
)


class WeChatCredentials(Credentials):
    token: str = secret_field(
        "Token", "The Token of the server configuration (服务器配置) on the WeChat console."
    )
    encoding_aes_key: str = secret_field(
        "EncodingAESKey", "43 characters from the console; needed in compatible and safe mode."
    )
    app_secret: str = secret_field(
        "AppSecret", "Fetches the access token of the customer-service send API."
    )
    security_mode: Literal["plaintext", "compatible", "safe"] = option_field(
        "Security mode",
        "Message encryption (消息加解密方式), the same as on the console. In compatible and "
        "safe mode a message without Encrypt is refused; use safe.",
        default="safe",
    )

    def problems(self) -> list[str]:
        found = []
        if not self.token:
            found.append("The Token is required.")
        if self.security_mode != "plaintext" and len(self.encoding_aes_key) != 43:
            found.append("Compatible and safe mode need the 43-character EncodingAESKey.")
        return found


@register
class WeChatChannel(Channel):
    name = "wechat"
    label = "WeChat Official Account"
    text_limit = WECHAT_TEXT_BYTES
    measure = staticmethod(utf8_length)
    credentials = WeChatCredentials
    api_base_setting = "AI_ASSISTANT_WECHAT_API_BASE"
    default_api_base = "https://api.weixin.qq.com"
    fetches_access_tokens = True

    def warnings(self, app: ChannelApp) -> list[str]:
        if app.enabled and app.credentials.security_mode == "plaintext":
            return [PLAINTEXT_WARNING.format(app=app)]
        return []

    def fetch_access_token(self, app: ChannelApp, force: bool) -> tuple[Any, Any]:
        """The stable token: isolated from the classic one, not rotated by every fetch."""
        if not app.credentials.app_secret:
            raise PlatformError("no_secret", f"{app} has no AppSecret configured")
        response = platform_request(
            "POST",
            f"{self.api_base()}/cgi-bin/stable_token",
            json={
                "grant_type": "client_credential",
                "appid": app.app_id,
                "secret": app.credentials.app_secret,
                "force_refresh": bool(force),
            },
        )
        return token_from_answer(response)

    def is_token_error(self, error: PlatformError) -> bool:
        return error.code in TOKEN_ERRCODES

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
        mode = app.credentials.security_mode
        if not self._encrypted(request) and mode != "plaintext":
            # The plain signature does not cover the body: only Encrypt proves who wrote it.
            raise WebhookRejected(403, f"plaintext message refused in {mode} mode")
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
        idempotency_key: str = "",
    ) -> str:
        """Customer-service message (48 h window after the user's last message)."""
        payload = {
            "touser": message.external_user_id,
            "msgtype": "text",
            "text": {"content": text},
        }
        url = f"{self.api_base()}/cgi-bin/message/custom/send"
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
        if not app.credentials.token:
            raise WebhookRejected(403, "app has no token configured")
        if not signature_matches(signature(app.credentials.token, timestamp, nonce), given):
            raise WebhookRejected(403, "bad signature")
