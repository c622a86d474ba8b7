"""What a function sends back: the values inside its return statements that reach the client.

`return JsonResponse({"items": [p.to_dict() for p in products]})` sends the rows of
`products`; `return Response(ProductSerializer(qs, many=True).data)` sends the rows of
`qs`. `expand_payload` peels response builders, serializers, templates' context,
comprehensions and pass-through builtins off a returned expression, following local
names bound once, and yields what is left: the expressions whose rows go out.

Used per file by the route declarations (which calls a function answers with) and by
rules through `backbone.review.frameworks.response_payloads`.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Callable, Iterator, Mapping, Sequence

from backbone.records import Record
from backbone.review.frameworks.catalog import (
    PASS_THROUGH_BUILTINS,
    RESPONSE_BUILDERS,
    TEMPLATE_RESPONSE_METHODS,
    BodyArgument,
)
from backbone.review.names import argument

QualifiedName = Callable[[ast.expr], "str | None"]

_MAX_DEPTH = 8
# DRF generic-view helpers that hand their argument's rows on (filters narrow by request, not by bound).
_PASS_THROUGH_SELF_METHODS = frozenset({"filter_queryset"})
_TYPE_ADAPTERS = frozenset({"pydantic.TypeAdapter", "pydantic.type_adapter.TypeAdapter"})
_SERIALIZER_OUTPUT_METHODS = frozenset({"dump", "dumps", "validate_python", "dump_python"})


class PayloadVia(enum.Enum):
    """What a value went through on its way to the client."""

    RESPONSE = "response"  # the body of a response builder: JsonResponse, jsonify, Response, JSONResponse
    TEMPLATE = "template"  # a template's context: render(), render_template(), TemplateResponse
    SERIALIZER = "serializer"  # a serializer or schema with many=True
    ITERATED = "iterated"  # iterated by a comprehension or list()/sorted()
    CONTAINER = "container"  # an item of a dict/list/tuple literal


class Payload(Record, frozen=True):
    """One expression whose value reaches the client, and the wrappers it went through."""

    expression: ast.expr
    # Outermost first; empty when the expression is returned as it is.
    via: tuple[PayloadVia, ...]


def expand_payload(
    value: ast.expr, bindings: Mapping[str, Sequence[ast.expr | None]], qualified_name: QualifiedName
) -> Iterator[Payload]:
    """The expressions inside `value` (a returned value) whose rows reach the client."""
    seen: set[str] = set()
    yield from _expand(value, (), bindings, qualified_name, seen, 0, top=True)


def _single_binding(name: str, bindings: Mapping[str, Sequence[ast.expr | None]]) -> ast.expr | None:
    values = bindings.get(name)
    if values is None or len(values) != 1:
        return None
    return values[0]


def _expand(
    node: ast.expr,
    via: tuple[PayloadVia, ...],
    bindings: Mapping[str, Sequence[ast.expr | None]],
    qualified_name: QualifiedName,
    seen: set[str],
    depth: int,
    top: bool = False,
) -> Iterator[Payload]:
    if depth > _MAX_DEPTH:
        yield Payload(node, via)
        return

    def again(child: ast.expr, step: PayloadVia | None = None) -> Iterator[Payload]:
        return _expand(child, (*via, step) if step else via, bindings, qualified_name, seen, depth + 1)

    if isinstance(node, ast.Await):
        yield from again(node.value)
    elif isinstance(node, ast.Tuple) and top and node.elts:
        # Flask's `return body, status` and `(body, status, headers)`.
        yield from again(node.elts[0])
    elif isinstance(node, ast.Dict):
        for item in node.values:
            yield from again(item, PayloadVia.CONTAINER)
    elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        for element in node.elts:
            yield from again(element, PayloadVia.CONTAINER)
    elif isinstance(node, ast.Starred):
        yield from again(node.value)
    elif isinstance(node, ast.IfExp):
        yield from again(node.body)
        yield from again(node.orelse)
    elif isinstance(node, ast.BoolOp):
        for item in node.values:
            yield from again(item)
    elif isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
        for generator in node.generators:
            yield from again(generator.iter, PayloadVia.ITERATED)
    elif isinstance(node, ast.Name):
        bound = _single_binding(node.id, bindings)
        if bound is not None and node.id not in seen:
            seen.add(node.id)
            yield from again(bound)
        else:
            yield Payload(node, via)
    elif isinstance(node, ast.Attribute) and node.attr == "data":
        # `serializer.data`, `ProductSerializer(qs, many=True).data`
        serializer = _serializer_input(node.value, bindings, qualified_name)
        if serializer is not None:
            yield from again(serializer, PayloadVia.SERIALIZER)
        else:
            yield Payload(node, via)
    elif isinstance(node, ast.Call):
        yield from _expand_call(node, via, again, bindings, qualified_name)
    else:
        yield Payload(node, via)


def _expand_call(
    call: ast.Call,
    via: tuple[PayloadVia, ...],
    again: Callable[[ast.expr, PayloadVia | None], Iterator[Payload]],
    bindings: Mapping[str, Sequence[ast.expr | None]],
    qualified_name: QualifiedName,
) -> Iterator[Payload]:
    name = qualified_name(call.func)
    builder = RESPONSE_BUILDERS.get(name or "")
    if builder is not None:
        step = PayloadVia.TEMPLATE if builder.template else PayloadVia.RESPONSE
        for body in _builder_body(call, builder.body, builder.keyword, builder.position, builder.template):
            yield from again(body, step)
        return
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in TEMPLATE_RESPONSE_METHODS:
        for argument in [*call.args, *(keyword.value for keyword in call.keywords if keyword.arg == "context")]:
            if isinstance(argument, (ast.Dict, ast.Name)):
                yield from again(argument, PayloadVia.TEMPLATE)
        return
    if name in PASS_THROUGH_BUILTINS and call.args:
        yield from again(call.args[0], PayloadVia.ITERATED)
        return
    if (
        isinstance(func, ast.Attribute)
        and func.attr in _PASS_THROUGH_SELF_METHODS
        and isinstance(func.value, ast.Name)
        and func.value.id == "self"
        and call.args
    ):
        yield from again(call.args[0], None)
        return
    serialized = _serializer_input(call, bindings, qualified_name)
    if serialized is not None:
        yield from again(serialized, PayloadVia.SERIALIZER)
        return
    yield Payload(call, via)


def _builder_body(
    call: ast.Call, body: BodyArgument, keyword: str | None, position: int, template: bool
) -> Iterator[ast.expr]:
    if body is BodyArgument.ALL:
        # render_template(name, **context): the template name is not data.
        yield from call.args[1:] if template else call.args
        for item in call.keywords:
            yield item.value
        return
    found = argument(call, position, keyword)
    if found is not None:
        yield found


def _is_many(call: ast.Call) -> bool:
    return any(
        keyword.arg == "many" and isinstance(keyword.value, ast.Constant) and keyword.value.value is True
        for keyword in call.keywords
    )


def _serializer_input(
    node: ast.expr, bindings: Mapping[str, Sequence[ast.expr | None]], qualified_name: QualifiedName
) -> ast.expr | None:
    """The rows a many=True serializer or schema is given, or None when `node` is not one.

    `ProductSerializer(qs, many=True)`, `self.get_serializer(instance=qs, many=True)`,
    `ProductSchema(many=True).dump(rows)`, `schema.dump(rows, many=True)`, and a name bound
    once to any of them.
    """
    if isinstance(node, ast.Name):
        bound = _single_binding(node.id, bindings)
        if bound is None or isinstance(bound, ast.Name):
            return None
        node = bound
    if not isinstance(node, ast.Call):
        return None
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr in _SERIALIZER_OUTPUT_METHODS and node.args:
        schema = func.value
        if isinstance(schema, ast.Name):
            schema = _single_binding(schema.id, bindings) or schema
        if _is_many(node) or (isinstance(schema, ast.Call) and _is_many(schema)):
            return node.args[0]
        if isinstance(schema, ast.Call) and qualified_name(schema.func) in _TYPE_ADAPTERS:
            return node.args[0]
        return None
    if _is_many(node):
        if node.args:
            return node.args[0]
        for keyword in node.keywords:
            if keyword.arg == "instance":
                return keyword.value
    return None
