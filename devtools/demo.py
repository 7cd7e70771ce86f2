"""The local demo's chat apps and a sender of one demo message. DEVELOPMENT ONLY.

Every channel's test kit (apps/ai_assistant/channels/<name>/testkit.py) holds its demo app:
public, fixed and fake ids and secrets, so `make run-async` can register the same apps in the
ERP (`manage.py demo_channels`) and in the platforms stand-in (`python -m devtools.platforms`).
Never use them for a real bot.

    python -m devtools.demo platform-args          the stand-in's --app arguments
    python -m devtools.demo send [--channel wechat] [--user wh1] [--text "NZ-S1.5 库存"]

`send` signs the message as the platform would (the channel's test kit), posts it to the
running server (default http://127.0.0.1:8000), prints the webhook's answer (the "processing"
notice in async mode, the reply itself in sync mode) and then, by polling the stand-in's
/_control/sent, the reply the worker sent through the platform's API.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

DEFAULT_SERVER = "http://127.0.0.1:8000"
DEFAULT_PLATFORMS = "http://127.0.0.1:9100"


def _django() -> None:
    # The test kits use the channels' code, which lives in the Django app.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "better_laser_erp.settings")
    import logging

    import django

    django.setup()
    # The settings log INFO to the console; the requests this script makes are not news.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def channels() -> list[str]:
    """The chat platforms the stand-in plays (the web chat has no platform: it is the
    browser page, /chat/)."""
    from devtools.platforms import load_standins

    return sorted(load_standins())


def platform_args() -> list[str]:
    """`--app platform:app_id:secret[:agent_id]` for every demo app."""
    from devtools.webhook_client import testkit

    args = []
    for channel in channels():
        kit = testkit(channel)
        app = kit.demo_app()
        spec = f"{channel}:{app.app_id}:{kit.platform_secret(app)}"
        agent_id = getattr(app.credentials, "agent_id", "")
        if agent_id:
            spec += f":{agent_id}"
        args += ["--app", spec]
    return args


# --- sending ---------------------------------------------------------------------------


def _sent(platforms: str, channel: str, app_id: str, recipient: str) -> list[dict[str, Any]]:
    import httpx

    response = httpx.get(
        f"{platforms}/_control/sent", params={"platform": channel, "app": app_id}, timeout=5
    )
    response.raise_for_status()
    return [sent for sent in response.json() if sent.get("recipient") == recipient]


def _request_options(kit: Any, platforms: str, app: Any, sender: str) -> dict[str, Any]:
    """What the platform would add to this sender's message (a DingTalk sessionWebhook)."""
    prepare = getattr(kit, "prepare_demo_message", None)
    return prepare(platforms, app, sender) if prepare else {}


def send_demo_message(
    channel: str, user: str, text: str, server: str, platforms: str, wait: float
) -> int:
    import httpx

    from devtools import webhook_client

    kit = webhook_client.testkit(channel)
    app = kit.demo_app()
    sender = kit.DEMO_SENDERS[user]
    recipient = kit.recipient(sender)
    try:
        before = len(_sent(platforms, channel, app.app_id, recipient))
        options = _request_options(kit, platforms, app, sender)
    except httpx.HTTPError as error:
        print(f"The platforms stand-in at {platforms} does not answer ({error}).")
        print("Start the stack first: make run-async")
        return 1
    request = kit.text_request(app, sender, text, time.time_ns() // 1000, **options)
    print(f"{channel} user {sender} (bound to {user}) → {server}{request.path}: {text}")
    started = time.monotonic()
    try:
        response = webhook_client.send(server, request)
    except httpx.HTTPError as error:
        print(f"The ERP server at {server} does not answer ({error}). Is `make run-async` up?")
        return 1
    elapsed_ms = (time.monotonic() - started) * 1000
    if response.status_code != 200:
        print(f"webhook answer ({elapsed_ms:.0f} ms): HTTP {response.status_code}: {response.text}")
        return 1
    answer = kit.reply_text(app, response)
    shown = answer if answer is not None else "(nothing: the reply comes through the send API)"
    print(f"webhook answer ({elapsed_ms:.0f} ms): {shown}")
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        sent = _sent(platforms, channel, app.app_id, recipient)
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
    _django()
    parser = argparse.ArgumentParser(
        prog="python -m devtools.demo", description=__doc__.split("\n")[0]
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("platform-args", help="print the stand-in's --app arguments")
    send = commands.add_parser("send", help="send one signed demo message and show the reply")
    send.add_argument("--channel", choices=channels(), default="wechat")
    send.add_argument("--user", choices=("wh1", "sales1"), default="wh1")
    send.add_argument("--text", default="NZ-S1.5 库存")
    send.add_argument("--server", default=DEFAULT_SERVER, help=f"default {DEFAULT_SERVER}")
    send.add_argument("--platforms", default=DEFAULT_PLATFORMS, help=f"default {DEFAULT_PLATFORMS}")
    send.add_argument("--wait", type=float, default=60, help="seconds to wait for the reply")
    args = parser.parse_args(argv)
    if args.command == "platform-args":
        print(" ".join(platform_args()))
        return 0
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
