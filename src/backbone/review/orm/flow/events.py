"""Where a scope executes SQL, what it returns and yields."""

from __future__ import annotations

import ast

from backbone.review.orm import catalog
from backbone.review.orm.flow.bindings import Binding
from backbone.review.orm.flow.calls import CallResults
from backbone.review.orm.flow.common import (
    _EVALUATING_BUILTINS,
    _HANDLE_KINDS,
    _LAZY_KINDS,
    _clip,
    _unparse,
)
from backbone.review.orm.flow.eager import relation_loaded
from backbone.review.orm.values import (
    DataLayer,
    DataValue,
    QueryEvent,
    QueryKind,
    RelationRead,
    ValueKind,
)


class QueryEvents(CallResults):
    """Where a scope executes SQL (calls, iterations, truth tests, relation reads) and what it returns or yields."""

    __slots__ = ()

    def events(self) -> list[QueryEvent]:
        """Every place in this scope that executes SQL, in source order."""
        if self._events is not None:
            return self._events
        found: list[QueryEvent] = []
        custom = self.knowledge.custom_methods
        for call in self.calls:
            func = call.func
            if isinstance(func, ast.Attribute):
                if func.attr not in catalog.SQL_METHOD_NAMES and func.attr not in custom and func.attr not in catalog.GUARDIAN_CHECKER_QUERIES:
                    continue
            elif not (isinstance(func, ast.Name) and func.id in _EVENT_FUNCTIONS):
                continue
            event = self.call_result(call)[1]
            if event is not None:
                found.append(event)
        for subscript in self.subscripts:
            event = self.call_result(subscript)[1]
            if event is not None:
                found.append(event)
        for iterable in self.iterated:
            event = self._iteration(iterable)
            if event is not None:
                found.append(event)
        for test in self.truth_tests:
            event = self._truth(test)
            if event is not None:
                found.append(event)
        for attribute in self.attributes:
            event = self.relation_read(attribute)
            if event is not None:
                found.append(event)
        found.sort(key=lambda event: (getattr(event.node, "lineno", 0), getattr(event.node, "col_offset", 0)))
        self._events = self._without_cached_evaluations(found)
        return self._events

    def evaluated_name(self, event: QueryEvent) -> ast.Name | None:
        """The name whose whole queryset an event evaluates (`for p in posts`, `len(posts)`)."""
        node = event.node
        if event.operation in ("iteration", "bool()"):
            return node if isinstance(node, ast.Name) else None
        if isinstance(node, ast.Call):
            if event.operation.endswith("()") and node.args:
                argument = node.args[0]
                return argument if isinstance(argument, ast.Name) else None
            if isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name):
                return node.func.value
        return None

    def _without_cached_evaluations(self, events: list[QueryEvent]) -> list[QueryEvent]:
        """A Django QuerySet caches its rows: once evaluated, iterating it again, `len()`,
        `bool()`, `count()` and `exists()` on the same object run no SQL."""
        evaluated: set[Binding] = set()
        kept: list[QueryEvent] = []
        for event in events:
            receiver = event.receiver
            # `post.comments.filter(...)` is a QuerySet too, and caches its rows the same way.
            if event.layer is DataLayer.DJANGO and receiver is not None and (
                receiver.kind is ValueKind.QUERY or (receiver.kind is ValueKind.RELATED_MANAGER and receiver.operations)
            ):
                name = self.evaluated_name(event)
                if name is not None:
                    binding, _ = self.local_binding(name)
                    if binding is not None:
                        key = binding
                        if key in evaluated and event.operation in _SERVED_FROM_CACHE:
                            continue
                        if event.operation in FULL_EVALUATIONS:
                            evaluated.add(key)
            kept.append(event)
        return kept

    def _iteration(self, iterable: ast.expr) -> QueryEvent | None:
        while isinstance(iterable, ast.IfExp):
            # `every if variation.all_channels else variation.channels.all()`: the branch that
            # queries is what runs, read like the relation it is (a prefetch may answer it).
            iterable = iterable.body if self.value(iterable.body) is not None else iterable.orelse
        source = self.value(iterable)
        if source is None or source.kind not in _LAZY_KINDS:
            return None
        if source.kind is ValueKind.QUERY and source.layer is DataLayer.SQLALCHEMY and "execute" in source.operations:
            return None
        return self._evaluation(iterable, iterable, source, "iteration")

    def _truth(self, test: ast.expr) -> QueryEvent | None:
        source = self.value(test)
        if source is None or source.kind not in _LAZY_KINDS or source.layer is not DataLayer.DJANGO:
            return None
        return self._evaluation(test, test, source, "bool()")

    def relation_read(self, node: ast.Attribute) -> QueryEvent | None:
        """`post.author` on an instance whose `author` isn't loaded: a lazy load."""
        if node.attr not in self.knowledge.graph.relation_names:
            return None
        base = self.value(node.value)
        if base is None or base.kind is not ValueKind.INSTANCE or not base.model:
            return None
        relation = self.relation_of(base, node.attr)
        if relation is None or not relation.queries_on_read:
            return None
        if relation_loaded(base, relation) or base.new:
            return None
        read = RelationRead(node, relation.name, base.model, relation.target, base.row_of)
        return QueryEvent(node, QueryKind.READ, base.layer, "relation", _clip(_unparse(node)), relation.target, base.confidence, base, read)

    def result(self) -> DataValue | None:
        for returned in self.returns:
            found = self.value(returned)
            if found is not None and found.kind is not ValueKind.MODEL_CLASS:
                return found.as_fact()
        return None

    def yielded(self) -> DataValue | None:
        for produced in self.yields:
            found = self.value(produced)
            if found is not None and found.kind in _HANDLE_KINDS:
                return found.as_fact()
        return None


# Operations that fetch every row of a Django queryset into its result cache.
FULL_EVALUATIONS = frozenset(
    {"iteration", "bool()", "list()", "tuple()", "set()", "frozenset()", "sorted()", "len()", "dict()", "sum()", "max()", "min()", "any()", "all()"}
)


_SERVED_FROM_CACHE = FULL_EVALUATIONS | {"count", "exists"}


# Plain function names whose call can run SQL: evaluating builtins (and `map`, whose mapped
# query runs when the map is consumed) and Django shortcuts.
_EVENT_FUNCTIONS = _EVALUATING_BUILTINS | {"map"} | frozenset(
    {name.rpartition(".")[2] for name in [*catalog.DJANGO_SHORTCUTS, *catalog.GUARDIAN_QUERY_FUNCTIONS]}
)
