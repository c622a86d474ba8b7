"""The rule registry: every rule module under this package, keyed by code.

A rule lives in `<family>/bbNNN_<name>.py` (`failure/bb101_silent_except.py` is BB101
silent-except). The registry knows the codes and names from the file names alone and
imports a rule's module only when the rule is used, so a review whose files all come
from the cache starts without loading any rule (tests check that file names and
classes agree).
"""

from __future__ import annotations

import functools
import importlib
import os
import re
from collections.abc import Iterator, Mapping

from backbone.review.rules.base import Rule

# Codes the engine itself reports; they are listed with the catalog but have no rule class.
ENGINE_CODES: dict[str, tuple[str, str]] = {
    "BB000": ("unreadable-file", "A file could not be read or parsed, so it was not reviewed."),
    "BB001": ("unused-suppression", "A suppression comment that suppresses nothing (--report-unused-suppressions)."),
}

RULE_MODULE = re.compile(r"^bb(?P<number>\d{3})_(?P<name>[a-z0-9_]+)\.py$")


class RuleRegistry(Mapping[str, type[Rule]]):
    """Code -> rule class, sorted by code; each rule module is imported on first use."""

    def __init__(self, modules: dict[str, tuple[str, str]]) -> None:
        # code -> (module name, rule name)
        self._modules = dict(sorted(modules.items()))
        self._loaded: dict[str, type[Rule]] = {}

    def __getitem__(self, code: str) -> type[Rule]:
        if code not in self._loaded:
            module_name, _ = self._modules[code]
            module = importlib.import_module(module_name)
            classes = [
                value
                for value in vars(module).values()
                if isinstance(value, type) and issubclass(value, Rule) and value.__module__ == module_name
            ]
            if len(classes) != 1 or classes[0].code != code:
                raise RuntimeError(f"{module_name} must define exactly one rule class, with code {code}")
            self._loaded[code] = classes[0]
        return self._loaded[code]

    def __iter__(self) -> Iterator[str]:
        return iter(self._modules)

    def __len__(self) -> int:
        return len(self._modules)

    def __contains__(self, code: object) -> bool:
        return code in self._modules

    def add(self, rule: type[Rule]) -> None:
        """Register a rule class defined elsewhere (a plugin, or a test's own rule)."""
        self._modules[rule.code] = (rule.__module__, rule.name)
        self._loaded[rule.code] = rule

    def remove(self, code: str) -> None:
        self._modules.pop(code, None)
        self._loaded.pop(code, None)

    def name_of(self, code: str) -> str:
        """The rule's name, from its module's file name (no import)."""
        return self._modules[code][1]

    def module_of(self, code: str) -> str:
        return self._modules[code][0]


@functools.cache
def all_rules() -> RuleRegistry:
    """Every rule of the catalog, found by file name under this package."""
    modules: dict[str, tuple[str, str]] = {}
    for family in sorted(os.scandir(os.path.dirname(__file__)), key=lambda entry: entry.name):
        if not family.is_dir() or family.name.startswith(("_", ".")):
            continue
        for entry in sorted(os.scandir(family.path), key=lambda item: item.name):
            match = RULE_MODULE.match(entry.name)
            if match is None:
                continue
            code = f"BB{match.group('number')}"
            if code in modules:
                raise RuntimeError(f"two rule modules claim {code}: {modules[code][0]} and {entry.path}")
            module_name = f"{__name__}.{family.name}.{entry.name[:-3]}"
            modules[code] = (module_name, match.group("name").replace("_", "-"))
    return RuleRegistry(modules)
