"""The WeCom (企业微信) self-built app channel: adapter, fixtures and tests."""

from .adapter import WeComChannel

__all__ = ["WeComChannel"]
