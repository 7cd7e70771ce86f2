"""The DingTalk app robot channel: adapter, fixtures and tests."""

from .adapter import DingTalkChannel

__all__ = ["DingTalkChannel"]
