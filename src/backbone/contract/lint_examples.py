"""Examples and defaults checked against their schemas (`example-valid`), with the `jsonschema` library.

Where an OpenAPI document gives a value of a schema: a media type's or a parameter's (or
header's) `example` and `examples.*.value`, and a schema's own `default`, `example` and
(OpenAPI 3.1) `examples`. OpenAPI 3.1 schemas are JSON Schema 2020-12; 3.0 (and Swagger 2)
schemas are read as draft 4, with `nullable: true` letting `null` through. `$ref`s resolve
inside the document only: nothing is fetched, and a reference that does not resolve is
`ref-resolves`'s to report, not this rule's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import jsonschema  # type: ignore[import-untyped, unused-ignore]
from jsonschema.exceptions import ValidationError  # type: ignore[import-untyped, unused-ignore]
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

from backbone.contract.spec import HTTP_METHODS, JSONObject, Resolver, as_object
from backbone.records import Record
from backbone.redaction import mask

_BASE = "urn:backbone:contract"
_MAX_DEPTH = 200
_MAX_MESSAGE = 200
# Keywords whose value is a schema, a list of schemas, or a map of names to schemas.
_ONE = ("items", "additionalProperties", "not", "contains", "if", "then", "else", "propertyNames",
        "unevaluatedItems", "unevaluatedProperties", "additionalItems", "contentSchema")
_LIST = ("allOf", "anyOf", "oneOf", "prefixItems")
_MAP = ("properties", "patternProperties", "dependentSchemas", "$defs", "definitions")


class InvalidExample(Record, frozen=True):
    pointer: str  # JSON pointer of the value's owner in the document
    what: str  # "example", "examples.paid.value", "default"...
    message: str


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _nullable_draft4() -> Any:
    """Draft 4 where a schema with `nullable: true` accepts null (OpenAPI 3.0)."""
    def allowing_null(check: Any) -> Any:
        def run(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
            if instance is None and isinstance(schema, dict) and schema.get("nullable") is True:
                return iter(())
            return check(validator, value, instance, schema)
        return run

    base = jsonschema.Draft4Validator
    wrapped = {keyword: allowing_null(check) for keyword, check in base.VALIDATORS.items()}
    return jsonschema.validators.extend(base, wrapped)


class _Checker:
    def __init__(self, spec: JSONObject) -> None:
        version = str(spec.get("openapi") or "")
        self.swagger = "swagger" in spec
        self.modern = version.startswith("3.1") or version.startswith("3.2")
        specification = DRAFT202012 if self.modern else DRAFT4
        self.validator_class: Any = jsonschema.Draft202012Validator if self.modern else _nullable_draft4()
        self.format_checker = (jsonschema.Draft202012Validator if self.modern else jsonschema.Draft4Validator).FORMAT_CHECKER
        resource = Resource.from_contents(spec, default_specification=specification)
        self.registry: Registry[Any] = Registry().with_resource(_BASE, resource)

    def first_error(self, schema_pointer: str, instance: object) -> str | None:
        """Why `instance` is not valid against the schema at `schema_pointer`, or None when it is
        (or when the schema cannot be used: a broken schema is not the example's fault)."""
        entry = {"$ref": f"{_BASE}#{quote(schema_pointer, safe='/~')}"}
        try:
            validator = self.validator_class(entry, registry=self.registry, format_checker=self.format_checker)
            error: ValidationError | None = jsonschema.exceptions.best_match(validator.iter_errors(instance))
        except RecursionError:
            return None
        except Exception:  # noqa: BLE001 - an unusable schema (unknown type, unresolvable $ref) is another rule's problem
            return None
        if error is None:
            return None
        where = "/".join(str(part) for part in error.absolute_path)
        text = " ".join(error.message.split())
        text = text if len(text) <= _MAX_MESSAGE else text[:_MAX_MESSAGE] + "..."
        return mask(text + (f" (at {where})" if where else ""))


def walk(spec: JSONObject) -> Iterator[tuple[str, dict[Any, Any], bool]]:
    """Every object of the document with its JSON pointer and whether it is a schema; the
    values of `example`, `default`, `enum`, `const` and extensions are data, not walked."""
    seen: set[int] = set()
    stack: list[tuple[object, str, bool, int]] = [(spec, "", False, 0)]  # node, pointer, is a schema, depth
    while stack:
        node, pointer, is_schema, depth = stack.pop()
        if not isinstance(node, dict) or depth > _MAX_DEPTH or id(node) in seen:
            continue
        seen.add(id(node))
        yield pointer, node, is_schema
        if is_schema:
            stack.extend(_subschemas(node, pointer, depth))
            continue
        named = pointer.startswith("/components/") and pointer.count("/") == 2  # a map of names: any name is fine
        for key, value in node.items():
            key = str(key)
            if key in ("example", "examples", "default", "enum", "const") or key.startswith("x-"):
                continue
            child = f"{pointer}/{_escape(key)}"
            if key == "schema" and not named:
                stack.append((value, child, True, depth + 1))
            elif (key == "schemas" and pointer == "/components") or (key == "definitions" and pointer == ""):
                stack.extend((item, f"{child}/{_escape(str(name))}", True, depth + 2) for name, item in as_object(value).items())
            elif isinstance(value, dict):
                stack.append((value, child, False, depth + 1))
            elif isinstance(value, list):
                stack.extend((item, f"{child}/{index}", False, depth + 1) for index, item in enumerate(value))


def invalid_examples(spec: JSONObject) -> Iterator[InvalidExample]:
    """Every example or default in `spec` its schema does not accept."""
    checker = _Checker(spec)
    resolver = Resolver(spec)
    for pointer, node, is_schema in walk(spec):
        if is_schema:
            yield from _schema_values(node, pointer, checker)
        elif isinstance(node.get("schema"), dict):
            yield from _holder_values(node, pointer, checker, resolver)


def _subschemas(schema: dict[Any, Any], pointer: str, depth: int) -> Iterator[tuple[object, str, bool, int]]:
    for keyword in _ONE:
        if isinstance(schema.get(keyword), dict):
            yield schema[keyword], f"{pointer}/{_escape(keyword)}", True, depth + 1
    for keyword in _LIST:
        value = schema.get(keyword)
        if isinstance(value, list):
            yield from ((item, f"{pointer}/{keyword}/{index}", True, depth + 1) for index, item in enumerate(value))
    for keyword in _MAP:
        for name, item in as_object(schema.get(keyword)).items():
            yield item, f"{pointer}/{_escape(keyword)}/{_escape(name)}", True, depth + 1


def _schema_values(schema: dict[Any, Any], pointer: str, checker: _Checker) -> Iterator[InvalidExample]:
    """A schema's own `default`, `example` and (3.1) `examples`."""
    values: list[tuple[str, object]] = [(keyword, schema[keyword]) for keyword in ("default", "example") if keyword in schema]
    if checker.modern and isinstance(schema.get("examples"), list):
        values += [(f"examples[{index}]", item) for index, item in enumerate(schema["examples"])]
    for what, value in values:
        message = checker.first_error(pointer, value)
        if message is not None:
            yield InvalidExample(pointer, what, message)


def _holder_values(holder: dict[Any, Any], pointer: str, checker: _Checker, resolver: Resolver) -> Iterator[InvalidExample]:
    """A media type's, parameter's or header's `example` and `examples.*.value` against its `schema`."""
    values: list[tuple[str, object]] = [("example", holder["example"])] if "example" in holder else []
    examples = holder.get("examples")
    if isinstance(examples, dict) and checker.swagger:  # Swagger 2: a response's examples by media type
        values += [(f"examples.{media}", value) for media, value in examples.items()]
    elif isinstance(examples, dict):
        for name, raw in examples.items():
            example, _ = resolver.deref(raw)
            if "value" in example:
                values.append((f"examples.{name}.value", example["value"]))
    for what, value in values:
        message = checker.first_error(f"{pointer}/schema", value)
        if message is not None:
            yield InvalidExample(pointer, what, message)


def owner_of(pointer: str) -> tuple[tuple[str, str], str] | None:
    """((path, METHOD), the rest of the pointer) when a pointer is inside an operation."""
    parts = pointer.split("/")
    if len(parts) >= 4 and parts[1] == "paths" and parts[3] in HTTP_METHODS:
        rest = "/".join(parts[4:])
        return (parts[2].replace("~1", "/").replace("~0", "~"), parts[3].upper()), f"/{rest}" if rest else ""
    return None
