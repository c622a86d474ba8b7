"""`backbone contract lint`: the OpenAPI rules a shared contract follows, and the backend ones.

The first group is what Spectral's `oas` ruleset checks (unique and present operationIds,
path parameters declared, references that resolve, no unused components, tags and
descriptions); the second is backbone's house standard for a backend API (error responses
documented, money-moving POSTs taking an Idempotency-Key, lists paginated, no secret fields
in responses, one error shape).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from backbone.contract.checks import Level
from backbone.contract.diff import path_parameter_names
from backbone.contract.lint_document import document_problems
from backbone.contract.lint_examples import invalid_examples, owner_of
from backbone.contract.schema_diff import MAX_DEPTH, shape
from backbone.contract.spec import (
    JSONObject,
    Operation,
    Resolver,
    as_list,
    as_object,
    as_str,
    operations,
    parameters_of,
)
from backbone.records import Record
from backbone.review.knowledge.payments import is_idempotency_header, money_record
from backbone.review.knowledge.schemas import SecretKind, sensitive_field


class LintRule(Record, frozen=True):
    id: str
    code: str
    level: Level
    summary: str


_RULES = [
    ("operation-id-unique", Level.BREAKING, "two operations share an operationId (generated clients collide)"),
    ("operation-id-present", Level.WARNING, "an operation has no operationId"),
    ("path-parameter-declared", Level.BREAKING, "a `{name}` in the path has no `in: path` parameter"),
    ("path-parameter-in-path", Level.BREAKING, "an `in: path` parameter does not appear in the path"),
    ("ref-resolves", Level.BREAKING, "a `$ref` points at nothing in the document"),
    ("component-used", Level.WARNING, "a component is defined and never referenced"),
    ("operation-description", Level.INFO, "an operation has neither summary nor description"),
    ("operation-tags", Level.INFO, "an operation has no tags"),
    ("error-responses-documented", Level.WARNING, "an operation documents no error response (4xx/5xx)"),
    ("validation-error-documented", Level.WARNING, "an operation takes input but documents no 400/422 response"),
    ("idempotency-key", Level.WARNING, "a money-moving POST does not accept an Idempotency-Key header"),
    ("list-paginated", Level.WARNING, "a list operation returns an array without a limit, page or cursor parameter"),
    ("sensitive-field-exposed", Level.BREAKING, "a response schema exposes a password, private key or national id"),
    ("credential-field-exposed", Level.WARNING, "a response schema outside login and token issuing exposes a credential"),
    ("error-shape-consistent", Level.INFO, "error responses use more than one body shape"),
    ("example-valid", Level.WARNING, "an example or a schema's default is not valid against its schema"),
    ("document-structure", Level.BREAKING, "a field OpenAPI requires is missing (info.title, a response's description...) or responses are empty"),
    ("success-response", Level.WARNING, "an operation documents no 2xx or 3xx response"),
    ("info-description", Level.WARNING, "`info` has no description"),
    ("info-contact", Level.WARNING, "`info` has no contact"),
    ("info-license", Level.WARNING, "`info` has no license"),
    ("servers-present", Level.WARNING, "the document lists no servers"),
    ("server-url-valid", Level.WARNING, "a server URL is not a URL, ends with `/` or uses an undefined variable"),
    ("operation-tag-defined", Level.WARNING, "an operation's tag is not declared in the global `tags`"),
    ("path-identical", Level.BREAKING, "two paths differ only in their parameters' names"),
    ("path-ambiguous", Level.WARNING, "two paths can match the same request (`/a/{x}` and `/{y}/b`)"),
    ("operation-security", Level.WARNING, "the document declares security schemes and an operation says nothing of security"),
    ("security-scheme-defined", Level.WARNING, "a security requirement names a scheme the document does not declare"),
]
RULES = {rule_id: LintRule(rule_id, f"CT{2001 + n}", level, summary) for n, (rule_id, level, summary) in enumerate(_RULES)}

_PAGING = frozenset({"page", "offset", "limit", "per_page", "page_size", "pagesize", "perpage", "cursor", "after", "before", "start", "marker", "size", "page_token", "next"})
_MONEY_VERBS = frozenset({"pay", "charge", "charges", "refund", "refunds", "payout", "payouts", "transfer", "transfers", "checkout", "capture", "withdraw", "withdrawal", "withdrawals", "deposit", "deposits", "topup", "top-up", "purchase", "purchases"})
_ISSUING_WORDS = frozenset({"login", "token", "tokens", "signin", "sign-in", "session", "sessions", "keys", "api-keys", "apikeys", "oauth", "auth", "refresh", "register", "signup"})
_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")


class Problem(Record, frozen=True):
    rule: LintRule
    operation: str
    message: str
    source: str | None = None


def lint_spec(spec: JSONObject) -> list[Problem]:
    resolver = Resolver(spec)
    problems: list[Problem] = []
    ops = list(operations(spec))
    by_id: dict[str, list[Operation]] = {}
    for operation in ops:
        operation_id = as_str(operation.body.get("operationId"))
        if operation_id:
            by_id.setdefault(operation_id, []).append(operation)
    for operation in ops:
        problems += _operation(operation, resolver, by_id)
    problems += _references(spec, resolver)
    problems += (_problem(rule_id, operation, message) for rule_id, operation, message in document_problems(spec, resolver, ops))
    problems += _examples(spec, ops)
    problems += _error_shapes(ops, resolver)
    return problems


def _problem(rule_id: str, operation: Operation | None, message: str) -> Problem:
    return Problem(RULES[rule_id], operation.label if operation else "", message, operation.source if operation else None)


def _operation(operation: Operation, resolver: Resolver, by_id: dict[str, list[Operation]]) -> Iterator[Problem]:
    label, body = operation.label, operation.body
    operation_id = as_str(body.get("operationId"))
    if operation_id is None:
        yield _problem("operation-id-present", operation, f"{label}: no operationId")
    elif len(by_id[operation_id]) > 1:
        others = ", ".join(other.label for other in by_id[operation_id] if other is not operation)
        yield _problem("operation-id-unique", operation, f"{label}: operationId {operation_id!r} also used by {others}")
    parameters = parameters_of(operation, resolver)
    declared = {name for (where, name) in parameters if where == "path"}
    in_path = path_parameter_names(operation.path)
    for name in in_path:
        if name not in declared:
            yield _problem("path-parameter-declared", operation, f"{label}: path parameter {{{name}}} is not declared")
    for name in sorted(declared - set(in_path)):
        yield _problem("path-parameter-in-path", operation, f"{label}: parameter {name!r} is `in: path` but not in the path")
    if not as_str(body.get("summary")) and not as_str(body.get("description")):
        yield _problem("operation-description", operation, f"{label}: no summary or description")
    if not as_list(body.get("tags")):
        yield _problem("operation-tags", operation, f"{label}: no tags")
    responses = as_object(body.get("responses"))
    errors = [status for status in responses if status[:1] in ("4", "5") or status == "default"]
    takes_input = bool(parameters) or "requestBody" in body
    if responses and not any(status[:1] in ("2", "3") for status in responses):
        yield _problem("success-response", operation, f"{label}: no 2xx or 3xx response documented")
    if not errors:
        yield _problem("error-responses-documented", operation, f"{label}: no 4xx or 5xx response documented")
    elif takes_input and not any(status in ("400", "422", "4XX", "default") for status in errors):
        yield _problem("validation-error-documented", operation, f"{label}: takes input but documents neither 400 nor 422")
    if operation.method == "POST" and _moves_money(operation) and not any(
        where == "header" and is_idempotency_header(name) for (where, name) in parameters
    ):
        yield _problem("idempotency-key", operation, f"{label}: moves money but takes no Idempotency-Key header")
    if operation.method == "GET" and _returns_array(responses, resolver) and not any(
        where == "query" and name.lower() in _PAGING for (where, name) in parameters
    ):
        yield _problem("list-paginated", operation, f"{label}: returns a list with no limit, page or cursor parameter")
    issuing = bool(set(_words(operation.path)) & _ISSUING_WORDS)
    for status, response in responses.items():
        if status[:1] != "2":
            continue
        for media, content in as_object(resolver.deref(response)[0].get("content")).items():
            for name, kind in sorted(_sensitive(as_object(content).get("schema"), resolver, set(), 0).items()):
                if kind is SecretKind.CREDENTIAL:
                    if not issuing:
                        yield _problem("credential-field-exposed", operation, f"{label}: response {status} exposes {name} ({kind.value})")
                else:
                    yield _problem("sensitive-field-exposed", operation, f"{label}: response {status} exposes {name} ({kind.value})")


def _words(path: str) -> list[str]:
    return [word.lower() for word in _WORD.findall(re.sub(r"\{[^}]*\}", "", path))]


def _moves_money(operation: Operation) -> bool:
    """A money verb anywhere in the path (`/orders/{id}/pay`), or a money record created (`POST /payments`)."""
    words = _words(operation.path)
    if any(word in _MONEY_VERBS for word in words):
        return True
    last = operation.path.rstrip("/").rsplit("/", 1)[-1]
    if not words or last.startswith("{"):
        return False
    singular = words[-1][:-1] if words[-1].endswith("s") else words[-1]
    return money_record(singular.capitalize()) is not None


def _returns_array(responses: JSONObject, resolver: Resolver) -> bool:
    response = resolver.deref(responses.get("200"))[0]
    for content in as_object(response.get("content")).values():
        if "array" in shape(as_object(content).get("schema"), resolver).types:
            return True
    return False


def _sensitive(value: object, resolver: Resolver, seen: set[str], depth: int, prefix: str = "") -> dict[str, SecretKind]:
    """Sensitive property names anywhere in a response schema (`user.password_hash`)."""
    if depth > MAX_DEPTH:
        return {}
    found: dict[str, SecretKind] = {}
    schema = shape(value, resolver)
    if schema.ref:
        if schema.ref in seen:  # walked already, on this path or another: each schema once
            return {}
        seen.add(schema.ref)
    for name, item in schema.properties.items():
        secret = sensitive_field(name)
        if secret is not None and resolver.deref(item)[0].get("writeOnly") is not True:
            found[prefix + name] = secret.kind
        found.update(_sensitive(item, resolver, seen, depth + 1, f"{prefix}{name}."))
    items = schema.raw.get("items")
    if isinstance(items, dict):
        found.update(_sensitive(items, resolver, seen, depth + 1, prefix))
    for keyword in ("oneOf", "anyOf"):
        for variant in as_list(schema.raw.get(keyword)):
            found.update(_sensitive(variant, resolver, seen, depth + 1, prefix))
    return found


def _refs(value: object, depth: int = 0) -> Iterator[str]:
    stack: list[tuple[object, int]] = [(value, depth)]
    while stack:
        node, level = stack.pop()
        if level > 200:
            continue
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend((item, level + 1) for item in node.values())
        elif isinstance(node, list):
            stack.extend((item, level + 1) for item in node)


def _references(spec: JSONObject, resolver: Resolver) -> Iterator[Problem]:
    used: set[str] = set()
    for ref in _refs(spec):
        used.add(ref)
        if ref.startswith("#/") and resolver.lookup(ref) is None:
            yield _problem("ref-resolves", None, f"$ref {ref!r} points at nothing")
    for kind, members in as_object(spec.get("components")).items():
        if kind == "securitySchemes":  # used by name from `security`, not by $ref
            continue
        for name in as_object(members):
            pointer = f"#/components/{kind}/{name.replace('~', '~0').replace('/', '~1')}"
            if pointer not in used:
                yield _problem("component-used", None, f"{pointer} is never referenced")


def _examples(spec: JSONObject, ops: list[Operation]) -> Iterator[Problem]:
    by_place = {(operation.path, operation.method): operation for operation in ops}
    for invalid in invalid_examples(spec):
        owner = owner_of(invalid.pointer)
        operation = by_place.get(owner[0]) if owner is not None else None
        if operation is not None and owner is not None:
            where = f"{operation.label}: {invalid.what} at {owner[1] or '/'}"
        else:
            where = f"{invalid.what} at {invalid.pointer}"
        yield _problem("example-valid", operation, f"{where} is not valid against its schema: {invalid.message}")


def _error_shapes(ops: list[Operation], resolver: Resolver) -> Iterator[Problem]:
    shapes: dict[str, str] = {}
    for operation in ops:
        for status, response in as_object(operation.body.get("responses")).items():
            if status[:1] not in ("4", "5"):
                continue
            for media, content in as_object(resolver.deref(response)[0].get("content")).items():
                schema = as_object(as_object(content).get("schema"))
                key = f"{media} {as_str(schema.get('$ref')) or sorted(shape(schema, resolver).properties)}"
                shapes.setdefault(key, f"{operation.label} {status}")
    if len(shapes) > 1:
        listed = "; ".join(f"{key} (first at {where})" for key, where in list(shapes.items())[:4])
        yield _problem("error-shape-consistent", None, f"error responses use {len(shapes)} shapes: {listed}")
