"""Example values generated from a JSON schema: the document's own examples first, else a plausible value."""

from __future__ import annotations

from backbone.contract.schema_diff import MAX_DEPTH, shape
from backbone.contract.spec import Resolver, as_list, as_str

_STRING_FORMATS = {
    "date-time": "2024-01-31T12:00:00Z",
    "date": "2024-01-31",
    "time": "12:00:00",
    "email": "user@example.com",
    "uuid": "3fa85f64-5717-4562-b3fc-2c963f66afa6",
    "uri": "https://example.com/",
    "url": "https://example.com/",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}
_MAX_PROPERTIES = 40


def example_of(
    value: object, resolver: Resolver, hidden: str = "", depth: int = 0, seen: frozenset[str] = frozenset()
) -> object:
    """A JSON value the schema accepts: `example`, `examples[0]`, `default`, `const`, `enum[0]`, else built by type.

    `hidden` is "readOnly" for a request (the server sets those), "writeOnly" for a response.
    """
    schema = shape(value, resolver)
    raw = schema.raw
    for keyword in ("example", "default", "const"):
        if keyword in raw:
            return raw[keyword]
    examples = as_list(raw.get("examples"))
    if examples:
        return examples[0]
    enum = as_list(raw.get("enum"))
    if enum:
        return enum[0]
    if depth > MAX_DEPTH or (schema.ref is not None and schema.ref in seen):
        return None
    if schema.ref is not None:
        seen = seen | {schema.ref}
    for keyword in ("oneOf", "anyOf"):
        variants = as_list(raw.get(keyword))
        if variants:
            return example_of(variants[0], resolver, hidden, depth + 1, seen)
    types = schema.types
    if "object" in types or (not types and schema.properties):
        result: dict[str, object] = {}
        for name, item in list(schema.properties.items())[:_MAX_PROPERTIES]:
            if hidden and resolver.deref(item)[0].get(hidden) is True:
                continue
            result[name] = example_of(item, resolver, hidden, depth + 1, seen)
        return result
    if "array" in types:
        items = raw.get("items")
        return [example_of(items, resolver, hidden, depth + 1, seen)] if isinstance(items, dict) else []
    if "integer" in types:
        return _bounded(raw, 1)
    if "number" in types:
        return float(_bounded(raw, 1))
    if "boolean" in types:
        return True
    if "string" in types:
        text = _STRING_FORMATS.get(as_str(raw.get("format")) or "", "string")
        minimum = raw.get("minLength")
        if isinstance(minimum, int) and len(text) < minimum:
            text = text + "x" * (minimum - len(text))
        return text
    return None


def _bounded(raw: dict[str, object], fallback: int) -> int:
    minimum = raw.get("minimum")
    if isinstance(minimum, (int, float)) and not isinstance(minimum, bool):
        return int(minimum)
    maximum = raw.get("maximum")
    if isinstance(maximum, (int, float)) and not isinstance(maximum, bool) and maximum < fallback:
        return int(maximum)
    return fallback
