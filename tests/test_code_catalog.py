"""One code catalog: every code any command can report is listed by `backbone rules` and
documented by `backbone rule CODE` and the MCP `rule` tool.

The codes are collected from backbone's source, not from a list kept here: every string
literal that has the shape of a code, and the codes the contract catalogues number.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import backbone
from backbone.cli import main
from backbone.contract.checks import CHECKS
from backbone.contract.lint import RULES as CONTRACT_LINT_RULES
from backbone.contract.verify_rules import VERIFY_RULES
from backbone.report.command_codes import all_entries

SOURCE = Path(backbone.__file__).resolve().parent
CODE_SHAPE = re.compile(r"[A-Z]{2}[0-9]{3,4}")


def _literal_codes() -> dict[str, str]:
    """Code -> the first source file that names it as a string literal."""
    found: dict[str, str] = {}
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and CODE_SHAPE.fullmatch(node.value):
                found.setdefault(node.value, str(path.relative_to(SOURCE)))
    return found


def _emitted_codes() -> dict[str, str]:
    codes = _literal_codes()
    # The contract's checks and lint rules are numbered where they are declared (f"CT{number}").
    for item in (*CHECKS.values(), *CONTRACT_LINT_RULES.values(), *VERIFY_RULES.values()):
        codes.setdefault(item.code, "contract")
    return codes


# The modules that number codes in an f-string, each collected by `_emitted_codes` above.
# review/rules/__init__.py numbers the BB rules from their module names: they are the catalog itself.
NUMBERING_MODULES = {"contract/checks.py", "contract/lint.py", "contract/verify_rules.py", "review/rules/__init__.py"}


def test_every_module_that_numbers_codes_is_collected() -> None:
    """A code built as f"CT{n}" escapes the literal scan: its module must be collected above."""
    numbering: set[str] = set()
    for path in sorted(SOURCE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant)
                    and isinstance(node.values[0].value, str) and re.fullmatch(r"[A-Z]{2}", node.values[0].value)
                    and len(node.values) > 1 and isinstance(node.values[1], ast.FormattedValue)):
                numbering.add(str(path.relative_to(SOURCE)))
    assert numbering <= NUMBERING_MODULES, f"modules numbering codes that the catalog test does not collect: {sorted(numbering - NUMBERING_MODULES)}"


def test_the_collection_sees_every_command() -> None:
    prefixes = {code[:2] for code in _emitted_codes()}
    assert {"BB", "RT", "LG", "EX", "CT", "MT"} <= prefixes


def test_every_code_in_the_source_is_in_the_catalog() -> None:
    catalog = {entry.code for entry in all_entries()}
    missing = {code: where for code, where in _emitted_codes().items() if code not in catalog}
    assert missing == {}


def _run(capsys: pytest.CaptureFixture[str], *arguments: str) -> tuple[int, str]:
    code = main(list(arguments))
    return code, capsys.readouterr().out


def test_rules_lists_every_command_with_a_filter(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = _run(capsys, "rules", "--format", "json")
    assert code == 0
    listed = {row["code"]: row for row in json.loads(out)}
    assert set(_emitted_codes()) <= set(listed)
    assert {listed[code]["command"] for code in ("BB101", "RT101", "LG101", "EX101", "CT1001", "CT2001", "MT701")} \
        == {"review", "profile", "debug", "explain", "contract", "migrations"}
    assert listed["CT2001"]["family"] == "contract lint (`backbone contract lint`)"
    code, out = _run(capsys, "rules", "--command", "explain")
    codes = [line.split()[0] for line in out.splitlines()]
    assert code == 0 and codes == sorted(c for c in listed if c.startswith("EX"))
    assert all(" explain " in line for line in out.splitlines())
    code, out = _run(capsys, "rules", "--command", "migrations", "--command", "profile", "--format", "json")
    assert {row["code"][:2] for row in json.loads(out)} == {"MT", "RT"}


@pytest.mark.parametrize("wanted", ["RT101", "LG103", "EX110", "ex101", "CT1001", "CT2013", "MT701",
                                    "api-path-removed", "migration-failed"])
def test_rule_prints_every_command_code(capsys: pytest.CaptureFixture[str], wanted: str) -> None:
    code, out = _run(capsys, "rule", wanted, "--color", "never")
    assert code == 0
    for section in ("What it does", "Why is this bad?", "Use instead"):
        assert section in out
    assert "Reported by: backbone" in out
