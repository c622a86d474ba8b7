"""Loops: which loop runs a node once per iteration, and which loops don't count.

A node repeats in a `for`/`async for` body, a `while` test or body, a comprehension's
element, conditions and inner iterables (not its first iterable, which runs once), and
the body of a lambda that `map`/`filter`/`sorted(key=...)` applies per element.

Loops over a literal collection of constants (`for field in ("name", "email")`), over
chunks or pages (`for batch in chunked(ids, 500)`), `while` loops that sleep between
rounds (polling) and step budgets (`while step < MAX_STEPS: ...; step += 1` with a small
bound fixed in the source) don't repeat a query per row, so they don't count.
"""

from __future__ import annotations

import ast
import enum
import re
import weakref

from backbone.records import Record
from backbone.review.orm.flow.bindings import BindingKind
from backbone.review.orm.flow.module import ScopeFlow
from backbone.review.orm.values import ValueKind

_COMPREHENSIONS = (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)
_BATCH_WORDS = ("chunk", "batch", "page", "paginat", "partition", "slices", "windowed", "grouper")
_SLEEPS = frozenset({"time.sleep", "asyncio.sleep", "gevent.sleep", "trio.sleep", "anyio.sleep", "eventlet.sleep"})
_WAIT_FOR = "asyncio.wait_for"
_LEAVING = (ast.Return, ast.Break, ast.Raise)
# Rounds of a retry loop (`for attempt in range(3)`) that don't count as a loop over data.
_FEW = 10
# Query operations that check whether a candidate is taken.
_PROBES = frozenset({"exists", "count", "bool()", "first", "get", "scalar", "one_or_none", "fetchone"})
_RANDOM_WORDS = ("random", "uuid", "token", "generate", "choice", "randint", "shortuuid", "nanoid", "urandom")


class LoopKind(enum.Enum):
    FOR = "for loop"
    WHILE = "while loop"
    COMPREHENSION = "comprehension"
    GENERATOR = "generator expression"
    MAP = "map/filter/sorted callback"


class Loop(Record, frozen=True):
    node: ast.AST
    kind: LoopKind
    line: int

    @property
    def description(self) -> str:
        if self.kind is LoopKind.MAP and isinstance(self.node, ast.Call) and isinstance(self.node.func, ast.Name):
            return f"the {self.node.func.id}() call on line {self.line}"
        return f"the {self.kind.value} on line {self.line}"

    @property
    def position(self) -> tuple[int, int]:
        """The key `DataValue.row_of` uses for the rows of this loop."""
        return (getattr(self.node, "lineno", 0), getattr(self.node, "col_offset", 0) + 1)

    def targets(self) -> set[str]:
        """Names the loop binds per iteration."""
        node = self.node
        names: set[str] = set()
        targets: list[ast.expr] = []
        if isinstance(node, (ast.For, ast.AsyncFor)):
            targets.append(node.target)
        elif isinstance(node, _COMPREHENSIONS):
            targets.extend(generator.target for generator in node.generators)
        elif isinstance(node, ast.Call):
            for argument in node.args:
                if isinstance(argument, ast.Lambda):
                    names.update(arg.arg for arg in argument.args.args)
        for target in targets:
            names.update(leaf.id for leaf in ast.walk(target) if isinstance(leaf, ast.Name))
        return names


def repeating_loop(node: ast.AST, flow: ScopeFlow, exempt: bool = True) -> Loop | None:
    """The innermost loop (that counts) running `node` once per iteration, in this scope."""
    child: ast.AST = node
    parent = flow.parent(child)
    while parent is not None and parent is not flow.scope:
        loop = _repeats(parent, child, flow)
        if loop is not None and not (exempt and is_exempt(loop, flow)):
            return loop
        if isinstance(parent, ast.Lambda) and loop is None:
            # A lambda that isn't applied per element runs whenever it is called.
            return None
        child = parent
        parent = flow.parent(child)
    return None


def loop_at(position: tuple[int, int], node: ast.AST, flow: ScopeFlow) -> Loop | None:
    """The loop around `node` whose rows are keyed `position`, if `node` repeats in it."""
    child: ast.AST = node
    parent = flow.parent(child)
    while parent is not None and parent is not flow.scope:
        loop = _repeats(parent, child, flow)
        if loop is not None and loop.position == position:
            return loop
        child = parent
        parent = flow.parent(child)
    return None


def _repeats(parent: ast.AST, child: ast.AST, flow: ScopeFlow) -> Loop | None:
    if isinstance(parent, (ast.For, ast.AsyncFor)):
        if child in parent.body:
            return Loop(parent, LoopKind.FOR, parent.lineno)
        return None
    if isinstance(parent, ast.While):
        if child is parent.test or child in parent.body:
            return Loop(parent, LoopKind.WHILE, parent.lineno)
        return None
    if isinstance(parent, ast.comprehension):
        owner = flow.parent(parent)
        if owner is None or not isinstance(owner, _COMPREHENSIONS):
            return None
        first = owner.generators[0] is parent
        if child in parent.ifs or (child is parent.iter and not first):
            return _comprehension_loop(owner)
        return None
    if isinstance(parent, _COMPREHENSIONS):
        if isinstance(parent, ast.DictComp):
            inside = child is parent.key or child is parent.value
        else:
            inside = child is parent.elt
        return _comprehension_loop(parent) if inside else None
    if isinstance(parent, ast.Lambda) and child is parent.body:
        _, call = flow._lambda_iterable(parent)
        if call is not None:
            return Loop(call, LoopKind.MAP, getattr(call, "lineno", parent.lineno))
    return None


def _comprehension_loop(node: ast.AST) -> Loop:
    kind = LoopKind.GENERATOR if isinstance(node, ast.GeneratorExp) else LoopKind.COMPREHENSION
    return Loop(node, kind, getattr(node, "lineno", 0))


def loop_iterable(loop: Loop, flow: ScopeFlow) -> ast.expr | None:
    node = loop.node
    if isinstance(node, (ast.For, ast.AsyncFor)):
        return node.iter
    if isinstance(node, _COMPREHENSIONS):
        return node.generators[0].iter
    if isinstance(node, ast.Call):
        for argument in node.args:
            if isinstance(argument, ast.Lambda):
                iterable, _ = flow._lambda_iterable(argument)
                return iterable
    return None


