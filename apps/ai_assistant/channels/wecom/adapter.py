"""WeCom (企业微信) self-built app: everything encrypted, receive_id = CorpID (docs/channels.md §2).

- GET: URL verification; msg_signature over the encrypted echostr, which decrypts (with the
  CorpID as receive_id) to the plaintext we return, nothing added.
- POST: msg_signature over `Encrypt`, timestamp window, decrypt; the decrypted ToUserName must
  be our CorpID and AgentID our agent (when the app has one configured).
- Messages and events map as for the Official Account (user = UserID); the passive reply is
  always encrypted, and parts beyond the first go through message/send.
- Nothing to say: an empty body.
- Files: POST /cgi-bin/media/upload?type=file (multipart field `media`, the filename in its
  Content-Disposition) → media_id (valid 3 days), then message/send with msgtype "file" to the
  same user, as the same agent, after the caption as text. WeCom takes files of 5 bytes to
  20 MB; its size errcodes (40006, 45001) send the link instead. Tokens as for text.
"""

from __future__ import annotations

import hmac
from typing import Any

from django.http import HttpRequest, HttpResponse

from apps.ai_assistant.channels import tokens
from apps.ai_assistant.channels.base import (
    FILE_TOO_LARGE,
    MEBIBYTE,
    Channel,
    Credentials,
    ParsedWebhook,
    PlatformError,
    WebhookRejected,
    check_timestamp,
    option_field,
    parse_xml,
    part_key,
    post_multipart,
    register,
    secret_field,
    xml_text,
)
from apps.ai_assistant.channels.chunking import WECOM_TEXT_BYTES, utf8_length
from apps.ai_assistant.channels.tencent import (
    TOKEN_ERRCODES,
    call_platform,
    check_errcode,
    crypto_for,
    message_from_fields,
    rejected,
    signed_ciphertext,
    text_reply_xml,
    token_from_answer,
    xml_response,
)
from apps.ai_assistant.channels.tencent_crypto import CryptoError
from apps.ai_assistant.messages import IncomingMessage, OutgoingFile, OutgoingMessage
from apps.ai_assistant.models import ChannelApp
from apps.ai_assistant.platform_http import platform_request

# Temporary media of type file: 5 bytes to 20 MB. Errcodes about the size: 40006 (invalid file
# size) and 45001 (media over the size limit).
MAX_FILE_BYTES = 20 * MEBIBYTE
MIN_FILE_BYTES = 5
FILE_SIZE_ERRCODES = {40006, 45001}


class WeComCredentials(Credentials):
    agent_id: str = option_field(
        "AgentId", "The self-built app's AgentId; messages for another agent are refused."
    )
    token: str = secret_field("Token", "The Token of the app's “receive messages” API settings.")
    encoding_aes_key: str = secret_field(
        "EncodingAESKey", "43 characters from the same settings (WeCom always encrypts)."
    )
    secret: str = secret_field("Secret", "The app's Secret, for the message/send access token.")

    def problems(self) -> list[str]:
        found = []
        if not self.token:
            found.append("The Token is required.")
        if len(self.encoding_aes_key) != 43:
            found.append("The EncodingAESKey (43 characters) is required.")
        return found


