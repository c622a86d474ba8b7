"""What running a query produces: evaluations, writes, prefetched relations, instance and row methods."""

from __future__ import annotations

import ast

from backbone.review.orm import catalog
from backbone.review.orm.flow.attributes import AttributeValues
from backbone.review.orm.flow.bindings import BindingKind
from backbone.review.orm.flow.common import _HIGH, _clip, _text, _unparse
from backbone.review.orm.flow.eager import relation_loaded
from backbone.review.orm.values import (
    DataLayer,
    DataValue,
    QueryEvent,
    QueryKind,
    RelationRead,
    ValueKind,
)


class QueryEvaluation(AttributeValues):
    """What running a query produces: evaluations, writes, prefetched relations, instance and row methods."""

    __slots__ = ()

    def _write(self, call: ast.Call, receiver: DataValue, name: str) -> tuple[DataValue | None, QueryEvent | None]:
        event = QueryEvent(
            call,
            QueryKind.WRITE,
            receiver.layer,
            name,
            _text(call),
            receiver.model,
            receiver.confidence,
            receiver,
            bulk_alternative=catalog.DJANGO_BULK_ALTERNATIVE.get(name, ""),
        )
        return None, event

    def _evaluation(
        self,
        node: ast.AST,
        receiver_node: ast.AST,
        receiver: DataValue,
        operation: str,
        is_async: bool = False,
    ) -> QueryEvent | None:
        """A read that evaluates a lazy query or relation, or None when nothing runs."""
        relation = None
        if receiver.kind is ValueKind.RELATED_MANAGER:
            served = operation in catalog.DJANGO_PREFETCH_SERVED or (
                operation == "iteration" and receiver.loaded
            )
            if receiver.loaded and served:
                return None
            root = self._relation_root(receiver_node)
            if root is not None:
                relation = RelationRead(
                    root,
                    receiver.relation,
                    receiver.relation_owner,
                    receiver.model,
                    receiver.row_of,
                    bypasses_prefetch=self._prefetched(root),
                )
        if isinstance(node, ast.Call) and not operation.endswith("()"):
            text = _text(node)
        else:
            text = _clip(_unparse(node))
        return QueryEvent(node, QueryKind.READ, receiver.layer, operation, text, receiver.model, receiver.confidence, receiver, relation)

    def _prefetched(self, root: ast.Attribute) -> bool:
        owner = self.value(root.value)
        if owner is None:
            return False
        relation = self.relation_of(owner, root.attr)
        return relation is not None and relation_loaded(owner, relation)

    def _relation_root(self, node: ast.AST) -> ast.Attribute | None:
        """The `post.comments` attribute under `post.comments.filter(...).count`."""
        current: ast.AST | None = node
        for _ in range(32):
            if isinstance(current, ast.Attribute):
                value = self.value(current)
                base = self.value(current.value)
                if value is not None and value.kind is ValueKind.RELATED_MANAGER and base is not None and base.kind is ValueKind.INSTANCE:
                    return current
                current = current.value
            elif isinstance(current, ast.Call):
                current = current.func
            elif isinstance(current, (ast.Subscript, ast.Await)):
                current = current.value
            elif isinstance(current, ast.Name):
                # `offers = voucher.offers.all()` then `for offer in offers:`.
                binding, _ = self.local_binding(current)
                if binding is None or binding.kind is not BindingKind.ASSIGN:
                    return None
                current = binding.node
            else:
                return None
        return None

    def _shortcut(self, call: ast.Call, qualname: str) -> tuple[DataValue | None, QueryEvent | None]:
        source = self.value(call.args[0]) if call.args else None
        model = source.model if source is not None else ""
        receiver = source if source is not None and source.kind in (ValueKind.QUERY, ValueKind.MANAGER) else DataValue(ValueKind.MANAGER, DataLayer.DJANGO, model)
        event = QueryEvent(call, QueryKind.READ, DataLayer.DJANGO, qualname.rpartition(".")[2], _text(call), model, _HIGH, receiver)
        kind = catalog.DJANGO_SHORTCUTS[qualname]
        return receiver.but(kind=kind, operations=()), event

    def _instance_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        if receiver.layer is not DataLayer.DJANGO:
            return self._model_method_result(name, receiver), None
        plain = catalog.django_async_name(name)
        if plain in catalog.DJANGO_INSTANCE_WRITE:
            return self._write(call, receiver, plain)
        if plain in catalog.DJANGO_INSTANCE_READ:
            event = QueryEvent(call, QueryKind.READ, DataLayer.DJANGO, plain, _text(call), receiver.model, receiver.confidence, receiver)
            return None, event
        return self._model_method_result(name, receiver), None

    def _model_method_result(self, name: str, receiver: DataValue) -> DataValue | None:
        """`post.published_comments()`: what the project's model method returns."""
        if not receiver.model:
            return None
        method = self.knowledge.method(receiver.model, name)
        access = self.knowledge.function_access(method) if method else None
        return access.result if access is not None else None

    def _rows_method(self, name: str, receiver: DataValue) -> DataValue | None:
        if name not in catalog.RESULT_METHODS:
            return None
        result_kind = catalog.RESULT_METHODS[name]
        if name == "scalars":
            return receiver.but(entities=bool(receiver.model))
        if result_kind is ValueKind.ROWS:
            return receiver.but(operations=(*receiver.operations, name))
        entity = receiver.entities or (name.startswith("scalar") and bool(receiver.model))
        if result_kind is ValueKind.INSTANCE and entity:
            return receiver.but(kind=ValueKind.INSTANCE, operations=(), row_of=(0, 0), loaded=False)
        return None
