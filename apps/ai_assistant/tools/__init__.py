"""ERP tools of the assistant. Every module in this package except registry and lookup is a
tool module; importing the package imports them all, so adding a tool is adding a module."""

import importlib
import pkgutil

_NOT_TOOL_MODULES = {"registry", "lookup"}

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in _NOT_TOOL_MODULES and not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
