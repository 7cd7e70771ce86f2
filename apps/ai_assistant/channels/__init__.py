"""Chat channels. Every module in this package except the shared ones (base, chunking,
wechat_crypto, anything starting with "_") is a channel module registering itself with
`base.register`; importing the package imports them all, so adding a channel is adding a
module (and its fixtures)."""

import importlib
import pkgutil

from .base import CHANNELS, Channel, ParsedWebhook, PlatformError, WebhookRejected, get_channel

__all__ = [
    "CHANNELS",
    "Channel",
    "ParsedWebhook",
    "PlatformError",
    "WebhookRejected",
    "get_channel",
]

_NOT_CHANNEL_MODULES = {"base", "chunking", "wechat_crypto"}

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _NOT_CHANNEL_MODULES and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
