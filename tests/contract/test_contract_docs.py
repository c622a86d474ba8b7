"""docs/contract.md lists every diff check, lint rule and verify rule with its code and level."""

from __future__ import annotations

from pathlib import Path

from backbone.contract.checks import CHECKS
from backbone.contract.lint import RULES
from backbone.contract.verify import VERIFY_RULES

DOC = Path(__file__).resolve().parents[2] / "docs" / "contract.md"


def test_every_check_and_rule_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for entry in [*CHECKS.values(), *RULES.values(), *VERIFY_RULES.values()]:
        assert f"| {entry.code} | `{entry.id}` | {entry.level.value} |" in text, entry.id
