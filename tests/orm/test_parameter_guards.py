"""Code under a test of a parameter with a constant default, and the calls that reach it: the one
evaluation (`guards.bind`, `Binding.reaches`) that BB201's chains, the contract effects and the
serialized reads share."""

from __future__ import annotations

import ast
import textwrap

import pytest
from orm_test_support import index_of

from backbone.review.guards import (
    Guard,
    Needs,
    Value,
    bind,
    call_arguments,
    constant_defaults,
    guarded_nodes,
)
from backbone.review.orm import query_chain
from backbone.review.orm.access import parameter_guards
from backbone.review.orm.facts import ParameterGuard
from backbone.review.semantic import own_nodes

_CLEAN_TAG = """
from django.db import models


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)


def clean_tag(name, look_in_db=True):
    if look_in_db:
        return Tag.objects.filter(name=name).first()
    return name.strip()


def ensure_roots(path, roots=None, strict=0):
    roots = roots or [tag.name for tag in Tag.objects.all()]
    if strict is not None:
        Tag.objects.filter(name=path).exists()
    return roots
"""


def _function(source: str, name: str) -> ast.FunctionDef:
    found = next(node for node in ast.walk(ast.parse(textwrap.dedent(source))) if isinstance(node, ast.FunctionDef) and node.name == name)
    assert isinstance(found, ast.FunctionDef)
    return found


def _query_guards(function: ast.FunctionDef) -> tuple[ParameterGuard, ...]:
    return parameter_guards(function, own_nodes(function), guarded_nodes(function))


def _call(source: str) -> ast.Call:
    call = ast.parse(source, mode="eval").body
    assert isinstance(call, ast.Call)
    return call


def test_a_guard_says_which_value_of_a_defaulted_parameter_runs_the_code() -> None:
    function = _function(_CLEAN_TAG, "clean_tag")
    # A true default is a constant default like any other: its test guards the query.
    assert constant_defaults(function) == (("look_in_db", Value.TRUE),)
    assert [(guard.line, guard.guard) for guard in _query_guards(function)] == [
        (11, Guard("look_in_db", Needs.TRUE)),
        (11, Guard("look_in_db", Needs.TRUE)),
    ]
    guards = {guard.guard for guard in _query_guards(_function(_CLEAN_TAG, "ensure_roots"))}
    assert guards == {Guard("roots", Needs.FALSE), Guard("strict", Needs.NOT_NONE)}


@pytest.mark.parametrize(
    ("call", "runs"),
    [
        ("clean_tag(name)", True),
        ("clean_tag(name, look_in_db=True)", True),
        ("clean_tag(name, True)", True),
        ("clean_tag(name, look_in_db=1)", True),
        ("clean_tag(name, look_in_db=lookup)", True),
        ("clean_tag(name, look_in_db=options.lookup)", True),
        ("clean_tag(name, **options)", True),
        ("clean_tag(name, look_in_db=False)", False),
        ("clean_tag(name, False)", False),
        ("clean_tag(name, look_in_db=None)", False),
        ("clean_tag(name, look_in_db='')", False),
    ],
)
def test_a_call_reaches_the_query_as_the_value_it_passes_says(call: str, runs: bool) -> None:
    function = _function(_CLEAN_TAG, "clean_tag")
    guards = [guard.guard for guard in _query_guards(function)]
    binding = bind(call_arguments(_call(call)), ("name", "look_in_db"), constant_defaults(function))
    assert binding.reaches(guards) is runs


@pytest.mark.parametrize(
    ("call", "roots", "strict"),
    [
        # Left out: `roots` is None, so `roots or load()` loads; `strict` is 0, not None.
        ("ensure_roots(path)", True, True),
        # An optional parameter passed something the source doesn't fix is taken as a value.
        ("ensure_roots(path, roots)", False, True),
        ("ensure_roots(path, roots=[])", True, True),
        ("ensure_roots(path, strict=None)", True, False),
        ("ensure_roots(path, strict=flag)", True, True),
    ],
)
def test_none_and_false_defaults_and_tests_of_none(call: str, roots: bool, strict: bool) -> None:
    function = _function(_CLEAN_TAG, "ensure_roots")
    binding = bind(call_arguments(_call(call)), ("path", "roots", "strict"), constant_defaults(function))
    assert binding.reaches([Guard("roots", Needs.FALSE)]) is roots
    assert binding.reaches([Guard("strict", Needs.NOT_NONE)]) is strict


def test_a_caller_passes_its_own_fixed_parameter_on() -> None:
    caller = bind(call_arguments(_call("outer(row, include=False)")), ("row", "include"), (("include", Value.TRUE),))
    inner = bind(call_arguments(_call("inner(row, include)")), ("row", "include"), (("include", Value.TRUE),), caller)
    assert not inner.reaches([Guard("include", Needs.TRUE)])
    assert inner.reaches([Guard("include", Needs.FALSE)])


