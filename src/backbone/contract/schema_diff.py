"""Comparing two JSON schemas of the same place in an API (a parameter, a request or response body).

The direction decides what breaks: a request schema may only accept more (a client's old
requests must still pass), a response schema may only promise more (a client's old
assumptions must still hold). `$ref`s are followed with a guard against cycles, allOf is
merged, oneOf/anyOf alternatives are matched by their `$ref` name (else their position) and
compared, `nullable: true` and 3.1's `type: [..., "null"]` mean the same.
"""

from __future__ import annotations

import msgspec

from backbone.contract.changes import ChangeSink
from backbone.contract.checks import LOWER_BOUNDS, RESPONSE_KIND, UPPER_BOUNDS
from backbone.contract.spec import (
    JSONObject,
    Resolver,
    as_list,
    as_object,
    as_str,
    ref_name,
)
from backbone.records import Record

MAX_DEPTH = 32
_NUMERIC = {"integer", "number"}


class Shape(Record, frozen=True):
    """A schema with references followed and allOf merged: what the comparison looks at."""

    raw: JSONObject
    types: frozenset[str]
    nullable: bool
    ref: str | None
    properties: dict[str, object]
    required: frozenset[str]


def _types(schema: JSONObject) -> tuple[set[str], bool]:
    declared = schema.get("type")
    names = {declared} if isinstance(declared, str) else {str(item) for item in as_list(declared)}
    nullable = "null" in names or schema.get("nullable") is True
    names.discard("null")
    return names, nullable


def shape(value: object, resolver: Resolver, depth: int = 0) -> Shape:
    plain_ref = as_str(value.get("$ref")) if isinstance(value, dict) and len(value) == 1 else None
    if plain_ref is not None:
        cached = resolver.memo.get(plain_ref)
        if isinstance(cached, Shape):
            return cached
        resolver.memo[plain_ref] = Shape({}, frozenset(), False, plain_ref, {}, frozenset())  # a cycle meets an empty shape
        made = _shape(value, resolver, depth)
        resolver.memo[plain_ref] = made
        return made
    return _shape(value, resolver, depth)


def _shape(value: object, resolver: Resolver, depth: int) -> Shape:
    schema, ref = resolver.deref(value)
    types, nullable = _types(schema)
    properties = dict(as_object(schema.get("properties")))
    required = {item for item in as_list(schema.get("required")) if isinstance(item, str)}
    merged = dict(schema)
    if depth < MAX_DEPTH:
        for part in as_list(schema.get("allOf")):
            inner = shape(part, resolver, depth + 1)
            for key, item in inner.properties.items():
                properties.setdefault(key, item)
            required |= inner.required
            types |= inner.types
            for key, item in inner.raw.items():
                merged.setdefault(key, item)
        # `anyOf: [X, {type: null}]` (pydantic's Optional[X]) is a nullable X.
        for keyword in ("anyOf", "oneOf"):
            variants = as_list(schema.get(keyword))
            concrete = [item for item in variants if resolver.deref(item)[0].get("type") != "null"]
            if len(variants) == 2 and len(concrete) == 1:
                inner = shape(concrete[0], resolver, depth + 1)
                rest = {key: item for key, item in merged.items() if key != keyword}
                return Shape({**inner.raw, **rest}, inner.types | frozenset(types), True, inner.ref or ref,
                             {**inner.properties, **properties}, inner.required | frozenset(required))
    return Shape(merged, frozenset(types), nullable, ref, properties, frozenset(required))


