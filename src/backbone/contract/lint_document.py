"""The lint rules about the document as a whole: its structure, `info`, `servers`, tags, paths
that a request cannot tell apart, and security.

Each check yields (rule id, operation or None, message); lint.py turns them into problems.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from backbone.contract.lint_examples import walk
from backbone.contract.spec import (
    JSONObject,
    Operation,
    Resolver,
    as_list,
    as_object,
    as_str,
)

Found = tuple[str, Operation | None, str]

_LOCATIONS = frozenset({"query", "header", "path", "cookie"})
_SWAGGER_LOCATIONS = frozenset({"query", "header", "path", "formData", "body"})
_SCHEMES = frozenset({"http", "https", "ws", "wss"})
_VARIABLE = re.compile(r"\{([^{}]*)\}")
_SEGMENT_PARAMETER = re.compile(r"^\{[^{}]+\}$")
_TYPES = frozenset({"object", "array", "string", "number", "integer", "boolean"})


def document_problems(spec: JSONObject, resolver: Resolver, ops: list[Operation]) -> Iterator[Found]:
    yield from _structure(spec, resolver, ops)
    yield from _info(spec)
    yield from _servers(spec, ops)
    yield from _tags(spec, ops)
    yield from _paths(spec)
    yield from _security(spec, ops)


def _structure(spec: JSONObject, resolver: Resolver, ops: list[Operation]) -> Iterator[Found]:
    swagger = "swagger" in spec
    version = as_str(spec.get("swagger" if swagger else "openapi"))
    if version is None:
        yield "document-structure", None, "the document has no `openapi` version string"
    info = spec.get("info")
    if not isinstance(info, dict):
        yield "document-structure", None, "the document has no `info` object"
    else:
        for key in ("title", "version"):
            if not isinstance(info.get(key), str):
                yield "document-structure", None, f"`info.{key}` is missing or not a string"
    modern = (version or "").startswith(("3.1", "3.2"))
    if "paths" not in spec and not (modern and ("webhooks" in spec or "components" in spec)):
        yield "document-structure", None, "the document has no `paths`"
    for path in as_object(spec.get("paths")):
        if not path.startswith("/") and not path.startswith("x-"):
            yield "document-structure", None, f"path {path!r} does not start with `/`"
    yield from _schema_structure(spec, modern)
    locations = _SWAGGER_LOCATIONS if swagger else _LOCATIONS
    for operation in ops:
        label = operation.label
        if "responses" not in operation.body:
            if not modern:  # optional since OpenAPI 3.1
                yield "document-structure", operation, f"{label}: no `responses`"
        elif not as_object(operation.body.get("responses")):
            yield "document-structure", operation, f"{label}: `responses` is empty"
        for status, raw in as_object(operation.body.get("responses")).items():
            response, ref = resolver.deref(raw)
            if (response or ref is None) and not isinstance(response.get("description"), str):
                yield "document-structure", operation, f"{label}: response {status} has no `description`"
        for raw in (*operation.path_parameters, *as_list(operation.body.get("parameters"))):
            parameter, ref = resolver.deref(raw)
            if not parameter and ref is not None:
                continue  # an unresolved $ref: ref-resolves reports it
            name, where = as_str(parameter.get("name")), as_str(parameter.get("in"))
            if name is None or where not in locations:
                yield "document-structure", operation, f"{label}: a parameter without a `name` or a valid `in`"
            elif where == "path" and parameter.get("required") is not True:
                yield "document-structure", operation, f"{label}: path parameter {name!r} is not `required: true`"


def _schema_structure(spec: JSONObject, modern: bool) -> Iterator[Found]:
    """Schema keywords of the wrong kind for the document's version: OpenAPI 3.0 schemas are
    draft 4 (boolean exclusive bounds, one type name, `nullable` beside a `type`, a non-empty
    `required`), 3.1 ones JSON Schema 2020-12 (numeric exclusive bounds, no `nullable`)."""
    types = _TYPES | {"null"} if modern else _TYPES | {"file"} if "swagger" in spec else _TYPES
    for pointer, schema, is_schema in walk(spec):
        if not is_schema:
            continue
        for keyword in ("exclusiveMinimum", "exclusiveMaximum"):
            if keyword in schema and isinstance(schema[keyword], bool) == modern:
                kind = "a number (JSON Schema 2020-12)" if modern else "a boolean (OpenAPI 3.0)"
                yield "document-structure", None, f"{pointer}: `{keyword}` must be {kind}"
        declared = schema.get("type")
        names = declared if modern and isinstance(declared, list) else [declared]
        if "type" in schema and not all(isinstance(name, str) and name in types for name in names):
            yield "document-structure", None, f"{pointer}: `type` {_short(declared)} is not one of {', '.join(sorted(types))}"
        if "nullable" in schema:
            if modern:
                yield "document-structure", None, f"{pointer}: `nullable` is not a keyword of OpenAPI 3.1 (add \"null\" to `type`)"
            elif "type" not in schema:
                yield "document-structure", None, f"{pointer}: `nullable` without a `type` allows nothing more"
        required = schema.get("required")
        if "required" in schema and (not isinstance(required, list) or not all(isinstance(name, str) for name in required)
                                     or (not modern and not required)):
            yield "document-structure", None, f"{pointer}: `required` must be a{'' if modern else ' non-empty'} list of names"


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "..."


def _info(spec: JSONObject) -> Iterator[Found]:
    info = spec.get("info")
    if not isinstance(info, dict):
        return  # document-structure says so
    if not as_str(info.get("description")):
        yield "info-description", None, "`info` has no description"
    if not isinstance(info.get("contact"), dict):
        yield "info-contact", None, "`info` has no contact"
    license_ = info.get("license")
    if not isinstance(license_, dict) or not as_str(license_.get("name")):
        yield "info-license", None, "`info` has no license (with a name)"


def _servers(spec: JSONObject, ops: list[Operation]) -> Iterator[Found]:
    if "swagger" in spec:
        if not as_str(spec.get("host")):
            yield "servers-present", None, "the document has no `host`"
        return
    servers = as_list(spec.get("servers"))
    if not servers:
        yield "servers-present", None, "the document lists no `servers`"
    yield from _server_urls(servers, None, "")
    for path, item in as_object(spec.get("paths")).items():
        yield from _server_urls(as_list(as_object(item).get("servers")), None, f"path {path}: ")
    for operation in ops:
        yield from _server_urls(as_list(operation.body.get("servers")), operation, f"{operation.label}: ")


def _server_urls(servers: list[object], operation: Operation | None, where: str) -> Iterator[Found]:
    for raw in servers:
        server = as_object(raw)
        url = as_str(server.get("url"))
        if url is None:
            yield "document-structure", operation, f"{where}a server has no `url`"
            continue
        variables = as_object(server.get("variables"))
        undefined = [name for name in _VARIABLE.findall(url) if name not in variables]
        if undefined:
            yield "server-url-valid", operation, f"{where}server {url!r} uses undefined variables {', '.join(undefined)}"
            continue
        concrete = _VARIABLE.sub(lambda match: str(as_object(variables.get(match.group(1))).get("default", "x")), url)
        why = _url_problem(concrete)
        if why:
            yield "server-url-valid", operation, f"{where}server {url!r} {why}"


def _url_problem(url: str) -> str:
    if not url or any(character.isspace() for character in url):
        return "is empty or has spaces"
    if url != "/" and url.endswith("/"):
        return "ends with `/` (paths start with one)"
    if url.startswith("/"):
        return ""  # relative to where the document is served
    try:
        parts = urlsplit(url)
    except ValueError:
        return "is not a URL"
    if parts.scheme not in _SCHEMES or not parts.netloc:
        return "is not an http(s) URL nor a path"
    return ""


def _tags(spec: JSONObject, ops: list[Operation]) -> Iterator[Found]:
    declared = {as_str(as_object(tag).get("name")) for tag in as_list(spec.get("tags"))}
    for operation in ops:
        for tag in as_list(operation.body.get("tags")):
            if isinstance(tag, str) and tag not in declared:
                yield "operation-tag-defined", operation, f"{operation.label}: tag {tag!r} is not declared in the global `tags`"


def _paths(spec: JSONObject) -> Iterator[Found]:
    """Paths that differ only in their parameters' names (identical), or that one request could
    match both of (ambiguous: `/a/{x}` and `/{y}/b`); literal segments win over parameters, so
    `/a/{x}` and `/a/b` are neither."""
    by_shape: dict[tuple[int, int], list[tuple[str, list[str | None]]]] = {}
    for path in as_object(spec.get("paths")):
        if path.startswith("x-"):
            continue
        segments: list[str | None] = [None if _SEGMENT_PARAMETER.match(part) else part for part in path.split("/")]
        key = (len(segments), sum(1 for part in segments if part is None))
        by_shape.setdefault(key, []).append((path, segments))
    for group in by_shape.values():
        if len(group) < 2:
            continue
        identical: dict[tuple[str | None, ...], str] = {}
        for path, segments in group:
            first = identical.setdefault(tuple(segments), path)
            if first != path:
                yield "path-identical", None, f"paths {first!r} and {path!r} differ only in their parameters' names"
        distinct = list({tuple(segments): (path, segments) for path, segments in reversed(group)}.values())
        for index, (path, segments) in enumerate(distinct):
            for other, other_segments in distinct[index + 1:]:
                if all(a is None or b is None or a == b for a, b in zip(segments, other_segments)):
                    yield "path-ambiguous", None, f"paths {other!r} and {path!r} can match the same request"


def _security(spec: JSONObject, ops: list[Operation]) -> Iterator[Found]:
    schemes = as_object(as_object(spec.get("components")).get("securitySchemes")) or as_object(spec.get("securityDefinitions"))
    global_security = spec.get("security")
    for requirement in as_list(global_security):
        for name in as_object(requirement):
            if name not in schemes:
                yield "security-scheme-defined", None, f"the global `security` names {name!r}, not a declared scheme"
    for operation in ops:
        security = operation.body.get("security")
        if security is None:
            if schemes and global_security is None:
                declared = ", ".join(sorted(schemes))
                yield "operation-security", operation, f"{operation.label}: no `security` (the document declares {declared})"
            continue
        for requirement in as_list(security):
            for name in as_object(requirement):
                if name not in schemes:
                    yield "security-scheme-defined", operation, f"{operation.label}: `security` names {name!r}, not a declared scheme"
