"""Where the rows of a query are serialized, in the file a rule looks at.

`function_sites(function, context)` and `view_sites(class_node, context)` answer
`SerializationSite`s: the query that feeds the serialization (the node a finding goes on),
the rows' `DataValue` (model, eager loads), what serializes them and what that reads per
row. Serializations recognised:

- DRF: `Serializer(rows, many=True)`, `self.get_serializer(page, many=True)`, and the
  `serializer_class` (or `get_serializer_class()`) of a generic list view or viewset whose
  framework `list()` serializes `queryset`/`get_queryset()` (super() chains followed,
  pagination unwrapped: a page of 50 rows is 50 queries);
- marshmallow: `Schema(many=True).dump(rows)`, `schema.dump(rows, many=True)`, a module-level
  `posts_schema = PostSchema(many=True)`;
- pydantic: a FastAPI route's `response_model` or return annotation (`list[Out]`,
  `Page[Out]`; a single `Out` for the lists nested in it), `TypeAdapter(list[Out])`,
  `parse_obj_as`, and `Out.model_validate(row)`/`from_orm(row)` per row;
- strawberry-django: a list field of a `@strawberry_django.type` resolved by strawberry-django
  or by a resolver returning a query (strawberry.py);
- per row in a comprehension or loop: `Serializer(row).data`, `schema.dump(row)`, a model
  method or property (`row.to_dict()`, `row.comment_total`), a project function given the row.
"""

from __future__ import annotations

import ast

from msgspec.structs import replace

from backbone.findings import Confidence
from backbone.records import Record
from backbone.review.context import FileContext
from backbone.review.frameworks import (
    handler_for,
    qualname_of,
    response_model,
    response_payloads,
    view_class_for,
)
from backbone.review.guards import UNKNOWN_BINDING, Binding, bind, call_arguments
from backbone.review.names import NameResolver
from backbone.review.orm import (
    DataLayer,
    DataValue,
    ScopeFlow,
    ValueKind,
    module_flows,
    scope_of,
)
from backbone.review.orm.access import specialised_flows
from backbone.review.orm.loops import filtered_to_one_row, sliced_to_few_rows
from backbone.review.orm.values import lower_confidence
from backbone.review.project import SUPER_CALL, FunctionFacts, ProjectIndex
from backbone.review.semantic import block_nodes, own_nodes
from backbone.review.serialization import strawberry
from backbone.review.serialization.extract import annotation_element
from backbone.review.serialization.facts import ViewData
from backbone.review.serialization.hooks import hook_sites
from backbone.review.serialization.knowledge import (
    Family,
    Read,
    SerializationKnowledge,
    Where,
    serialization_knowledge,
)

_ROWS = (ValueKind.QUERY, ValueKind.ROWS)
_PASS_THROUGH = frozenset({"list", "tuple", "sorted", "reversed"})
_VIEW_PASS_THROUGH = frozenset({"paginate_queryset", "filter_queryset"})
_PER_ROW_VALIDATORS = frozenset({"model_validate", "from_orm", "parse_obj", "validate"})
_ADAPTERS = frozenset({"pydantic.TypeAdapter", "pydantic.parse_obj_as", "pydantic.tools.parse_obj_as"})
# The subclasses a generic class's method is read for, at most.
_MOST_SPECIALISATIONS = 24
_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)
# Calls that serialize many rows without a `many=` keyword of their own.
_MANY_METHODS = frozenset({"dump", "dumps", "validate_python", "dump_python"})


class SerializationSite(Record, frozen=True):
    # Where the query is (the finding's node), and how a message shows it.
    query: ast.AST
    rows: DataValue
    many: bool
    # "`PostSerializer` (serializers.py:5)", "`Order.to_dict()`".
    serializer: str
    reads: tuple[Read, ...]
    # "`PostViewSet` (views.py:12)", "`list_orders()` (api.py:30)".
    view: str
    family: Family | None
    # Relation paths the loop reads itself (BB203 reports those).
    skip: frozenset[str] = frozenset()
    annotated: frozenset[str] = frozenset()
    confidence: Confidence = Confidence.HIGH
    # How a message names the query when it is not written as one (a ModelAdmin's changelist).
    query_text: str = ""
    # Names the query's `annotate(name=...)` sets on each row: values, whatever the model calls so.
    aliases: frozenset[str] = frozenset()


