"""The registry knows rules by file name; the file names must agree with the classes."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import subprocess
import sys
from pathlib import Path

import backbone.review.rules as rules_package
from backbone.review.rules import all_rules
from backbone.review.rules.base import Rule


def test_each_rule_module_defines_its_rule_with_the_code_and_name_of_its_file() -> None:
    registry = all_rules()
    assert len(registry) >= 2
    for code, rule in registry.items():
        assert rule.code == code
        assert rule.name == registry.name_of(code)
        assert rule.__module__ == registry.module_of(code)


def test_no_rule_class_hides_in_a_module_the_registry_does_not_know() -> None:
    registered = set(all_rules().values())
    for info in pkgutil.walk_packages(rules_package.__path__, prefix=f"{rules_package.__name__}."):
        module = importlib.import_module(info.name)
        for _, value in inspect.getmembers(module, inspect.isclass):
            if issubclass(value, Rule) and value is not Rule and value.__module__ == module.__name__:
                assert value in registered, f"{value} is in {info.name}, which is not named bbNNN_<name>.py"


def test_a_fully_cached_review_loads_no_rule(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("def f():\n    try:\n        g()\n    except Exception:\n        pass\n")
    script = (
        "import sys; from backbone.cli import main;"
        f"main(['review', {str(tmp_path)!r}, '--format', 'json', '--exit-zero']);"
        "print(sorted(m for m in sys.modules if m.startswith('backbone.review.rules.') and '.bb' in m))"
    )
    first = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert "bb101_silent_except" in first.stdout.splitlines()[-1]
    second = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert second.stdout.splitlines()[-1] == "[]"
