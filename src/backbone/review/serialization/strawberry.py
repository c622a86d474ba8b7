"""strawberry-django: list fields whose rows each type's fields resolve one by one.

A `@strawberry_django.type(Fruit)` class is the GraphQL type of a model; every field a client
selects is read off each row (`color: "Color"` reads `fruit.color`). Two things feed it a list:

- a field resolved by strawberry-django itself, `fruits: list[Fruit] = strawberry_django.field()`
  on a query type: it answers `Fruit._default_manager.all()` (the type's `get_queryset`, when
  it has one, shapes it at run time: not judged);
- a resolver, `@strawberry_django.field def fruits(self) -> list[Fruit]: return Fruit.objects...`,
  whose returned query is the one the finding goes on.

strawberry-django's `DjangoOptimizerExtension` adds the `select_related`/`prefetch_related` each
query's selection needs at run time: a project that imports it gets no site at all. The sites are
of medium confidence, as for graphene: a client asks for a relation or does not.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from msgspec.structs import replace

from backbone.findings import Confidence
from backbone.review.orm import DataValue, ScopeFlow, ValueKind
from backbone.review.orm.values import DataLayer
from backbone.review.reads import ImportQuestion
from backbone.review.serialization.extract import annotation_element
from backbone.review.serialization.knowledge import Family, SerializationKnowledge

if TYPE_CHECKING:
    from backbone.review.serialization.sites import SerializationSite, _Finder

# Field decorators and field functions of strawberry and strawberry-django.
_FIELDS = frozenset(
    {
        "strawberry.field",
        "strawberry_django.field",
        "strawberry_django.connection",
        "strawberry_django.offset_paginated",
        "strawberry.django.field",
        "strawberry_django_plus.gql.django.field",
        "strawberry_django_plus.gql.django.connection",
    }
)
# Fields strawberry-django resolves from the model when no resolver is given.
_AUTO_RESOLVED = _FIELDS - {"strawberry.field"}


def optimized(knowledge: SerializationKnowledge) -> bool:
    """The project imports strawberry-django's query optimizer (`DjangoOptimizerExtension`)."""
    return knowledge.index.imports_any(ImportQuestion.STRAWBERRY_OPTIMIZER)


def _strawberry_type(knowledge: SerializationKnowledge, annotation: ast.expr | None, finder: _Finder) -> str:
    """The strawberry-django type a list annotation holds (`list[Fruit]`, `Iterable["Fruit"]`)."""
    if annotation is None:
        return ""
    schema, many = annotation_element(annotation, finder.resolver)
    if not many or not schema or knowledge.family(schema) is not Family.STRAWBERRY:
        return ""
    return schema


def resolver_sites(
    finder: _Finder, flow: ScopeFlow, function: ast.FunctionDef | ast.AsyncFunctionDef, label: str
) -> list[SerializationSite]:
    """`@strawberry_django.field def fruits(self) -> list[Fruit]: return Fruit.objects.all()`."""
    knowledge = finder.knowledge
    decorators = [finder.context.qualified_name(item.func if isinstance(item, ast.Call) else item) or "" for item in function.decorator_list]
    if not any(name in _FIELDS for name in decorators):
        return []
    schema = _strawberry_type(knowledge, function.returns, finder)
    if not schema or optimized(knowledge):
        return []
    found: list[SerializationSite] = []
    for statement in finder.context.semantic.returns(function):
        assert statement.value is not None
        site = finder._site(finder.rows(flow, statement.value, None), schema, True, label, confidence=Confidence.MEDIUM)
        if site is not None:
            found.append(site)
    return found


def field_sites(finder: _Finder, node: ast.ClassDef) -> list[SerializationSite]:
    """`fruits: list[Fruit] = strawberry_django.field()` in a class: strawberry-django lists every row."""
    knowledge = finder.knowledge
    candidates: list[tuple[ast.AnnAssign, str]] = []
    for statement in node.body:
        if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.value, ast.Call):
            continue
        call = statement.value
        if finder.context.qualified_name(call.func) not in _AUTO_RESOLVED or call.args:
            continue
        if any(keyword.arg == "resolver" for keyword in call.keywords):
            continue
        schema = _strawberry_type(knowledge, statement.annotation, finder)
        if schema:
            candidates.append((statement, schema))
    if not candidates or optimized(knowledge):
        return []
    found: list[SerializationSite] = []
    for statement, schema in candidates:
        type_qualname = knowledge.index.resolve(schema)
        if knowledge.method(type_qualname, "get_queryset") is not None:
            continue
        model = knowledge.model_of(schema)
        if model is None or model.layer is not DataLayer.DJANGO:
            continue
        assert statement.value is not None and isinstance(statement.target, ast.Name)
        rows = DataValue(ValueKind.QUERY, DataLayer.DJANGO, model.qualname)
        label = f"`{node.name}.{statement.target.id}` ({finder.where(statement)})"
        site = finder._site((statement.value, rows), schema, True, label, confidence=Confidence.MEDIUM)
        if site is not None:
            text = f"`{model.name}._default_manager.all()` (strawberry-django's resolver of `{node.name}.{statement.target.id}`)"
            found.append(replace(site, query_text=text))
    return found