def is_exempt(loop: Loop, flow: ScopeFlow) -> bool:
    if isinstance(loop.node, ast.While):
        return (
            _sleeps(loop.node, flow) or _retries_random_candidates(loop.node) or _probes(loop.node, flow)
            or _walks_chain(loop.node, flow) or _counts_few_steps(loop.node, flow)
        )
    iterable = loop_iterable(loop, flow)
    if iterable is None:
        return False
    if isinstance(loop.node, (ast.For, ast.AsyncFor)) and (_few_rounds(iterable) or _few_steps_range(iterable, flow)):
        return True
    if isinstance(loop.node, (ast.For, ast.AsyncFor)) and _is_range(iterable) and _sleeps(loop.node, flow):
        # `for attempt in range(retries): ... time.sleep(backoff)`: a retry loop.
        return True
    if _single_element_guard(loop, iterable, flow) or _yields_once(iterable, flow) or _one_item_parameter(iterable, flow):
        return True
    if goes_over_few_rows(loop, flow, iterable):
        return True
    return (
        _literal_collection(iterable, flow) or _batches(iterable) or _each_a_model(iterable, flow)
        or _built_per_batch(iterable, flow) or _form_fields(iterable)
    )


def goes_over_few_rows(loop: Loop, flow: ScopeFlow, iterable: ast.expr | None = None) -> bool:
    """The loop goes over a query sliced by constants to at most ten rows
    (`for post in Post.objects.filter(...)[:7]`), or over one that a key picks out
    (`filter(pk=post_id)`, `filter_by(id=...)`), or a name bound to either."""
    iterable = iterable if iterable is not None else loop_iterable(loop, flow)
    if isinstance(iterable, ast.Name):
        binding = flow.binding_at(iterable.id, iterable)
        if binding is None or binding.kind.value != "assign" or not isinstance(binding.node, ast.expr):
            return False
        iterable = binding.node
    return iterable is not None and (sliced_to_few_rows(iterable, flow) or filtered_to_one_row(iterable, flow))


def iterated_rows(loop: Loop, flow: ScopeFlow) -> tuple[str, tuple[int, int]] | None:
    """The evaluated rows a `for` loop or comprehension goes over when it iterates a name: the
    name and the position of its binding. Loops with the same answer go over the same instances
    (a Django queryset keeps the rows of its first evaluation in its result cache, a list its
    elements), so a relation one of them loaded on a row is loaded for the others; a loop over
    `rows.all()` or over the name rebound goes over new instances and answers otherwise."""
    if isinstance(loop.node, ast.Call):
        return None
    iterable = loop_iterable(loop, flow)
    if not isinstance(iterable, ast.Name):
        return None
    binding = flow.binding_at(iterable.id, iterable)
    if binding is None or binding.kind is not BindingKind.ASSIGN:
        return None
    value = flow.value(iterable)
    if value is None or value.kind is not ValueKind.QUERY and value.kind is not ValueKind.ROWS:
        return None
    return iterable.id, binding.position


# Fields that name a model's primary key whatever it is called.
_KEY_FIELDS = frozenset({"pk", "id"})
# Session methods that run the statement they are given.
_RUNS_STATEMENT = frozenset({"execute", "scalars", "exec"})
# Chained calls after which the rows are no longer only those of the filter.
_WIDENING = frozenset({"union", "__or__", "or_", "outerjoin", "join", "exclude"})


def filtered_to_one_row(node: ast.AST, flow: ScopeFlow) -> bool:
    """The query keeps only the rows whose primary key or a unique column equals one value
    (`Post.objects.filter(pk=post_id)`, `filter(slug=slug)` on a `unique=True` field,
    `select(Post).where(Post.id == post_id)`, `query.filter_by(id=...)`): at most one row."""
    current: ast.AST = node.value if isinstance(node, ast.Await) else node
    calls: list[ast.Call] = []
    while isinstance(current, (ast.Call, ast.Subscript)):
        if isinstance(current, ast.Subscript):
            current = current.value
            continue
        func = current.func
        if not isinstance(func, ast.Attribute):
            break
        if func.attr in _WIDENING:
            return False
        calls.append(current)
        if func.attr in _RUNS_STATEMENT and current.args:
            # `session.scalars(select(Post).where(...)).all()`: the statement it runs.
            current = current.args[0]
            continue
        current = func.value
    if not calls:
        return False
    columns, together = _unique_columns(node, flow)
    keys = _KEY_FIELDS | columns
    for call in calls:
        name = call.func.attr if isinstance(call.func, ast.Attribute) else ""
        if name in ("filter", "filter_by", "get"):
            given = {_lookup_field(keyword.arg) for keyword in call.keywords if keyword.arg}
            # `filter(slug=s)` on a unique field; `filter(vendor=v, name=n)` on `unique_together = ("vendor", "name")`.
            if given & keys or any(fields <= given for fields in together):
                return True
        if name in ("filter", "where") and any(_pins_key(argument, keys) for argument in call.args):
            return True
    return False


def _pins_key(test: ast.expr, keys: frozenset[str]) -> bool:
    """`Post.id == value` (or one term of an `and_(...)` holding it)."""
    if isinstance(test, ast.Call) and isinstance(test.func, (ast.Name, ast.Attribute)):
        called = test.func.id if isinstance(test.func, ast.Name) else test.func.attr
        return called == "and_" and any(_pins_key(argument, keys) for argument in test.args)
    return (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Eq)
        and isinstance(test.left, ast.Attribute) and test.left.attr in keys
    )


def _unique_columns(node: ast.AST, flow: ScopeFlow) -> tuple[frozenset[str], list[frozenset[str]]]:
    """The primary key and unique columns of the model the query reads, and its sets of columns
    unique together, when the model is known."""
    value = flow.value(node)
    info = flow.knowledge.model(value.model) if value is not None and value.model else None
    if info is None:
        return frozenset(), []
    return frozenset(info.primary_keys | info.unique_fields), [frozenset(fields) for fields in info.unique_sets]


def _lookup_field(lookup: str) -> str:
    """The field an exact lookup compares (`name`, `name__exact`, `owner_id` for `owner`); "" for
    any other lookup (`name__icontains`)."""
    field, _, rest = lookup.partition("__")
    if rest and rest != "exact":
        return ""
    return field[:-3] if field.endswith("_id") else field


def sliced_to_few_rows(node: ast.AST, flow: ScopeFlow) -> bool:
    """`query[:10]`, `query[:LIMIT]` with `LIMIT = 3` fixed in the source (`_fixed_ints`): a query
    sliced to at most ten rows, a bounded handful of queries per row read."""
    current = node.value if isinstance(node, ast.Await) else node
    if not isinstance(current, ast.Subscript) or not isinstance(current.slice, ast.Slice) or current.slice.step is not None:
        return False
    upper = _fixed_ints(current.slice.upper, flow)
    lower = {0} if current.slice.lower is None else _fixed_ints(current.slice.lower, flow)
    if not upper or not lower:
        return False
    return 0 <= max(upper) - min(lower) <= _FEW