@register
class WeComChannel(Channel):
    name = "wecom"
    label = "WeCom"
    text_limit = WECOM_TEXT_BYTES
    measure = staticmethod(utf8_length)
    credentials = WeComCredentials
    api_base_setting = "AI_ASSISTANT_WECOM_API_BASE"
    default_api_base = "https://qyapi.weixin.qq.com"
    fetches_access_tokens = True
    max_file_bytes = MAX_FILE_BYTES
    min_file_bytes = MIN_FILE_BYTES

    def fetch_access_token(self, app: ChannelApp, force: bool) -> tuple[Any, Any]:
        if not app.credentials.secret:
            raise PlatformError("no_secret", f"{app} has no Secret configured")
        response = platform_request(
            "GET",
            f"{self.api_base()}/cgi-bin/gettoken",
            params={"corpid": app.app_id, "corpsecret": app.credentials.secret},
        )
        return token_from_answer(response)

    def is_token_error(self, error: PlatformError) -> bool:
        return error.code in TOKEN_ERRCODES

    def handshake(self, request: HttpRequest, app: ChannelApp) -> HttpResponse:
        query = self._signed_query(request)
        echostr = request.GET.get("echostr")
        if not echostr:
            raise WebhookRejected(400, "missing echostr")
        try:
            plaintext = crypto_for(app, app.app_id).decrypt_message(*query, echostr)
        except CryptoError as error:
            raise rejected(error) from error
        return HttpResponse(plaintext.encode("utf-8"), content_type="text/plain")

    def verify(self, request: HttpRequest, app: ChannelApp) -> None:
        msg_signature, timestamp, nonce = self._signed_query(request)
        check_timestamp(timestamp)
        encrypted = signed_ciphertext(request.body)
        try:
            crypto_for(app, app.app_id).check_signature(msg_signature, timestamp, nonce, encrypted)
        except CryptoError as error:
            raise rejected(error) from error

    def parse(self, request: HttpRequest, app: ChannelApp) -> ParsedWebhook:
        encrypted = xml_text(parse_xml(request.body), "Encrypt")
        try:
            plaintext = crypto_for(app, app.app_id).decrypt(encrypted)
        except CryptoError as error:
            raise rejected(error) from error
        fields = parse_xml(plaintext.encode("utf-8"))
        to_user = xml_text(fields, "ToUserName")
        if not hmac.compare_digest(to_user.encode(), app.app_id.encode()):
            raise WebhookRejected(403, "message is for another corp")
        agent_id = xml_text(fields, "AgentID", required=False)
        own_agent = app.credentials.agent_id
        if own_agent and agent_id and agent_id != own_agent:
            raise WebhookRejected(403, "message is for another agent")
        return message_from_fields(self.name, fields, {"encrypted": True})

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
        reply_xml = text_reply_xml(parsed.message.external_user_id, app.app_id, first_part)
        return xml_response(crypto_for(app, app.app_id).encrypt_reply(reply_xml))

    def send(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        text: str,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        """message/send to the user, as the app's agent."""
        payload = {
            **self._addressee(app, message),
            "msgtype": "text",
            "text": {"content": text},
            "safe": 0,
        }
        url = f"{self.api_base()}/cgi-bin/message/send"
        data = call_platform(app, url, payload)
        return str(data.get("msgid", ""))

    def _addressee(self, app: ChannelApp, message: IncomingMessage) -> dict[str, Any]:
        agent_id = app.credentials.agent_id
        return {
            "touser": message.external_user_id,
            "agentid": int(agent_id) if agent_id.isdigit() else agent_id,
        }

    def send_file_message(
        self,
        app: ChannelApp,
        message: IncomingMessage,
        document: OutgoingFile,
        reply_context: dict[str, Any],
        idempotency_key: str = "",
    ) -> str:
        """Upload the file as temporary media, the caption as text, then a file message."""
        media_id = self._upload(app, document)
        for index, part in enumerate(self.split(document.caption)):
            self.send(app, message, part, reply_context, part_key(idempotency_key, index + 1))
        payload = {
            **self._addressee(app, message),
            "msgtype": "file",
            "file": {"media_id": media_id},
            "safe": 0,
        }
        data = call_platform(app, f"{self.api_base()}/cgi-bin/message/send", payload)
        return str(data.get("msgid", ""))

    def _upload(self, app: ChannelApp, document: OutgoingFile) -> str:
        """POST /cgi-bin/media/upload?type=file; the media_id."""
        url = f"{self.api_base()}/cgi-bin/media/upload"
        files = {"media": (document.filename, document.content, document.content_type)}

        def attempt(access_token: str) -> str:
            params = {"access_token": access_token, "type": "file"}
            data = post_multipart(url, files, params=params)
            if data.get("errcode") in FILE_SIZE_ERRCODES:
                raise PlatformError(FILE_TOO_LARGE, str(data.get("errmsg", ""))[:200])
            check_errcode(data)
            media_id = data.get("media_id")
            if not isinstance(media_id, str) or not media_id:
                raise PlatformError("bad_response", "the upload answer has no media_id", True)
            return media_id

        return tokens.call_with_token(app, attempt)

    def _signed_query(self, request: HttpRequest) -> tuple[str, str, str]:
        msg_signature = request.GET.get("msg_signature", "")
        timestamp = request.GET.get("timestamp", "")
        nonce = request.GET.get("nonce", "")
        if not msg_signature or not timestamp or not nonce:
            raise WebhookRejected(403, "missing signature")
        return msg_signature, timestamp, nonce