class _Finder:
    def __init__(self, context: FileContext) -> None:
        assert context.project is not None
        self.context = context
        self.knowledge: SerializationKnowledge = serialization_knowledge(context.project)
        self.resolver = NameResolver(context.facts.module, context.facts.imports, context.facts.symbols, context.facts.star_imports)

    # --- names -------------------------------------------------------------------------

    def schema_named(self, node: ast.expr) -> str:
        qualname = self.context.qualified_name(node) or ""
        return qualname if qualname and self.knowledge.family(qualname) is not None else ""

    def describe_schema(self, qualname: str) -> str:
        schema = self.knowledge.schema(qualname)
        short = qualname.rpartition(".")[2]
        if schema is None:
            return f"`{short}`"
        return f"`{short}` ({self.knowledge.where(schema.qualname, schema.line).render()})"

    def where(self, node: ast.AST) -> str:
        return f"{self.context.path}:{getattr(node, 'lineno', 0)}"

    # --- rows --------------------------------------------------------------------------

    def rows(self, flow: ScopeFlow, node: ast.expr, owner: ast.ClassDef | None) -> tuple[ast.AST, DataValue] | None:
        """The query behind `node` and its value, following names, list() and view helpers."""
        current: ast.expr = node
        for _ in range(12):
            if isinstance(current, ast.Call):
                func = current.func
                if isinstance(func, ast.Name) and func.id in _PASS_THROUGH and current.args:
                    current = current.args[0]
                    continue
                if isinstance(func, ast.Attribute) and _is_self(func.value):
                    if func.attr in _VIEW_PASS_THROUGH and current.args:
                        current = current.args[0]
                        continue
                    if func.attr == "get_queryset" and owner is not None:
                        return self.view_queryset(owner)
            if isinstance(current, ast.Await):
                current = current.value
                continue
            value = flow.value(current)
            if value is None and isinstance(current, ast.Name):
                binding = flow.binding_at(current.id, current)
                if binding is not None and binding.kind.value == "assign" and isinstance(binding.node, ast.expr):
                    current = binding.node
                    continue
            if value is None or not value.entities or not value.model or not value.eager_known:
                return None
            if value.kind not in _ROWS and value.kind is not ValueKind.INSTANCE:
                return None
            return self._origin(flow, current), value
        return None

    def _origin(self, flow: ScopeFlow, node: ast.expr) -> ast.expr:
        """Where the query is written: through names bound once and calls on fetched rows."""
        current = node
        for _ in range(12):
            if isinstance(current, ast.Await):
                current = current.value
            elif isinstance(current, ast.Name):
                binding = flow.binding_at(current.id, current)
                if binding is None or binding.kind.value != "assign" or not isinstance(binding.node, ast.expr):
                    return current
                current = binding.node
            elif isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute) and isinstance(current.func.value, (ast.Name, ast.Await)):
                receiver = flow.value(current.func.value)
                if receiver is None or receiver.kind not in _ROWS:
                    return current
                current = current.func.value
            else:
                return current
        return current

    def computes_eager(self, owner: ast.ClassDef) -> bool:
        """The list's get_queryset() (its own, or one it inherits or reaches through `super()`)
        adds eager loads computed at run time (`prefetch_related(*prefetches_for(serializer))`)."""
        qualname = self._qualname(owner)
        method = next((item for item in owner.body if isinstance(item, ast.FunctionDef) and item.name == "get_queryset"), None)
        if method is None:
            return self._inherits_opaque_eager(qualname)
        own = self.knowledge.views.get(qualname)
        return own is not None and self._opaque(own) or _calls_super_get_queryset(method) and self._bases_opaque_eager(qualname)

    def _opaque(self, view: ViewData) -> bool:
        """The view's own get_queryset() eager-loads names computed at run time, itself or through
        a project function it hands them to (whose body, or what it calls, eager-loads)."""
        if view.opaque_eager:
            return True
        index = self.knowledge.index
        for helper in view.eager_helpers:
            target = index.function(helper)
            if target is None:
                continue
            if any(self.knowledge.reshapes(qualname) for qualname in [target.qualname, *index.reach(target.qualname, 3)]):
                return True
        return False

    def view_queryset(self, owner: ast.ClassDef, through_computed: bool = False) -> tuple[ast.AST, DataValue] | None:
        """The class's `get_queryset()` return (super() chains applied) or its `queryset`; None when
        eager loads computed at run time are added to it, unless `through_computed` (they are then
        left out)."""
        if not through_computed and self.computes_eager(owner):
            return None
        flows = module_flows(self.context)
        attribute = next((item for item in owner.body if _assigns(item, "queryset")), None)
        base: tuple[ast.AST, DataValue] | None = None
        if isinstance(attribute, ast.Assign):
            value = flows.flow(self.context.tree).value(attribute.value)
            if value is not None and value.kind in _ROWS + (ValueKind.MANAGER,) and value.eager_known and value.model:
                base = (attribute.value, value.but(kind=ValueKind.QUERY))
        else:
            base = self._model_queryset(owner)
        method = next((item for item in owner.body if isinstance(item, ast.FunctionDef) and item.name == "get_queryset"), None)
        if method is None:
            return base
        flow = flows.flow(method)
        for statement in ast.walk(method):
            if isinstance(statement, ast.Return) and statement.value is not None:
                found = self._returned_queryset(flow, statement.value, base, method)
                if found is not None and "none" not in found[1].operations:
                    # `return Domain.objects.none()` (for anonymous users) has no rows: the list's
                    # rows are those of the method's other return.
                    return found
        return None

    def _model_queryset(self, owner: ast.ClassDef) -> tuple[ast.AST, DataValue] | None:
        """`model = Post` with no `queryset`: the framework's get_queryset() answers every row of the
        model (`Post._default_manager.all()`, Django's list views and DRF 2 generic views)."""
        attribute = next((item for item in owner.body if _assigns(item, "model")), None)
        if not isinstance(attribute, ast.Assign):
            return None
        info = self.knowledge.graph.model(self.context.qualified_name(attribute.value) or "")
        if info is None or info.layer is not DataLayer.DJANGO:
            return None
        return attribute.value, DataValue(ValueKind.QUERY, DataLayer.DJANGO, info.qualname)

    def _returned_queryset(
        self, flow: ScopeFlow, node: ast.expr, base: tuple[ast.AST, DataValue] | None, method: ast.FunctionDef
    ) -> tuple[ast.AST, DataValue] | None:
        chain: list[ast.Call] = []
        current: ast.expr = node
        passed_helper = False
        for _ in range(16):
            if isinstance(current, ast.Name):
                binding = flow.binding_at(current.id, current)
                if binding is None or binding.kind.value != "assign" or not isinstance(binding.node, ast.expr):
                    break
                current = binding.node
                continue
            if isinstance(current, ast.Attribute) and _is_self(current.value) and current.attr == "queryset":
                # `self.queryset`: what the method assigned to it before, else the class's `queryset`
                # (the framework's get_queryset() is `self.queryset.all()`).
                assigned = _self_assignment(method, "queryset", current)
                if assigned is not None:
                    current = assigned
                    continue
                return self._chained(flow, node, base, chain)
            if isinstance(current, ast.Call) and isinstance(current.func, ast.Attribute):
                if current.func.attr == "get_queryset" and isinstance(current.func.value, ast.Call) and isinstance(current.func.value.func, ast.Name) and current.func.value.func.id == "super":
                    return self._chained(flow, node, base, chain)
                chain.append(current)
                current = current.func.value
                continue
            shaped = self._shaped_by_helper(current)
            if shaped is not None:
                passed_helper = True
                current = shaped
                continue
            break
        value = flow.value(node)
        if value is None and passed_helper:
            # The rows before the helper, with the calls chained after it.
            value = flow.value(current)
            for call in reversed(chain):
                if value is None or value.layer is not DataLayer.DJANGO:
                    break
                value = apply_call(flow, value, call)
        if value is not None and value.kind in _ROWS and value.eager_known and value.model and value.entities:
            return self._origin(flow, current if passed_helper else node), value
        return None

    def _shaped_by_helper(self, node: ast.expr) -> ast.expr | None:
        """`attach_extra_info(queryset, user=...)`: a project function handed the queryset first,
        which (with what it calls) adds no eager load and turns no row into a dict, so its result
        has the rows of its argument: the argument, else None."""
        if not isinstance(node, ast.Call) or not node.args or isinstance(node.args[0], ast.Starred):
            return None
        index = self.knowledge.index
        target = index.function(self.context.qualified_name(node.func) or "")
        if target is None or (target.qualname, 0) not in self.knowledge.functions:
            return None
        reached = [target.qualname, *index.reach(target.qualname, 3)]
        if any(self.knowledge.reshapes(qualname) for qualname in reached):
            return None
        return node.args[0]

    def _bases_opaque_eager(self, qualname: str) -> bool:
        """What `super().get_queryset()` reaches from the class eager-loads at run time."""
        return self._inherits_opaque_eager(qualname, skip_own=True)

    def _inherits_opaque_eager(self, qualname: str, skip_own: bool = False) -> bool:
        """The get_queryset() the class inherits, or one it reaches through `super()`, eager-loads
        what is computed at run time. `super()` follows the class's MRO: a mixin's
        `super().get_queryset()` goes on to the bases after the mixin, not to the mixin's own."""
        index = self.knowledge.index
        for owner in _mro(index, qualname)[1 if skip_own else 0 :]:
            facts = index.classes.get(owner)
            if facts is None or "get_queryset" not in facts.methods:
                continue
            view = self.knowledge.views.get(owner)
            if view is not None and self._opaque(view):
                return True
            function = index.functions.get(f"{owner}.get_queryset")
            if function is None or not any(call.callee == f"{SUPER_CALL}get_queryset" for call in function.calls):
                return False
        return False

    @staticmethod
    def _chained(
        flow: ScopeFlow, node: ast.expr, base: tuple[ast.AST, DataValue] | None, chain: list[ast.Call]
    ) -> tuple[ast.AST, DataValue] | None:
        """The class's queryset after the calls chained on it (`super().get_queryset().filter(...)`)."""
        if base is None:
            return None
        chained = base[1]
        for call in reversed(chain):
            chained = apply_call(flow, chained, call)
        return node, chained

    def view_serializers(self, owner: ast.ClassDef, qualname: str) -> list[str]:
        chosen = self._list_action_serializers(qualname)
        if chosen is not None:
            return chosen
        found: list[str] = []
        for item in owner.body:
            if _assigns(item, "serializer_class") and isinstance(item, ast.Assign):
                name = self.schema_named(item.value)
                if name:
                    found.append(name)
            elif isinstance(item, ast.FunctionDef) and item.name == "get_serializer_class":
                for node in ast.walk(item):
                    if isinstance(node, ast.Return) and node.value is not None:
                        name = self.schema_named(node.value)
                        if name:
                            found.append(name)
        if not found:
            index = self.knowledge.index
            stack = [qualname]
            seen: set[str] = set()
            while stack and not found and len(seen) < 24:
                current = index.resolve(stack.pop(0))
                if current in seen:
                    continue
                seen.add(current)
                view = self.knowledge.views.get(current)
                if view is not None and view.serializer and self.knowledge.family(view.serializer) is not None:
                    found.append(view.serializer)
                facts = index.classes.get(current)
                stack.extend(facts.bases if facts is not None else ())
        return list(dict.fromkeys(found))

    def _list_action_serializers(self, qualname: str) -> list[str] | None:
        """The serializers the project's get_serializer_class() (the class's own or the nearest in its
        MRO) returns for DRF's list action (`if self.action == "list" and self.summary_serializer_class:
        return self.summary_serializer_class`), class attributes looked up along the MRO and
        `super().get_serializer_class()` followed; None when that is not known."""
        index = self.knowledge.index
        order = _mro(index, qualname)

        def attribute(name: str) -> str | None:
            for current in order:
                view = self.knowledge.views.get(current)
                if view is not None:
                    for key, value in view.attributes:
                        if key == name:
                            return value
                    if name == "serializer_class" and view.serializer:
                        return view.serializer
            return None

        found: list[str] = []
        start = 0
        for _ in range(8):
            position = next(
                (number for number in range(start, len(order)) if "get_serializer_class" in getattr(index.classes.get(order[number]), "methods", ())),
                None,
            )
            if position is None:
                if start == 0:
                    return None
                default = attribute("serializer_class")
                if not default or self.knowledge.family(default) is None:
                    return None
                return list(dict.fromkeys([*found, default]))
            view = self.knowledge.views.get(order[position])
            if view is None or not view.list_choices:
                return None
            following = False
            for choice in view.list_choices:
                required, _, returned = choice.partition(">")
                if required and required != "?":
                    bound = attribute(required)
                    if bound == "":
                        # `NAME = None` along the MRO: the branch is not taken.
                        continue
                    if bound is None:
                        # Not a class attribute bound to a name here: it may or may not be set.
                        required = "?"
                if returned == "unknown":
                    return None
                if returned == "super":
                    following = True
                    break
                kind, _, name = returned.partition(":")
                schema = attribute(name) if kind == "attr" else name
                if not schema or self.knowledge.family(schema) is None:
                    return None
                found.append(schema)
                if required != "?":
                    return list(dict.fromkeys(found))
            if not following:
                return list(dict.fromkeys(found)) or None
            start = position + 1
        return None

    # --- per function --------------------------------------------------------------------

    def function_sites(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> list[SerializationSite]:
        flow = module_flows(self.context).flow(function)
        owner = self._owner(function)
        label = f"`{function.name}()` ({self.where(function)})"
        found = self._row_sites(flow, owner, label)
        found.extend(self._specialised(function, owner))
        if function.decorator_list:
            found.extend(self._response_model(flow, function, owner, label))
        found.extend(self._graphql_resolver(flow, function, owner, label))
        if function.decorator_list and function.returns is not None:
            found.extend(strawberry.resolver_sites(self, flow, function, label))
        found.extend(self._handed_over(flow, function, owner))
        return found

    def _row_sites(self, flow: ScopeFlow, owner: ast.ClassDef | None, label: str) -> list[SerializationSite]:
        """Serializations of many rows by a call, or per row in a loop or comprehension."""
        found: list[SerializationSite] = []
        # The flow's walk already listed the scope's calls and loops.
        for call in flow.calls:
            if call.keywords or len(call.args) == 2 or isinstance(call.func, ast.Attribute) and call.func.attr in _MANY_METHODS:
                found.extend(self._many_call(flow, call, owner, label))
        for loop in flow.loops:
            if isinstance(loop, (*_COMPREHENSIONS, ast.For, ast.AsyncFor)):
                found.extend(self._per_row(flow, loop, owner, label))
        return found

    def _specialised(self, function: ast.FunctionDef | ast.AsyncFunctionDef, owner: ast.ClassDef | None) -> list[SerializationSite]:
        """A method of a generic class that keeps a model class in an attribute (`self.model`),
        read as the method of each project subclass that binds it and does not override it
        (`class FoodRepository(Repository[FoodOut, Food])`)."""
        if owner is None:
            return []
        index = self.knowledge.index
        generic = self._qualname(owner)
        own = f"{generic}.{function.name}"
        found: list[SerializationSite] = []
        for subclass in index.specialisations(generic)[:_MOST_SPECIALISATIONS]:
            if index.method(subclass, function.name) != own:
                continue
            flow = specialised_flows(self.context, generic, subclass).flow(function)
            label = f"`{function.name}()` ({self.where(function)}) of `{subclass.rpartition('.')[2]}`"
            found.extend(self._row_sites(flow, owner, label))
        return found

    def _bound_schema(self, flow: ScopeFlow, node: ast.expr) -> str:
        """`self.schema` (or a name bound to `override or self.schema`) in a class whose generic
        base keeps there the schema class a type variable stands for, bound by the class."""
        class_qualname = flow.context.class_qualname
        if class_qualname is None:
            return ""
        current: ast.expr = node
        for _ in range(4):
            if isinstance(current, ast.Name):
                binding = flow.binding_at(current.id, current)
                if binding is None or binding.kind.value != "assign" or not isinstance(binding.node, ast.expr):
                    return ""
                current = binding.node
            elif isinstance(current, ast.BoolOp) and isinstance(current.op, ast.Or):
                # `override or self.schema`: the schema used when no other is given.
                current = current.values[-1]
            else:
                break
        if not (isinstance(current, ast.Attribute) and isinstance(current.value, ast.Name) and current.value.id in ("self", "cls")):
            return ""
        bound = self.knowledge.index.bound_attribute(class_qualname, current.attr)
        return bound if bound and self.knowledge.family(bound) is not None else ""

    def _handed_over(self, flow: ScopeFlow, function: ast.FunctionDef | ast.AsyncFunctionDef, owner: ast.ClassDef | None) -> list[SerializationSite]:
        """A function returning a query (`Dashboard.all(org)`) whose caller hands the rows to a
        project function that calls a function it is given once per row (`paginate(results, page,
        25, serialize_dashboard)`, `lambda q: q.to_dict()`): that function's reads run per row."""
        index = self.knowledge.index
        handovers = index.row_handovers(qualname_of(function, self.context))
        if not handovers:
            return []
        returned = [
            located
            for statement in own_nodes(function)
            if isinstance(statement, ast.Return) and statement.value is not None
            and (located := self.rows(flow, statement.value, owner)) is not None and located[1].kind in _ROWS
        ]
        if not returned:
            return []
        found: list[SerializationSite] = []
        for node, rows in returned:
            model = self.knowledge.graph.model(rows.model)
            if model is None:
                continue
            for caller, handed in handovers:
                through = [index.function(helper) for helper in handed.through]
                if any(helper is not None and self.knowledge.reshapes(helper.qualname) for helper in through):
                    continue
                reads: list[Read] = []
                for _, target, method in handed.callbacks:
                    if method:
                        member = self.knowledge.method(model.qualname, method)
                        defined = index.function(member) if member is not None else None
                        if member is not None and defined is not None:
                            reads.append(Read((f"{method}()",), f"{model.name}.{method}()", self.knowledge.where(member, defined.line)))
                        continue
                    facts = index.function(target)
                    if facts is None:
                        continue
                    position = 1 if facts.qualname.rpartition(".")[0] in index.classes else 0
                    reads.extend(self._reads_of(facts, position))
                if not reads:
                    continue
                receiver = handed.callee.rpartition(".")[2]
                view = f"`{caller.rpartition('.')[2]}()` ({self.knowledge.where(caller, handed.line).render()}, through `{receiver}()`)"
                shown = ", ".join(dict.fromkeys(f"`{read.field}`" for read in reads))
                found.append(
                    SerializationSite(
                        node, rows, True, shown, tuple(reads), view, None, frozenset(), annotated_counts(self.context, node), Confidence.MEDIUM,
                        aliases=annotation_aliases(node),
                    )
                )
        return found

    def _graphql_resolver(self, flow: ScopeFlow, function: ast.FunctionDef | ast.AsyncFunctionDef, owner: ast.ClassDef | None, label: str) -> list[SerializationSite]:
        """`def resolve_posts(root, info): return Post.objects.all()` for `posts = graphene.List(PostType)`."""
        if owner is None or not function.name.startswith("resolve_"):
            return []
        schema = self.knowledge.schema(self._qualname(owner))
        field = next((item for item in schema.fields if item.name == function.name[len("resolve_"):]), None) if schema is not None else None
        if field is None or not field.many or self.knowledge.family(field.nested) is not Family.GRAPHENE:
            return []
        found: list[SerializationSite] = []
        for statement in own_nodes(function):
            if isinstance(statement, ast.Return) and statement.value is not None:
                site = self._site(self.rows(flow, statement.value, None), field.nested, True, label, confidence=Confidence.MEDIUM)
                if site is not None:
                    found.append(site)
        return found

    def _owner(self, function: ast.AST) -> ast.ClassDef | None:
        parent = self.context.parent(function)
        return parent if isinstance(parent, ast.ClassDef) else None

    def _site(
        self,
        located: tuple[ast.AST, DataValue] | None,
        schema: str,
        many: bool,
        label: str,
        skip: frozenset[str] = frozenset(),
        confidence: Confidence = Confidence.HIGH,
        computed_eager: bool = False,
    ) -> SerializationSite | None:
        """`computed_eager`: the query adds eager loads computed at run time, which (derived from the
        serializer's declared fields) can't cover what project code reads per object: only the
        reads of method fields, `to_representation` and model members count, at medium confidence."""
        if located is None or not schema:
            return None
        node, rows = located
        if rows.kind is ValueKind.INSTANCE and many:
            return None
        family = self.knowledge.family(schema)
        if family is Family.PYDANTIC and not self.knowledge.reads_attributes(schema):
            return None
        reads = self.knowledge.schema_reads(schema)
        if computed_eager:
            reads = tuple(read for read in reads if read.code)
            confidence = lower_confidence(confidence, Confidence.MEDIUM)
        if not reads:
            return None
        return SerializationSite(
            node, rows, many, self.describe_schema(schema), reads, label, family, skip, annotated_counts(self.context, node), confidence,
            aliases=annotation_aliases(node),
        )

    def _schema_of_receiver(self, flow: ScopeFlow, node: ast.expr, owner: ast.ClassDef | None) -> tuple[str, bool]:
        """The schema a `.dump(...)` receiver (or a serializer call) is, and whether it has many=True."""
        if isinstance(node, ast.Call):
            if isinstance(node.func, ast.Attribute) and _is_self(node.func.value) and node.func.attr == "get_serializer" and owner is not None:
                serializers = self.view_serializers(owner, self._qualname(owner))
                return (serializers[0] if serializers else ""), _many(node)
            return self.schema_named(node.func), _many(node)
        if isinstance(node, ast.Name):
            binding = flow.binding_at(node.id, node)
            if binding is not None and binding.kind.value == "assign" and isinstance(binding.node, ast.Call):
                return self._schema_of_receiver(flow, binding.node, owner)
        qualname = self.context.qualified_name(node) or ""
        instance = self.knowledge.instances.get(qualname) or self.knowledge.instances.get(self.knowledge.index.resolve(qualname))
        if instance is not None:
            return instance.schema, instance.many
        return "", False

    def _many_call(self, flow: ScopeFlow, call: ast.Call, owner: ast.ClassDef | None, label: str) -> list[SerializationSite]:
        func = call.func
        rows: ast.expr | None = None
        schema = ""
        if isinstance(func, ast.Attribute) and func.attr in ("dump", "dumps") and call.args:
            schema, many = self._schema_of_receiver(flow, func.value, owner)
            if not (many or _many(call)):
                return []
            rows = call.args[0]
        elif isinstance(func, ast.Attribute) and func.attr in ("validate_python", "dump_python") and call.args and isinstance(func.value, ast.Call):
            adapter = func.value
            if self.context.qualified_name(adapter.func) not in _ADAPTERS or not adapter.args:
                return []
            schema, many = annotation_element(adapter.args[0], self.resolver)
            if not many:
                return []
            rows = call.args[0]
        elif self.context.qualified_name(func) in _ADAPTERS and len(call.args) == 2:
            schema, many = annotation_element(call.args[0], self.resolver)
            if not many:
                return []
            rows = call.args[1]
        elif _many(call):
            if self._only_validated(flow, call):
                return []
            schema, _ = self._schema_of_receiver(flow, call, owner)
            rows = call.args[0] if call.args else next((keyword.value for keyword in call.keywords if keyword.arg == "instance"), None)
        elif call.keywords:
            return self._constructed(flow, call, owner, label)
        if rows is None or not schema or self.knowledge.family(schema) is None:
            return []
        site = self._site(self.rows(flow, rows, owner), schema, True, label)
        return [site] if site is not None else []

    def _only_validated(self, flow: ScopeFlow, call: ast.Call) -> bool:
        """`serializer = Serializer(rows, data=..., many=True)` whose function only validates and saves
        through it (`is_valid()`, `save()`, `errors`, `validated_data`): its representation, which reads
        each row's fields, is never made. Kept on the instance (`self.serializer = ...`, a form that
        validates in `is_valid()` and saves in `save()`), every read of that attribute in the module
        must be one of those."""
        scope = flow.scope
        parent = flow.parent(call)
        if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) or not isinstance(parent, ast.Assign):
            return False
        if len(parent.targets) != 1:
            return False
        target = parent.targets[0]
        if isinstance(target, ast.Attribute) and isinstance(target.value, ast.Name) and target.value.id == "self":
            return self._attribute_only_validated(target.attr)
        if not isinstance(target, ast.Name):
            return False
        name = target.id
        uses = [
            node for node in self.context.semantic.own_nodes(scope)
            if isinstance(node, ast.Name) and node.id == name and isinstance(node.ctx, ast.Load)
        ]
        return all(
            isinstance(holder := flow.parent(use), ast.Attribute) and holder.attr in _VALIDATION_MEMBERS for use in uses
        )

    def _attribute_only_validated(self, attribute: str) -> bool:
        """Every read of `<object>.<attribute>` in the module goes on to a validation member
        (`self.serializer.is_valid()`, `form.serializer.errors`)."""
        for node in self.context.nodes_of(ast.Attribute):
            if node.attr != attribute or not isinstance(node.ctx, ast.Load):
                continue
            holder = self.context.parents.get(node)
            if not (isinstance(holder, ast.Attribute) and holder.attr in _VALIDATION_MEMBERS):
                return False
        return True

    def _constructed(self, flow: ScopeFlow, call: ast.Call, owner: ast.ClassDef | None, label: str) -> list[SerializationSite]:
        """`Page(total=count, items=rows)`: a pydantic model built with rows for a field that is a
        list of models reading attributes validates each row into that model."""
        model = self.schema_named(call.func)
        if not model or self.knowledge.family(model) is not Family.PYDANTIC:
            return []
        fields = {field.name: field for schema in reversed(self.knowledge.ancestry(model)) for field in schema.fields}
        found: list[SerializationSite] = []
        for keyword in call.keywords:
            field = fields.get(keyword.arg or "")
            if field is None or not field.many or not field.nested or self.knowledge.family(field.nested) is not Family.PYDANTIC:
                continue
            site = self._site(self.rows(flow, keyword.value, owner), field.nested, True, label)
            if site is not None:
                found.append(site)
        return found

    def _per_row(self, flow: ScopeFlow, loop: ast.AST, owner: ast.ClassDef | None, label: str) -> list[SerializationSite]:
        if isinstance(loop, (ast.For, ast.AsyncFor)):
            target, iterable = loop.target, loop.iter
        else:
            assert isinstance(loop, _COMPREHENSIONS)
            target, iterable = loop.generators[0].target, loop.generators[0].iter
        if not isinstance(target, ast.Name):
            return []
        row = target.id
        located = self.rows(flow, iterable, owner)
        if located is None or located[1].kind not in _ROWS:
            return []
        if isinstance(loop, (ast.For, ast.AsyncFor)):
            body = [node for statement in loop.body for node in _walk(statement)]
            # What a `return` in the loop serializes runs once, for the row the loop stops at
            # (`for check in checks: if match: return check.to_dict()`), not once per row.
            returned = {id(inner) for node in body if isinstance(node, ast.Return) for inner in _walk(node)}
            body = [node for node in body if id(node) not in returned]
            committed = _first_commit(flow, body) if located[1].layer is DataLayer.SQLALCHEMY and not located[1].is_async else None
            if committed is not None:
                # A synchronous session's commit() expires every object it holds (its default
                # `expire_on_commit`): what the row reads after it reloads whatever the query
                # loaded, once per row because of the commit per row (BB202's finding).
                body = [node for node in body if _position(node) < committed]
        else:
            generator = loop.generators[0]
            elements = [loop.key, loop.value] if isinstance(loop, ast.DictComp) else [loop.elt]
            body = [node for element in elements for node in _walk(element)] + [node for condition in generator.ifs for node in _walk(condition)]
        rows = located[1]
        model = self.knowledge.graph.model(rows.model)
        if model is None:
            return []
        direct = frozenset(
            node.attr
            for node in body
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == row and node.attr in model.relations and flow.holds_row_of(node.value, loop)
        )
        found: list[SerializationSite] = []
        members: list[Read] = []
        for node in body:
            if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Name) and node.args[0].id == row and flow.holds_row_of(node.args[0], loop):
                schema = ""
                func = node.func
                if isinstance(func, ast.Attribute) and func.attr in _PER_ROW_VALIDATORS:
                    schema = self.schema_named(func.value) or self._bound_schema(flow, func.value)
                elif isinstance(func, ast.Attribute) and func.attr in ("dump", "dumps"):
                    schema, _ = self._schema_of_receiver(flow, func.value, owner)
                elif isinstance(func, (ast.Name, ast.Attribute)):
                    schema = self.schema_named(func)
                    if not schema and isinstance(func, ast.Name):
                        members.extend(self._function_members(func, 0, call_arguments(node)))
                if schema:
                    site = self._site(located, schema, True, label, direct)
                    if site is not None:
                        found.append(site)
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == row and flow.holds_row_of(node.value, loop):
                if node.attr in model.relations:
                    continue
                method = self.knowledge.method(model.qualname, node.attr)
                if method is None:
                    continue
                parent = self.context.parent(node)
                called = isinstance(parent, ast.Call) and parent.func is node
                if called and rows.layer is DataLayer.DJANGO and node.attr == "delete":
                    # `domain.delete()` overriding the model's delete: Django's deletion collector
                    # queries every cascading relation of each object anyway, which no eager load
                    # removes; the per-row delete is the cause, and BB202's finding.
                    continue
                if called or self.knowledge.is_property(method):
                    # The call in this file: the line is the loop's, not the method's.
                    where = Where(self.context.path, getattr(node, "lineno", 0))
                    members.append(Read((f"{node.attr}()" if called else node.attr,), f"{model.name}.{node.attr}{'()' if called else ''}", where))
        if members:
            # A project function or a model member called per row reads what it reads on every
            # path of its body as far as backbone follows it, not as it runs for these rows (a flag,
            # a branch for some rows, a row count the data keeps small): measured right two times
            # in three on projects nobody tuned on (held-out sets 7 to 19), where the serializers
            # and admin columns a framework runs per row are right nine times in ten. Medium.
            shown = ", ".join(dict.fromkeys(f"`{read.field}`" for read in members))
            found.append(
                SerializationSite(
                    located[0], rows, True, shown, tuple(members), label, None, direct, annotated_counts(self.context, located[0]),
                    Confidence.MEDIUM, aliases=annotation_aliases(located[0]),
                )
            )
        return found

    def _function_members(self, func: ast.Name, position: int, arguments: tuple[str, ...]) -> list[Read]:
        qualname = self.context.qualified_name(func) or ""
        target = self.knowledge.index.function(qualname)
        if target is None:
            return []
        return self._reads_of(target, position, bind(arguments, target.parameters, target.defaults))

    def _reads_of(self, target: FunctionFacts, position: int, binding: Binding = UNKNOWN_BINDING) -> list[Read]:
        """What project function `target` reads off its parameter `position` (see
        SerializationKnowledge.function_reads) for a call `binding` describes, as the reads of a
        field named after it."""
        name = f"{target.qualname.rpartition('.')[2]}()"
        return [Read(steps, name, where, iterated) for steps, iterated, where in self.knowledge.function_reads(target.qualname, position, binding=binding)]

    def _response_model(self, flow: ScopeFlow, function: ast.FunctionDef | ast.AsyncFunctionDef, owner: ast.ClassDef | None, label: str) -> list[SerializationSite]:
        if handler_for(function, self.context) is None:
            return []
        declared = response_model(function, self.context)
        if declared is None:
            return []
        schema, many = annotation_element(declared.expression, self.resolver)
        if not schema or self.knowledge.family(schema) is not Family.PYDANTIC:
            return []
        found: list[SerializationSite] = []
        for payload in response_payloads(function, self.context):
            located = self.rows(flow, payload.expression, owner)
            if located is None or (located[1].kind is ValueKind.INSTANCE) == many:
                continue
            site = self._site(located, schema, many, label)
            if site is not None:
                found.append(site)
        return found

    # --- DRF class-based list views ------------------------------------------------------

    def view_sites(self, node: ast.ClassDef) -> list[SerializationSite]:
        view = view_class_for(node, self.context)
        qualname = view.qualname if view is not None else self._qualname(node)
        if (view is None or not view.list_actions) and not self._inherits_listing(qualname):
            return [*hook_sites(node, self), *strawberry.field_sites(self, node)] if view is None else []
        serializers = self.view_serializers(node, qualname)
        computed = self.computes_eager(node)
        located = self.view_queryset(node, through_computed=True)
        label = f"`{node.name}` ({self.where(node)})"
        found: list[SerializationSite] = []
        text = ""
        if located is not None and located[0] is self._model_queryset_node(node):
            model = self.knowledge.graph.model(located[1].model)
            text = f"`{model.name if model is not None else 'model'}._default_manager.all()` (the view's `model`)"
        for serializer in serializers:
            site = self._site(located, serializer, True, label, computed_eager=computed)
            if site is not None:
                found.append(replace(site, query_text=text) if text else site)
        return found

    @staticmethod
    def _model_queryset_node(owner: ast.ClassDef) -> ast.AST | None:
        attribute = next((item for item in owner.body if _assigns(item, "model")), None)
        return attribute.value if isinstance(attribute, ast.Assign) else None

    def _inherits_listing(self, qualname: str) -> bool:
        """The class's `list()`, its own or the nearest project base's, serializes `get_queryset()`
        many rows at a time (a generic view whose framework code lives in the project)."""
        index = self.knowledge.index
        method = index.method(qualname, "list")
        if method is None:
            return False
        view = self.knowledge.views.get(method.rpartition(".")[0])
        return view is not None and view.lists_queryset

    def _qualname(self, node: ast.ClassDef) -> str:
        return self.context.qualname_of(node)

    def qualname_of(self, node: ast.ClassDef) -> str:
        return self._qualname(node)

    def hook_site(
        self,
        located: tuple[ast.AST, DataValue] | None,
        reads: tuple[Read, ...],
        label: str,
        query_text: str = "",
        shaped_by: ast.AST | None = None,
    ) -> SerializationSite | None:
        """Rows a framework hands, one at a time, to project methods that read `reads` (hooks.py);
        `shaped_by`: a method whose annotations the rows also carry (a ModelAdmin's get_queryset)."""
        if located is None or not reads or located[1].kind is ValueKind.INSTANCE:
            return None
        node, rows = located
        shown = ", ".join(dict.fromkeys(f"`{read.field}`" for read in reads))
        annotated = annotated_counts(self.context, node)
        aliases = annotation_aliases(node)
        if shaped_by is not None:
            annotated |= annotated_counts(self.context, shaped_by)
            aliases |= annotation_aliases(shaped_by)
        return SerializationSite(node, rows, True, shown, reads, label, None, frozenset(), annotated, query_text=query_text, aliases=aliases)