def _yields_once(node: ast.expr, flow: ScopeFlow) -> bool:
    """`async for engine in get_search_engine():` over a project generator with one `yield` in no
    loop (a dependency or context-manager body): the loop goes round at most once."""
    if not isinstance(node, ast.Call):
        return False
    qualname = flow.resolver.qualified_name(node.func)
    target = flow.knowledge.resolve_function(qualname) if qualname else None
    return target is not None and flow.knowledge.yields_once(target)


def _one_item_parameter(node: ast.expr, flow: ScopeFlow) -> bool:
    """`for obj in objs:` over a parameter to which every project call passes a one-element
    display (`add_comment([bug], text)`): the loop goes round once."""
    scope = flow.scope
    if not isinstance(node, ast.Name) or not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        return False
    binding = flow.binding_at(node.id, node)
    if binding is None or binding.kind.value != "param":
        return False
    position = flow.call_position(node.id)
    if position is None:
        return False
    qualname = flow.context.qualname
    return bool(qualname) and flow.knowledge.one_item_argument(qualname, position, node.id)


# What a submitted form holds per field: as many entries as the form class declares fields.
_FORM_FIELD_COLLECTIONS = frozenset({"cleaned_data", "changed_data"})


def _form_fields(node: ast.expr) -> bool:
    """`for name, value in form.cleaned_data.items()`: one round per field the form declares,
    a handful fixed in the code, not one per row of a table."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("items", "keys", "values"):
        node = node.func.value
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("sorted", "list", "enumerate") and node.args:
        return _form_fields(node.args[0])
    return isinstance(node, ast.Attribute) and node.attr in _FORM_FIELD_COLLECTIONS


def _single_element_guard(loop: Loop, iterable: ast.expr, flow: ScopeFlow) -> bool:
    """`if len(realms) == 1: for key in realms: ...`: the loop runs exactly once."""
    if not isinstance(iterable, ast.Name):
        return False
    child: ast.AST = loop.node
    parent = flow.parent(child)
    while parent is not None and parent is not flow.scope:
        if isinstance(parent, ast.If) and child in parent.body and _at_most_one(parent.test, iterable.id):
            return True
        child = parent
        parent = flow.parent(child)
    return False


def _at_most_one(test: ast.expr, name: str) -> bool:
    """`len(name) == 1`, `len(name) <= 1`, `len(name) < 2`, alone or in an `and`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_at_most_one(value, name) for value in test.values)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1):
        return False
    left, operator, right = test.left, test.ops[0], test.comparators[0]
    measured = (
        isinstance(left, ast.Call) and isinstance(left.func, ast.Name) and left.func.id == "len"
        and len(left.args) == 1 and isinstance(left.args[0], ast.Name) and left.args[0].id == name
    )
    if not measured or not isinstance(right, ast.Constant) or not isinstance(right.value, int):
        return False
    bound = right.value
    return (isinstance(operator, ast.Eq) and bound <= 1) or (isinstance(operator, ast.LtE) and bound <= 1) or (
        isinstance(operator, ast.Lt) and bound <= 2
    )


def _built_per_batch(node: ast.expr, flow: ScopeFlow, depth: int = 0) -> bool:
    """`queries = [q.where(col.in_(chunk)) for chunk in chunked(ids)]`: a collection with one
    element per batch (or a handful of literal elements), so a loop over it is one query per batch."""
    if depth > 3:
        return False
    if isinstance(node, _COMPREHENSIONS):
        return _batches(node.generators[0].iter)
    if isinstance(node, ast.IfExp):
        return all(
            _built_per_batch(branch, flow, depth + 1) or _literal_collection(branch, flow, depth + 1)
            for branch in (node.body, node.orelse)
        )
    if isinstance(node, ast.Name):
        binding = flow.binding_at(node.id, node)
        if binding is not None and binding.kind.value == "assign" and isinstance(binding.node, ast.expr):
            return _built_per_batch(binding.node, flow, depth + 1)
    return False


def _is_range(node: ast.expr) -> bool:
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range"


def _few_rounds(node: ast.expr) -> bool:
    """`for attempt in range(3)`: a retry loop, a handful of rounds whatever the data."""
    if not isinstance(node, ast.Call) or not _is_range(node):
        return False
    if not node.args or len(node.args) > 2 or node.keywords:
        return False
    bounds = [argument.value if isinstance(argument, ast.Constant) else None for argument in node.args]
    if not all(isinstance(bound, int) and not isinstance(bound, bool) for bound in bounds):
        return False
    numbers = [bound for bound in bounds if isinstance(bound, int)]
    start, stop = (0, numbers[0]) if len(numbers) == 1 else (numbers[0], numbers[1])
    return stop - start <= _FEW


# Reads of a setting from the environment, with the default as second argument.
_ENVIRONMENT_READS = frozenset({"os.getenv", "os.environ.get"})


def _small_number(node: ast.expr, flow: ScopeFlow) -> bool:
    """A number of steps fixed in the source: a constant of at most ten (`5`), a name bound to
    one (`MAX_ITERATIONS = 5`, in the function or the module), or a setting read from the
    environment with such a default (`int(os.getenv("RESEARCH_STEPS", 5))`): a budget the code
    or its operator sets, not the size of the data."""
    values = _fixed_ints(node, flow)
    return bool(values) and all(0 <= value <= _FEW for value in values or ())


def _fixed_ints(node: ast.expr | None, flow: ScopeFlow, depth: int = 0) -> set[int] | None:
    """Every integer `node` can be where the source fixes it (see `_small_number`); None when
    it is not fixed there (the data's, a parameter's)."""
    if depth > 3 or node is None:
        return None
    if isinstance(node, ast.Constant):
        return {node.value} if isinstance(node.value, int) and not isinstance(node.value, bool) else None
    if isinstance(node, ast.Call):
        func_name = flow.resolver.qualified_name(node.func)
        if isinstance(node.func, ast.Name) and node.func.id == "int" and len(node.args) == 1:
            return _fixed_ints(node.args[0], flow, depth + 1)
        if func_name in _ENVIRONMENT_READS and len(node.args) == 2:
            return _fixed_ints(node.args[1], flow, depth + 1)
        return None
    if isinstance(node, ast.Name):
        bindings = flow.bindings.get(node.id)
        owner = flow
        if not bindings and not isinstance(flow.scope, ast.Module):
            owner = flow.module.flow(flow.module.tree)
            bindings = owner.bindings.get(node.id)
        if not bindings:
            return None
        # Every value it takes, not only the last: a bound that a round may raise isn't fixed.
        found: set[int] = set()
        for binding in bindings:
            values = (
                _fixed_ints(binding.node, owner, depth + 1)
                if binding.kind.value == "assign" and isinstance(binding.node, ast.expr) else None
            )
            if values is None:
                return None
            found |= values
        return found
    return None


