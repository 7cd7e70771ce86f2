"""The Telegram bot channel: adapter, fixtures and tests."""

from .adapter import TelegramChannel

__all__ = ["TelegramChannel"]
