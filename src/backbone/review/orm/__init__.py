"""The ORM layer: models and relationships, what executes a query, what eager-loads.

Rules ask this package; they never match ORM or driver import strings themselves.

Public API (stable; the data-access rules and the frameworks layer use it)
--------------------------------------------------------------------------

From a rule (`context` is the rule's `FileContext`; PROJECT-scoped rules have
`context.project`, FILE-scoped ones get a file-local view):

    from backbone.review.orm import module_flows, scope_of

    flows = module_flows(context)            # memoised per file, shared by all rules
    flow = flows.flow(function_node)         # ScopeFlow of a FunctionDef/AsyncFunctionDef/Module
    flow = flows.flow(scope_of(node, context))  # ... of the function around any node

    flow.value(expr) -> DataValue | None     # what an expression holds (see below)
    flow.events() -> list[QueryEvent]        # every place in the scope that executes SQL
    flow.call_result(call) -> (DataValue | None, QueryEvent | None)
    flow.result() -> DataValue | None        # what the function returns, when data

`DataValue` (values.py), frozen:
    kind: ValueKind        MODEL_CLASS, MANAGER, QUERY (lazy), RELATED_MANAGER, STATEMENT,
                           ROWS (fetched), INSTANCE, SESSION, SESSION_FACTORY, ENGINE,
                           CONNECTION, CURSOR, EXTENSION, DECLARATIVE_BASE
    layer: DataLayer       DJANGO, SQLALCHEMY, DRIVER
    model: str             qualified name of the model ("" unknown)
    operations: tuple[str] chained calls applied, in order: "filter", "order_by", "slice",
                           "limit", "offset", "paginate", "values", "all", "list()"...
    eager: tuple[str]      eager-loaded relation paths ("author", "author.profile", "*")
    eager_known, entities, locked, is_async, new, loaded, relation, row_of, confidence

`QueryEvent` (values.py): node (the call / iterated expression / subscript / attribute
that runs SQL), kind (QueryKind.READ or WRITE), layer, operation ("get", "count",
"iteration", "list()", "commit", "save", "execute", "relation"...), text (how a
message shows it: "Customer.objects.get(...)"), model, confidence, receiver (the
DataValue the operation applies to), relation (a RelationRead when a relationship of
an instance is read), bulk_alternative (for writes).

Classifying one call: `classify_call(context, call) -> QueryEvent | None` (READ, WRITE,
or None for a lazy query builder or anything that runs no SQL), and
`query_value(context, expr) -> DataValue | None` for "is this a query of model X".

The model graph: `model_graph(context.project)` -> ModelGraph with
`.model(reference)` -> ModelInfo (qualname, name, layer, app_label, fields, relations:
dict[str, Relation], managers) and `.relation(model, name)` -> Relation (target, many,
reverse, kind, load, key_column).

Loops: `repeating_loop(node, flow)` -> Loop | None (the innermost loop running `node` per
iteration; literal-constant, batch and polling loops excluded), `loop_at`, and
`leaves_loop_after`, `batch_lookup` for per-query exemptions (loops.py).

Through project functions: `query_chain(index, function_qualname, call_arguments(call))`
-> QueryChain | None (`.functions`, `.site`, `.render()` = "render_order() ->
load_customer() -> session.get(...)"); the arguments let it skip queries and calls that
the call's values of parameters with a constant default rule out (`guards.bind`).

Test code and migrations: `is_test_code(context)`, `is_migration(context)`.

Stability notes: values are memoised per file and shared by every rule that asks, so
treat them as read-only; `module_flows` takes the per-file walk made for the facts from
the file's model (`context.semantic.data_flows`) and rebinds it to the project's knowledge.

Per-file facts (cached in `ModuleFacts.models`): declarations.py / facts.py.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backbone.review.guards import call_arguments
from backbone.review.orm.access import (
    PerRowMethod,
    QueryChain,
    is_migration,
    is_test_code,
    module_flows,
    project_knowledge,
    query_chain,
    round_changes_schema,
    scope_of,
)
from backbone.review.orm.facts import (
    DataHandle,
    FunctionDataAccess,
    LoadStrategy,
    ModelClass,
    QuerySite,
    RelationDeclaration,
    RelationKind,
)
from backbone.review.orm.flow.module import ModuleFlows, ScopeFlow
from backbone.review.orm.graph import ModelGraph, ModelInfo, Relation, model_graph
from backbone.review.orm.loops import (
    Loop,
    LoopKind,
    another_table_each_round,
    batch_lookup,
    irreversible_effect,
    leaves_loop_after,
    loop_at,
    on_error_path,
    once_in_loop,
    repeating_loop,
    same_row_each_round,
)
from backbone.review.orm.values import (
    DataLayer,
    DataValue,
    QueryEvent,
    QueryKind,
    RelationRead,
    ValueKind,
)

if TYPE_CHECKING:
    from backbone.review.context import FileContext

__all__ = [
    "PerRowMethod",
    "DataHandle",
    "DataLayer",
    "DataValue",
    "FunctionDataAccess",
    "LoadStrategy",
    "Loop",
    "LoopKind",
    "ModelClass",
    "ModelGraph",
    "ModelInfo",
    "ModuleFlows",
    "QueryChain",
    "QueryEvent",
    "QueryKind",
    "QuerySite",
    "Relation",
    "RelationDeclaration",
    "RelationKind",
    "RelationRead",
    "ScopeFlow",
    "ValueKind",
    "another_table_each_round",
    "batch_lookup",
    "on_error_path",
    "once_in_loop",
    "same_row_each_round",
    "irreversible_effect",
    "call_arguments",
    "classify_call",
    "is_migration",
    "is_test_code",
    "leaves_loop_after",
    "loop_at",
    "model_graph",
    "module_flows",
    "project_knowledge",
    "query_chain",
    "query_value",
    "repeating_loop",
    "round_changes_schema",
    "scope_of",
]


def classify_call(context: FileContext, call: ast.Call) -> QueryEvent | None:
    """The SQL a call executes (READ or WRITE), or None when it runs none (a lazy builder)."""
    flow = module_flows(context).flow(scope_of(call, context))
    return flow.call_result(call)[1]


def query_value(context: FileContext, expression: ast.expr) -> DataValue | None:
    """What an expression holds for the ORM layer (a lazy query of model X, a session...)."""
    flow = module_flows(context).flow(scope_of(expression, context))
    return flow.value(expression)
