"""Value tracking: what a name, a parameter or an annotated value holds."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backbone.review.names import NameResolver, dotted_parts
from backbone.review.orm import catalog
from backbone.review.orm.flow.bindings import Binding, BindingKind, ScopeBindings
from backbone.review.orm.flow.common import (
    _DEEPEST_VALUE,
    _END,
    _HANDLE_KINDS,
    _LOW,
    _MEDIUM,
    Position,
    _conventional,
)
from backbone.review.orm.values import DataLayer, DataValue, QueryEvent, ValueKind


class ValueTracking(ScopeBindings):
    """What an expression holds: names through their bindings, parameters through their annotations and providers."""

    __slots__ = ()

    if TYPE_CHECKING:
        # Defined by the layers above (attributes.py, calls.py), which ScopeFlow combines.
        def _attribute(self, node: ast.Attribute) -> DataValue | None:
            raise NotImplementedError

        def call_result(self, node: ast.Call | ast.Subscript) -> tuple[DataValue | None, QueryEvent | None]:
            raise NotImplementedError

    def value(self, node: ast.AST | None) -> DataValue | None:
        if node is None:
            return None
        if node in self._values:
            return self._values[node]
        if node in self._in_progress or len(self._in_progress) >= _DEEPEST_VALUE:
            # A cycle, or an expression nested too deep to follow (`f()()()...`): unknown.
            return None
        self._in_progress.add(node)
        try:
            found = self._evaluate(node)
        finally:
            self._in_progress.discard(node)
        self._values[node] = found
        return found

    def _evaluate(self, node: ast.AST) -> DataValue | None:
        if isinstance(node, ast.Name):
            return self._name(node)
        if isinstance(node, ast.Attribute):
            return self._attribute(node)
        if isinstance(node, ast.Call):
            return self.call_result(node)[0]
        if isinstance(node, ast.Await):
            return self.value(node.value)
        if isinstance(node, ast.Subscript):
            return self.call_result(node)[0]
        if isinstance(node, ast.IfExp):
            return self.value(node.body) or self.value(node.orelse)
        if isinstance(node, ast.BoolOp):
            for operand in node.values:
                found = self.value(operand)
                if found is not None:
                    return found
            return None
        if isinstance(node, ast.NamedExpr):
            return self.value(node.value)
        if isinstance(node, (ast.ListComp, ast.GeneratorExp, ast.SetComp)):
            # `[row for row in rows]` keeps the rows.
            if len(node.generators) == 1 and isinstance(node.elt, ast.Name):
                target = node.generators[0].target
                if isinstance(target, ast.Name) and target.id == node.elt.id:
                    source = self.value(node.generators[0].iter)
                    if source is not None and source.kind in _ROW_SOURCES:
                        return source.but(kind=ValueKind.ROWS, row_of=(0, 0))
            if isinstance(node.elt, ast.Call) and isinstance(node.elt.func, ast.Name) and node.elt.func.id == "next":
                # `[next(t for t in teams if t.id == id) for id in ids]`: the rows, picked and reordered.
                element = self.value(node.elt)
                if element is not None and element.kind is ValueKind.INSTANCE and element.entities and not element.new:
                    return element.but(kind=ValueKind.ROWS, row_of=(0, 0))
            return None
        return None

    def _name(self, node: ast.Name) -> DataValue | None:
        if node.id in self.globals:
            return self._outer_name(node)
        binding, _ = self.local_binding(node)
        if binding is not None:
            found = self._binding_value(binding, node)
            if found is not None and found.kind is ValueKind.INSTANCE and not found.new and self._key_cleared(node, binding):
                # `obj.pk = None` then `obj.save()` inserts a copy: a fresh row from here on.
                return found.but(new=True, locked=False)
            if found is not None and found.kind is ValueKind.QUERY and "none" in found.operations:
                return self._rows_elsewhere(node, binding) or self._or_combined(node, binding, found) or found
            return found
        return self._outer_name(node)

    def _rows_elsewhere(self, use: ast.Name, empty: Binding) -> DataValue | None:
        """`else: orders = Order.objects.none()`: an empty queryset has no rows to read, so the
        rows a use can see come from the name's other (earlier) query binding."""
        for binding in sorted(self.bindings.get(use.id, ()), key=lambda each: each.position, reverse=True):
            if binding.position >= empty.position or binding.kind is not BindingKind.ASSIGN:
                continue
            found = self._binding_value(binding, use)
            if found is not None and found.kind is ValueKind.QUERY and "none" not in found.operations:
                return found
        return None

    def _or_combined(self, use: ast.Name, empty: Binding, found: DataValue) -> DataValue | None:
        """`rows = Model.objects.none()` then `rows |= Model.objects.filter(...).prefetch_related(...)`:
        Django's `none() | query` is `query`, and `a | b` is a copy of `a` (its eager loads kept), so
        the rows are those of the queries OR-ed in, with the eager loads every one of them makes."""
        if found.layer is not DataLayer.DJANGO:
            return None
        where = (use.lineno, use.col_offset)
        combined: DataValue | None = None
        for update in self.augmented.get(use.id, ()):
            if not isinstance(update.op, ast.BitOr) or not empty.position < (update.lineno, update.col_offset) < where:
                continue
            value = self.value(update.value)
            if value is None or value.kind is not ValueKind.QUERY or value.model != found.model or not value.eager_known:
                return None
            combined = value if combined is None else combined.but(eager=tuple(sorted(set(combined.eager) & set(value.eager))))
        return combined

    def _key_cleared(self, use: ast.Name, binding: Binding) -> bool:
        """`name.pk = None` / `name.id = None` between the binding and this use."""
        where = (use.lineno, use.col_offset)
        for update in self.attribute_updates:
            if not isinstance(update, ast.Assign) or not binding.position <= (update.lineno, update.col_offset) < where:
                continue
            if not (isinstance(update.value, ast.Constant) and update.value.value is None):
                continue
            for target in update.targets:
                if (
                    isinstance(target, ast.Attribute)
                    and target.attr in _KEY_FIELDS
                    and isinstance(target.value, ast.Name)
                    and target.value.id == use.id
                ):
                    return True
        return False

    def _outer_name(self, node: ast.Name) -> DataValue | None:
        """A name this scope does not bind: a closure variable, a module global, an import."""
        enclosing = self.context.enclosing
        while enclosing is not None and not isinstance(enclosing, ast.Module):
            outer = self.module.flow(enclosing)
            binding = outer.binding_at(node.id, _END)
            if binding is not None:
                return outer._binding_value(binding, node)
            enclosing = self.module.contexts[enclosing].enclosing if enclosing in self.module.contexts else None
        if not isinstance(self.scope, ast.Module):
            module_flow = self.module.flow(self.module.tree)
            binding = module_flow.binding_at(node.id, _END)
            if binding is not None and binding.kind is not BindingKind.DEFINITION:
                return module_flow._binding_value(binding, node)
        return self._qualified_value(self.resolver.qualified_name(node))

    def _qualified_value(self, qualname: str | None) -> DataValue | None:
        if qualname is None:
            return None
        if qualname in catalog.DJANGO_CONNECTIONS:
            return DataValue(ValueKind.CONNECTION, DataLayer.DJANGO)
        handle = self.knowledge.handle(qualname)
        if handle is not None:
            return handle
        model = self.knowledge.model(qualname)
        if model is not None:
            return DataValue(ValueKind.MODEL_CLASS, model.layer, model.qualname)
        return None

    def _binding_value(self, binding: Binding, use: ast.AST) -> DataValue | None:
        if binding in self._binding_values:
            return self._binding_values[binding]
        self._binding_values[binding] = None
        found = self._compute_binding_value(binding, use)
        self._binding_values[binding] = found
        return found

    def _compute_binding_value(self, binding: Binding, use: ast.AST) -> DataValue | None:
        kind = binding.kind
        if kind is BindingKind.ASSIGN:
            return self.value(binding.node)
        if kind is BindingKind.UNPACK:
            return self._unpacked(binding.node, binding.path)
        if kind is BindingKind.ELEMENT:
            found = self._element(binding.node, binding.path, binding.owner)
            if found is None and isinstance(use, ast.Name):
                return self._named_like_model(use.id)
            return found
        if kind is BindingKind.WITH:
            return self._entered(binding.node)
        if kind is BindingKind.PARAM:
            return self._parameter(binding.node, use)
        if kind is BindingKind.DEFINITION and isinstance(self.scope, ast.Module) and isinstance(use, ast.Name):
            return self._qualified_value(self.resolver.qualified_name(use))
        return None

    def _named_like_model(self, name: str) -> DataValue | None:
        """`for order in orders:` with an `Order` model: probably an Order (low confidence)."""
        model = self.knowledge.graph.model_named_like(name)
        if model is None:
            return None
        return DataValue(ValueKind.INSTANCE, model.layer, model.qualname, eager_known=False, confidence=_LOW)

    def _unpacked(self, node: ast.AST | None, path: tuple[int, ...]) -> DataValue | None:
        if isinstance(node, (ast.Tuple, ast.List)) and path and path[0] < len(node.elts):
            element = node.elts[path[0]]
            return self.value(element) if len(path) == 1 else self._unpacked(element, path[1:])
        if isinstance(node, ast.Call) and len(path) == 1:
            handed_back = self._handed_back(node, path[0])
            if handed_back is not None:
                return handed_back
        source = self.value(node)
        if source is None:
            return None
        # `obj, created = Model.objects.get_or_create(...)`
        if "pair" in source.operations and path == (0,):
            return source.but(operations=tuple(op for op in source.operations if op != "pair"))
        return None

    def _handed_back(self, call: ast.Call, element: int) -> DataValue | None:
        """`query, count = self.paginate(query, page)`: a project function that returns the query
        it is given, narrowed, as this element: the given query's value."""
        func = call.func
        qualname: str | None = None
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls"):
            class_qualname = self.context.class_qualname
            qualname = self.knowledge.method(class_qualname, func.attr) if class_qualname is not None else None
        elif isinstance(func, (ast.Name, ast.Attribute)):
            named = self.resolver.qualified_name(func)
            qualname = self.knowledge.resolve_function(named) if named is not None else None
        if qualname is None:
            return None
        position, returned = self.knowledge.returned_argument(qualname)
        if returned != element or not 0 <= position < len(call.args) or isinstance(call.args[position], ast.Starred):
            return None
        given = self.value(call.args[position])
        return given if given is not None and given.kind in (ValueKind.QUERY, ValueKind.STATEMENT) else None

    def _entered(self, node: ast.AST | None) -> DataValue | None:
        """`with X as name`: what `X.__enter__` gives for database objects."""
        source = self.value(node)
        if source is None:
            return None
        if source.kind is ValueKind.SESSION_FACTORY:
            return source.but(kind=ValueKind.SESSION)
        if source.kind is ValueKind.ENGINE:
            return source.but(kind=ValueKind.CONNECTION)
        return source

    def _element(self, iterable: ast.AST | None, path: tuple[int, ...], loop: ast.AST | None) -> DataValue | None:
        if not isinstance(iterable, ast.expr):
            return None
        row_of = (getattr(loop, "lineno", 0), getattr(loop, "col_offset", 0) + 1) if loop is not None else (0, 0)
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name):
            wrapper = self.resolver.qualified_name(iterable.func)
            if wrapper == "enumerate" and iterable.args:
                if path[:1] == (1,):
                    return self._rows_element(self.value(iterable.args[0]), path[1:], row_of)
                return None
            if wrapper == "zip" and path and path[0] < len(iterable.args):
                return self._rows_element(self.value(iterable.args[path[0]]), path[1:], row_of)
            if wrapper in ("reversed", "iter", "list", "sorted", "tuple"):
                if iterable.args:
                    return self._rows_element(self.value(iterable.args[0]), path, row_of)
        return self._rows_element(self.value(iterable), path, row_of)

    def _rows_element(self, source: DataValue | None, path: tuple[int, ...], row_of: Position) -> DataValue | None:
        if source is None or path or source.kind not in _ROW_SOURCES:
            return None
        if not source.entities:
            return None
        return DataValue(
            ValueKind.INSTANCE,
            source.layer,
            source.model,
            eager=source.eager,
            eager_known=source.eager_known,
            locked=source.locked,
            is_async=source.is_async,
            confidence=source.confidence,
            row_of=row_of,
        )

    def _parameter(self, node: ast.AST | None, use: ast.AST) -> DataValue | None:
        if isinstance(node, ast.AnnAssign):
            return self._annotated(node.annotation, None, node.target.id if isinstance(node.target, ast.Name) else "")
        if not isinstance(node, ast.arg):
            return None
        function = self.scope
        default = _default_of(function, node) if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
        if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)) and _is_first_parameter(function, node):
            own = self._self_value(node.arg)
            if own is not None:
                return own
        return self._annotated(node.annotation, default, node.arg)

    def _self_value(self, name: str) -> DataValue | None:
        """`self` in a model method is an instance; in a manager or queryset, a query."""
        class_qualname = self.context.class_qualname
        if class_qualname is None or name not in ("self", "cls"):
            return None
        model = self.knowledge.model(class_qualname)
        if model is not None:
            if name == "cls":
                return DataValue(ValueKind.MODEL_CLASS, model.layer, model.qualname)
            return DataValue(ValueKind.INSTANCE, model.layer, model.qualname, eager_known=False)
        if name == "self" and self._derives_from(class_qualname, catalog.DJANGO_MANAGER_BASES):
            return DataValue(ValueKind.QUERY, DataLayer.DJANGO, self.knowledge.graph.managed_model(class_qualname), eager_known=False, confidence=_MEDIUM)
        return None

    def _derives_from(self, class_qualname: str, bases: frozenset[str], depth: int = 0) -> bool:
        if depth > 8:
            return False
        for base in self.knowledge.class_bases(class_qualname):
            if base in bases or self._derives_from(base, bases, depth + 1):
                return True
        return False

    def _annotated(self, annotation: ast.expr | None, default: ast.expr | None, name: str) -> DataValue | None:
        """A parameter's value from its annotation, its `Depends(...)` default or its name."""
        provider = _dependency(default, self.resolver) or _annotated_dependency(annotation, self.resolver)
        if provider is not None:
            provided = self._provided(provider)
            if provided is not None:
                return provided
        if annotation is not None:
            typed = self._typed(annotation)
            if typed is not None:
                return typed
            if not _uninformative(annotation):
                return None
        return _conventional(name, _LOW) or self._named_like_model(name)

    def annotation_value(self, annotation: ast.expr) -> DataValue | None:
        """What a parameter annotated `annotation` holds (a type alias at module level)."""
        found = self._annotated(annotation, None, "")
        return found if found is not None and found.kind in _HANDLE_KINDS else None

    def _provided(self, provider: ast.expr) -> DataValue | None:
        qualname = self.resolver.qualified_name(provider)
        if qualname is None:
            return None
        target = self.knowledge.resolve_function(qualname)
        access = self.knowledge.function_access(target) if target else None
        if access is not None:
            return access.yields or access.result
        return None

    def _typed(self, annotation: ast.expr) -> DataValue | None:
        node = annotation
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                node = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                return None
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return self._typed(node.left) or self._typed(node.right)
        if isinstance(node, ast.Subscript):
            head = self.resolver.qualified_name(node.value) or ""
            last = head.rpartition(".")[2]
            if last in ("Optional", "Annotated"):
                inner = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
                return self._typed(inner)
            if last in ("QuerySet", "list", "List", "Sequence", "Iterable", "Iterator", "Manager", "ScalarResult"):
                inner = node.slice.elts[0] if isinstance(node.slice, ast.Tuple) else node.slice
                element = self._typed(inner)
                if element is not None and element.kind is ValueKind.INSTANCE:
                    kind = ValueKind.QUERY if last in ("QuerySet", "Manager") else ValueKind.ROWS
                    return element.but(kind=kind)
            return None
        qualname = self.resolver.qualified_name(node)
        if qualname is None:
            return None
        alias = self.knowledge.handle(qualname)
        if alias is not None and alias.kind in _HANDLE_KINDS:
            return alias
        if qualname in catalog.SQLALCHEMY_ANNOTATIONS:
            kind, is_async = catalog.SQLALCHEMY_ANNOTATIONS[qualname]
            return DataValue(kind, DataLayer.SQLALCHEMY, is_async=is_async)
        if qualname in catalog.DRIVER_ANNOTATIONS:
            return DataValue(catalog.DRIVER_ANNOTATIONS[qualname], DataLayer.DRIVER, is_async=qualname.startswith(("asyncpg", "aiosqlite", "databases")))
        model = self.knowledge.model(qualname)
        if model is not None:
            return DataValue(ValueKind.INSTANCE, model.layer, model.qualname, eager_known=False)
        last = qualname.rpartition(".")[2]
        if last in ("Session", "AsyncSession", "scoped_session") and not qualname.startswith(_NOT_DATABASE_PACKAGES):
            return DataValue(ValueKind.SESSION, DataLayer.SQLALCHEMY, is_async=last == "AsyncSession", confidence=_MEDIUM)
        return None