class SchemaComparison(msgspec.Struct):
    sink: ChangeSink
    base: Resolver
    head: Resolver
    seen: set[tuple[str, str, str]] = msgspec.field(default_factory=set)

    def compare(self, base_value: object, head_value: object, kind: str, where: str, depth: int = 0) -> None:
        """Compare the schemas at `where` ("request body", "parameter `limit`") of `kind`."""
        if depth > MAX_DEPTH:
            return
        base, head = shape(base_value, self.base), shape(head_value, self.head)
        if base.ref and head.ref:
            key = (base.ref, head.ref, kind)
            if key in self.seen:
                return
            self.seen.add(key)
        request = kind != RESPONSE_KIND
        self._types(base, head, kind, where, request)
        self._format(base, head, kind, where)
        self._enum(base, head, kind, where)
        self._nullable(base, head, kind, where, request)
        self._bounds(base, head, kind, where, request)
        if request:
            self._pattern_and_default(base, head, kind, where)
        self._properties(base, head, kind, where, request, depth)
        base_items, head_items = base.raw.get("items"), head.raw.get("items")
        if isinstance(base_items, dict) and isinstance(head_items, dict):
            self.compare(base_items, head_items, kind, f"{where}[]", depth + 1)
        for keyword, part in (("oneOf", "one-of"), ("anyOf", "any-of")):
            self._alternatives(base, head, keyword, part, kind, where, request, depth)

    def _types(self, base: Shape, head: Shape, kind: str, where: str, request: bool) -> None:
        if not base.types or not head.types or base.types == head.types:
            return
        old, new = "/".join(sorted(base.types)), "/".join(sorted(head.types))
        covered = all(name in head.types or (name == "integer" and "number" in head.types) for name in base.types)
        if request and covered:
            self.sink.emit(f"{kind}-type-widened", f"{where}: type widened from {old} to {new}")
        else:
            self.sink.emit(f"{kind}-type-changed", f"{where}: type changed from {old} to {new}")

    def _format(self, base: Shape, head: Shape, kind: str, where: str) -> None:
        old, new = as_str(base.raw.get("format")), as_str(head.raw.get("format"))
        if old and new and old != new and not ({old, new} <= {"int32", "int64"} and old == "int32"):
            self.sink.emit(f"{kind}-format-changed", f"{where}: format changed from {old} to {new}")

    def _enum(self, base: Shape, head: Shape, kind: str, where: str) -> None:
        if not isinstance(base.raw.get("enum"), list) or not isinstance(head.raw.get("enum"), list):
            return
        old, new = as_list(base.raw["enum"]), as_list(head.raw["enum"])
        removed = [value for value in old if value not in new]
        added = [value for value in new if value not in old]
        if removed:
            check = f"{kind}-enum-value-removed"
            self.sink.emit(check, f"{where}: enum value(s) {_values(removed)} removed")
        if added:
            check = f"{kind}-enum-value-added"
            self.sink.emit(check, f"{where}: enum value(s) {_values(added)} added")

    def _nullable(self, base: Shape, head: Shape, kind: str, where: str, request: bool) -> None:
        if request and base.nullable and not head.nullable:
            self.sink.emit(f"{kind}-became-not-nullable", f"{where}: no longer accepts null")
        if not request and head.nullable and not base.nullable:
            self.sink.emit(f"{kind}-became-nullable", f"{where}: can now be null")

    def _bounds(self, base: Shape, head: Shape, kind: str, where: str, request: bool) -> None:
        for keyword, name in UPPER_BOUNDS:
            old, new = _number(base.raw, keyword), _number(head.raw, keyword)
            label = name.replace("-", " ")
            if request and new is not None and old is not None and new < old:
                self.sink.emit(f"{kind}-{name}-decreased", f"{where}: {label} lowered from {old:g} to {new:g}")
            elif request and new is not None and old is None:
                self.sink.emit(f"{kind}-{name}-set", f"{where}: {label} {new:g} set")
            elif not request and old is not None and new is not None and new > old:
                self.sink.emit(f"{kind}-{name}-increased", f"{where}: {label} raised from {old:g} to {new:g}")
            elif not request and old is not None and new is None:
                self.sink.emit(f"{kind}-{name}-removed", f"{where}: {label} {old:g} removed")
        for keyword, name in LOWER_BOUNDS:
            old, new = _number(base.raw, keyword), _number(head.raw, keyword)
            label = name.replace("-", " ")
            if request and new is not None and old is not None and new > old:
                self.sink.emit(f"{kind}-{name}-increased", f"{where}: {label} raised from {old:g} to {new:g}")
            elif request and new is not None and old is None:
                self.sink.emit(f"{kind}-{name}-set", f"{where}: {label} {new:g} set")
            elif not request and old is not None and new is not None and new < old:
                self.sink.emit(f"{kind}-{name}-decreased", f"{where}: {label} lowered from {old:g} to {new:g}")
            elif not request and old is not None and new is None:
                self.sink.emit(f"{kind}-{name}-removed", f"{where}: {label} {old:g} removed")

    def _pattern_and_default(self, base: Shape, head: Shape, kind: str, where: str) -> None:
        old, new = as_str(base.raw.get("pattern")), as_str(head.raw.get("pattern"))
        if new is not None and old is None:
            self.sink.emit(f"{kind}-pattern-added", f"{where}: must now match {new!r}")
        elif new is not None and old is not None and new != old:
            self.sink.emit(f"{kind}-pattern-changed", f"{where}: pattern changed from {old!r} to {new!r}")
        if "default" in base.raw and "default" in head.raw and base.raw["default"] != head.raw["default"]:
            old_default, new_default = _values([base.raw["default"]]), _values([head.raw["default"]])
            self.sink.emit(f"{kind}-default-changed", f"{where}: default changed from {old_default} to {new_default}")

    def _properties(self, base: Shape, head: Shape, kind: str, where: str, request: bool, depth: int) -> None:
        for name, value in head.properties.items():
            place = f"{where}.{name}" if where else name
            if name not in base.properties:
                if request and name in head.required and _writable(value, self.head):
                    self.sink.emit("new-required-request-property", f"{place}: new required property")
                elif request and _writable(value, self.head):
                    self.sink.emit("new-optional-request-property", f"{place}: new optional property")
                elif not request and _readable(value, self.head):
                    self.sink.emit("response-property-added", f"{place}: new property")
                continue
            was_required, is_required = name in base.required, name in head.required
            if request and is_required and not was_required and _writable(value, self.head):
                self.sink.emit("request-property-became-required", f"{place}: became required")
            elif request and was_required and not is_required:
                self.sink.emit("request-property-became-optional", f"{place}: became optional")
            elif not request and was_required and not is_required and _readable(value, self.head):
                self.sink.emit("response-property-became-optional", f"{place}: became optional")
            elif not request and is_required and not was_required:
                self.sink.emit("response-property-became-required", f"{place}: became required")
            nested = "request-property" if request else RESPONSE_KIND
            self.compare(base.properties[name], value, nested, place, depth + 1)
        for name, value in base.properties.items():
            if name in head.properties:
                continue
            place = f"{where}.{name}" if where else name
            if request and _writable(value, self.base):
                self.sink.emit("request-property-removed", f"{place}: property removed")
            elif not request and _readable(value, self.base):
                check = "response-required-property-removed" if name in base.required else "response-optional-property-removed"
                self.sink.emit(check, f"{place}: {'required' if name in base.required else 'optional'} property removed")
        if request and base.raw.get("additionalProperties") is not False and head.raw.get("additionalProperties") is False:
            self.sink.emit("request-additional-properties-disallowed", f"{where}: additional properties no longer accepted")

    def _alternatives(
        self, base: Shape, head: Shape, keyword: str, part: str, kind: str, where: str, request: bool, depth: int
    ) -> None:
        old = _keyed(as_list(base.raw.get(keyword)), self.base)
        new = _keyed(as_list(head.raw.get(keyword)), self.head)
        if not old or not new:
            return
        if request:
            for key in old:
                if key not in new:
                    self.sink.emit(f"{kind}-{part}-removed", f"{where}: {keyword} alternative {key} no longer accepted")
        else:
            for key in new:
                if key not in old:
                    self.sink.emit(f"{kind}-{part}-added", f"{where}: new {keyword} alternative {key}")
        for key, value in new.items():
            if key in old:
                self.compare(old[key], value, kind, f"{where}<{key}>", depth + 1)


def _keyed(variants: list[object], resolver: Resolver) -> dict[str, object]:
    """oneOf/anyOf alternatives by their `$ref` name, else their title, else their position."""
    keyed: dict[str, object] = {}
    for position, variant in enumerate(variants):
        schema = as_object(variant)
        name = ref_name(as_str(schema.get("$ref"))) or as_str(resolver.deref(variant)[0].get("title"))
        keyed[name or f"#{position}"] = variant
    return keyed


def _writable(value: object, resolver: Resolver) -> bool:
    return resolver.deref(value)[0].get("readOnly") is not True


def _readable(value: object, resolver: Resolver) -> bool:
    return resolver.deref(value)[0].get("writeOnly") is not True


def _number(schema: JSONObject, keyword: str) -> float | None:
    value = schema.get(keyword)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


def _short(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _values(values: list[object]) -> str:
    shown = ", ".join(_short(repr(value)) for value in values[:5])
    return shown + (f" and {len(values) - 5} more" if len(values) > 5 else "")