def _few_steps_range(node: ast.expr, flow: ScopeFlow) -> bool:
    """`for step in range(MAX_STEPS)` with `MAX_STEPS` a small number fixed in the source or a
    setting's default: a budget of steps, whatever the data."""
    if not _is_range(node) or not isinstance(node, ast.Call) or len(node.args) != 1 or node.keywords:
        return False
    return _small_number(node.args[0], flow)


def _counts_few_steps(node: ast.While, flow: ScopeFlow) -> bool:
    """`while iteration < MAX_ITERATIONS: ...; iteration += 1` with a small bound fixed in the
    source (or a setting's default): a budget of steps, such as an agent's research rounds, each
    dominated by its own work, not one round per row."""
    test = node.test
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_counts_few_steps(ast.While(test=value, body=node.body, orelse=[]), flow) for value in test.values)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Lt, ast.LtE, ast.NotEq))):
        return False
    counter, bound = test.left, test.comparators[0]
    if not isinstance(counter, ast.Name) or not _small_number(bound, flow):
        return False
    return any(
        isinstance(child, ast.AugAssign) and isinstance(child.op, ast.Add)
        and isinstance(child.target, ast.Name) and child.target.id == counter.id
        for child in ast.walk(node)
    )


def _probes(node: ast.While, flow: ScopeFlow) -> bool:
    """`while Model.objects.filter(slug=slug).exists(): slug = next_candidate(...)`.

    The test checks whether a candidate is taken and the body picks the next one: the
    query runs about once (a uniqueness probe), not once per row.
    """
    checks = False
    for child in ast.walk(node.test):
        if isinstance(child, ast.Call):
            _, event = flow.call_result(child)
            if event is not None and event.operation in _PROBES:
                checks = True
                break
    if not checks:
        return False
    read = {child.id for child in ast.walk(node.test) if isinstance(child, ast.Name)}
    for statement in node.body:
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, (ast.AugAssign, ast.AnnAssign)):
            targets = [statement.target]
        if any(isinstance(target, ast.Name) and target.id in read for target in targets):
            return True
    return False


def _walks_chain(node: ast.While, flow: ScopeFlow) -> bool:
    """`while bay is not None: ...; bay = DeviceBay.objects.filter(device=bay.parent).first()`.

    The body fetches the one row the test looks at next from the row before it (a parent
    chain, a linked list): each round needs the previous round's answer, so there is no
    set of keys to fetch at once.
    """
    read = {child.id for child in ast.walk(node.test) if isinstance(child, ast.Name)}
    if not read:
        return False
    for statement in ast.walk(node):
        if not isinstance(statement, ast.Assign):
            continue
        if not any(isinstance(target, ast.Name) and target.id in read for target in statement.targets):
            continue
        value = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
        if isinstance(value, ast.Call):
            _, event = flow.call_result(value)
            if event is not None and event.operation in _PROBES:
                return True
    return False


def _each_a_model(node: ast.expr, flow: ScopeFlow) -> bool:
    """`for model in (Device, Rack)`, `for model in apps.get_models()`: each round is another table."""
    if isinstance(node, ast.Call):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        return name == "get_models"
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)) and node.elts:
        for element in node.elts:
            value = flow.value(element)
            if value is None or value.kind is not ValueKind.MODEL_CLASS:
                return False
        return True
    return False


def _sleeps(node: ast.While | ast.For | ast.AsyncFor, flow: ScopeFlow) -> bool:
    """The loop pauses each round: a sleep, or a timed wait (`asyncio.wait_for(..., timeout)`,
    `stop_event.wait(30)`) as periodic jobs and pollers do."""
    for child in ast.walk(node):
        if not isinstance(child, ast.Call):
            continue
        name = flow.resolver.qualified_name(child.func)
        if name in _SLEEPS:
            return True
        timed = len(child.args) >= 2 if name == _WAIT_FOR else bool(child.args)
        if name == _WAIT_FOR or (isinstance(child.func, ast.Attribute) and child.func.attr == "wait"):
            if timed or any(keyword.arg == "timeout" for keyword in child.keywords):
                return True
    return False


def _retries_random_candidates(node: ast.While) -> bool:
    """`while True: code = generate_code(); if not exists(code): return code`.

    A loop that draws random candidates until one is free runs its query about once.
    """
    for child in ast.walk(node):
        if isinstance(child, ast.Call):
            func = child.func
            name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
            lowered = name.lower()
            if any(word in lowered for word in _RANDOM_WORDS):
                return True
    return False


def _literal_collection(node: ast.expr, flow: ScopeFlow, depth: int = 0) -> bool:
    if depth > 3:
        return False
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        # `for url in [self.read_url, self.write_url]`: as many rounds as the display has elements.
        few = len(node.elts) <= _FEW and not any(isinstance(element, ast.Starred) for element in node.elts)
        return few or all(_constant(element) for element in node.elts)
    if isinstance(node, ast.Dict):
        return all(key is not None and _constant(key) for key in node.keys)
    if isinstance(node, ast.Call):
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in ("items", "keys", "values") and not node.args:
            return _literal_collection(func.value, flow, depth + 1)
        if isinstance(func, ast.Name) and func.id in ("enumerate", "sorted", "reversed", "zip") and node.args:
            return all(_literal_collection(argument, flow, depth + 1) for argument in node.args)
        if isinstance(func, ast.Name) and not node.args and not node.keywords:
            returned = _returned_literal(func.id, flow)
            return returned is not None and _literal_collection(returned, flow.module.flow(flow.module.tree), depth + 1)
        return False
    if isinstance(node, ast.Name):
        binding = flow.binding_at(node.id, node)
        owner = flow
        if binding is None and not isinstance(flow.scope, ast.Module):
            owner = flow.module.flow(flow.module.tree)
            binding = owner.binding_at(node.id, ast.Pass(lineno=10**9, col_offset=0))
        if binding is not None and binding.kind.value == "assign" and isinstance(binding.node, ast.expr):
            return _literal_collection(binding.node, owner, depth + 1)
        # `for name, defaults in DEFAULT_CABLE_TYPES.items()` with the name imported: a module
        # constant, by convention, is fixed in the source.
        return binding is None and node.id.isupper()
    if isinstance(node, ast.Attribute):
        # `self.FIELDS`, `Model.CHOICES`: a class-level constant collection, by convention.
        return node.attr.isupper()
    return False


def _returned_literal(name: str, flow: ScopeFlow) -> ast.expr | None:
    """What a module function without parameters returns when its body is one `return <display>`
    (`def config_keys(): return ["site_title", "theme"]`)."""
    for statement in flow.module.tree.body:
        if isinstance(statement, ast.FunctionDef) and statement.name == name and not statement.decorator_list:
            body = [item for item in statement.body if not (isinstance(item, ast.Expr) and isinstance(item.value, ast.Constant))]
            arguments = statement.args
            if arguments.args or arguments.posonlyargs or arguments.kwonlyargs or arguments.vararg or arguments.kwarg:
                return None
            if len(body) == 1 and isinstance(body[0], ast.Return) and body[0].value is not None:
                return body[0].value
            return None
    return None


