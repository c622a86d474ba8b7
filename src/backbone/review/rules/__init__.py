"""The rule registry: every `Rule` subclass under this package, keyed by code."""

from __future__ import annotations

import functools
import importlib
import pkgutil

from backbone.review.rules.base import Rule

# Codes the engine itself reports; they are listed with the catalog but have no rule class.
ENGINE_CODES: dict[str, tuple[str, str]] = {
    "BB000": ("unreadable-file", "A file could not be read or parsed, so it was not reviewed."),
    "BB001": ("unused-suppression", "A suppression comment that suppresses nothing (--report-unused-suppressions)."),
}


@functools.cache
def all_rules() -> dict[str, type[Rule]]:
    """Import every rule module once and return the rule classes sorted by code."""
    found: dict[str, type[Rule]] = {}
    for module_info in pkgutil.walk_packages(__path__, prefix=f"{__name__}."):
        if module_info.ispkg or module_info.name.endswith(".base"):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, Rule) and value is not Rule and value.__module__ == module.__name__:
                if value.code in found:
                    raise RuntimeError(f"two rules claim {value.code}: {found[value.code]} and {value}")
                found[value.code] = value
    return dict(sorted(found.items()))