_ROW_SOURCES = (ValueKind.QUERY, ValueKind.ROWS, ValueKind.RELATED_MANAGER)


# Clearing one of these before save() makes Django insert a new row.
_KEY_FIELDS = frozenset({"pk", "id"})


_NOT_DATABASE_PACKAGES = ("requests", "aiohttp", "httpx", "urllib3", "boto", "botocore", "neo4j", "cassandra", "flask", "starlette", "django.contrib.sessions")


def _default_of(function: ast.FunctionDef | ast.AsyncFunctionDef, argument: ast.arg) -> ast.expr | None:
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    if argument in positional:
        offset = len(positional) - len(arguments.defaults)
        index = positional.index(argument) - offset
        return arguments.defaults[index] if index >= 0 else None
    if argument in arguments.kwonlyargs:
        return arguments.kw_defaults[arguments.kwonlyargs.index(argument)]
    return None


def _is_first_parameter(function: ast.FunctionDef | ast.AsyncFunctionDef, argument: ast.arg) -> bool:
    positional = [*function.args.posonlyargs, *function.args.args]
    return bool(positional) and positional[0] is argument


def _dependency(default: ast.expr | None, resolver: NameResolver) -> ast.expr | None:
    """`Depends(get_db)` -> `get_db` (FastAPI, and anything spelled Depends/Provide)."""
    if not isinstance(default, ast.Call) or not default.args:
        return None
    parts = dotted_parts(default.func)
    if parts is None or parts[-1] not in ("Depends", "Security", "Provide"):
        return None
    return default.args[0]


def _annotated_dependency(annotation: ast.expr | None, resolver: NameResolver) -> ast.expr | None:
    """`Annotated[Session, Depends(get_db)]` -> `get_db`."""
    if not isinstance(annotation, ast.Subscript) or not isinstance(annotation.slice, ast.Tuple):
        return None
    parts = dotted_parts(annotation.value)
    if parts is None or parts[-1] != "Annotated":
        return None
    for extra in annotation.slice.elts[1:]:
        found = _dependency(extra, resolver)
        if found is not None:
            return found
    return None


def _uninformative(annotation: ast.expr) -> bool:
    """`Any`, `object`: an annotation that says nothing, so the name may speak."""
    parts = dotted_parts(annotation)
    return parts is not None and parts[-1] in ("Any", "object")
