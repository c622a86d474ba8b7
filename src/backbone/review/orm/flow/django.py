"""The Django layer of the flows: querysets, managers, select_related and prefetch_related."""

from __future__ import annotations

import ast

from backbone.findings import Confidence
from backbone.review.orm import catalog
from backbone.review.orm.facts import FunctionDataAccess
from backbone.review.orm.flow.bindings import BindingKind
from backbone.review.orm.flow.common import _END, _MEDIUM
from backbone.review.orm.flow.eager import _merge_eager, _prefixes
from backbone.review.orm.flow.evaluation import QueryEvaluation
from backbone.review.orm.values import (
    EVERY_FORWARD_RELATION,
    EVERY_RELATION,
    DataLayer,
    DataValue,
    QueryEvent,
    QueryKind,
    ValueKind,
    lower_confidence,
)


class DjangoQueries(QueryEvaluation):
    """Django querysets and managers: chains, custom manager methods, select_related and prefetch_related."""

    __slots__ = ()

    def _django_query(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        plain = catalog.django_async_name(name)
        is_async = plain != name
        related = receiver.kind is ValueKind.RELATED_MANAGER
        if related and plain in catalog.DJANGO_RELATED_WRITE:
            return self._write(call, receiver, plain)
        if plain in catalog.DJANGO_CHAIN:
            return self._chained_django(call, plain, receiver), None
        if plain in catalog.DJANGO_READ:
            result_kind = catalog.DJANGO_READ[plain]
            event = self._evaluation(call, call.func, receiver, plain, is_async=is_async)
            if result_kind is ValueKind.INSTANCE and receiver.entities:
                return receiver.but(kind=ValueKind.INSTANCE, operations=(), loaded=False, relation="", relation_owner="", row_of=receiver.row_of if related else (0, 0)), event
            if result_kind is ValueKind.ROWS:
                return receiver.but(kind=ValueKind.ROWS), event
            return None, event
        if plain in catalog.DJANGO_WRITE:
            value, event = self._write(call, receiver, plain)
            if plain in ("create",):
                return DataValue(ValueKind.INSTANCE, DataLayer.DJANGO, receiver.model, new=True), event
            if plain in ("get_or_create", "update_or_create"):
                return DataValue(ValueKind.INSTANCE, DataLayer.DJANGO, receiver.model, operations=("pair",), locked=receiver.locked), event
            return value, event
        return self._custom_manager_method(call, plain, receiver)

    def _custom_manager_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        """A method of a project manager or queryset class: what its facts say, else lazy."""
        collection = self._own_collection_method(call, name)
        if collection is not None:
            # `self._filters(...)` returning a list (of `Q` objects...): not a queryset.
            queries = any(event.kind is QueryKind.READ for event in self.module.flow(collection).events())
            return None, self._evaluation(call, call.func, receiver, name) if queries else None
        func = call.func
        own = isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"
        if own:
            # A manager's call of its own method is judged as before its model was known: lazy,
            # keeping what the method eager-loads (`self.prefetch().select_related(...)`).
            return self._own_refinement(call, name, receiver), None
        access = self._manager_method_access(receiver, name)
        if access is not None:
            reads = [site for site in access.queries if site.kind is QueryKind.READ]
            writes = [site for site in access.queries if site.kind is QueryKind.WRITE]
            if access.result is not None and access.result.kind in (ValueKind.QUERY, ValueKind.MANAGER):
                merged = receiver.but(
                    kind=ValueKind.QUERY,
                    eager=_merge_eager(receiver.eager, access.result.eager),
                    operations=(*receiver.operations, name),
                    locked=receiver.locked or access.result.locked,
                )
                return merged, None
            if writes:
                return self._write(call, receiver, name)
            if reads:
                event = self._evaluation(call, call.func, receiver, name)
                if access.result is not None and access.result.kind is ValueKind.INSTANCE:
                    return receiver.but(kind=ValueKind.INSTANCE, operations=()), event
                return None, event
            return access.result, None
        if receiver.kind is ValueKind.RELATED_MANAGER:
            return None, None
        # Unknown: most custom manager methods refine the queryset; assume lazy.
        return receiver.but(kind=ValueKind.QUERY, operations=(*receiver.operations, name), confidence=_lowered(receiver.confidence)), None

    def _own_refinement(self, call: ast.Call, name: str, receiver: DataValue) -> DataValue:
        """`self.prefetch()` in a queryset class: lazy, with the relations that method eager-loads."""
        eager: tuple[str, ...] = ()
        class_qualname = self.context.class_qualname
        method = self.knowledge.method(class_qualname, name) if class_qualname else None
        access = self.knowledge.function_access(method) if method else None
        if access is not None and access.result is not None and access.result.kind in (ValueKind.QUERY, ValueKind.MANAGER):
            eager = access.result.eager
        return receiver.but(
            kind=ValueKind.QUERY,
            eager=_merge_eager(receiver.eager, eager),
            operations=(*receiver.operations, name),
            confidence=_lowered(receiver.confidence),
        )

    def _own_collection_method(self, call: ast.Call, name: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """`self._filters(...)` in a manager or queryset class, when that method of this module
        returns only list, tuple, set or dict displays (or names bound to them)."""
        func = call.func
        class_qualname = self.context.class_qualname
        if class_qualname is None or not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id == "self"):
            return None
        qualname = f"{class_qualname}.{name}"
        method = next(
            (node for node, context in self.module.contexts.items()
             if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and context.qualname == qualname),
            None,
        )
        if method is None:
            return None
        flow = self.module.flow(method)
        if not flow.returns:
            return None
        for value in flow.returns:
            values: list[ast.AST | None] = [value]
            if isinstance(value, ast.Name):
                values = [binding.node for binding in flow.bindings.get(value.id, [])]
            if not values or not all(isinstance(item, _COLLECTION_DISPLAYS) for item in values):
                return None
        return method

    def _manager_method_access(self, receiver: DataValue, name: str) -> FunctionDataAccess | None:
        model = self.knowledge.model(receiver.model) if receiver.model else None
        if model is None:
            return None
        manager_name = next((op[len("manager:"):] for op in receiver.operations if op.startswith("manager:")), "objects")
        manager = model.managers.get(manager_name)
        if manager is None:
            return None
        for owner in (manager.manager_class, manager.queryset_class):
            if not owner:
                continue
            method = self.knowledge.method(owner, name)
            if method is not None:
                access = self.knowledge.function_access(method)
                if access is not None:
                    return access
        return None

    def _chained_django(self, call: ast.Call, name: str, receiver: DataValue) -> DataValue:
        eager = receiver.eager
        entities = receiver.entities
        locked = receiver.locked
        loaded = receiver.loaded
        if name == "select_related":
            eager = _merge_eager(eager, _django_select_related(call))
        elif name == "prefetch_related":
            if any(isinstance(argument, ast.Constant) and argument.value is None for argument in call.args):
                eager = ()
            else:
                eager = _merge_eager(eager, self._django_prefetch(call))
        elif name in ("values", "values_list"):
            entities = False
        elif name == "select_for_update":
            locked = True
        elif name == "raw":
            entities = True
        if name != "all":
            # A prefetched relation answers `.all()` from memory; anything else is a new query.
            loaded = False
        return receiver.but(
            kind=ValueKind.QUERY if receiver.kind is not ValueKind.RELATED_MANAGER else ValueKind.RELATED_MANAGER,
            eager=eager,
            entities=entities,
            locked=locked,
            loaded=loaded,
            operations=(*receiver.operations, name),
        )

    def _django_prefetch(self, call: ast.Call) -> tuple[str, ...]:
        paths: list[str] = []
        for argument in call.args:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                paths.extend(_prefixes(argument.value.replace("__", ".")))
            elif isinstance(argument, ast.Call):
                name = self.resolver.qualified_name(argument.func)
                if name in catalog.DJANGO_PREFETCH or (name or "").endswith(".Prefetch"):
                    paths.extend(self._prefetch_object(argument))
            elif isinstance(argument, ast.Starred):
                # `prefetch_related(*PREFETCH_FIELDS)`: the lookups of a constant tuple.
                paths.extend(self._starred_lookups(argument.value))
            else:
                # A Prefetch object built earlier.
                source = argument
                if isinstance(source, ast.Name):
                    binding = self.binding_at(source.id, source)
                    if binding is not None and binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.Call):
                        paths.extend(self._prefetch_object(binding.node))
        return tuple(paths)

    def _starred_lookups(self, node: ast.expr) -> list[str]:
        """The relation paths of a tuple or list of lookups, or of a name bound to one (in the
        function or the module); every relation when backbone can't tell which."""
        value: ast.AST | None = node
        if isinstance(node, ast.Name):
            binding = self.binding_at(node.id, node)
            if binding is None:
                module = self.module.flow(self.module.tree)
                binding = module.binding_at(node.id, _END)
            value = binding.node if binding is not None and binding.kind is BindingKind.ASSIGN else None
        if not isinstance(value, (ast.Tuple, ast.List)):
            return [EVERY_RELATION]
        paths: list[str] = []
        for element in value.elts:
            if isinstance(element, ast.Constant) and isinstance(element.value, str):
                paths.extend(_prefixes(element.value.replace("__", ".")))
            else:
                return [EVERY_RELATION]
        return paths

    def _prefetch_object(self, call: ast.Call) -> list[str]:
        keywords = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
        lookup = call.args[0] if call.args else keywords.get("lookup")
        if not (isinstance(lookup, ast.Constant) and isinstance(lookup.value, str)):
            return [EVERY_RELATION]
        path = lookup.value.replace("__", ".")
        found = _prefixes(path)
        to_attr = keywords.get("to_attr")
        queryset = keywords.get("queryset") or (call.args[1] if len(call.args) > 1 else None)
        nested = self.value(queryset) if queryset is not None else None
        attribute_path = path
        if isinstance(to_attr, ast.Constant) and isinstance(to_attr.value, str):
            head = path.rpartition(".")[0]
            attribute_path = f"{head}.{to_attr.value}" if head else to_attr.value
            found.append(attribute_path)
        if nested is not None:
            found.extend(f"{attribute_path}.{sub}" for sub in nested.eager)
            if attribute_path != path:
                found.extend(f"{path}.{sub}" for sub in nested.eager)
        return found


_COLLECTION_DISPLAYS = (ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp, ast.DictComp)


def _django_select_related(call: ast.Call) -> tuple[str, ...]:
    if not call.args:
        return (EVERY_FORWARD_RELATION,)
    paths: list[str] = []
    for argument in call.args:
        if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
            paths.extend(_prefixes(argument.value.replace("__", ".")))
        elif isinstance(argument, ast.Constant) and argument.value is None:
            return ()
        else:
            # `select_related(*fields)`: backbone can't tell which; assume they cover it.
            paths.append(EVERY_RELATION)
    return tuple(paths)


def _lowered(confidence: Confidence) -> Confidence:
    return lower_confidence(confidence, _MEDIUM)
