"""Chat channels. Every sub-package (`wechat/`, `telegram/`, ...) is one platform whose
adapter registers itself with `base.register`; importing this package imports them all, so
adding a channel is adding a folder. Plain modules here (base, chunking, tencent, ...) are
shared by several channels."""

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

for _module in pkgutil.iter_modules(__path__):
    if _module.ispkg and _module.name not in ("fixtures", "tests"):
        importlib.import_module(f"{__name__}.{_module.name}")