def _constant(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
        return True
    if isinstance(node, (ast.Tuple, ast.List)):
        return all(_constant(element) for element in node.elts)
    return False


def _batches(node: ast.expr) -> bool:
    """`chunked(ids, 500)`, `paginator.page_range`, `batched(rows, 100)`: one query per batch."""
    text = ""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "range" and len(node.args) == 3:
        # `for start in range(0, len(ids), 500)`: one round per batch of 500.
        return True
    if isinstance(node, ast.Call):
        func = node.func
        text = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    elif isinstance(node, ast.Attribute):
        text = node.attr
    elif isinstance(node, ast.Name):
        text = node.id
    lowered = text.lower()
    return any(word in lowered for word in _BATCH_WORDS)


# Exceptions that say a lookup found nothing: `try: row = rows[0]` / `except IndexError:
# create it` is the get-or-create of every row, not a failure.
_MISSES = ("IndexError", "KeyError", "StopIteration", "DoesNotExist", "ObjectDoesNotExist", "NoResultFound", "LookupError")


def on_error_path(node: ast.AST, loop: Loop, flow: ScopeFlow) -> bool:
    """`node` runs in an `except` handler inside the loop that handles a failure (not a lookup
    that found nothing): it records the rows that failed, not every row."""
    child: ast.AST = node
    parent = flow.parent(child)
    while parent is not None and parent is not loop.node and parent is not flow.scope:
        if isinstance(parent, ast.ExceptHandler):
            return not _handles_a_miss(parent.type)
        if isinstance(parent, ast.If) and isinstance(child, ast.stmt):
            block = parent.body if child in parent.body else parent.orelse
            if _fails_the_round(block, flow):
                return True
        child = parent
        parent = flow.parent(child)
    return False


def _fails_the_round(block: list[ast.stmt], flow: ScopeFlow) -> bool:
    """`if upload.size > limit: errors.append(TooLarge(upload.name)); upload.delete(); continue`:
    the branch records the round's failure as an exception object and skips the rest of the
    round, as an `except` handler does; it runs for the rows that fail, not for every row."""
    if not block or not isinstance(block[-1], ast.Continue):
        return False
    for statement in block:
        for node in ast.walk(statement):
            if isinstance(node, ast.Call) and _builds_an_exception(node.func, flow):
                return True
    return False


def _builds_an_exception(func: ast.expr, flow: ScopeFlow) -> bool:
    """`MaximumFileSizeException(...)`, `ValidationError(...)`, or a project class that derives
    from an exception (`class TooLarge(UploadError)`)."""
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if not name[:1].isupper():
        return False
    qualname = flow.resolver.qualified_name(func) or name
    seen: set[str] = set()
    pending = [qualname]
    while pending and len(seen) < 12:
        current = pending.pop()
        if current in seen:
            continue
        seen.add(current)
        if current.rpartition(".")[2].endswith(("Error", "Exception")):
            return True
        pending.extend(flow.knowledge.class_bases(current))
    return False


def _handles_a_miss(caught: ast.expr | None) -> bool:
    if caught is None:
        return False
    if isinstance(caught, ast.Tuple):
        return any(_handles_a_miss(element) for element in caught.elts)
    name = caught.attr if isinstance(caught, ast.Attribute) else caught.id if isinstance(caught, ast.Name) else ""
    return name.endswith(_MISSES)


def builds_a_failure(loop: Loop, flow: ScopeFlow) -> bool:
    """The loop runs only on the way to raising: inside a `raise` (`raise Missing(", ".join(...))`),
    or in an `if` branch or `except` handler whose every path after the loop ends in `raise`
    (`if len(found) != len(names): missing = names - {p.label for p in found}; raise ...`).
    It runs once per failing call, to describe the failure, not for every request."""
    child: ast.AST = loop.node
    parent = flow.parent(child)
    while parent is not None and parent is not flow.scope:
        if isinstance(parent, ast.Raise):
            return True
        if isinstance(child, ast.stmt) and isinstance(parent, (ast.If, ast.ExceptHandler)):
            block = _block_of(parent, child)
            if block is not None and _always_raises(block[block.index(child) + 1 :]):
                return True
        if isinstance(parent, (ast.For, ast.AsyncFor, ast.While, *_COMPREHENSIONS, ast.Lambda)):
            return False
        child = parent
        parent = flow.parent(child)
    return False


def _always_raises(block: list[ast.stmt]) -> bool:
    """Every path through `block` ends in `raise` (no `return`, `break` or `continue` before)."""
    for statement in block:
        if isinstance(statement, ast.Raise):
            return True
        if isinstance(statement, (ast.Return, ast.Break, ast.Continue)):
            return False
        if isinstance(statement, ast.If) and statement.orelse and _always_raises(statement.body) and _always_raises(statement.orelse):
            return True
        if any(isinstance(node, (ast.Return, ast.Break, ast.Continue)) for node in ast.walk(statement)):
            return False
    return False


def leaves_loop_after(node: ast.AST, loop: Loop, flow: ScopeFlow) -> bool:
    """The statement holding `node` is followed by a return/break/raise before the loop repeats.

    `for backend in backends: user = backend.load(); return user` runs the query once.
    """
    child: ast.AST = node
    parent = flow.parent(child)
    while parent is not None and parent is not loop.node:
        if isinstance(child, ast.stmt):
            if isinstance(child, (ast.Return, ast.Raise)):
                return True
            block = _block_of(parent, child)
            if block is not None:
                after = block[block.index(child) + 1 :]
                if block_leaves(after):
                    return True
            if isinstance(parent, ast.Try) and child in parent.body and block_leaves(parent.orelse) and _retries_failures(parent):
                # `try: session.commit() except IntegrityError: continue else: break`: when the
                # try's body succeeds the loop ends; it repeats only after the body failed (a retry).
                return True
        child = parent
        parent = flow.parent(child)
    if isinstance(child, ast.stmt) and isinstance(child, (ast.Return, ast.Raise)):
        return True
    if parent is loop.node and isinstance(child, ast.stmt):
        body = getattr(loop.node, "body", None)
        if isinstance(body, list) and child in body:
            after = body[body.index(child) + 1 :]
            return block_leaves(after)
    return False


def _retries_failures(statement: ast.Try) -> bool:
    """Every handler of the try names a failure, not a lookup that found nothing: `except
    DoesNotExist: continue` is a search going on to the next candidate, a query per round."""
    return bool(statement.handlers) and all(
        handler.type is not None and not _handles_a_miss(handler.type) for handler in statement.handlers
    )


def block_leaves(block: list[ast.stmt]) -> bool:
    """Every path through `block` ends in `return`, `break` or `raise`: a statement before it runs
    at most once per loop (a search that stops at its match)."""
    return any(_always_leaves(statement) for statement in block)


def _always_leaves(statement: ast.stmt) -> bool:
    """`return`, or `if resp: return redirect(...) else: return self.get(...)`: no path goes on."""
    if isinstance(statement, _LEAVING):
        return True
    if isinstance(statement, ast.If):
        return bool(statement.orelse) and block_leaves(statement.body) and block_leaves(statement.orelse)
    if isinstance(statement, (ast.With, ast.AsyncWith)):
        return block_leaves(statement.body)
    if isinstance(statement, ast.Try):
        if block_leaves(statement.finalbody):
            return True
        handled = all(block_leaves(handler.body) for handler in statement.handlers)
        return handled and (block_leaves(statement.body) or block_leaves(statement.orelse))
    return False


def stops_on_success(call: ast.AST, loop: Loop, flow: ScopeFlow) -> bool:
    """`extracted = extract(page)` followed in the round by `if extracted: break`: the loop tries
    candidates until the call gives an answer (a fallback over providers, as a retry over
    attempts), so the call runs again only after it failed. A branch that raises or returns (a
    check of each item) or that breaks when the call gave nothing (`if not page: break`) is not
    one."""
    statement: ast.AST | None = flow.parent(call)
    while statement is not None and not isinstance(statement, ast.stmt):
        statement = flow.parent(statement)
    if not isinstance(statement, (ast.Assign, ast.AnnAssign)):
        return False
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    names = {leaf.id for target in targets for leaf in ast.walk(target) if isinstance(leaf, ast.Name)}
    if not names:
        return False
    child: ast.AST = statement
    parent = flow.parent(child)
    while parent is not None and parent is not flow.scope:
        if isinstance(child, ast.stmt):
            block = _block_of(parent, child)
            if block is not None:
                for later in block[block.index(child) + 1 :]:
                    if (
                        isinstance(later, ast.If) and later.body and isinstance(later.body[-1], ast.Break)
                        and _mentions(later.test, names) and not _tests_absence(later.test, names)
                    ):
                        return True
        if parent is loop.node:
            break
        child = parent
        parent = flow.parent(child)
    return False


def _tests_absence(test: ast.expr, names: set[str]) -> bool:
    """`not found`, `found is None`, `found == None`, alone or in an `and`/`or`: the branch runs
    when the call gave nothing (a miss, a mismatch, the end of the pages), not when it succeeded."""
    if isinstance(test, ast.BoolOp):
        return any(_tests_absence(value, names) for value in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return isinstance(test.operand, ast.Name) and test.operand.id in names
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.Eq)):
        right = test.comparators[0]
        return isinstance(test.left, ast.Name) and test.left.id in names and isinstance(right, ast.Constant) and right.value is None
    if isinstance(test, ast.Compare) and any(isinstance(operator, (ast.NotEq, ast.IsNot, ast.NotIn)) for operator in test.ops):
        # `container.serial != first_serial`: a mismatch ends the loop, each match goes on.
        return not (
            isinstance(test.left, ast.Name) and test.left.id in names and len(test.ops) == 1
            and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
        )
    return False


