"""Point a Telegram bot's webhook at this server: setWebhook with our secret token, then show
getWebhookInfo.

    manage.py telegram_set_webhook --app better_laser_erp_bot [--drop-pending-updates] \\
        --url https://erp.example.com/webhooks/telegram/better_laser_erp_bot/

The app's `token` is the secret Telegram sends back in X-Telegram-Bot-Api-Secret-Token on
every update; one is generated (and saved) when the app has none.
"""

from __future__ import annotations

import json
import re
import secrets
from urllib.parse import urlsplit

from django.core.management.base import BaseCommand, CommandError

from apps.ai_assistant.channels.base import PlatformError, get_channel
from apps.ai_assistant.channels.telegram.adapter import telegram_error
from apps.ai_assistant.models import ChannelApp
from apps.ai_assistant.platform_http import platform_request

SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
ALLOWED_UPDATES = ["message", "edited_message"]
WEBHOOK_PORTS = (443, 80, 88, 8443)


class Command(BaseCommand):
    help = "Set a Telegram bot's webhook (with its secret token) and print getWebhookInfo."

    def add_arguments(self, parser):
        parser.add_argument("--app", required=True, help="the Telegram ChannelApp's app_id")
        parser.add_argument("--url", required=True, help="public HTTPS URL of the webhook")
        parser.add_argument(
            "--drop-pending-updates",
            action="store_true",
            help="discard updates Telegram has queued for the bot",
        )

    def handle(self, *args, app: str, url: str, drop_pending_updates: bool, **options):
        chat_app = ChannelApp.objects.filter(channel="telegram", app_id=app).first()
        if chat_app is None:
            raise CommandError(f"no Telegram app {app!r}")
        if not chat_app.credentials.bot_token:
            raise CommandError(f"Telegram app {app!r} has no bot token")
        parts = urlsplit(url)
        if parts.scheme != "https" or not parts.hostname:
            raise CommandError("--url must be an https:// URL")
        if (parts.port or 443) not in WEBHOOK_PORTS:
            raise CommandError("Telegram delivers webhooks to ports 443, 80, 88 and 8443 only")
        if not SECRET_TOKEN.match(chat_app.credentials.webhook_secret):
            chat_app.configure(webhook_secret=secrets.token_urlsafe(48))
            chat_app.save(update_fields=["secrets"])
            self.stdout.write("Generated a new webhook secret token for the app.")

        self._call(
            chat_app,
            "setWebhook",
            {
                "url": url,
                "secret_token": chat_app.credentials.webhook_secret,
                "allowed_updates": ALLOWED_UPDATES,
                "drop_pending_updates": drop_pending_updates,
            },
        )
        self.stdout.write(self.style.SUCCESS(f"Webhook of {app} set to {url}"))
        info = self._call(chat_app, "getWebhookInfo", {})
        self.stdout.write(json.dumps(info, ensure_ascii=False, indent=2))

    def _call(self, chat_app: ChannelApp, method: str, payload: dict) -> dict:
        channel = get_channel("telegram")
        bot_token = chat_app.credentials.bot_token
        try:
            response = platform_request(
                "POST", f"{channel.api_base()}/bot{bot_token}/{method}", json=payload
            )
        except PlatformError as error:
            raise CommandError(f"{method} failed: {error}") from error
        data = response.data if isinstance(response.data, dict) else {}
        if response.status_code != 200 or data.get("ok") is not True:
            raise CommandError(f"{method} failed: {telegram_error(response.status_code, data)}")
        return data.get("result")
