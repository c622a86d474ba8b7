"""The cache's data-only encoding: every fact backbone caches comes back equal, and
nothing but the exact expected shape decodes."""

from __future__ import annotations

import ast
import textwrap
import typing
from pathlib import Path

import msgspec
import pytest

from backbone.findings import (
    Confidence,
    Detail,
    Finding,
    Fix,
    Location,
    Measure,
    QueryRef,
    Severity,
)
from backbone.records import Record
from backbone.review.cache import CacheEntry, _facts_codec, _results_codec
from backbone.review.cache_codec import TypedCodec
from backbone.review.extraction import extract_module_facts
from backbone.review.frameworks.declarations import RouteDeclaration
from backbone.review.migrations.model import SelfMigrationKind
from backbone.review.orm.facts import ModelDeclaration
from backbone.review.project import ModuleFacts
from backbone.review.suppressions import Suppression

REPOSITORY = Path(__file__).resolve().parent.parent
SOURCES = [REPOSITORY / "tests" / "fixtures" / "projects", REPOSITORY / "examples"]


def _facts_of_the_fixture_projects() -> dict[str, ModuleFacts]:
    facts: dict[str, ModuleFacts] = {}
    for source in SOURCES:
        for path in sorted(source.rglob("*.py")):
            display = path.relative_to(REPOSITORY).as_posix()
            tree = ast.parse(path.read_bytes())
            module = ".".join(path.relative_to(source).with_suffix("").parts)
            facts[display] = extract_module_facts(tree, display, module, path.name == "__init__.py")
    return facts


def test_the_facts_of_real_projects_come_back_equal() -> None:
    facts = _facts_of_the_fixture_projects()
    kinds = {type(declaration) for module in facts.values() for declaration in (*module.routes, *module.models)}
    # Every kind of routing and model declaration is in the sample, so each is checked.
    assert kinds == {*typing.get_args(RouteDeclaration), *typing.get_args(ModelDeclaration)}
    assert _facts_codec().decode(_facts_codec().encode(facts)) == facts


def test_how_a_project_applies_its_own_migrations_comes_back_equal() -> None:
    source = textwrap.dedent("""\
        import sys

        from alembic import command
        from alembic.runtime.migration import MigrationContext
        from alembic.script import ScriptDirectory
        from django.core.management import call_command


        def upgrade(config):
            command.upgrade(config, "head")


        def run(connection):
            context = MigrationContext.configure(connection)
            context.run_migrations()


        def check(connection, config):
            if MigrationContext.configure(connection).get_current_heads() != ScriptDirectory.from_config(config).get_heads():
                sys.exit(1)


        call_command("migrate")
        call_command("runserver")
        """)
    facts = {"app/start.py": extract_module_facts(ast.parse(source), "app/start.py", "app.start", False)}
    assert {sign.kind for sign in facts["app/start.py"].self_migrations} == set(SelfMigrationKind)
    assert _facts_codec().decode(_facts_codec().encode(facts)) == facts


def test_results_come_back_equal() -> None:
    finding = Finding(
        "BB101", "silent-except", Severity.WARNING, Confidence.HIGH, Location("a.py", 4, 5, 4, 9), "message",
        Fix("Log it."), "    except Exception:", "digest", "a.load",
        Detail("profile", "GET /a", QueryRef("0123456789ab", "SELECT ?"), (Measure("count", 3), Measure("ms", 1.5)),
               ("evidence",)),
    )
    entries = {
        "a.py": CacheEntry("c1", (finding,), (Suppression(4, 20, frozenset({"BB101"}), "# noqa: BB101"),), "i", ()),
        "b.py": CacheEntry("c2", (), (Suppression(1, 1, None, "# backbone: ignore"),), "i", (finding,)),
    }
    assert _results_codec().decode(_results_codec().encode(entries)) == entries


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(b"", id="empty"),
        pytest.param(b"\xc1", id="invalid-byte"),
        pytest.param(b"\x91" * 100_000 + b"\xc0", id="deep-nesting"),
        pytest.param(b"\x81\xa1a" + b"\x91" * 100_000 + b"\xc0", id="deep-nesting-in-an-entry"),
        pytest.param(msgspec.msgpack.encode({"a.py": ["CacheEntry", "c", [], [], "i"]}), id="missing-field"),
        pytest.param(msgspec.msgpack.encode({"a.py": ["ModuleFacts", "c", [], [], "i", []]}), id="other-class"),
        pytest.param(msgspec.msgpack.encode({"a.py": ["CacheEntry", "c", [["Finding"]], [], "i", []]}), id="bad-finding"),
        pytest.param(msgspec.msgpack.encode({"a.py": ["CacheEntry", "c", [], [["Suppression", 1.5, 1, None, "t"]], "i", []]}),
                     id="float-for-int"),
        pytest.param(msgspec.msgpack.encode({"a.py": ["CacheEntry", 2**63, [], [], "i", []]}), id="huge-int-for-text"),
        pytest.param(b"\xdd\xff\xff\xff\xff", id="huge-declared-length"),
    ],
)
def test_anything_but_the_expected_shape_decodes_to_nothing(data: bytes) -> None:
    assert _results_codec().decode(data) is None


