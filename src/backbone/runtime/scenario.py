"""What requests `backbone profile` sends: a scenario file, or GET requests generated from OpenAPI.

A scenario file is YAML:

    repeat: 20            # defaults for every request below (optional)
    concurrency: 2
    headers: {Authorization: Bearer demo}
    requests:
      - path: /orders
        query: {limit: 20}
      - method: POST
        path: /orders
        json: {sku: ABC-1, quantity: 2}
        repeat: 5
      - name: one order
        path: /orders/1
        headers: {Accept: application/json}
        concurrency: 4

Every key is known: an unknown one is an error that names the file and the entry.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from backbone.records import Record
from backbone.runtime.events import JSONValue

_METHODS = ("GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE")
_TOP_KEYS = frozenset({"requests", "repeat", "concurrency", "headers"})
_STEP_KEYS = frozenset({"name", "method", "path", "query", "json", "headers", "repeat", "concurrency"})


class ScenarioError(Exception):
    """A scenario that cannot be run; the message names the file and the entry."""


class ScenarioStep(Record, frozen=True):
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    headers: tuple[tuple[str, str], ...] = ()
    # The JSON body; `has_body` tells an absent body from a JSON null.
    body: JSONValue = None
    has_body: bool = False
    repeat: int = 1
    concurrency: int = 1
    name: str = ""

    @property
    def label(self) -> str:
        return self.name or f"{self.method} {self.path}"


class Scenario(Record, frozen=True):
    steps: tuple[ScenarioStep, ...]
    # Where the requests came from: the scenario file, or "openapi".
    source: str
    # Operations left out of a generated scenario, with the reason.
    skipped: tuple[str, ...] = ()

    @property
    def total_requests(self) -> int:
        return sum(step.repeat for step in self.steps)


def _positive_int(value: object, where: str, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ScenarioError(f"{where}: '{key}' must be a whole number of at least 1, not {value!r}")
    return value


def _pairs(value: object, where: str, key: str) -> tuple[tuple[str, str], ...]:
    if value is None:
        return ()
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where}: '{key}' must be a mapping of names to values")
    pairs: list[tuple[str, str]] = []
    for name, item in value.items():
        items = item if isinstance(item, list) else [item]
        for one in items:
            if isinstance(one, (Mapping, list)):
                raise ScenarioError(f"{where}: '{key}.{name}' must be a scalar or a list of scalars")
            pairs.append((str(name), _scalar_text(one)))
    return tuple(pairs)


def _scalar_text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _json_value(value: object, where: str) -> JSONValue:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, list):
        return [_json_value(item, where) for item in value]
    if isinstance(value, Mapping):
        return {str(key): _json_value(item, where) for key, item in value.items()}
    raise ScenarioError(f"{where}: 'json' holds a {type(value).__name__}, which JSON cannot express")


def _unknown(keys: object, allowed: frozenset[str], where: str) -> None:
    if not isinstance(keys, Mapping):
        return
    unknown = sorted(str(key) for key in keys if key not in allowed)
    if unknown:
        raise ScenarioError(f"{where}: unknown key(s) {', '.join(unknown)} (allowed: {', '.join(sorted(allowed))})")


def parse_scenario(document: object, source: str) -> Scenario:
    """A scenario from its parsed YAML (a mapping with `requests`, or a bare list of requests)."""
    if isinstance(document, list):
        document = {"requests": document}
    if not isinstance(document, Mapping):
        raise ScenarioError(f"{source}: a scenario is a mapping with a 'requests' list")
    _unknown(document, _TOP_KEYS, source)
    default_repeat = _positive_int(document.get("repeat", 1), source, "repeat")
    default_concurrency = _positive_int(document.get("concurrency", 1), source, "concurrency")
    default_headers = _pairs(document.get("headers"), source, "headers")
    entries = document.get("requests")
    if not isinstance(entries, list) or not entries:
        raise ScenarioError(f"{source}: 'requests' must be a non-empty list")
    steps: list[ScenarioStep] = []
    for number, entry in enumerate(entries, start=1):
        where = f"{source}: requests[{number}]"
        if not isinstance(entry, Mapping):
            raise ScenarioError(f"{where}: each request is a mapping with at least 'path'")
        _unknown(entry, _STEP_KEYS, where)
        path = entry.get("path")
        if not isinstance(path, str) or not path.startswith("/"):
            raise ScenarioError(f"{where}: 'path' must be a string starting with '/'")
        method = str(entry.get("method", "GET")).upper()
        if method not in _METHODS:
            raise ScenarioError(f"{where}: unknown method {method!r} (one of {', '.join(_METHODS)})")
        headers = dict(default_headers)
        headers.update(_pairs(entry.get("headers"), where, "headers"))
        steps.append(
            ScenarioStep(
                method=method,
                path=path,
                query=_pairs(entry.get("query"), where, "query"),
                headers=tuple(headers.items()),
                body=_json_value(entry.get("json"), where),
                has_body="json" in entry,
                repeat=_positive_int(entry.get("repeat", default_repeat), where, "repeat"),
                concurrency=_positive_int(entry.get("concurrency", default_concurrency), where, "concurrency"),
                name=str(entry.get("name", "")),
            )
        )
    return Scenario(tuple(steps), source)


def load_scenario(path: Path) -> Scenario:
    import yaml  # type: ignore[import-untyped, unused-ignore]

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioError(f"{path}: cannot read the scenario: {error.strerror}") from None
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ScenarioError(f"{path}: not valid YAML: {error}") from None
    return parse_scenario(document, str(path))


# --- OpenAPI -------------------------------------------------------------------------------------

_SAMPLE_BY_FORMAT = {
    "uuid": "00000000-0000-4000-8000-000000000001",
    "date": "2024-01-01",
    "date-time": "2024-01-01T00:00:00Z",
    "email": "user@example.com",
}


def _sample(parameter: Mapping[str, object]) -> str | None:
    """A value for a parameter: its example, default or first enum value, else one of its type."""
    if "example" in parameter:
        return _scalar_text(parameter["example"])
    examples = parameter.get("examples")
    if isinstance(examples, Mapping):
        for example in examples.values():
            if isinstance(example, Mapping) and "value" in example:
                return _scalar_text(example["value"])
    schema = parameter.get("schema")
    if not isinstance(schema, Mapping):
        return None
    for key in ("example", "default"):
        if key in schema:
            return _scalar_text(schema[key])
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return _scalar_text(examples[0])
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return _scalar_text(enum[0])
    for variant_key in ("anyOf", "oneOf", "allOf"):
        variants = schema.get(variant_key)
        if isinstance(variants, list):
            for variant in variants:
                if isinstance(variant, Mapping) and variant.get("type") != "null":
                    found = _sample({"schema": variant})
                    if found is not None:
                        return found
    kind = schema.get("type")
    if kind in ("integer", "number"):
        minimum = schema.get("minimum")
        return _scalar_text(minimum) if isinstance(minimum, (int, float)) and minimum > 1 else "1"
    if kind == "boolean":
        return "true"
    if kind == "string":
        return _SAMPLE_BY_FORMAT.get(str(schema.get("format", "")), "1")
    return None


def scenario_from_openapi(document: Mapping[str, object], *, repeat: int, concurrency: int) -> Scenario:
    """GET requests for the operations of an OpenAPI document whose required parameters can be filled."""
    paths = document.get("paths")
    if not isinstance(paths, Mapping):
        raise ScenarioError("the OpenAPI document has no 'paths'")
    steps: list[ScenarioStep] = []
    skipped: list[str] = []
    for template, item in paths.items():
        if not isinstance(item, Mapping) or not isinstance(template, str):
            continue
        operation = item.get("get")
        if not isinstance(operation, Mapping):
            continue
        parameters = [p for p in [*_list(item.get("parameters")), *_list(operation.get("parameters"))] if isinstance(p, Mapping)]
        path = template
        query: list[tuple[str, str]] = []
        missing: list[str] = []
        for parameter in parameters:
            name = str(parameter.get("name", ""))
            where = parameter.get("in")
            if where == "path" or (where == "query" and parameter.get("required")):
                value = _sample(parameter)
                if value is None:
                    missing.append(name)
                elif where == "path":
                    path = path.replace("{" + name + "}", value)
                else:
                    query.append((name, value))
        if missing or "{" in path:
            skipped.append(f"GET {template}: no value for {', '.join(missing) or 'a path parameter'}")
            continue
        steps.append(ScenarioStep("GET", path, tuple(query), repeat=repeat, concurrency=concurrency, name=f"GET {template}"))
    if not steps:
        raise ScenarioError("the OpenAPI document has no GET operation whose parameters backbone can fill; pass --scenario")
    return Scenario(tuple(steps), "openapi", tuple(skipped))


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []
