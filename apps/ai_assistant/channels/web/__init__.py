"""The web chat channel (the assistant in the browser): adapter, test kit and tests."""

from .adapter import WebChannel

__all__ = ["WebChannel"]