def test_an_unknown_enum_value_decodes_to_nothing() -> None:
    finding = Finding("BB101", "n", Severity.INFO, Confidence.LOW, Location("a.py", 1), "m")
    data = _results_codec().encode({"a.py": CacheEntry("c", (finding,), (), "i", ())})
    assert _results_codec().decode(data.replace(b"info", b"fate")) is None


class _Node(Record, frozen=True):
    children: tuple[_Node, ...]


class _Anything(Record, frozen=True):
    value: object


class _Plain(msgspec.Struct, frozen=True):
    value: str


@pytest.mark.parametrize("annotation", [object, typing.Any, _Node, _Anything, _Plain, dict[int, str], type])
def test_a_type_that_is_not_plain_data_cannot_be_cached(annotation: object) -> None:
    with pytest.raises(TypeError):
        TypedCodec(annotation)


def test_a_save_converts_only_the_entries_that_changed() -> None:
    """`EntriesCodec` takes the wire form of an unchanged entry as it was read, and converts the
    others: the file reads back what a full conversion would, and a replaced entry is written
    as it is now."""
    facts = _facts_of_the_fixture_projects()
    codec = _facts_codec()
    data = codec.encode(facts)
    decoded = codec.decode_keeping_wire(data)
    assert decoded is not None
    values, wire = decoded
    assert values == facts
    # Nothing changed: every wire form is reused, and the file reads back the same facts.
    again, reused = codec.encode_reusing_wire(values, wire)
    assert codec.decode(again) == facts
    assert all(reused[path] is wire[path] for path in wire)
    # One entry replaced (its wire form dropped, as `ReviewCache.put` does): only it is converted.
    path = next(iter(values))
    changed = dict(values)
    changed[path] = msgspec.structs.replace(values[path], module="replaced.module")
    known = {name: form for name, form in wire.items() if name != path}
    written, forms = codec.encode_reusing_wire(changed, known)
    assert codec.decode(written) == changed
    assert all(forms[name] is wire[name] for name in known)
    assert forms[path] is not wire[path]
    # An entry whose stale wire form were kept would be written as it was: `put` must drop it.
    stale, _ = codec.encode_reusing_wire(changed, wire)
    assert codec.decode(stale) == values


class _Slotted(Record, frozen=True):
    name: str
    items: tuple[int, ...]
    extra: frozenset[str] = frozenset()


class _Checked(Record, frozen=True):
    low: int
    high: int

    def __post_init__(self) -> None:
        if self.low > self.high:
            raise ValueError("low above high")


class _Outer(Record, frozen=True):
    inner: _Slotted


def test_decoded_records_are_those_their_init_would_build() -> None:
    """Records decode to equal values that hash alike and stay frozen; a record whose
    `__post_init__` refuses what it is given decodes to nothing."""
    codec = TypedCodec(dict[str, _Outer])
    value = {"a": _Outer(_Slotted("x", (1, 2), frozenset({"y"})))}
    decoded = codec.decode(codec.encode(value))
    assert decoded == value and decoded is not None
    assert type(decoded["a"].inner) is _Slotted and hash(decoded["a"].inner) == hash(value["a"].inner)
    with pytest.raises(AttributeError):
        decoded["a"].inner.name = "z"  # type: ignore[misc]
    checked = TypedCodec(tuple[_Checked, ...])
    assert checked.decode(checked.encode((_Checked(1, 2),))) == (_Checked(1, 2),)
    refused = msgspec.msgpack.encode([["_Checked", 3, 2]])
    assert checked.decode(refused) is None