def function_sites(function: ast.FunctionDef | ast.AsyncFunctionDef, context: FileContext) -> list[SerializationSite]:
    if context.project is None:
        return []
    return _Finder(context).function_sites(function)


def view_sites(node: ast.ClassDef, context: FileContext) -> list[SerializationSite]:
    if context.project is None:
        return []
    return _Finder(context).view_sites(node)


def apply_call(flow: ScopeFlow, value: DataValue, call: ast.Call) -> DataValue:
    """`value` after one chained Django call (`select_related`, `prefetch_related`, `values`...)."""
    assert isinstance(call.func, ast.Attribute)
    name = call.func.attr
    if name in ("values", "values_list"):
        return value.but(entities=False)
    added: list[str] = []
    if name == "select_related":
        if not call.args:
            added.append("**forward")
        for argument in call.args:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                added.extend(_prefixes(argument.value))
    elif name == "prefetch_related":
        for argument in call.args:
            if isinstance(argument, ast.Constant) and isinstance(argument.value, str):
                added.extend(_prefixes(argument.value))
            elif isinstance(argument, ast.Call) and argument.args and isinstance(argument.args[0], ast.Constant) and isinstance(argument.args[0].value, str):
                head = argument.args[0].value
                added.extend(_prefixes(head))
                queryset = next((keyword.value for keyword in argument.keywords if keyword.arg == "queryset"), None)
                nested = flow.value(queryset) if queryset is not None else None
                if nested is not None:
                    added.extend(f"{head.replace('__', '.')}.{path}" for path in nested.eager)
    return value.but(eager=tuple(sorted({*value.eager, *added})))