def test_query_chain_follows_a_call_only_into_the_branch_its_constant_argument_takes() -> None:
    index = index_of({"app/__init__.py": "", "app/tags.py": _CLEAN_TAG})
    for call, reaches in [
        ("clean_tag(name)", True),
        ("clean_tag(name, look_in_db=True)", True),
        ("clean_tag(name, look_in_db=lookup)", True),
        ("clean_tag(name, look_in_db=False)", False),
        ("clean_tag(name, False)", False),
    ]:
        chain = query_chain(index, "app.tags.clean_tag", call_arguments(_call(call)))
        assert (chain is not None) is reaches, call
    # Arguments unknown: the query may run.
    assert query_chain(index, "app.tags.clean_tag") is not None


_REBOUND = """
from django.db import models


class Tag(models.Model):
    name = models.CharField(max_length=40, unique=True)


def cached_tag(name, cached=True):
    if name not in CACHE:
        cached = False
    if not cached:
        return Tag.objects.filter(name=name).first()
    return CACHE[name]


def tags_under(root, paths=None):
    if paths is None:
        paths = [tag.name for tag in Tag.objects.all()]
    if paths:
        Tag.objects.filter(name__in=paths).delete()
    return paths


def retried(name, first=True):
    for _ in range(3):
        if not first:
            Tag.objects.filter(name=name).exists()
        first = False
"""


def test_a_test_of_a_parameter_bound_again_guards_nothing_after_the_binding() -> None:
    # Once the function binds the parameter again, a test of it reads the new value: what the
    # caller passed no longer decides. A test before the binding (`if paths is None: paths = ...`)
    # still does; in a loop that binds it, the next round reads the new value.
    def guards(name: str) -> set[tuple[int, Guard]]:
        return {(guard.line, guard.guard) for guard in _query_guards(_function(_REBOUND, name))}

    assert guards("cached_tag") == set()
    assert guards("tags_under") == {(19, Guard("paths", Needs.NONE))}
    assert guards("retried") == set()


@pytest.mark.parametrize(
    ("call", "runs"),
    [("lookup(name)", True), ("lookup(name, strict=True)", False), ("lookup(name, strict=mode)", True)],
)
def test_a_variable_passed_to_a_flag_that_defaults_to_false_may_hold_either(call: str, runs: bool) -> None:
    # Only a None default makes a passed variable "a value": a flag's variable may be false.
    function = _function("def lookup(name, strict=False):\n    if not strict:\n        query(name)\n", "lookup")
    guards = [guard.guard for guard in _query_guards(function)]
    assert guards == [Guard("strict", Needs.FALSE)]
    binding = bind(call_arguments(_call(call)), ("name", "strict"), constant_defaults(function))
    assert binding.reaches(guards) is runs


_BOUND_BY_BLOCKS = """
def opened(path, flag=True):
    with open(path) as flag:
        if flag:
            g()


def caught(item=None):
    try:
        pass
    except ValueError as item:
        if item is None:
            h()


def comprehended(flag=True):
    names = [flag for flag in rows]
    if flag:
        k(names)


def load():
    return []


def loaded(paths=None):
    paths = paths or load()
    return paths
"""


@pytest.mark.parametrize(
    ("function", "called", "guards"),
    [
        # `with ... as flag:` and `except ... as item:` bind the parameter again from the top of their
        # block: the test inside reads the new value.
        ("opened", "g", ()),
        ("caught", "h", ()),
        # A comprehension's target is its own name, not the parameter.
        ("comprehended", "k", (Guard("flag", Needs.TRUE),)),
        # The right of `paths or load()` runs when `paths` is false, for calls as for queries.
        ("loaded", "load", (Guard("paths", Needs.FALSE),)),
    ],
)
def test_one_reading_of_guards_for_every_node(function: str, called: str, guards: tuple[Guard, ...]) -> None:
    node = _function(_BOUND_BY_BLOCKS, function)
    [call] = [inner for inner in ast.walk(node) if isinstance(inner, ast.Call) and isinstance(inner.func, ast.Name) and inner.func.id == called]
    assert guarded_nodes(node).get(id(call), ()) == guards
    assert guarded_nodes(node, own_nodes(node)).get(id(call), ()) == guards


def test_a_call_under_or_is_skipped_for_a_caller_that_passes_the_value() -> None:
    # CallSite.guards come from the same reading: `ensure(path, roots)` doesn't reach `load()`.
    index = index_of({"app/__init__.py": "", "app/tags.py": _BOUND_BY_BLOCKS})
    [site] = [call for call in index.functions["app.tags.loaded"].calls if call.callee.endswith("load")]
    assert site.guards == (Guard("paths", Needs.FALSE),)
    assert not bind(call_arguments(_call("loaded(roots)")), ("paths",), (("paths", Value.NONE),)).reaches(site.guards)
