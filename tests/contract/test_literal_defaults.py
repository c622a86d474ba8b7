"""A field's default is read off the tree as data: literals become JSON, anything else none."""

from __future__ import annotations

import ast

from backbone.contract.models import _literal_default


def default(source: str) -> object:
    return _literal_default(ast.parse(source, mode="eval").body, None)


def test_literals_become_json_values() -> None:
    assert default("3") == 3
    assert default("-1.5") == -1.5
    assert default("True") is True
    assert default("'a'") == "a"
    assert default("(1, 2)") == [1, 2]
    assert default("{'k': [None, 'x']}") == {"k": [None, "x"]}


def test_anything_that_would_need_evaluating_is_no_default() -> None:
    for source in ("os.environ['X']", "compute()", "2 ** 100000", "'a' * 10**9", "b'raw'", "{1, 2}", "...", "{1: 'a'}", "-'a'"):
        assert default(source) is None, source


def test_a_default_nested_deeper_than_the_limit_is_no_default() -> None:
    assert default("[" * 40 + "]" * 40) is None
    assert default("[[[1]]]") == [[[1]]]


def test_a_field_call_gives_its_first_argument_or_default_keyword() -> None:
    call = ast.parse("Field(default=[1])", mode="eval").body
    assert isinstance(call, ast.Call)
    assert _literal_default(call, call) == [1]
