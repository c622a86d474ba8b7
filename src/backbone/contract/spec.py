"""Reading an OpenAPI document: loading it safely, walking its operations, following `$ref`."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import yaml  # type: ignore[import-untyped, unused-ignore]

from backbone.records import Record

JSONObject = dict[str, object]

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# A spec file larger than this is refused rather than read into memory.
MAX_SPEC_BYTES = 64 * 1024 * 1024
MAX_REF_HOPS = 64


class SpecError(Exception):
    """A spec that can't be read: the message says which file and why."""


def as_object(value: object) -> JSONObject:
    """`value` when it is a JSON object, else an empty one (specs are untrusted)."""
    if isinstance(value, dict):
        return {str(key): item for key, item in value.items()}
    return {}


def as_list(value: object) -> list[object]:
    return list(value) if isinstance(value, list) else []


def as_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def parse_spec(text: str, source: str) -> JSONObject:
    """A spec from JSON or YAML text (YAML's safe loader: no object construction)."""
    try:
        loaded: object = json.loads(text)
    except ValueError:
        try:
            loaded = yaml.safe_load(text)
        except yaml.YAMLError as error:
            mark = getattr(error, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark is not None else ""
            raise SpecError(f"{source}: not valid JSON or YAML{where}") from None
        except RecursionError:
            raise SpecError(f"{source}: nested too deeply to read") from None
    except RecursionError:
        raise SpecError(f"{source}: nested too deeply to read") from None
    if not isinstance(loaded, dict):
        raise SpecError(f"{source}: an OpenAPI document is a mapping at the top level")
    spec = as_object(loaded)
    if not isinstance(spec.get("paths", {}), dict):
        raise SpecError(f"{source}: `paths` is not a mapping")
    if "openapi" not in spec and "swagger" not in spec and "paths" not in spec:
        raise SpecError(f"{source}: not an OpenAPI document (no `openapi` or `paths` key)")
    return spec


def load_spec(path: Path) -> JSONObject:
    try:
        if not path.is_file():
            raise SpecError(f"{path}: not a file")
        if path.stat().st_size > MAX_SPEC_BYTES:
            raise SpecError(f"{path}: larger than {MAX_SPEC_BYTES // (1024 * 1024)} MB")
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SpecError(f"{path}: {error.strerror or error}") from None
    except UnicodeDecodeError:
        raise SpecError(f"{path}: not UTF-8 text") from None
    return parse_spec(text, str(path))


class Operation(Record, frozen=True):
    method: str  # upper-case
    path: str
    body: JSONObject
    # The parameters of the path item, which every operation under it shares.
    path_parameters: tuple[object, ...]

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def source(self) -> str | None:
        """`file:line` of the Python handler when the spec came from code."""
        return as_str(self.body.get("x-backbone-source"))


def operations(spec: JSONObject) -> Iterator[Operation]:
    for path, item in as_object(spec.get("paths")).items():
        path_item = as_object(item)
        shared = tuple(as_list(path_item.get("parameters")))
        for method in HTTP_METHODS:
            body = path_item.get(method)
            if isinstance(body, dict):  # the document's own object: extraction annotates it in place
                yield Operation(method.upper(), path, body, shared)


class Resolver:
    """Follows local `$ref`s (`#/components/schemas/Order`) in one document."""

    def __init__(self, spec: JSONObject) -> None:
        self.spec = spec
        # What readers made of each `$ref` once (schema_diff's shapes): a document where
        # references fan out and meet again is read in time linear in its size.
        self.memo: dict[str, object] = {}

    def lookup(self, ref: str) -> JSONObject | None:
        if not ref.startswith("#/"):
            return None
        node: object = self.spec
        for part in ref[2:].split("/"):
            key = part.replace("~1", "/").replace("~0", "~")
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return as_object(node) if isinstance(node, dict) else None

    def deref(self, value: object) -> tuple[JSONObject, str | None]:
        """The object `value` stands for after following `$ref`s, and the last ref followed."""
        node = as_object(value)
        last: str | None = None
        seen: set[str] = set()
        while isinstance(node.get("$ref"), str) and len(seen) < MAX_REF_HOPS:
            ref = str(node["$ref"])
            if ref in seen:
                return {}, ref
            seen.add(ref)
            target = self.lookup(ref)
            if target is None:
                return {}, ref
            last = ref
            siblings = {key: item for key, item in node.items() if key != "$ref"}
            node = {**target, **siblings} if siblings else target
        return node, last


def parameters_of(operation: Operation, resolver: Resolver) -> dict[tuple[str, str], JSONObject]:
    """The operation's parameters by (in, name); the operation's own override the path item's."""
    found: dict[tuple[str, str], JSONObject] = {}
    for raw in (*operation.path_parameters, *as_list(operation.body.get("parameters"))):
        parameter, _ = resolver.deref(raw)
        name, where = as_str(parameter.get("name")), as_str(parameter.get("in"))
        if name is not None and where is not None:
            key = (where, name.lower() if where == "header" else name)
            found[key] = parameter
    return found


def ref_name(ref: str | None) -> str | None:
    return ref.rsplit("/", 1)[-1] if ref else None