def annotated_counts(context: FileContext, node: ast.AST) -> frozenset[str]:
    """Relations a query's `annotate(...)` counts (`Count("votes")` -> "votes")."""
    found: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr == "annotate":
            for argument in [*child.args, *(keyword.value for keyword in child.keywords)]:
                if isinstance(argument, ast.Call) and argument.args and isinstance(argument.args[0], ast.Constant):
                    text = argument.args[0].value
                    if isinstance(text, str):
                        found.add(text.split("__")[0])
    return frozenset(found)


def few_rows(context: FileContext, node: ast.AST) -> bool:
    """The query is sliced by constants to at most ten rows (`orm.loops.sliced_to_few_rows`)."""
    return sliced_to_few_rows(node, scope_flow(node, context))


def one_row(context: FileContext, node: ast.AST) -> bool:
    """A key picks out one row of the query (`orm.loops.filtered_to_one_row`)."""
    return filtered_to_one_row(node, scope_flow(node, context))


def annotation_aliases(node: ast.AST) -> frozenset[str]:
    """The names a query's `annotate(name=...)` keywords set on each row
    (`annotate(num_notes=Count("notes"))` -> "num_notes")."""
    return frozenset(
        keyword.arg
        for child in ast.walk(node)
        if isinstance(child, ast.Call) and isinstance(child.func, ast.Attribute) and child.func.attr == "annotate"
        for keyword in child.keywords
        if keyword.arg
    )


