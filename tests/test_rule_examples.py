"""Every rule's own VALID and INVALID examples, as tests (a rule cannot exist without proof)."""

from __future__ import annotations

import re
import textwrap

import pytest

from backbone.review.checker import check_source
from backbone.review.rules import all_rules
from backbone.review.rules.base import Rule

_EXPECT = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")


def expected_lines(snippet: str, code: str) -> list[int]:
    lines = []
    for number, line in enumerate(snippet.splitlines(), start=1):
        match = _EXPECT.search(line)
        if match and code in re.split(r"\s*,\s*", match.group("codes")):
            lines.append(number)
    return lines


def _cases(kind: str) -> list[object]:
    cases: list[object] = []
    for code, rule in all_rules().items():
        for number, snippet in enumerate(getattr(rule, kind), start=1):
            cases.append(pytest.param(rule, textwrap.dedent(snippet), id=f"{code}-{kind.lower()}-{number}"))
    return cases


def test_every_rule_has_examples_of_both_kinds() -> None:
    for code, rule in all_rules().items():
        assert rule.VALID, f"{code} has no VALID examples"
        assert rule.INVALID, f"{code} has no INVALID examples"
        for snippet in rule.INVALID:
            assert expected_lines(textwrap.dedent(snippet), code), f"{code}: an INVALID example marks no line"


@pytest.mark.parametrize(("rule", "snippet"), _cases("VALID"))
def test_valid_example_is_quiet(rule: type[Rule], snippet: str) -> None:
    findings = check_source(snippet, (rule.code,), path=rule.example_path)
    assert [(f.line, f.message) for f in findings] == []


@pytest.mark.parametrize(("rule", "snippet"), _cases("INVALID"))
def test_invalid_example_is_reported_on_the_marked_lines(rule: type[Rule], snippet: str) -> None:
    findings = check_source(snippet, (rule.code,), path=rule.example_path)
    assert [f.line for f in findings] == expected_lines(snippet, rule.code)
    for finding in findings:
        assert finding.code == rule.code
        assert finding.message.endswith(".") and finding.message[0].isupper()
