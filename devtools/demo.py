"""The local demo's chat apps and a sender of one demo message. DEVELOPMENT ONLY.

The ids and secrets below are public, fixed and fake: they exist so `make run-async` can
register the same apps in the ERP (`manage.py demo_channels`) and in the platforms stand-in
(`python -m devtools.platforms`). Never use them for a real bot.

    python -m devtools.demo platform-args          the stand-in's --app arguments
    python -m devtools.demo send [--channel wechat] [--user wh1] [--text "NZ-S1.5 库存"]

`send` signs the message as the platform would (devtools.webhook_client), posts it to the
running server (default http://127.0.0.1:8000), prints the webhook's answer (the "processing"
notice in async mode, the reply itself in sync mode) and then, by polling the stand-in's
/_control/sent, the reply the worker sent through the platform's API.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from types import SimpleNamespace
from typing import Any

PLATFORM_CHANNELS = ("wechat", "wecom", "dingtalk", "telegram")

# One demo bot per platform (field use as in the ChannelApp docstring).
DEMO_APPS: dict[str, dict[str, str]] = {
    "wechat": {
        "app_id": "wxdemo0000000001",
        "name": "Demo WeChat Official Account (dev only)",
        "token": "demowechattoken",
        "encoding_aes_key": "DemoOnlyWeChatAesKeyNotForProduction0000000",
        "secret": "demo-wechat-app-secret",
    },
    "wecom": {
        "app_id": "wwdemo0000000001",
        "name": "Demo WeCom app (dev only)",
        "agent_id": "1000002",
        "token": "demowecomtoken",
        "encoding_aes_key": "DemoOnlyWeComAesKeyNotForProduction00000000",
        "secret": "demo-wecom-app-secret",
    },
    "dingtalk": {
        "app_id": "dingdemo0000000001",
        "name": "Demo DingTalk robot (dev only)",
        "secret": "demo-dingtalk-app-secret",
    },
    "telegram": {
        "app_id": "ble_demo_bot",
        "name": "Demo Telegram bot (dev only)",
        "token": "demo-telegram-webhook-secret",
        "secret": "100000001:DEMO-only-bot-token-not-real",
    },
}

# The demo chat accounts, per platform: the ERP user each one is bound to.
DEMO_IDENTITIES: dict[str, dict[str, str]] = {
    "wechat": {"wh1": "o_demo_wh1", "sales1": "o_demo_sales1"},
    "wecom": {"wh1": "demo.wh1", "sales1": "demo.sales1"},
    "dingtalk": {"wh1": "demo_wh1", "sales1": "demo_sales1"},
    "telegram": {"wh1": "700000001", "sales1": "700000002"},
}

DEFAULT_SERVER = "http://127.0.0.1:8000"
DEFAULT_PLATFORMS = "http://127.0.0.1:9100"


def demo_app(channel: str) -> SimpleNamespace:
    """The demo app as the webhook builders want it (no database needed)."""
    fields = {"agent_id": "", "token": "", "encoding_aes_key": "", **DEMO_APPS[channel]}
    return SimpleNamespace(channel=channel, **fields)


def platform_args() -> list[str]:
    """`--app platform:app_id:secret[:agent_id]` for every demo app."""
    args = []
    for channel, app in DEMO_APPS.items():
        spec = f"{channel}:{app['app_id']}:{app['secret']}"
        if app.get("agent_id"):
            spec += f":{app['agent_id']}"
        args += ["--app", spec]
    return args


# --- sending ---------------------------------------------------------------------------


def _django() -> None:
    # The request builders use the channels' crypto, which lives in the Django app.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "better_laser_erp.settings")
    import logging

    import django

    django.setup()
    # The settings log INFO to the console; the requests this script makes are not news.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def dingtalk_conversation(sender: str) -> str:
    return f"cidDemoSingleChat_{sender}"


def build_request(channel: str, sender: str, text: str, session_webhook: str = ""):
    from devtools import webhook_client

    app = demo_app(channel)
    unique = time.time_ns() // 1000
    if channel == "wechat":
        return webhook_client.wechat_text(app, sender, text, msg_id=unique, mode="safe")
    if channel == "wecom":
        return webhook_client.wecom_text(app, sender, text, msg_id=unique)
    if channel == "dingtalk":
        return webhook_client.dingtalk_text(
            app,
            sender,
            text,
            msg_id=f"msgdemo{unique}",
            conversation_id=dingtalk_conversation(sender),
            session_webhook=session_webhook,
        )
    return webhook_client.telegram_text(app, int(sender), text, update_id=unique // 1000)


def answer_text(channel: str, response) -> str:
    """What the webhook answered, readable: the passive reply's text, decrypted if needed."""
    if response.status_code != 200:
        return f"HTTP {response.status_code}: {response.text.strip()}"
    if channel in ("wechat", "wecom"):
        import xmltodict

        from apps.ai_assistant.channels.tencent_crypto import WeChatCrypto

        if response.content.strip() in (b"", b"success"):
            return response.text or "(empty)"
        document = xmltodict.parse(response.content, disable_entities=True)["xml"]
        if "Encrypt" in document:
            app = demo_app(channel)
            crypto = WeChatCrypto(app.token, app.encoding_aes_key, app.app_id)
            plaintext = crypto.decrypt_message(
                document["MsgSignature"],
                document["TimeStamp"],
                document["Nonce"],
                document["Encrypt"],
            )
            document = xmltodict.parse(plaintext, disable_entities=True)["xml"]
        return document.get("Content") or json.dumps(document, ensure_ascii=False)
    data = response.json() if response.content else {}
    if channel == "telegram" and isinstance(data, dict) and "text" in data:
        return data["text"]
    return json.dumps(data, ensure_ascii=False) + "  (the reply comes through the send API)"


