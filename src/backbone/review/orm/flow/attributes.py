"""Attribute values: module and class attributes, conventional names, relations of instances."""

from __future__ import annotations

import ast

from backbone.review.names import dotted_parts
from backbone.review.orm.flow.common import _HIGH, _LOW, _MEDIUM, _conventional
from backbone.review.orm.flow.eager import _merge_eager, nested_eager, relation_loaded
from backbone.review.orm.flow.tracking import ValueTracking
from backbone.review.orm.graph import Relation
from backbone.review.orm.values import DataLayer, DataValue, ValueKind


class AttributeValues(ValueTracking):
    """What an attribute holds: module and class attributes, conventional names, relations of instances."""

    __slots__ = ()

    def assigned_before(self, update: ast.stmt, target: ast.Attribute) -> bool:
        """`invoice.invoice_to = ", ".join(lines)` on every path to `invoice.invoice_to += vat`:
        the attribute holds a value the function computed (not read from its own old value),
        so updating it is not a read-modify-write of the stored one."""
        shown = ast.unparse(target)
        position = (update.lineno, update.col_offset)
        ancestors: set[int] = set()
        node: ast.AST | None = update
        while node is not None and node is not self.scope:
            ancestors.add(id(node))
            node = self.parent(node)
        for earlier in self.attribute_updates:
            if not isinstance(earlier, ast.Assign) or (earlier.lineno, earlier.col_offset) >= position:
                continue
            if not any(isinstance(each, ast.Attribute) and ast.unparse(each) == shown for each in earlier.targets):
                continue
            if any(isinstance(read, ast.Attribute) and ast.unparse(read) == shown for read in ast.walk(earlier.value)):
                continue
            # The assignment runs on every path to the update: its block holds the update.
            parent = self.parent(earlier)
            for field in ("body", "orelse", "finalbody"):
                block = getattr(parent, field, None)
                if isinstance(block, list) and earlier in block and any(id(statement) in ancestors for statement in block):
                    return True
        return False

    def _attribute(self, node: ast.Attribute) -> DataValue | None:
        base = self.value(node.value)
        if base is None:
            found = self._qualified_value(self._attribute_qualname(node))
            if found is not None:
                return found
            bound = self._bound_model(node)
            if bound is not None:
                return bound
            return self._conventional_attribute(node)
        return self.attribute_of(base, node.attr)

    def _bound_model(self, node: ast.Attribute) -> DataValue | None:
        """`self.model` in a class whose generic base keeps the model class a type variable
        stands for, and which binds it (`class PostRepository(Repository[PostOut, Post])`)."""
        class_qualname = self.context.class_qualname
        if class_qualname is None or not (isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")):
            return None
        bound = self.knowledge.bound_attribute(class_qualname, node.attr)
        model = self.knowledge.model(bound) if bound else None
        return DataValue(ValueKind.MODEL_CLASS, model.layer, model.qualname) if model is not None else None

    def _attribute_qualname(self, node: ast.Attribute) -> str | None:
        parts = dotted_parts(node)
        if parts is None or len(parts) < 2:
            return None
        # A module attribute (`models.Post`, `extensions.db`) resolves through imports only.
        if parts[0] not in self.resolver.imports:
            return None
        return self.resolver.resolve_parts(parts)

    def _conventional_attribute(self, node: ast.Attribute) -> DataValue | None:
        """`self.session`, `g.db`, `request.dbsession`: a session by convention (low)."""
        if isinstance(node.value, ast.Name) and node.value.id in ("request", "req") and node.attr == "session":
            return None
        if isinstance(node.value, ast.Attribute) and node.value.attr == "request" and node.attr == "session":
            return None
        if node.attr == "session" and isinstance(node.value, ast.Name) and node.value.id in ("db", "database"):
            return DataValue(ValueKind.SESSION, DataLayer.SQLALCHEMY, confidence=_MEDIUM)
        if node.attr in ("objects", "_default_manager", "_base_manager"):
            parts = dotted_parts(node.value)
            if parts is not None and parts[-1][:1].isupper():
                qualname = self.resolver.resolve_parts(parts) or ".".join(parts)
                return DataValue(ValueKind.MANAGER, DataLayer.DJANGO, qualname, confidence=_HIGH)
            if parts is not None and parts[-1] == "model":
                # `self.model.objects`, `queryset.model.objects`.
                return DataValue(ValueKind.MANAGER, DataLayer.DJANGO, confidence=_MEDIUM)
        return _conventional(node.attr, _LOW)

    def attribute_of(self, base: DataValue, attribute: str) -> DataValue | None:
        kind = base.kind
        if kind is ValueKind.MODEL_CLASS:
            return self._class_attribute(base, attribute)
        if kind is ValueKind.EXTENSION:
            if attribute == "session":
                return DataValue(ValueKind.SESSION, DataLayer.SQLALCHEMY, confidence=base.confidence)
            if attribute == "engine":
                return DataValue(ValueKind.ENGINE, DataLayer.SQLALCHEMY, confidence=base.confidence)
            if attribute == "Model":
                return DataValue(ValueKind.DECLARATIVE_BASE, DataLayer.SQLALCHEMY)
            return None
        if kind is ValueKind.INSTANCE:
            return self._relation_value(base, attribute)
        if kind is ValueKind.SESSION and attribute == "bind":
            return base.but(kind=ValueKind.ENGINE)
        if kind is ValueKind.CONNECTION and attribute == "connection":
            return base
        return None

    def _class_attribute(self, base: DataValue, attribute: str) -> DataValue | None:
        model = self.knowledge.model(base.model)
        if base.layer is DataLayer.DJANGO or (model is not None and model.layer is DataLayer.DJANGO):
            if attribute in ("objects", "_default_manager", "_base_manager"):
                return DataValue(ValueKind.MANAGER, DataLayer.DJANGO, base.model, confidence=base.confidence)
            if model is not None and attribute in model.managers:
                return DataValue(ValueKind.MANAGER, DataLayer.DJANGO, base.model, confidence=base.confidence, operations=(f"manager:{attribute}",))
            return None
        if attribute == "query":
            # Flask-SQLAlchemy's legacy `Model.query`.
            return DataValue(ValueKind.QUERY, DataLayer.SQLALCHEMY, base.model, confidence=base.confidence)
        return None

    def relation_of(self, instance: DataValue, attribute: str) -> Relation | None:
        if not instance.model or attribute not in self.knowledge.graph.relation_names:
            return None
        model = self.knowledge.model(instance.model)
        if model is None:
            return None
        return model.relations.get(attribute)

    def _relation_value(self, instance: DataValue, attribute: str) -> DataValue | None:
        relation = self.relation_of(instance, attribute)
        if relation is None:
            return None
        eager = nested_eager(instance.eager, relation)
        loaded = relation_loaded(instance, relation)
        common = {
            "eager": eager,
            "eager_known": instance.eager_known,
            "row_of": instance.row_of,
            "relation": relation.name,
            "relation_owner": instance.model,
            "is_async": instance.is_async,
            "confidence": instance.confidence,
            "locked": False,
        }
        if relation.is_manager:
            if relation.back:
                # `for book in author.books.all(): book.author`: Django sets the key back to the
                # author on every row the manager loads, so reading it runs no query.
                common["eager"] = _merge_eager(eager, (relation.back,))
            return DataValue(ValueKind.RELATED_MANAGER, instance.layer, relation.target, loaded=loaded, **common)  # type: ignore[arg-type]
        if relation.many:
            return DataValue(ValueKind.ROWS, instance.layer, relation.target, loaded=True, **common)  # type: ignore[arg-type]
        return DataValue(ValueKind.INSTANCE, instance.layer, relation.target, **common)  # type: ignore[arg-type]
