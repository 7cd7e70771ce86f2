"""The Feishu (Lark) channel: adapter, test kit, stand-in part, fixtures and tests."""

from .adapter import FeishuChannel

__all__ = ["FeishuChannel"]
