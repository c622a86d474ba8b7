"""What a call or a subscript returns and whether it runs SQL: dispatch by what the receiver holds."""

from __future__ import annotations

import ast

from backbone.review.names import BUILTIN_NAMES
from backbone.review.orm import catalog
from backbone.review.orm.flow.bindings import BindingKind
from backbone.review.orm.flow.common import (
    _END,
    _EVALUATING_BUILTINS,
    _HIGH,
    _LAZY_KINDS,
    _text,
)
from backbone.review.orm.flow.django import DjangoQueries
from backbone.review.orm.flow.handles import DatabaseHandles
from backbone.review.orm.values import (
    DataLayer,
    DataValue,
    QueryEvent,
    QueryKind,
    ValueKind,
)


class CallResults(DatabaseHandles, DjangoQueries):
    """What a call or subscript returns and whether it runs SQL: dispatch to the layers by what the receiver holds."""

    __slots__ = ()

    def call_result(self, node: ast.Call | ast.Subscript) -> tuple[DataValue | None, QueryEvent | None]:
        found = self._call_results.get(node)
        if found is None:
            if node in self._in_progress and node in self._call_results:
                return self._call_results[node]
            self._call_results[node] = (None, None)
            found = self._subscript(node) if isinstance(node, ast.Subscript) else self._call(node)
            self._call_results[node] = found
        return found

    def _call(self, call: ast.Call) -> tuple[DataValue | None, QueryEvent | None]:
        func = call.func
        if isinstance(func, ast.Attribute):
            receiver = self.value(func.value)
            if receiver is not None:
                return self._method(call, func.attr, receiver)
            qualname = self._attribute_qualname(func)
            if qualname is not None:
                return self._function(call, qualname)
            return self._unknown_method(call, func)
        if isinstance(func, ast.Name):
            binding, _ = self.local_binding(func)
            if binding is None or binding.kind is BindingKind.DEFINITION:
                qualname = self.resolver.qualified_name(func)
                module_binding = None
                if binding is None and not isinstance(self.scope, ast.Module):
                    module_binding = self.module.flow(self.module.tree).binding_at(func.id, _END)
                if qualname is not None and (module_binding is None or module_binding.kind is BindingKind.DEFINITION):
                    return self._function(call, qualname)
        callee = self.value(func)
        if callee is None:
            return None, None
        if callee.kind is ValueKind.SESSION_FACTORY:
            return callee.but(kind=ValueKind.SESSION), None
        if callee.kind is ValueKind.MODEL_CLASS:
            return DataValue(ValueKind.INSTANCE, callee.layer, callee.model, new=True), None
        if callee.kind is ValueKind.SESSION:
            # A `scoped_session` registry called for its session.
            return callee, None
        return None, None

    def _function(self, call: ast.Call, qualname: str) -> tuple[DataValue | None, QueryEvent | None]:
        if qualname in catalog.SQLALCHEMY_CONSTRUCTORS:
            kind, is_async = catalog.SQLALCHEMY_CONSTRUCTORS[qualname]
            return DataValue(kind, DataLayer.SQLALCHEMY, is_async=is_async), None
        if qualname in catalog.FLASK_SQLALCHEMY_CLASSES:
            return DataValue(ValueKind.EXTENSION, DataLayer.SQLALCHEMY), None
        if qualname in catalog.SQLALCHEMY_BASE_FACTORIES:
            return DataValue(ValueKind.DECLARATIVE_BASE, DataLayer.SQLALCHEMY), None
        if qualname in catalog.SQLALCHEMY_SELECT:
            return self._select(call), None
        if qualname in catalog.SQLALCHEMY_WRITE_STATEMENTS:
            model = self._model_argument(call.args[0]) if call.args else ""
            return DataValue(ValueKind.STATEMENT, DataLayer.SQLALCHEMY, model, writes=True, entities=False), None
        if qualname in catalog.SQLALCHEMY_TEXT:
            return self._text(call), None
        if qualname in catalog.DRIVER_CONNECT:
            return DataValue(ValueKind.CONNECTION, DataLayer.DRIVER, is_async=catalog.DRIVER_CONNECT[qualname]), None
        if qualname in catalog.DJANGO_SHORTCUTS:
            return self._shortcut(call, qualname)
        if qualname in catalog.GUARDIAN_QUERY_FUNCTIONS:
            name = qualname.rpartition(".")[2]
            return None, QueryEvent(call, QueryKind.READ, DataLayer.DJANGO, name, _text(call), "", _HIGH)
        if qualname in catalog.GUARDIAN_MODEL_FACTORIES:
            return DataValue(ValueKind.MODEL_CLASS, DataLayer.DJANGO, catalog.GUARDIAN_MODEL_FACTORIES[qualname]), None
        if qualname in catalog.DJANGO_GET_MODEL:
            reference = _model_reference(call)
            if reference:
                referenced = self.knowledge.model(reference)
                return DataValue(ValueKind.MODEL_CLASS, DataLayer.DJANGO, referenced.qualname if referenced else reference), None
            return None, None
        if qualname in BUILTIN_NAMES:
            return self._builtin(call, qualname)
        if qualname in _COPIES and call.args:
            original = self.value(call.args[0])
            if original is not None and original.kind is ValueKind.INSTANCE:
                # A clone: the object this function builds to save as a new row (cloning
                # code clears its key), not the row another request reads and writes.
                return original.but(new=True, locked=False, row_of=(0, 0)), None
            return None, None
        constructed = self.knowledge.model(qualname)
        if constructed is not None:
            return DataValue(ValueKind.INSTANCE, constructed.layer, constructed.qualname, new=True), None
        handle = self.knowledge.handle(qualname)
        if handle is not None and handle.kind is ValueKind.SESSION_FACTORY:
            return handle.but(kind=ValueKind.SESSION), None
        if handle is not None and handle.kind is ValueKind.SESSION:
            return handle, None
        target = self.knowledge.resolve_function(qualname)
        if target is not None:
            access = self.knowledge.function_access(target)
            if access is not None and access.result is not None:
                return access.result, None
        return None, None

    def _builtin(self, call: ast.Call, name: str) -> tuple[DataValue | None, QueryEvent | None]:
        if name == "next" and call.args:
            # `next(t for t in teams if t.id == id)`: one of the rows already loaded.
            rows = self.value(call.args[0])
            if rows is not None and rows.kind is ValueKind.ROWS and rows.entities:
                return rows.but(kind=ValueKind.INSTANCE, operations=(), row_of=(0, 0)), None
            return None, None
        if name == "map" and len(call.args) == 2:
            # `",".join(map(str, codes))`: the mapped query is iterated when the map is consumed.
            mapped = self.value(call.args[1])
            if mapped is not None and mapped.kind in _LAZY_KINDS:
                return None, self._evaluation(call.args[1], call.args[1], mapped, "iteration")
            return None, None
        if name not in _EVALUATING_BUILTINS or not call.args:
            return None, None
        argument = call.args[0]
        source = self.value(argument)
        if source is None:
            return None, None
        if source.kind in _LAZY_KINDS:
            event = self._evaluation(call, argument, source, f"{name}()")
            if name in ("list", "tuple", "sorted", "set", "frozenset"):
                return source.but(kind=ValueKind.ROWS, operations=(*source.operations, f"{name}()")), event
            return None, event
        if source.kind is ValueKind.ROWS and name in ("list", "tuple", "sorted"):
            return source, None
        return None, None

    def _unknown_method(self, call: ast.Call, func: ast.Attribute) -> tuple[DataValue | None, QueryEvent | None]:
        """`self.get_queryset()` in a view: what the project method returns; a django-guardian
        permission checker's query."""
        if func.attr in catalog.GUARDIAN_CHECKER_QUERIES and self._fresh_permission_checker(func.value):
            return None, QueryEvent(call, QueryKind.READ, DataLayer.DJANGO, func.attr, _text(call), "", _HIGH)
        class_qualname = self.context.class_qualname
        if class_qualname is None or not (isinstance(func.value, ast.Name) and func.value.id in ("self", "cls")):
            return None, None
        method = self.knowledge.method(class_qualname, func.attr)
        specialise = self.module.specialise
        if method and specialise is not None and method.startswith(f"{specialise[0]}."):
            return self._specialised_result(method), None
        access = self.knowledge.function_access(method) if method else None
        if access is not None and access.result is not None:
            return access.result, None
        return None, None

    def _specialised_result(self, method: str) -> DataValue | None:
        """`self._query()` in a generic class read as a subclass's: what the method (of this
        module) returns read the same way (`select(self.model)` with the subclass's model)."""
        for node, context in self.module.contexts.items():
            if context.qualname == method and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                flow = self.module.flow(node)
                return next((found for returned in flow.returns if (found := flow.value(returned)) is not None), None)
        return None

    def _fresh_permission_checker(self, node: ast.expr) -> bool:
        """`ObjectPermissionChecker(user)`, or a local name bound to one, that this scope never
        `prefetch_perms()`: each object it is asked about is a query."""
        value: ast.AST | None = node
        if isinstance(node, ast.Name):
            binding, _ = self.local_binding(node)
            value = binding.node if binding is not None and binding.kind is BindingKind.ASSIGN else None
            if any(
                isinstance(call.func, ast.Attribute) and call.func.attr == "prefetch_perms"
                and isinstance(call.func.value, ast.Name) and call.func.value.id == node.id
                for call in self.calls
            ):
                return False
        choices = [value.body, value.orelse] if isinstance(value, ast.IfExp) else [value]
        return any(
            isinstance(choice, ast.Call) and self.resolver.qualified_name(choice.func) in catalog.GUARDIAN_CHECKERS
            for choice in choices
        )

    def _method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        kind = receiver.kind
        if kind in (ValueKind.MANAGER, ValueKind.QUERY, ValueKind.RELATED_MANAGER) and receiver.layer is DataLayer.DJANGO:
            return self._django_query(call, name, receiver)
        if kind is ValueKind.QUERY or (kind is ValueKind.RELATED_MANAGER and receiver.layer is DataLayer.SQLALCHEMY):
            return self._sqlalchemy_query(call, name, receiver)
        if kind is ValueKind.STATEMENT:
            if name in catalog.STATEMENT_CHAIN:
                return self._chained_statement(call, name, receiver), None
            return None, None
        if kind is ValueKind.INSTANCE:
            return self._instance_method(call, name, receiver)
        if kind is ValueKind.ROWS:
            return self._rows_method(name, receiver), None
        if kind is ValueKind.SESSION:
            return self._session_method(call, name, receiver)
        if kind is ValueKind.SESSION_FACTORY:
            if name in ("begin", "__call__"):
                return receiver.but(kind=ValueKind.SESSION), None
            return None, None
        if kind is ValueKind.ENGINE:
            if name in ("connect", "begin"):
                return receiver.but(kind=ValueKind.CONNECTION), None
            if name == "raw_connection":
                return DataValue(ValueKind.CONNECTION, DataLayer.DRIVER), None
            if name in ("execute", "scalar", "scalars", "exec_driver_sql"):
                return self._execute(call, name, receiver)
            return None, None
        if kind is ValueKind.CONNECTION:
            return self._connection_method(call, name, receiver)
        if kind is ValueKind.CURSOR:
            return self._cursor_method(call, name, receiver)
        if kind is ValueKind.EXTENSION:
            return self._extension_method(call, name, receiver)
        if kind is ValueKind.MODEL_CLASS:
            return None, None
        return None, None

    def _subscript(self, node: ast.Subscript) -> tuple[DataValue | None, QueryEvent | None]:
        source = self.value(node.value)
        if source is None:
            return None, None
        index = node.slice
        if source.kind in _LAZY_KINDS:
            if isinstance(index, ast.Slice):
                lazy = index.step is None and (source.layer is DataLayer.DJANGO)
                if lazy:
                    return source.but(kind=ValueKind.QUERY if source.kind is ValueKind.QUERY else source.kind, operations=(*source.operations, "slice"), loaded=False), None
                event = self._evaluation(node, node.value, source, "slice[::step]" if index.step is not None else "slice")
                return source.but(kind=ValueKind.ROWS, operations=(*source.operations, "slice")), event
            event = self._evaluation(node, node.value, source, "index")
            if source.entities:
                return source.but(kind=ValueKind.INSTANCE, operations=(), loaded=False, row_of=(0, 0)), event
            return None, event
        if source.kind is ValueKind.ROWS:
            if isinstance(index, ast.Slice):
                return source, None
            if source.entities:
                return source.but(kind=ValueKind.INSTANCE, operations=(), row_of=self._counted_row(index)), None
            return None, None
        if source.kind is ValueKind.CONNECTION and source.layer is DataLayer.DJANGO:
            return source, None
        return None, None

    def _counted_row(self, index: ast.expr) -> tuple[int, int]:
        """`teams[i]` in `for i, x in enumerate(standings)` (or `for i in range(n)`): another of
        the loaded rows on each round, so the loop's key (`DataValue.row_of`); else none."""
        if not isinstance(index, ast.Name):
            return (0, 0)
        binding, encloser = self.local_binding(index)
        if binding is None or binding.kind is not BindingKind.ELEMENT:
            return (0, 0)
        loop = encloser if encloser is not None else binding.owner
        counter = binding.node
        if loop is None or not (isinstance(counter, ast.Call) and isinstance(counter.func, ast.Name)):
            return (0, 0)
        wrapper = self.resolver.qualified_name(counter.func)
        if (wrapper == "enumerate" and binding.path == (0,)) or (wrapper == "range" and binding.path == ()):
            return (getattr(loop, "lineno", 0), getattr(loop, "col_offset", 0) + 1)
        return (0, 0)


_COPIES = frozenset({"copy.copy", "copy.deepcopy"})


def _model_reference(call: ast.Call) -> str:
    """`get_model("catalogue", "Product")` / `apps.get_model("catalogue.Product")`."""
    texts = [argument.value for argument in call.args if isinstance(argument, ast.Constant) and isinstance(argument.value, str)]
    # `get_model(app_label="catalogue", model_name="Product")`, in the order of the signature.
    named = {keyword.arg: keyword.value.value for keyword in call.keywords
             if keyword.arg in ("app_label", "model_name") and isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str)}
    texts += [named[key] for key in ("app_label", "model_name") if key in named]
    if call.keywords and not call.args and not named:
        return ""
    if len(texts) >= 2:
        return f"{texts[0]}.{texts[1]}"
    if len(texts) == 1 and "." in texts[0]:
        return texts[0]
    if not call.args:
        return "<user>"
    return ""