def _prefixes(lookup: str) -> list[str]:
    parts = lookup.split("__")
    return [".".join(parts[: index + 1]) for index in range(len(parts))]


def _calls_super_get_queryset(method: ast.FunctionDef) -> bool:
    return any(
        isinstance(node, ast.Attribute)
        and node.attr == "get_queryset"
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name)
        and node.value.func.id == "super"
        for node in ast.walk(method)
    )


def _self_assignment(method: ast.FunctionDef, name: str, before: ast.AST) -> ast.expr | None:
    """The value of the last `self.<name> = ...` in `method` above `before`."""
    line = getattr(before, "lineno", 0)
    found: ast.expr | None = None
    for node in own_nodes(method):
        if isinstance(node, ast.Assign) and node.lineno < line and any(
            isinstance(target, ast.Attribute) and _is_self(target.value) and target.attr == name for target in node.targets
        ):
            if found is None or node.lineno >= getattr(found, "lineno", 0):
                found = node.value
    return found


def _first_commit(flow: ScopeFlow, body: list[ast.AST]) -> tuple[int, int] | None:
    """Where the first SQLAlchemy session commit() among `body`'s nodes is."""
    found: list[tuple[int, int]] = []
    for node in body:
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "commit":
            event = flow.call_result(node)[1]
            if event is not None and event.operation == "commit" and event.layer is DataLayer.SQLALCHEMY:
                found.append(_position(node))
    return min(found) if found else None