def _block_of(parent: ast.AST, child: ast.stmt) -> list[ast.stmt] | None:
    for field in ("body", "orelse", "finalbody"):
        block = getattr(parent, field, None)
        if isinstance(block, list) and child in block:
            return block
    if isinstance(parent, ast.ExceptHandler) and child in parent.body:
        return parent.body
    return None


def batch_lookup(call: ast.AST, loop: Loop, flow: ScopeFlow | None = None) -> bool:
    """A query filtering on `field__in=<loop value>` or `.in_(<loop value>)`: one per batch.

    The loop value may be the loop variable, or a name bound in the loop from it
    (`batch = ids[start : start + 500]`).
    """
    if isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and call.func.attr in ("in_bulk", "ain_bulk"):
        # `in_bulk(ids)` fetches a whole batch: one per group is the batching pattern.
        return True
    targets = loop.targets()
    if flow is not None:
        targets |= _derived_names(loop, targets, flow)
        if isinstance(call, ast.Name):
            # `items = Model.objects.filter(pk__in=pks)` in the loop, then `for item in items`.
            return any(_batch_arguments(value, loop, targets) for value in _values_in_loop(call.id, loop, flow))
        if isinstance(call, ast.Call):
            receiver = _receiver_name(call)
            if receiver is not None and any(
                _batch_arguments(value, loop, targets) for value in _values_in_loop(receiver.id, loop, flow)
            ):
                # `batch = Entry.objects.filter(id__in=batch_ids)` in the loop, then `batch.delete()`.
                return True
            # `query = select(M).where(M.id.in_(ids))` in the loop, then `session.exec(query)`.
            for argument in call.args:
                if isinstance(argument, ast.Name) and any(
                    _batch_arguments(value, loop, targets) for value in _values_in_loop(argument.id, loop, flow)
                ):
                    return True
    return _batch_arguments(call, loop, targets)


def _receiver_name(call: ast.Call) -> ast.Name | None:
    """The name a method call's chain starts from: `batch` in `batch.delete()` or `batch.all().delete()`."""
    current: ast.expr = call.func
    while isinstance(current, (ast.Attribute, ast.Call)):
        current = current.value if isinstance(current, ast.Attribute) else current.func
    return current if isinstance(current, ast.Name) and current is not call.func else None


def _values_in_loop(name: str, loop: Loop, flow: ScopeFlow) -> list[ast.AST]:
    start = (getattr(loop.node, "lineno", 0), getattr(loop.node, "col_offset", 0))
    end = (getattr(loop.node, "end_lineno", 0) or 0, getattr(loop.node, "end_col_offset", 0) or 0)
    return [
        binding.node
        for binding in flow.bindings.get(name, [])
        if binding.node is not None and binding.kind.value == "assign" and start <= binding.position <= end
    ]


def _batch_arguments(call: ast.AST, loop: Loop, targets: set[str]) -> bool:
    for node in ast.walk(call):
        if isinstance(node, ast.keyword) and node.arg and node.arg.endswith("__in"):
            if isinstance(loop.node, ast.While) or _mentions(node.value, targets):
                return True
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "in_":
            if isinstance(loop.node, ast.While) or any(_mentions(argument, targets) for argument in node.args):
                return True
    return False


