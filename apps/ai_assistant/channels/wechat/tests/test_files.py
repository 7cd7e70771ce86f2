"""The Official Account has no file message for customer-service messages: a report reaches
the user as a text with its caption and download link, through the stand-in over real HTTP."""

import pytest
from django.core.cache import cache

from apps.ai_assistant.channels import get_channel
from apps.ai_assistant.channels.base import NO_FILE_MESSAGES, PlatformError
from apps.ai_assistant.messages import IncomingMessage
from apps.ai_assistant.models import InboundMessage
from apps.ai_assistant.tests.channel_helpers import ChannelTestCase
from apps.ai_assistant.tests.file_helpers import DOWNLOAD_URL, file_entries, report, text_entries
from devtools import webhook_client


class TestWeChatFiles(ChannelTestCase):
    channel = "wechat"

    @pytest.fixture(autouse=True)
    def _files_setup(self, _channel_setup, platforms):
        cache.clear()
        self.platforms = platforms
        secret = webhook_client.testkit("wechat").platform_secret(self.app)
        platforms.state.register_app("wechat", self.app.app_id, secret)
        self.wechat = get_channel("wechat")
        self.bind_sender("wh1")
        yield
        cache.clear()

    def asked(self):
        self.reply_text(self.post_fixture("text_message"))
        inbound = InboundMessage.objects.get()
        return IncomingMessage.from_dict(inbound.message_data), inbound.reply_context

    def test_the_user_gets_the_caption_and_the_link_as_a_customer_service_text(self):
        message, context = self.asked()
        document = report()
        self.wechat.send_file(self.app, message, document, context, "1:2:0")
        [text] = text_entries(self.platforms, "wechat")
        assert (text["via"], text["recipient"]) == ("custom_send", "oWh1_stock_keeper_openid")
        assert text["text"] == f"{document.caption}\nsales-2026-12.xlsx: {DOWNLOAD_URL}"
        assert file_entries(self.platforms, "wechat") == []

    def test_without_a_link_it_is_a_permanent_error_that_names_the_file(self):
        message, context = self.asked()
        with pytest.raises(PlatformError) as raised:
            self.wechat.send_file(self.app, message, report(download_url=""), context)
        assert (raised.value.code, raised.value.retryable) == (NO_FILE_MESSAGES, False)
        assert "WeChat" in raised.value.message and "sales-2026-12.xlsx" in raised.value.message
        assert self.platforms.state.sent_messages("wechat") == []

    def test_a_caption_over_2048_bytes_is_split_and_the_link_stays_whole(self):
        message, context = self.asked()
        caption = "\n".join(f"SO-2026-{n:04d} 苏州恒通钣金有限公司 ¥386,000" for n in range(60))
        self.wechat.send_file(self.app, message, report(caption=caption), context, "1:2:0")
        parts = text_entries(self.platforms, "wechat")
        assert len(parts) > 1 and all(len(p["text"].encode()) <= 2048 for p in parts)
        assert parts[-1]["text"].endswith(f"sales-2026-12.xlsx: {DOWNLOAD_URL}")

    def test_an_expired_token_is_refreshed_once_for_the_link(self):
        message, context = self.asked()
        self.wechat.send(self.app, message, "warm", context)
        fetched = self.platforms.state.token_request_count("wechat", self.app.app_id)
        self.platforms.state.add_fault("wechat", "expired_token", endpoint="api")
        self.wechat.send_file(self.app, message, report(), context)
        assert self.platforms.state.token_request_count("wechat", self.app.app_id) == fetched + 1
        assert DOWNLOAD_URL in text_entries(self.platforms, "wechat")[-1]["text"]
