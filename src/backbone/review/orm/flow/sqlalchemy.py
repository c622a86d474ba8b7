"""The SQLAlchemy layer of the flows: statements, legacy queries and loader options (eager loads)."""

from __future__ import annotations

import ast

from backbone.review.knowledge.sql_text import sql_of_literal, statement_writes
from backbone.review.names import dotted_parts
from backbone.review.orm import catalog
from backbone.review.orm.facts import RelationKind
from backbone.review.orm.flow.bindings import BindingKind
from backbone.review.orm.flow.common import _text
from backbone.review.orm.flow.eager import _normal_eager
from backbone.review.orm.flow.evaluation import QueryEvaluation
from backbone.review.orm.graph import ModelInfo
from backbone.review.orm.values import (
    EVERY_RELATION,
    HELD_KEY,
    DataLayer,
    DataValue,
    QueryEvent,
    QueryKind,
    ValueKind,
)
from backbone.review.semantic import own_nodes


class SqlAlchemyStatements(QueryEvaluation):
    """SQLAlchemy statements and legacy queries: select(), text(), loader options (eager loads)."""

    __slots__ = ()

    def _sqlalchemy_query(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        if name in catalog.SQLA_QUERY_CHAIN:
            eager, locked = receiver.eager, receiver.locked
            if name == "options":
                eager = self._apply_options(eager, call)
            elif name in _FILTERS:
                # The identity map answers the relations the filter pins to rows the code holds
                # (any session), and, in a synchronous session, those it pins to one value.
                held = self._held_key_relations(call, receiver.model)
                pinned = self._one_key_relations(call, name, receiver.model) if not receiver.is_async else []
                eager = _normal_eager([*eager, *held, *pinned])
            elif name == "with_for_update":
                locked = True
            return receiver.but(kind=ValueKind.QUERY if receiver.kind is ValueKind.QUERY else receiver.kind, eager=eager, locked=locked, operations=(*receiver.operations, name), loaded=False), None
        if name in catalog.SQLA_QUERY_READ:
            event = self._evaluation(call, call.func, receiver, name)
            result_kind = catalog.SQLA_QUERY_READ[name]
            if result_kind is ValueKind.INSTANCE and receiver.entities:
                return receiver.but(kind=ValueKind.INSTANCE, operations=(), relation="", row_of=(0, 0)), event
            if result_kind is ValueKind.ROWS:
                return receiver.but(kind=ValueKind.ROWS, operations=(*receiver.operations, name)), event
            return None, event
        if name in catalog.SQLA_QUERY_WRITE:
            event = QueryEvent(call, QueryKind.WRITE, DataLayer.SQLALCHEMY, name, _text(call), receiver.model, receiver.confidence, receiver, bulk_alternative="one query-level update()/delete() over all the rows")
            return None, event
        if receiver.kind is ValueKind.RELATED_MANAGER and name in ("append", "remove", "extend", "add", "add_all"):
            return None, None
        return None, None

    def _apply_options(self, eager: tuple[str, ...], call: ast.Call) -> tuple[str, ...]:
        loaded: list[str] = list(eager)
        for option in call.args:
            for path, mode in self._loader_paths(option):
                if mode == "eager":
                    loaded.append(path)
                elif mode == "lazy":
                    loaded = [item for item in loaded if item != path]
        return _normal_eager(loaded)

    def _loader_paths(self, option: ast.expr) -> list[tuple[str, str]]:
        """`joinedload(User.orders).selectinload(Order.items)` -> [("orders", "eager"), ("orders.items", "eager")]."""
        if isinstance(option, ast.Name):
            binding = self.binding_at(option.id, option)
            if binding is not None and binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.expr):
                return self._loader_paths(binding.node)
            return []
        if isinstance(option, ast.Starred):
            listed = self._listed_options(option.value) if isinstance(option.value, ast.Name) else None
            if listed is not None:
                return listed
            return [(EVERY_RELATION, "eager")] if isinstance(option.value, (ast.Name, ast.ListComp, ast.Call)) else []
        if not isinstance(option, ast.Call):
            return []
        func = option.func
        loader = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        prefix = ""
        found: list[tuple[str, str]] = []
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call):
            # A chained loader: the path continues from the inner one.
            inner = self._loader_paths(func.value)
            found.extend(inner)
            if inner:
                prefix = inner[-1][0]
        if loader == "Load":
            return found
        if loader in _COLUMN_OPTIONS:
            # `joinedload(A.b).load_only(B.id, B.name)`: columns of the relation the chain reached,
            # not a further step; what follows it continues from that relation.
            return [*found, (prefix, "path")] if found else [("", "path")]
        if loader == "options" and found:
            # `joinedload(A.b).options(joinedload(B.c), selectinload(B.d).joinedload(D.e))`: each
            # sub-option continues from the relation the chain reached.
            for argument in option.args:
                for sub, mode in self._loader_paths(argument):
                    found.append((".".join(filter(None, [prefix, sub])), mode))
            return found
        steps = [_relation_step(argument) for argument in option.args]
        steps = [step for step in steps if step]
        if not steps:
            return found
        if steps == ["*"]:
            if loader in catalog.EAGER_LOADERS or loader in catalog.NO_LOAD_LOADERS:
                return [*found, (EVERY_RELATION if not prefix else f"{prefix}.{EVERY_RELATION}", "eager")]
            return found
        # One call naming several steps (`joinedload(A.b, B.c)`, `"b.c"`) loads each of them.
        expanded = [step for text in steps for step in text.split(".")]
        path = ".".join(filter(None, [prefix, *expanded]))
        if loader in catalog.EAGER_LOADERS or loader in catalog.NO_LOAD_LOADERS:
            for size in range(1, len(expanded) + 1):
                found.append((".".join(filter(None, [prefix, *expanded[:size]])), "eager"))
        elif loader == "lazyload":
            found.append((path, "lazy"))
        else:
            found.append((path, "path"))
        return found

    def _listed_options(self, name: ast.Name) -> list[tuple[str, str]] | None:
        """`.options(*args)` where the function builds `args = [joinedload(A.b), ...]` and only
        appends or extends it with loader options (in any branch): every option that may be in
        it, each counted as loaded. None when the list is bound twice, handed elsewhere, or holds
        something that is not a loader option (then anything may be loaded)."""
        binding = self.binding_at(name.id, name)
        if binding is None or binding.kind is not BindingKind.ASSIGN or not isinstance(binding.node, ast.List):
            return None
        options: list[ast.expr] = list(binding.node.elts)
        scope = self.scope
        for node in ast.walk(scope) if isinstance(scope, ast.Module) else own_nodes(scope):
            if not isinstance(node, ast.Name) or node.id != name.id or node is name:
                continue
            parent = self.parent(node)
            if isinstance(node.ctx, ast.Store):
                if not (isinstance(parent, ast.Assign) and parent.value is binding.node):
                    return None
                continue
            if isinstance(parent, ast.Starred) and isinstance(self.parent(parent), ast.Call):
                continue
            call = self.parent(parent) if isinstance(parent, ast.Attribute) else None
            if not (isinstance(call, ast.Call) and call.func is parent and isinstance(parent, ast.Attribute) and len(call.args) == 1):
                return None
            if parent.attr == "append":
                options.append(call.args[0])
            elif parent.attr == "extend" and isinstance(call.args[0], (ast.List, ast.Tuple)):
                options.extend(call.args[0].elts)
            else:
                return None
        found: list[tuple[str, str]] = []
        for option in options:
            paths = self._loader_paths(option)
            if not paths:
                return None
            found.extend(paths)
        return found

    def _chained_statement(self, call: ast.Call, name: str, receiver: DataValue) -> DataValue:
        if name == "options":
            return receiver.but(eager=self._apply_options(receiver.eager, call), operations=(*receiver.operations, name))
        if name in _FILTERS:
            held = self._held_key_relations(call, receiver.model)
            if held:
                receiver = receiver.but(eager=_normal_eager([*receiver.eager, *held]))
            pinned = self._one_key_relations(call, name, receiver.model)
            if pinned:
                return receiver.but(pinned=_normal_eager([*receiver.pinned, *pinned]), operations=(*receiver.operations, name))
        if name == "with_for_update":
            return receiver.but(locked=True, operations=(*receiver.operations, name))
        return receiver.but(operations=(*receiver.operations, name))

    def _one_key_relations(self, call: ast.Call, name: str, model: str) -> list[str]:
        """`select(Volume).where(Volume.project_id == project.id)`: every row's many-to-one
        `project` is the same row. The session's identity map answers the relation for each row
        once it holds that row (a many-to-one on a foreign key to the target's primary key is a
        lookup by identity), so reading it on every row costs one query at most, not one per
        row: it counts as loaded when a synchronous session runs the statement (an async session
        can't lazy-load at all)."""
        info = self.knowledge.model(model) if model else None
        if info is None or info.layer is not DataLayer.SQLALCHEMY:
            return []
        columns: set[str] = set()
        if name == "filter_by":
            columns = {keyword.arg for keyword in call.keywords if keyword.arg and _one_value(keyword.value, self)}
        else:
            for condition in call.args:
                columns |= self._pinned_columns(condition, model)
        return self._key_relations(info, columns)

    def _key_relations(self, info: ModelInfo, columns: set[str], target_model: str = "") -> list[str]:
        """The many-to-ones of `info` whose one foreign key to the target's primary key is among
        `columns` (to `target_model` only, when given): lazy loads by identity."""
        if not columns:
            return []
        found: list[str] = []
        for relation in info.relations.values():
            if relation.many or relation.kind is not RelationKind.RELATIONSHIP or relation.reverse:
                continue
            target = self.knowledge.model(relation.target) if relation.target else None
            if target is None or target_model and target.qualname != target_model:
                continue
            tables = target.table_names()
            references = {column: reference for column, reference in info.foreign_keys if reference.split(".")[0] in tables}
            to_target = [other for other in info.relations.values() if other.target == relation.target and not other.many]
            if len(references) != 1 or len(to_target) != 1 or not set(references) <= columns:
                continue
            # The key refers to the target's primary key: the lazy load is a lookup by identity.
            if next(iter(references.values())).partition(".")[2] in target.primary_keys:
                found.append(relation.name)
        return found

    def _held_key_relations(self, call: ast.Call, model: str) -> list[str]:
        """`where(Volume.project_id.in_(p.id for p in projects))` over project rows the code holds:
        each row's many-to-one `project` is one of them, which the session's identity map holds, so
        the lazy load by identity answers from it without a query (in any session). Conditions
        written in the call, or in a list it unpacks (`where(*filters)`) that the function builds
        with appends that always run."""
        if not model:
            return []
        info = self.knowledge.model(model)
        if info is not None and info.layer is not DataLayer.SQLALCHEMY:
            return []
        found: list[str] = []
        for condition in self._conditions(call):
            held = self._held_keys(condition, model)
            if held is None:
                continue
            column, rows_model, key = held
            target = self.knowledge.model(rows_model)
            if info is not None and target is not None:
                if key in target.primary_keys:
                    found.extend(self._key_relations(info, {column}, target.qualname))
            else:
                # A model of another file: the project's model graph says which relation it is.
                found.append(f"{HELD_KEY}{column}>{rows_model}.{key}")
        return found

    def _conditions(self, call: ast.Call) -> list[ast.expr]:
        conditions: list[ast.expr] = []
        for argument in call.args:
            if not isinstance(argument, ast.Starred):
                conditions.append(argument)
                continue
            if not isinstance(argument.value, ast.Name) or not isinstance(self.scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            binding = self.binding_at(argument.value.id, argument.value)
            if binding is None or binding.kind is not BindingKind.ASSIGN or not isinstance(binding.node, ast.List):
                continue
            conditions.extend(binding.node.elts)
            # `filters.append(condition)` as a statement of the function's own body: always run.
            for statement in self.scope.body:
                value = statement.value if isinstance(statement, ast.Expr) else None
                if (
                    isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute) and value.func.attr == "append"
                    and isinstance(value.func.value, ast.Name) and value.func.value.id == argument.value.id and len(value.args) == 1
                ):
                    conditions.append(value.args[0])
        return conditions

    def _held_keys(self, condition: ast.expr, model: str) -> tuple[str, str, str] | None:
        """(column, rows' model, key) for `Model.column.in_(row.key for row in rows)` over held rows."""
        if not (isinstance(condition, ast.Call) and isinstance(condition.func, ast.Attribute) and condition.func.attr == "in_" and len(condition.args) == 1):
            return None
        column = condition.func.value
        if not (isinstance(column, ast.Attribute) and self._model_argument(column.value) == model):
            return None
        keys = condition.args[0]
        if not isinstance(keys, (ast.GeneratorExp, ast.ListComp, ast.SetComp)) or len(keys.generators) != 1 or keys.generators[0].ifs:
            return None
        generator = keys.generators[0]
        element = keys.elt
        if not (isinstance(generator.target, ast.Name) and isinstance(element, ast.Attribute) and isinstance(element.value, ast.Name) and element.value.id == generator.target.id):
            return None
        rows = self.value(generator.iter)
        if rows is None:
            # A parameter annotated as a collection of a model of another file (`List[Project]`):
            # the project's model graph checks later that it is the relation's target.
            annotated = self._annotated_element(generator.iter)
            return (column.attr, annotated, element.attr) if annotated else None
        if not rows.entities or not rows.model or rows.kind not in (ValueKind.ROWS, ValueKind.QUERY):
            return None
        return column.attr, rows.model, element.attr

    def _annotated_element(self, node: ast.expr) -> str:
        """`Project` for a parameter `projects: List[Project]` (list, sequence, set, tuple...)."""
        scope = self.scope
        if not isinstance(node, ast.Name) or not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return ""
        binding = self.binding_at(node.id, node)
        if binding is None or binding.kind is not BindingKind.PARAM:
            return ""
        arguments = scope.args
        annotation = next(
            (argument.annotation for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs) if argument.arg == node.id),
            None,
        )
        if not isinstance(annotation, ast.Subscript) or not isinstance(annotation.slice, (ast.Name, ast.Attribute)):
            return ""
        container = annotation.value.attr if isinstance(annotation.value, ast.Attribute) else annotation.value.id if isinstance(annotation.value, ast.Name) else ""
        if container.lower() not in _COLLECTIONS:
            return ""
        return self.resolver.qualified_name(annotation.slice) or ""

    def _pinned_columns(self, condition: ast.expr, model: str) -> set[str]:
        """Columns of `model` an AND of conditions sets to one value (`M.key == value`)."""
        if isinstance(condition, ast.Call) and isinstance(condition.func, (ast.Name, ast.Attribute)):
            func = condition.func
            called = func.attr if isinstance(func, ast.Attribute) else func.id
            if called == "and_":
                return {column for argument in condition.args for column in self._pinned_columns(argument, model)}
            return set()
        if isinstance(condition, ast.BoolOp) and isinstance(condition.op, ast.And):
            return {column for value in condition.values for column in self._pinned_columns(value, model)}
        if not (isinstance(condition, ast.Compare) and len(condition.ops) == 1 and isinstance(condition.ops[0], ast.Eq)):
            return set()
        left, right = condition.left, condition.comparators[0]
        for column, value in ((left, right), (right, left)):
            if isinstance(column, ast.Attribute) and self._model_argument(column.value) == model and _one_value(value, self):
                return {column.attr}
        return set()

    def _select(self, call: ast.Call) -> DataValue:
        models = [self._model_argument(argument) for argument in call.args]
        single = len(models) == 1 and bool(models[0])
        return DataValue(
            ValueKind.STATEMENT,
            DataLayer.SQLALCHEMY,
            models[0] if single else "",
            entities=single,
        )

    def _model_argument(self, node: ast.expr) -> str:
        value = self.value(node)
        if value is not None and value.kind is ValueKind.MODEL_CLASS:
            return value.model
        if isinstance(node, (ast.Name, ast.Attribute)):
            qualname = self.resolver.qualified_name(node)
            parts = dotted_parts(node)
            # A class-looking name the graph doesn't know (a model in another file).
            if parts is not None and parts[-1][:1].isupper() and not parts[-1].isupper():
                return qualname or ".".join(parts)
        return ""

    def _text(self, call: ast.Call) -> DataValue:
        sql = sql_of_literal(call.args[0]) if call.args else None
        return DataValue(ValueKind.STATEMENT, DataLayer.SQLALCHEMY, writes=bool(sql and statement_writes(sql)), entities=False)


_FILTERS = frozenset({"where", "filter", "filter_by"})
_COLLECTIONS = frozenset({"list", "sequence", "iterable", "collection", "set", "frozenset", "tuple", "abstractset"})


def _one_value(node: ast.expr, flow: SqlAlchemyStatements) -> bool:
    """A value that is the same for every row: a name, a constant, an attribute of something that
    is not a model class (`project.id`, `self.owner_id`), not a column of another table."""
    if isinstance(node, ast.Constant):
        return node.value is not None
    if isinstance(node, ast.Name):
        return not flow._model_argument(node)
    if isinstance(node, ast.Attribute):
        return not flow._model_argument(node.value) and isinstance(node.value, (ast.Name, ast.Attribute))
    return False


# Loader options that name columns of the entity a chain reached, not relations.
_COLUMN_OPTIONS = frozenset({"load_only", "defer", "undefer", "undefer_group"})


def _relation_step(node: ast.expr) -> str:
    """The relation a loader argument names: `User.orders`, `"orders"`, `User.orders.of_type(X)`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("of_type", "and_"):
        return _relation_step(node.func.value)
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""