def _derived_names(loop: Loop, targets: set[str], flow: ScopeFlow) -> set[str]:
    body = getattr(loop.node, "body", None)
    if not isinstance(body, list):
        return set()
    derived: set[str] = set()
    for statement in body:
        if isinstance(statement, ast.Assign) and _mentions(statement.value, targets):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    derived.add(target.id)
    return derived


def _mentions(node: ast.AST, names: set[str]) -> bool:
    return any(isinstance(leaf, ast.Name) and leaf.id in names for leaf in ast.walk(node))


def bounded(receiver_operations: tuple[str, ...]) -> bool:
    """A query limited to a slice or a page: in a `while` loop, a batch."""
    return any(operation in ("slice", "limit", "offset", "iterator", "yield_per") for operation in receiver_operations)


_MANAGERS = frozenset({"objects", "_default_manager", "_base_manager"})
_MAX_STEPS = 24


def another_table_each_round(node: ast.AST, loop: Loop, flow: ScopeFlow) -> bool:
    """`for ct in content_types: model = ct.model_class(); model.objects.filter(...)`.

    The query's model changes with the round (the loop variable, or a name the loop binds
    again each round): every round reads or writes another table, so there is nothing to
    fetch in one query.
    """
    if _statement_on_round_table(node, loop, flow) or _sql_on_round_table(node, loop, flow):
        return True
    current: ast.AST = node
    steps = 0
    while steps < _MAX_STEPS:
        steps += 1
        if isinstance(current, ast.Call):
            current = current.func
        elif isinstance(current, ast.Attribute):
            if current.attr in _MANAGERS and isinstance(current.value, ast.Name):
                name = current.value.id
                return name in loop.targets() or _bound_in(name, loop, flow)
            current = current.value
        elif isinstance(current, (ast.Await, ast.Subscript)):
            current = current.value
        elif isinstance(current, ast.Name):
            # `records = model.objects.filter(...)` earlier in the round, then `records.iterator()`.
            binding = flow.binding_at(current.id, current)
            if binding is None or binding.kind.value != "assign" or not isinstance(binding.node, ast.AST):
                return False
            if not _bound_in(current.id, loop, flow):
                return False
            current = binding.node
        else:
            return False
    return False


_STATEMENTS = frozenset({"delete", "insert", "update", "select"})


def _statement_on_round_table(node: ast.AST, loop: Loop, flow: ScopeFlow) -> bool:
    """`for table in metadata.sorted_tables: connection.execute(delete(table))`: the SQLAlchemy
    statement names the loop's table (`delete(table)`, `table.delete()`), another each round."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    statement = node.args[0]
    while isinstance(statement, ast.Call) and isinstance(statement.func, ast.Attribute) and statement.func.attr not in _STATEMENTS:
        # `delete(table).where(...)`: the statement under its clauses.
        statement = statement.func.value
    if not isinstance(statement, ast.Call):
        return False
    func = statement.func
    table: ast.expr | None = None
    if isinstance(func, ast.Attribute) and func.attr in _STATEMENTS and not statement.args:
        table = func.value
    elif (func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else "") in _STATEMENTS and statement.args:
        table = statement.args[0]
    if not isinstance(table, ast.Name):
        return False
    return table.id in loop.targets() or _bound_in(table.id, loop, flow)


# SQL keywords a table name follows.
_TABLE_KEYWORDS = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s*[\"`\[]?$", re.IGNORECASE)


def _sql_on_round_table(node: ast.AST, loop: Loop, flow: ScopeFlow) -> bool:
    """`conn.execute(f'SELECT * FROM "{url}" LIMIT 1')` with `url` the loop's value: the SQL
    text names the round's own table, another each round (nothing to fetch in one query)."""
    if not isinstance(node, ast.Call) or not node.args:
        return False
    text = node.args[0]
    if isinstance(text, ast.Name):
        # `sql = f"SELECT ... FROM {table}"` earlier in the round.
        binding = flow.binding_at(text.id, text)
        if binding is None or binding.kind.value != "assign" or not _bound_in(text.id, loop, flow):
            return False
        text = binding.node if isinstance(binding.node, ast.expr) else text
    if not isinstance(text, ast.JoinedStr):
        return False
    before = ""
    for part in text.values:
        if isinstance(part, ast.Constant) and isinstance(part.value, str):
            before += part.value
            continue
        if isinstance(part, ast.FormattedValue) and _TABLE_KEYWORDS.search(before):
            names = {leaf.id for leaf in ast.walk(part.value) if isinstance(leaf, ast.Name)}
            if any(name in loop.targets() or _bound_in(name, loop, flow) for name in names):
                return True
        before += "?"
    return False


def round_arguments(call: ast.Call, loop: Loop, flow: ScopeFlow) -> frozenset[str]:
    """What `call` passes that may change with each round of `loop`, as `guards.passed_keys` names it
    ("#i" positions, keyword names): anything but an argument that provably stays the same, one
    built without the loop's value, names the round binds otherwise, or calls other than pure
    conversions (`int(request.dataset_id)` stays; `ids.pop()` and `f"owner:{owner_id}"` change)."""
    found = {f"#{position}" for position, argument in enumerate(call.args) if not _same_each_round(argument, loop, flow)}
    found |= {keyword.arg for keyword in call.keywords if keyword.arg and not _same_each_round(keyword.value, loop, flow)}
    return frozenset(found)


# The attributes each loop assigns (`ast.dump` of the owner + "." + name), walked once per loop.
_ASSIGNED: weakref.WeakKeyDictionary[ast.AST, frozenset[str]] = weakref.WeakKeyDictionary()


def _assigned_in(attribute: ast.Attribute, loop: Loop) -> bool:
    assigned = _ASSIGNED.get(loop.node)
    if assigned is None:
        found: set[str] = set()
        for node in ast.walk(loop.node):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign)) else []
            found.update(ast.dump(target.value) + "." + target.attr for target in targets if isinstance(target, ast.Attribute))
        assigned = _ASSIGNED[loop.node] = frozenset(found)
    return ast.dump(attribute.value) + "." + attribute.attr in assigned


# Calls that give the same value for the same arguments.
_PURE = frozenset({"int", "str", "float", "bool", "len", "tuple", "frozenset", "abs", "min", "max", "round"})


