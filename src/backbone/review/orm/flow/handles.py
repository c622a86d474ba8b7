"""Database handles in the flows: sessions, connections, cursors and extension objects, and the SQL text they run."""

from __future__ import annotations

import ast

from backbone.review.knowledge.sql_text import sql_of_literal, statement_writes
from backbone.review.names import dotted_parts
from backbone.review.orm import catalog
from backbone.review.orm.flow.bindings import BindingKind
from backbone.review.orm.flow.common import _END, _HIGH, _text
from backbone.review.orm.flow.sqlalchemy import SqlAlchemyStatements
from backbone.review.orm.values import (
    DataLayer,
    DataValue,
    QueryEvent,
    QueryKind,
    ValueKind,
)
from backbone.review.semantic import own_nodes
from backbone.sql.kinds import StatementKind, statement_kind


class DatabaseHandles(SqlAlchemyStatements):
    """Sessions, connections, cursors and extension objects: what their methods run, and the SQL text they are given."""

    __slots__ = ()

    def _holds_model_class(self, node: ast.expr) -> bool:
        """`self.model` where the flow knows the model class it holds (a generic repository's)."""
        found = self.value(node)
        return found is not None and found.kind is ValueKind.MODEL_CLASS

    def _session_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        conventional = receiver.confidence is not _HIGH
        if name == "query":
            if conventional and not (call.args and (_looks_like_class(call.args[0]) or self._holds_model_class(call.args[0]))):
                return None, None
            models = [self._model_argument(argument) for argument in call.args]
            single = len(models) == 1 and bool(models[0])
            return DataValue(ValueKind.QUERY, DataLayer.SQLALCHEMY, models[0] if single else "", entities=single, is_async=receiver.is_async, confidence=receiver.confidence), None
        if name in catalog.SESSION_EXECUTE:
            return self._execute(call, name, receiver)
        if name in catalog.SESSION_READ:
            if name in ("get", "get_one") and not (len(call.args) >= 2 and _looks_like_class(call.args[0])):
                return None, None
            if name == "refresh" and conventional:
                return None, None
            if name == "exec":
                return self._execute(call, name, receiver)
            statement = self.value(call.args[0]) if call.args else None
            model = ""
            eager: tuple[str, ...] = ()
            locked = any(keyword.arg == "with_for_update" and not _is_false(keyword.value) for keyword in call.keywords)
            if name in ("get", "get_one"):
                model = self._model_argument(call.args[0])
            elif statement is not None and statement.kind is ValueKind.STATEMENT:
                model, eager, locked = statement.model, _run_eager(statement, receiver), statement.locked
            event = QueryEvent(call, QueryKind.READ, DataLayer.SQLALCHEMY, name, _text(call), model, receiver.confidence, receiver)
            result_kind = catalog.SESSION_READ[name]
            if result_kind is None or not model:
                return None, event
            return DataValue(result_kind, DataLayer.SQLALCHEMY, model, eager=eager, locked=locked, is_async=receiver.is_async, entities=True, confidence=receiver.confidence), event
        if name in catalog.SESSION_WRITE:
            if call.args and name in ("commit", "flush") and conventional:
                return None, None
            event = QueryEvent(call, QueryKind.WRITE, DataLayer.SQLALCHEMY, name, _text(call), "", receiver.confidence, receiver, bulk_alternative=catalog.SESSION_WRITE[name])
            return None, event
        if name in ("begin", "begin_nested", "__enter__"):
            return receiver, None
        if name == "connection":
            return receiver.but(kind=ValueKind.CONNECTION), None
        if conventional:
            # A conventionally named handle may as well be a DB-API connection (`g.db`).
            return self._connection_method(call, name, receiver.but(kind=ValueKind.CONNECTION, layer=DataLayer.DRIVER))
        return None, None

    def _execute(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        argument = call.args[0] if call.args else next(
            (keyword.value for keyword in call.keywords if keyword.arg in ("statement", "sql", "query", "operation")), None
        )
        statement = self.value(argument) if argument is not None else None
        writes = False
        schema = False
        model = ""
        eager: tuple[str, ...] = ()
        entities = False
        locked = False
        if statement is not None and statement.kind in (ValueKind.STATEMENT, ValueKind.QUERY):
            writes = statement.writes
            model, eager, locked = statement.model, _run_eager(statement, receiver), statement.locked
            entities = statement.entities and name == "exec"
        elif argument is not None:
            sql = self.sql_text(argument)
            writes = bool(sql and statement_writes(sql)) or self._table_write(argument)
            schema = sql is not None and statement_kind(sql) is StatementKind.SCHEMA
        elif receiver.confidence is not _HIGH:
            return None, None
        kind = QueryKind.WRITE if writes else QueryKind.READ
        bulk = "one executemany() call (or an INSERT ... VALUES of all the rows)" if writes else ""
        if receiver.layer is DataLayer.SQLALCHEMY and writes:
            bulk = "one execute() with a list of parameter sets, or insert()/update() with all the rows"
        event = QueryEvent(call, kind, receiver.layer, name, _text(call), model, receiver.confidence, receiver, bulk_alternative=bulk, schema=schema)
        if name == "scalar":
            return (DataValue(ValueKind.INSTANCE, DataLayer.SQLALCHEMY, model, eager=eager, locked=locked) if model else None), event
        if name == "scalars":
            return DataValue(ValueKind.ROWS, DataLayer.SQLALCHEMY, model, eager=eager, entities=bool(model), locked=locked, is_async=receiver.is_async), event
        return DataValue(ValueKind.ROWS, receiver.layer, model, eager=eager, entities=entities, locked=locked, is_async=receiver.is_async, confidence=receiver.confidence, operations=("execute",)), event

    def _table_write(self, node: ast.expr, depth: int = 0) -> bool:
        """`table.update().where(...).values(...)`, `Model.__table__.insert()`: a Core write.

        So is any statement chained through an upsert clause (`on_conflict_do_update()`,
        `on_duplicate_key_update()`...): only an INSERT has those, whatever callable built it
        (`insert_func = sqlite.insert` picked per dialect at run time)."""
        current: ast.expr = node
        if isinstance(current, ast.Name) and depth < 3:
            binding = self.binding_at(current.id, current)
            if binding is not None and binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.expr):
                return self._table_write(binding.node, depth + 1)
            return False
        while isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
            if current.func.attr in ("insert", "update", "delete") and not current.args:
                return True
            if current.func.attr in catalog.UPSERT_CLAUSES:
                return True
            current = current.func.value
        return False

    def sql_text(self, node: ast.expr, depth: int = 0, before: ast.AST | None = None) -> str | None:
        """The SQL text of a literal, or of a name bound to one (its constant start).

        `before` is where a name is looked up from: a name inside the value of its own
        assignment (`sql = f"{sql} WHERE ..."`) means the binding above that assignment.
        """
        if depth > 4:
            return None
        head: ast.expr | None = None
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.FormattedValue):
            head = node.values[0].value
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)) and isinstance(node.left, ast.Name):
            head = node.left
        if isinstance(head, ast.Name):
            # `f"{base_sql} WHERE ..."`, `base_sql + " WHERE ..."`: the text starts with a name's.
            start = self.sql_text(head, depth + 1, before)
            if start is not None:
                return start
        found = sql_of_literal(node)
        if found is not None:
            return found
        if isinstance(node, ast.Call):
            return self._called_sql_text(node, depth)
        if isinstance(node, ast.Name):
            binding = self.binding_at(node.id, before if before is not None else node)
            if binding is not None and binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.expr):
                marker = ast.Pass(lineno=binding.position[0], col_offset=binding.position[1])
                return self.sql_text(binding.node, depth + 1, marker)
            if binding is None and not isinstance(self.scope, ast.Module):
                module_flow = self.module.flow(self.module.tree)
                module_binding = module_flow.binding_at(node.id, _END)
                if module_binding is not None and isinstance(module_binding.node, ast.expr) and module_binding.kind is BindingKind.ASSIGN:
                    return module_flow.sql_text(module_binding.node, depth + 1)
        return None

    def _called_sql_text(self, call: ast.Call, depth: int) -> str | None:
        """The SQL text a call gives: `DROP_TABLE.format(table=name)` of a module constant,
        `sql.SQL("DROP TABLE {}").format(...)`, `text(...)`, or a call of a module function whose
        every `return` gives SQL text of one kind (`def create_table_sql(name): return f"CREATE ..."`)."""
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr == "format":
            return self.sql_text(func.value, depth + 1)
        qualname = self.resolver.qualified_name(func)
        if qualname in catalog.SQL_TEXT_WRAPPERS:
            return self.sql_text(call.args[0], depth + 1) if call.args else None
        if not isinstance(func, ast.Name) or self.local_binding(func)[0] is not None:
            return None
        function = next(
            (
                statement for statement in self.module.tree.body
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == func.id
            ),
            None,
        )
        if function is None:
            return None
        flow = self.module.flow(function)
        texts: list[str] = []
        for node in _own_returns(function):
            text = flow.sql_text(node.value, depth + 1) if node.value is not None else None
            if text is None:
                return None
            texts.append(text)
        kinds = {statement_kind(text) for text in texts}
        return texts[0] if len(kinds) == 1 else None

    def _connection_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        if name in catalog.CURSOR_METHODS:
            return receiver.but(kind=ValueKind.CURSOR), None
        if name in catalog.ACQUIRE_METHODS:
            return receiver.but(kind=ValueKind.CONNECTION), None
        if name in catalog.EXECUTE_METHODS or (name in ("scalar", "scalars") and receiver.layer is DataLayer.SQLALCHEMY):
            return self._execute(call, name, receiver)
        if name in catalog.EXECUTE_MANY_METHODS:
            event = QueryEvent(call, QueryKind.WRITE, receiver.layer, name, _text(call), "", receiver.confidence, receiver)
            return None, event
        if name in catalog.CONNECTION_READ:
            argument = call.args[0] if call.args else None
            if receiver.confidence is not _HIGH and (argument is None or self.sql_text(argument) is None and self.value(argument) is None):
                return None, None
            sql = self.sql_text(argument) if argument is not None else None
            kind = QueryKind.WRITE if sql and statement_writes(sql) else QueryKind.READ
            event = QueryEvent(call, kind, receiver.layer, name, _text(call), "", receiver.confidence, receiver)
            return DataValue(ValueKind.ROWS, receiver.layer, entities=False), event
        if name == "commit":
            if receiver.confidence is not _HIGH and call.args:
                return None, None
            event = QueryEvent(call, QueryKind.WRITE, receiver.layer, name, _text(call), "", receiver.confidence, receiver, bulk_alternative="one commit() after the loop")
            return None, event
        return None, None

    def _cursor_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        if name in catalog.EXECUTE_METHODS or name == "callproc":
            value, event = self._execute(call, name, receiver)
            return receiver, event
        if name in catalog.EXECUTE_MANY_METHODS:
            event = QueryEvent(call, QueryKind.WRITE, receiver.layer, name, _text(call), "", receiver.confidence, receiver)
            return receiver, event
        if name in ("fetchall", "fetchmany"):
            return DataValue(ValueKind.ROWS, receiver.layer, entities=False), None
        return None, None

    def _extension_method(self, call: ast.Call, name: str, receiver: DataValue) -> tuple[DataValue | None, QueryEvent | None]:
        if name in catalog.EXTENSION_STATEMENTS:
            if name == "select":
                return self._select(call), None
            if name == "text":
                return self._text(call), None
            model = self._model_argument(call.args[0]) if call.args else ""
            return DataValue(ValueKind.STATEMENT, DataLayer.SQLALCHEMY, model, writes=True, entities=False), None
        if name in catalog.EXTENSION_READ:
            statement = self.value(call.args[0]) if call.args else None
            model = ""
            eager: tuple[str, ...] = ()
            if name == "get_or_404" and call.args:
                model = self._model_argument(call.args[0])
            elif statement is not None:
                model, eager = statement.model, statement.eager
            event = QueryEvent(call, QueryKind.READ, DataLayer.SQLALCHEMY, name, _text(call), model, receiver.confidence, receiver)
            kind = catalog.EXTENSION_READ[name]
            return (DataValue(kind, DataLayer.SQLALCHEMY, model, eager=eager) if model else None), event
        return None, None


def _own_returns(function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[ast.Return]:
    """The `return` statements of `function` (a bare one too), in source order, not of the
    functions and lambdas nested in it."""
    return [node for node in own_nodes(function) if isinstance(node, ast.Return)]


def _looks_like_class(node: ast.expr) -> bool:
    """`User`, `models.User`, `User.id`: a mapped class (or its column), not a URL or a key."""
    parts = dotted_parts(node)
    if parts is None:
        if isinstance(node, ast.Call):
            parts = dotted_parts(node.func)
            return parts is not None and parts[-1] in ("aliased", "func", "count", "distinct")
        return False
    return any(part[:1].isupper() and not part.isupper() for part in parts)


def _is_false(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value in (False, None)


def _run_eager(statement: DataValue, session: DataValue) -> tuple[str, ...]:
    """What the rows of `statement` come with when `session` runs it: its eager loads, and the
    many-to-one relations its filter pins to one row when the session is synchronous (its
    identity map answers them after one load; an async session can't lazy-load them)."""
    if not statement.pinned or session.is_async:
        return statement.eager
    return tuple(sorted({*statement.eager, *statement.pinned}))
