"""What each expression of a function holds, and where the function executes SQL.

`ScopeFlow` (module.py) analyses one function (or a module body): it binds names in source
order (assignments, `for` targets, `with ... as`, parameters with their annotations and
`Depends(...)` defaults), evaluates expressions to `DataValue`s on demand (memoised per
node) and lists the `QueryEvent`s: each call, iteration, `list()`, slice or relation read
that runs SQL. Knowledge from outside the function (models, module-level handles, what
project functions return) comes from a `DataKnowledge` (knowledge.py).

Flow-insensitive on purpose, and cheap: the value of a name at a use is the value of
its last binding above the use; branches are not merged.

One module per concern; `ScopeFlow` stacks them as layers, each a class of its module:

- module.py: `ModuleFlows` (one walk over the tree hands each scope its nodes) and `ScopeFlow`;
- bindings.py: `Binding`s collected in source order, the binding a name use reads (`ScopeBindings`);
- tracking.py: what a name, a parameter, an annotation holds (`ValueTracking`);
- attributes.py: module and class attributes, relations of instances (`AttributeValues`);
- evaluation.py: evaluations, writes, prefetched relations, instance and row methods (`QueryEvaluation`);
- django.py: querysets and managers, select_related / prefetch_related (`DjangoQueries`);
- sqlalchemy.py: statements, legacy queries, loader options (`SqlAlchemyStatements`);
- handles.py: sessions, connections, cursors, extension objects, SQL text (`DatabaseHandles`);
- calls.py: what a call or subscript returns, dispatched by receiver (`CallResults`);
- events.py: where a scope runs SQL, what it returns and yields (`QueryEvents`);
- eager.py: what an instance has eager-loaded (`relation_loaded`);
- common.py: shared constants and text helpers.
"""