def _same_each_round(node: ast.AST, loop: Loop, flow: ScopeFlow, depth: int = 0) -> bool:
    if depth > 4 or isinstance(node, ast.Starred):
        return False
    targets = loop.targets()
    for leaf in ast.walk(node):
        if isinstance(leaf, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr, ast.Lambda)):
            return False
        if isinstance(leaf, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return False
        if isinstance(leaf, ast.Call) and not (isinstance(leaf.func, ast.Name) and leaf.func.id in _PURE):
            return False
        if isinstance(leaf, ast.Attribute) and _assigned_in(leaf, loop):
            # `self.cursor`, moved on by the round.
            return False
        if isinstance(leaf, ast.Name):
            if leaf.id in targets:
                return False
            if _bound_in(leaf.id, loop, flow):
                # Bound in the round: the same only if every value it gets there is.
                start = (getattr(loop.node, "lineno", 0), getattr(loop.node, "col_offset", 0))
                end = (getattr(loop.node, "end_lineno", 0) or 0, getattr(loop.node, "end_col_offset", 0) or 0)
                for binding in flow.bindings.get(leaf.id, []):
                    if not (start <= binding.position <= end):
                        continue
                    if binding.kind.value != "assign" or not isinstance(binding.node, ast.expr):
                        return False
                    if not _same_each_round(binding.node, loop, flow, depth + 1):
                        return False
    return True


def once_in_loop(node: ast.AST, loop: Loop, flow: ScopeFlow) -> bool:
    """`for name, field in fields.items(): if name == "custom_fields": ...`: the block runs in
    the one round whose loop value equals a constant, not on every round."""
    targets = loop.targets()
    child: ast.AST = node
    parent = flow.parent(child)
    while parent is not None and parent is not loop.node:
        if isinstance(parent, ast.If) and child in parent.body and _selects_one_round(parent.test, targets):
            return True
        if isinstance(parent, ast.If) and child in parent.body and _latched(parent, child, loop, flow, targets):
            return True
        child = parent
        parent = flow.parent(child)
    return False


def same_row_each_round(node: ast.AST, loop: Loop, flow: ScopeFlow) -> bool:
    """`for study in studies: task.progress = ...; task.save()` where `task` is bound before the
    loop and never rebound in it: every round rewrites the one row the object stands for (a
    progress counter, a status), so there are no rows to batch. Not when the object is a new row
    there (`template.pk = None` before the save: a copy inserted each round)."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("save", "asave")):
        return False
    receiver = node.func.value
    if not isinstance(receiver, ast.Name) or receiver.id in loop.targets():
        return False
    value = flow.value(receiver)
    if value is not None and value.new:
        return False
    name = receiver.id
    for child in ast.walk(loop.node):
        if isinstance(child, (ast.Global, ast.Nonlocal)) and name in child.names:
            return False
        if isinstance(child, ast.Name) and child.id == name and not isinstance(child.ctx, ast.Load):
            return False
        if isinstance(child, ast.arg) and child.arg == name:
            return False
    return True


def _latched(guard: ast.If, child: ast.AST, loop: Loop, flow: ScopeFlow, targets: set[str]) -> bool:
    """`if not author: author = Author(name); session.add(author); session.commit()`: the block
    sets the name it tests to a new model object (always true) before the write or by it
    (`if details is None: details = Details.objects.create(...)`), and the loop
    binds that name nowhere but under such a test, so the block runs in one round at most."""
    name = _negated_name(guard.test)
    if name is None or name in targets:
        return False
    # The block's statements up to the write's, that one included: `author = Author.objects.create(...)`
    # is the write and sets the name at once.
    upto = guard.body[: next((index for index, statement in enumerate(guard.body) if statement is child), -1) + 1]
    if not any(_sets_new_object(statement, name, flow) for statement in upto):
        return False
    for node in ast.walk(loop.node):
        if isinstance(node, (ast.Global, ast.Nonlocal)) and name in node.names:
            return False
        if not (isinstance(node, ast.Name) and node.id == name) or isinstance(node.ctx, ast.Load):
            continue
        if isinstance(node.ctx, ast.Del) or not _under_negated_test(node, name, loop, flow):
            return False
    return True


def _negated_name(test: ast.expr) -> str | None:
    """`not author` or `author is None`: the name the test is true for while it is unset."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name):
        return test.operand.id
    if (
        isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.Is)
        and isinstance(test.left, ast.Name) and isinstance(test.comparators[0], ast.Constant) and test.comparators[0].value is None
    ):
        return test.left.id
    return None


def _sets_new_object(statement: ast.stmt, name: str, flow: ScopeFlow) -> bool:
    """`author = Author(name=...)` or `author = Author.objects.create(...)`: a new model object,
    which is true (and not None)."""
    if not (isinstance(statement, ast.Assign) and len(statement.targets) == 1):
        return False
    target = statement.targets[0]
    if not (isinstance(target, ast.Name) and target.id == name and isinstance(statement.value, ast.Call)):
        return False
    value = flow.value(statement.value)
    return value is not None and value.kind is ValueKind.INSTANCE and value.new


def _under_negated_test(node: ast.AST, name: str, loop: Loop, flow: ScopeFlow) -> bool:
    child: ast.AST = node
    parent = flow.parent(child)
    while parent is not None and parent is not loop.node:
        if isinstance(parent, ast.If) and child in parent.body and _negated_name(parent.test) == name:
            return True
        child = parent
        parent = flow.parent(child)
    return False


def _selects_one_round(test: ast.expr, targets: set[str]) -> bool:
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_selects_one_round(value, targets) for value in test.values)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Eq, ast.Is))):
        return False
    left, right = test.left, test.comparators[0]
    for name, other in ((left, right), (right, left)):
        if isinstance(name, ast.Name) and name.id in targets and isinstance(other, ast.Constant) and other.value is not None:
            return True
    return False


def _bound_in(name: str, loop: Loop, flow: ScopeFlow) -> bool:
    start = (getattr(loop.node, "lineno", 0), getattr(loop.node, "col_offset", 0))
    end = (getattr(loop.node, "end_lineno", 0) or 0, getattr(loop.node, "end_col_offset", 0) or 0)
    return any(start <= binding.position <= end for binding in flow.bindings.get(name, []))


# Calls that move or delete files: done per row, they can't be rolled back with the rows.
_IRREVERSIBLE = frozenset(
    {"os.remove", "os.unlink", "os.rename", "os.replace", "os.rmdir", "os.removedirs", "shutil.move", "shutil.rmtree"}
)
_PATH_METHODS = frozenset({"unlink", "rmdir", "rename"})


def irreversible_effect(loop: Loop, flow: ScopeFlow) -> bool:
    """Each round moves or deletes a file (`shutil.move`, `os.remove`, `path.unlink()`,
    `storage.delete(name)`): the per-row write records an effect that can't be undone, so
    it belongs to the round, not to one batch after the loop."""
    for statement in getattr(loop.node, "body", []):
        for child in ast.walk(statement):
            if not isinstance(child, ast.Call):
                continue
            func = child.func
            if flow.resolver.qualified_name(func) in _IRREVERSIBLE:
                return True
            if isinstance(func, ast.Attribute):
                if func.attr in _PATH_METHODS and flow.value(func.value) is None:
                    return True
                if func.attr == "delete" and "storage" in ast.unparse(func.value).lower():
                    return True
    return False