def _sent(platforms: str, channel: str, recipient: str) -> list[dict[str, Any]]:
    import httpx

    response = httpx.get(
        f"{platforms}/_control/sent",
        params={"platform": channel, "app": DEMO_APPS[channel]["app_id"]},
        timeout=5,
    )
    response.raise_for_status()
    return [sent for sent in response.json() if sent.get("recipient") == recipient]


def _dingtalk_session(platforms: str, sender: str) -> str:
    """A sessionWebhook from the stand-in, as DingTalk puts one in every callback."""
    import httpx

    response = httpx.post(
        f"{platforms}/_control/sessions",
        json={
            "app_id": DEMO_APPS["dingtalk"]["app_id"],
            "conversation_id": dingtalk_conversation(sender),
            "user_id": sender,
        },
        timeout=5,
    )
    response.raise_for_status()
    return response.json()["url"]


def send_demo_message(
    channel: str, user: str, text: str, server: str, platforms: str, wait: float
) -> int:
    import httpx

    from devtools import webhook_client

    sender = DEMO_IDENTITIES[channel][user]
    # The stand-in records a DingTalk sessionWebhook reply under the conversation.
    recipient = dingtalk_conversation(sender) if channel == "dingtalk" else sender
    try:
        before = len(_sent(platforms, channel, recipient))
    except httpx.HTTPError as error:
        print(f"The platforms stand-in at {platforms} does not answer ({error}).")
        print("Start the stack first: make run-async")
        return 1
    session = _dingtalk_session(platforms, sender) if channel == "dingtalk" else ""
    request = build_request(channel, sender, text, session)
    print(f"{channel} user {sender} (bound to {user}) → {server}{request.path}: {text}")
    started = time.monotonic()
    try:
        response = webhook_client.send(server, request)
    except httpx.HTTPError as error:
        print(f"The ERP server at {server} does not answer ({error}). Is `make run-async` up?")
        return 1
    elapsed_ms = (time.monotonic() - started) * 1000
    print(f"webhook answer ({elapsed_ms:.0f} ms): {answer_text(channel, response)}")
    if response.status_code != 200:
        return 1
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        sent = _sent(platforms, channel, recipient)
        if len(sent) > before:
            print(f"reply sent through the {channel} API after {time.monotonic() - started:.1f} s:")
            for part in sent[before:]:
                print(part["text"])
            return 0
        time.sleep(0.2)
    print(
        f"No reply reached the stand-in within {wait:.0f} s. In sync mode the answer above is "
        "the reply; in async mode check the worker's log."
    )
    return 2


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devtools.demo", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("platform-args", help="print the stand-in's --app arguments")
    send = commands.add_parser("send", help="send one signed demo message and show the reply")
    send.add_argument("--channel", choices=PLATFORM_CHANNELS, default="wechat")
    send.add_argument("--user", choices=("wh1", "sales1"), default="wh1")
    send.add_argument("--text", default="NZ-S1.5 库存")
    send.add_argument("--server", default=DEFAULT_SERVER, help=f"default {DEFAULT_SERVER}")
    send.add_argument("--platforms", default=DEFAULT_PLATFORMS, help=f"default {DEFAULT_PLATFORMS}")
    send.add_argument("--wait", type=float, default=60, help="seconds to wait for the reply")
    args = parser.parse_args(argv)
    if args.command == "platform-args":
        print(" ".join(platform_args()))
        return 0
    _django()
    return send_demo_message(
        args.channel,
        args.user,
        args.text,
        args.server.rstrip("/"),
        args.platforms.rstrip("/"),
        args.wait,
    )


if __name__ == "__main__":
    sys.exit(main())