def _position(node: ast.AST) -> tuple[int, int]:
    return getattr(node, "lineno", 0), getattr(node, "col_offset", 0)


# What a serializer offers that makes no representation of its rows.
_VALIDATION_MEMBERS = frozenset({"is_valid", "save", "errors", "validated_data", "initial_data"})


def _many(call: ast.Call) -> bool:
    return any(keyword.arg == "many" and isinstance(keyword.value, ast.Constant) and keyword.value.value is True for keyword in call.keywords)


def _is_self(node: ast.expr) -> bool:
    return isinstance(node, ast.Name) and node.id == "self"


def _assigns(statement: ast.stmt, name: str) -> bool:
    return isinstance(statement, ast.Assign) and any(isinstance(target, ast.Name) and target.id == name for target in statement.targets)


def _walk(node: ast.AST) -> list[ast.AST]:
    """The node and what runs with it, in source order: not what a function, lambda or class
    defined there runs later."""
    return block_nodes([node])


def scope_flow(node: ast.AST, context: FileContext) -> ScopeFlow:
    return module_flows(context).flow(scope_of(node, context))


def _mro(index: ProjectIndex, qualname: str) -> list[str]:
    """The project classes of `qualname`'s method resolution order, as Python's C3 puts them for
    the usual mixin hierarchies: depth first, left to right, each class after all its subclasses."""
    order: list[str] = []
    stack: list[tuple[str, int]] = [(qualname, 0)]
    while stack:
        current, depth = stack.pop()
        facts = index.classes.get(current)
        if facts is None or depth > 16:
            continue
        if current in order:
            order.remove(current)
        order.append(current)
        stack.extend((index.resolve(base), depth + 1) for base in reversed(facts.bases))
    return order

