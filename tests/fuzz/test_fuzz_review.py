"""Property tests for `backbone review`: on generated Python, fixture projects mutated by
statement deletion, duplication, swaps, transplants and renames, deeply nested expressions
and arbitrary bytes, the review never fails internally, writes strict JSON and reports
every file Python cannot parse as BB000.

Short, deterministic runs (short_run); bench/fuzz.py runs the same strategies for an hour.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fuzz_cases import (
    check_review,
    deep_expression,
    generated_module,
    is_valid_python,
    mutated_fixture,
    python_file,
    python_project,
    short_run,
    text_mutated_python,
)
from hypothesis import example, given
from hypothesis import strategies as st

MIXED_VIEWSET = b"""\
from django.views.generic import FormView
from rest_framework import routers
from rest_framework.viewsets import GenericViewSet


class Mixed(GenericViewSet, FormView):
    pass


router = routers.DefaultRouter()
router.register(r"mixed", Mixed, basename="mixed")
"""
# Inputs that made review fail on main when the fuzz suite was written: each stays an explicit case.
KNOWN_PROJECTS = {
    "calls 300 deep": {"deep.py": b"x = a" + b"()" * 300 + b"\n"},
    "subscripts 300 deep": {"deep.py": b"x = a" + b"[0]" * 300 + b"\n"},
    "attributes 400 deep": {"deep.py": b"x = a" + b".b" * 400 + b"\n"},
    "additions 1000 long": {"deep.py": b"x = a" + b" + a" * 1000 + b"\n"},
    "viewset mixed with a generic view": {"views.py": MIXED_VIEWSET},
    "file name not UTF-8": {"\udcff.py": b"x = 1\n"},
}


@pytest.fixture
def workdir() -> Iterator[Path]:
    # One directory for all the examples of a test: each example rewrites the project.
    with tempfile.TemporaryDirectory(prefix="backbone-fuzz-") as directory:
        yield Path(directory)


@short_run(20)
@given(python_project(max_files=3))
def test_review_of_generated_and_mutated_projects(workdir: Path, files: dict[str, bytes]) -> None:
    check_review(workdir, files)


@short_run(12)
@given(st.lists(mutated_fixture(), min_size=1, max_size=4))
def test_review_of_mutated_fixture_files(workdir: Path, mutations: list[tuple[str, str]]) -> None:
    check_review(workdir, {path: text.encode() for path, text in mutations})


@short_run(12)
@given(st.lists(st.one_of(generated_module(), text_mutated_python()), min_size=1, max_size=3))
def test_review_of_generated_modules_and_broken_ones(workdir: Path, sources: list[str]) -> None:
    check_review(workdir, {f"m{index}.py": source.encode("utf-8", "surrogateescape")
                           for index, source in enumerate(sources)})


@short_run(10)
@given(deep_expression(600), st.sampled_from(("x = {}\n", "def f():\n    return {}\n", "{}\n",
                                                "async def f():\n    await {}\n", "for a in {}:\n    pass\n")))
def test_review_of_deeply_nested_expressions(workdir: Path, expression: str, statement: str) -> None:
    check_review(workdir, {"deep.py": statement.format(expression).encode()})


@short_run(15)
@given(st.lists(st.one_of(st.binary(max_size=500), python_file()), min_size=1, max_size=3))
@example([b"\xff\xfe\x00x"])
@example([b"# coding: nope\nx = 1\n"])
@example([b"x = (" * 250 + b"1" + b")" * 250])
def test_review_of_arbitrary_bytes(workdir: Path, contents: list[bytes]) -> None:
    check_review(workdir, {f"b{index}.py": data for index, data in enumerate(contents)})


@pytest.mark.parametrize("name", sorted(KNOWN_PROJECTS))
def test_review_on_inputs_that_once_failed(workdir: Path, name: str) -> None:
    check_review(workdir, KNOWN_PROJECTS[name])


def test_the_bb000_oracle_follows_python() -> None:
    # The oracle itself: a file needs a BB000 exactly when Python cannot parse it.
    assert is_valid_python(b"x = 1\n") and is_valid_python(b"\xef\xbb\xbfx = '\\d'\n")
    for data in (b"def f(:\n", b"x = 1\x00\n", b"\xff\n", b"# coding: nope\n", b"x = (" * 250 + b")" * 250):
        assert not is_valid_python(data), data
