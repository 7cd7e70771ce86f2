"""The WeChat Official Account channel: adapter, fixtures and tests."""

from .adapter import WeChatChannel

__all__ = ["WeChatChannel"]
