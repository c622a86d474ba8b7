"""Module-level state: which values are mutable containers and which calls change them.

BB602 asks this module whether a module-level binding holds a mutable container (a
list, dict, set, defaultdict, Counter, deque ...), whether it is a cache, and which
method names mutate a container in place.
"""

from __future__ import annotations

import ast
import enum
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Protocol, TypeVar

from backbone.review.semantic import ancestors, parameter_names, subtree

if TYPE_CHECKING:
    from backbone.review.project import ProjectIndex

Resolve = Callable[[ast.expr], str | None]
NodeT = TypeVar("NodeT", bound=ast.AST)


class Container(enum.Enum):
    """What kind of mutable container a module-level name holds, in words for messages."""

    LIST = "list"
    DICT = "dict"
    SET = "set"
    COUNTER = "counter"
    DEQUE = "deque"
    CACHE = "cache"
    # Built by a call backbone does not know (`Registry()`), or defined in another module.
    UNKNOWN = "variable"


_CONSTRUCTORS: dict[str, Container] = {
    "list": Container.LIST,
    "dict": Container.DICT,
    "set": Container.SET,
    "bytearray": Container.LIST,
    "collections.defaultdict": Container.DICT,
    "collections.OrderedDict": Container.DICT,
    "collections.ChainMap": Container.DICT,
    "collections.Counter": Container.COUNTER,
    "collections.deque": Container.DEQUE,
    "typing.DefaultDict": Container.DICT,
    "weakref.WeakValueDictionary": Container.CACHE,
    "weakref.WeakKeyDictionary": Container.CACHE,
    "weakref.WeakSet": Container.CACHE,
}
_CACHE_PACKAGES = ("cachetools.", "pylru.", "lru.", "expiringdict.")

# Objects whose job is per-request or per-thread isolation, or that are not state at all.
_NOT_STATE_CONSTRUCTORS = frozenset(
    {
        "threading.local",
        "contextvars.ContextVar",
        "threading.Lock",
        "threading.RLock",
        "threading.Event",
        "threading.Semaphore",
        "threading.BoundedSemaphore",
        "threading.Condition",
        "asyncio.Lock",
        "asyncio.Event",
        "asyncio.Semaphore",
        "queue.Queue",
        "queue.SimpleQueue",
        "asyncio.Queue",
        "logging.getLogger",
    }
)

# Methods that change a list, dict, set or deque in place.
CONTAINER_MUTATORS = frozenset(
    {
        "append",
        "extend",
        "insert",
        "remove",
        "pop",
        "popitem",
        "clear",
        "update",
        "setdefault",
        "add",
        "discard",
        "difference_update",
        "intersection_update",
        "symmetric_difference_update",
        "appendleft",
        "extendleft",
        "popleft",
        "rotate",
        "sort",
        "reverse",
        "subtract",
    }
)
# The mutators no other common object has: on a value backbone did not see built, only these
# are taken as container mutation (`cache.add`, `session.remove()`, `db.update()` are not).
UNAMBIGUOUS_MUTATORS = frozenset(
    {"append", "extend", "insert", "setdefault", "popitem", "appendleft", "extendleft", "popleft"}
)

LOCK_CONSTRUCTORS = frozenset(
    {"threading.Lock", "threading.RLock", "multiprocessing.Lock", "multiprocessing.RLock", "asyncio.Lock"}
)

_CACHE_WORDS = frozenset({"cache", "caches", "cached", "memo", "memos", "memoize", "memoized", "lru", "ttl"})
_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def container_of(value: ast.expr, resolve: Resolve) -> Container | None:
    """The container a module-level value builds, or None when it is not mutable state."""
    if isinstance(value, (ast.List, ast.ListComp)):
        return Container.LIST
    if isinstance(value, (ast.Dict, ast.DictComp)):
        return Container.DICT
    if isinstance(value, (ast.Set, ast.SetComp)):
        return Container.SET
    if isinstance(value, ast.Call):
        name = resolve(value.func)
        if name is None:
            return Container.UNKNOWN
        if name in _CONSTRUCTORS:
            return _CONSTRUCTORS[name]
        if name.startswith(_CACHE_PACKAGES):
            return Container.CACHE
        if name in _NOT_STATE_CONSTRUCTORS or name.startswith(("typing.", "dataclasses.", "os.", "re.")):
            return None
        return Container.UNKNOWN
    return None


def is_fresh_empty_container(value: ast.expr, resolve: Resolve, container_class: Callable[[str], bool]) -> bool:
    """`{}`, `[]`, `set()`, `OrderedDict()`, `TTLCache(maxsize=100)`, `LRU()` (a project container
    class, `class LRU(OrderedDict)`, called with no arguments): a new container holding nothing yet.
    Storing one resets an entry; it fills it with no data."""
    if isinstance(value, ast.Dict):
        return not value.keys
    if isinstance(value, (ast.List, ast.Set)):
        return not value.elts
    if not isinstance(value, ast.Call):
        return False
    name = resolve(value.func)
    if name is None:
        return False
    if name.startswith(_CACHE_PACKAGES):
        # A cache's arguments are its size and lifetime, not its contents.
        return all(isinstance(item, ast.Constant) for item in (*value.args, *(keyword.value for keyword in value.keywords)))
    if name in _CONSTRUCTORS:
        # A container type's arguments are its contents (a defaultdict's first is its factory).
        factory = name in ("collections.defaultdict", "typing.DefaultDict")
        return not value.keywords and len(value.args) <= (1 if factory else 0)
    return not value.args and not value.keywords and container_class(name)


# Bases that make a class a container itself (`class Registry(dict)`), besides the constructors above.
_CONTAINER_BASES = frozenset({"collections.UserDict", "collections.UserList", "collections.abc.MutableMapping",
                              "collections.abc.MutableSequence", "collections.abc.MutableSet", "typing.Dict",
                              "typing.List", "typing.Set", "typing.MutableMapping"})


def is_plain_project_class(index: ProjectIndex, qualname: str, depth: int = 0) -> bool:
    """`qualname` is a project class none of whose bases is a container (`class AutomationTable:`):
    an object of it changes only through the class's own methods, never as a list or dict does."""
    facts = index.classes.get(qualname)
    if facts is None or depth > 8:
        return False
    for base in facts.bases:
        resolved = index.resolve(base)
        if resolved in index.classes:
            if not is_plain_project_class(index, resolved, depth + 1):
                return False
        elif resolved in _CONSTRUCTORS or resolved in _CONTAINER_BASES or resolved in ("list", "dict", "set"):
            return False
    return True


def is_cache_name(name: str) -> bool:
    """`_cache`, `TEMPLATE_CACHE`, `_memo`: a name that says it holds derived values (not `MEMORY_STORE`)."""
    return any(word.lower() in _CACHE_WORDS for word in _WORDS.findall(name.rpartition(".")[2]))


def memoises_in_module_state(
    function: ast.FunctionDef | ast.AsyncFunctionDef, walk: Callable[[ast.AST], list[ast.AST]] = subtree
) -> bool:
    """The function computes its answer once per process and keeps it in module-level state.

    `global _domain; if _domain is None: _domain = Domain.objects.get(...)`, or
    `if name not in _SITES: _SITES[name] = ...`: every later call answers from the kept value,
    so the work inside runs once per worker (or once per key), not once per call.
    `walk`: how to list the function's nodes (the file's model lends its node index).
    """
    # The tests of unset state first: most functions have none, and need no other look.
    nodes = walk(function)
    unset_tests: list[tuple[str, ast.If]] = [
        (name, node) for node in nodes if type(node) is ast.If and (name := _unset_test(node.test)) is not None
    ]
    if not unset_tests:
        return False
    # Then the `global` names and the local stores.
    declared: set[str] = set()
    stored: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Global):
            declared.update(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            stored.add(node.id)
    bound = (parameter_names(function) | stored) - declared
    for name, node in unset_tests:
        if name in bound:
            continue
        kept = declared if name in declared else {name}
        if any(_stores_into(statement, kept) for statement in node.body):
            return True
    return False


def initialises_once(node: ast.If, declared: frozenset[str]) -> bool:
    """`if _store is None: _store = build(uri); configure(uri)` on a name the function declares
    `global`: the block runs in the first call of each process only, every later call finds the
    state set."""
    # `if _store is None or _store.model is None:`: unset, or half set. `key not in _SITES` is once per key.
    tests = node.test.values if isinstance(node.test, ast.BoolOp) and isinstance(node.test.op, ast.Or) else [node.test]
    names = {
        name
        for test in tests
        if not (isinstance(test, ast.Compare) and isinstance(test.ops[0], ast.NotIn))
        and (name := _unset_test(test)) is not None
        and name in declared
    }
    if len(names) != 1:
        return False
    name = names.pop()
    if not all(any(isinstance(inner, ast.Name) and inner.id == name for inner in ast.walk(test)) for test in tests):
        # `if _store is None or force:` runs again whenever the other test says so.
        return False
    return any(_stores_into(statement, {name}) for statement in node.body)


def _unset_test(test: ast.expr) -> str | None:
    """The state a test finds unset: `X is None`, `not X`, `key not in X`."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name):
        return test.operand.id
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        operator, right = test.ops[0], test.comparators[0]
        if isinstance(operator, (ast.Is, ast.Eq)) and isinstance(right, ast.Constant) and right.value is None:
            return test.left.id if isinstance(test.left, ast.Name) else None
        if isinstance(operator, ast.NotIn) and isinstance(right, ast.Name):
            return right.id
    return None


def _stores_into(statement: ast.stmt, names: set[str]) -> bool:
    for node in ast.walk(statement):
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                base = target.value if isinstance(target, ast.Subscript) else target
                if isinstance(base, ast.Name) and base.id in names:
                    return True
    return False


# Words of a name that reads configuration: `config.get(...)`, `settings.X`, `os.environ`, `app.config`.
CONFIGURATION_WORDS = frozenset({"config", "configuration", "settings", "conf", "environ", "getenv", "env"})
# Per-request objects: a value read from one differs between requests.
REQUEST_OBJECTS = frozenset({"flask.request", "flask.g", "flask.session", "quart.request", "quart.g", "quart.session"})


def names_configuration(name: str) -> bool:
    """`config`, `SETTINGS`, `app_config`, `environ`: a name that holds or reads configuration."""
    return bool({word.lower() for word in _WORDS.findall(name)} & CONFIGURATION_WORDS)


def is_request_name(name: str, qualified: str | None) -> bool:
    """`request`, `g`, `session` (or what they import): state that differs per request."""
    return name in ("request", "g", "session") or (qualified is not None and qualified in REQUEST_OBJECTS)


# Objects that belong to one process by nature: bound to its event loop (queues, futures, events,
# tasks, the loop itself) or to its threads. Module state that holds them, or a registry of them
# (the queue of each connected websocket), is per-process by design: another worker has its own
# loop, its own connections, and nothing in them to share.
PER_PROCESS_TYPES = frozenset(
    {
        "asyncio.Queue",
        "asyncio.PriorityQueue",
        "asyncio.LifoQueue",
        "asyncio.Future",
        "asyncio.Task",
        "asyncio.Event",
        "asyncio.Lock",
        "asyncio.Semaphore",
        "asyncio.BoundedSemaphore",
        "asyncio.Condition",
        "asyncio.AbstractEventLoop",
        "asyncio.BaseEventLoop",
        "asyncio.TaskGroup",
        "asyncio.Handle",
        "asyncio.TimerHandle",
        "asyncio.queues.Queue",
        "asyncio.futures.Future",
        "asyncio.tasks.Task",
        "asyncio.events.AbstractEventLoop",
        "concurrent.futures.Future",
        "threading.Thread",
        "threading.Timer",
        "anyio.Event",
        "anyio.Lock",
        "anyio.abc.TaskGroup",
    }
)
# Calls that return such an object: the constructors, and the loop and task factories.
_PER_PROCESS_FACTORIES = PER_PROCESS_TYPES | frozenset(
    {
        "asyncio.get_running_loop",
        "asyncio.get_event_loop",
        "asyncio.new_event_loop",
        "asyncio.create_task",
        "asyncio.ensure_future",
        "asyncio.current_task",
        "asyncio.run_coroutine_threadsafe",
        "anyio.create_memory_object_stream",
    }
)
# Methods of an event loop (or task group) that hand out a future or a task.
_PER_PROCESS_METHODS = frozenset({"create_task", "create_future", "run_in_executor", "call_later", "call_soon"})


def annotation_holds_per_process(annotation: ast.expr, resolve: Resolve) -> bool:
    """`set[asyncio.Future[None]]`, `asyncio.AbstractEventLoop | None`, `Set["Queue[Event]"]`: the declared
    type names an object bound to this process's event loop or threads."""
    for node in ast.walk(annotation):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            try:
                parsed = ast.parse(node.value, mode="eval").body
            except SyntaxError:
                continue
            if annotation_holds_per_process(parsed, resolve):
                return True
        elif isinstance(node, (ast.Name, ast.Attribute)) and resolve(node) in PER_PROCESS_TYPES:
            return True
    return False


def is_per_process_value(value: ast.expr, resolve: Resolve) -> bool:
    """`asyncio.Queue()`, `asyncio.get_running_loop()`, `loop.create_future()`: an object of this process's loop."""
    if isinstance(value, ast.Await):
        value = value.value
    if not isinstance(value, ast.Call):
        return False
    if resolve(value.func) in _PER_PROCESS_FACTORIES:
        return True
    return isinstance(value.func, ast.Attribute) and value.func.attr in _PER_PROCESS_METHODS


def once_per_process_guard(test: ast.expr, added: ast.expr) -> str | None:
    """`if key not in _WARNED:` around `_WARNED.add(key)`: the name of the set that remembers what was done.

    Returns the set's name when `test` checks that `added` is not in it yet, else None.
    """
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotIn)):
        return None
    container = test.comparators[0]
    if not isinstance(container, ast.Name) or ast.dump(test.left) != ast.dump(added):
        return None
    return container.id


# Calls that read the clock: what they return is a time, never data of a request or a row.
CLOCK_FUNCTIONS = frozenset(
    {
        "time.time",
        "time.time_ns",
        "time.monotonic",
        "time.monotonic_ns",
        "time.perf_counter",
        "datetime.datetime.now",
        "datetime.datetime.utcnow",
        "django.utils.timezone.now",
    }
)
# Methods that drop entries from a container: an eviction or an invalidation, which stores nothing.
REMOVERS = frozenset({"pop", "popitem", "remove", "discard", "clear"})


def clock_names(function: ast.AST, resolve: Resolve) -> frozenset[str]:
    """Locals of `function` assigned a clock reading (`now = time.monotonic()`)."""
    return frozenset(
        target.id
        for node in ast.walk(function)
        if isinstance(node, ast.Assign) and is_clock_value(node.value, resolve, frozenset())
        for target in node.targets
        if isinstance(target, ast.Name)
    )


def is_clock_value(value: ast.expr, resolve: Resolve, clocks: frozenset[str]) -> bool:
    """`time.monotonic() + TTL_SECONDS`, `now`: a time computed from a clock reading and constants only."""
    return _clock_expression(value, resolve, clocks) is True


def _clock_expression(node: ast.expr, resolve: Resolve, clocks: frozenset[str]) -> bool | None:
    """True for a clock reading, None for a constant, False for anything else."""
    if isinstance(node, ast.Call):
        return resolve(node.func) in CLOCK_FUNCTIONS and not node.args
    if isinstance(node, ast.Name):
        if node.id in clocks:
            return True
        return None if node.id.isupper() else False
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
        return None
    if isinstance(node, ast.UnaryOp):
        return _clock_expression(node.operand, resolve, clocks)
    if isinstance(node, ast.BinOp):
        left = _clock_expression(node.left, resolve, clocks)
        right = _clock_expression(node.right, resolve, clocks)
        if left is False or right is False:
            return False
        return True if left or right else None
    return False


def _removed_names(node: ast.AST) -> Iterator[str]:
    """The names whose entries `node` drops: `del X[k]` (each target), `X.pop(k)`, `X.clear()`."""
    if isinstance(node, ast.Delete):
        for target in node.targets:
            if isinstance(target, ast.Subscript) and isinstance(target.value, ast.Name):
                yield target.value.id
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr in REMOVERS
        and isinstance(node.func.value, ast.Name)
    ):
        yield node.func.value.id


class ModuleNodes(Protocol):
    """A file's node index (review.context.FileContext): its tree, every node by type, each node's parent."""

    tree: ast.Module
    parents: dict[ast.AST, ast.AST]

    def nodes_of(self, *types: type[NodeT]) -> list[NodeT]: ...


def _removals(module: ModuleNodes) -> Iterator[tuple[ast.AST, set[str]]]:
    """Each statement or call of the module that drops entries, with the names it drops them from."""
    for node in (*module.nodes_of(ast.Delete), *module.nodes_of(ast.Call)):
        names = set(_removed_names(node))
        if names:
            yield node, names


def evicting_containers(module: ModuleNodes, resolve: Resolve) -> frozenset[str]:
    """Names whose entries the module drops by size or by age: a bounded or expiring cache.

    `if len(X) >= MAX: del X[next(iter(X))]` caps the size; `if deadline <= now: X.pop(key)` with
    `now = time.monotonic()` expires entries. Whoever keeps such a container accepts that any entry may
    be missing at any time, which is all another worker's copy can do: a cache by construction.

    Read from each removal up to the tests that guard it (in a function), not from every test down.
    """
    found: set[str] = set()
    clocks: dict[ast.AST, frozenset[str]] = {}
    # Per guarding test: the names it compares by size, and whether it compares a clock reading.
    tests: dict[ast.AST, tuple[set[str], bool]] = {}
    parents = module.parents
    for removal, names in _removals(module):
        guards: list[ast.Compare] = []
        inside = 0
        # The outermost function around the removal: its clock readings are the ones in scope
        # (an inner function's are among them).
        outermost: ast.FunctionDef | ast.AsyncFunctionDef | None = None
        child, parent = removal, parents.get(removal)
        while parent is not None:
            if isinstance(parent, (ast.If, ast.While)) and isinstance(parent.test, ast.Compare) and child in parent.body:
                guards.append(parent.test)
            elif isinstance(parent, (ast.FunctionDef, ast.AsyncFunctionDef)):
                outermost, inside = parent, len(guards)
            child, parent = parent, parents.get(parent)
        if outermost is None:
            continue
        for guard in guards[:inside]:
            judged = tests.get(guard)
            if judged is None:
                if outermost not in clocks:
                    clocks[outermost] = clock_names(outermost, resolve)
                judged = tests[guard] = _eviction_test(guard, resolve, clocks[outermost])
            sized, clocked = judged
            found |= names if clocked else sized & names
    return frozenset(found - _gates(module.tree, found))


def _eviction_test(test: ast.Compare, resolve: Resolve, clocks: frozenset[str]) -> tuple[set[str], bool]:
    """The names `test` compares by size (`len(X) >= MAX`), and whether it compares a time
    computed from a clock reading (`deadline <= now`); nothing unless it orders (`<`, `>=`)."""
    if not any(isinstance(operator, (ast.Gt, ast.GtE, ast.Lt, ast.LtE)) for operator in test.ops):
        return set(), False
    operands = [test.left, *test.comparators]
    sized = {
        operand.args[0].id
        for operand in operands
        if isinstance(operand, ast.Call)
        and isinstance(operand.func, ast.Name)
        and operand.func.id == "len"
        and len(operand.args) == 1
        and isinstance(operand.args[0], ast.Name)
    }
    return sized, any(is_clock_value(operand, resolve, clocks) for operand in operands)


def _gates(tree: ast.Module, names: set[str], answers_count: bool = True) -> set[str]:
    """Of `names`, those a test decides to refuse on: `if _locked_until.get(user, 0) > now: raise
    TooMany()` or `return Response(status=429)`. A throttle or a lockout kept per worker lets every
    worker grant its own share, which is not what a cache missing an entry does: it only redoes work."""
    found: set[str] = set()
    if not names:
        return found
    for function in ast.walk(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        # Locals holding what was read from the state (`last = _last_call.get(ip)`).
        holders: dict[str, set[str]] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign):
                read = {inner.id for inner in ast.walk(node.value) if isinstance(inner, ast.Name) and inner.id in names}
                for target in node.targets:
                    if read and isinstance(target, ast.Name):
                        holders.setdefault(target.id, set()).update(read)
        for node in ast.walk(function):
            if not isinstance(node, (ast.If, ast.While)):
                continue
            read = set()
            for inner in ast.walk(node.test):
                if isinstance(inner, ast.Name):
                    read |= {inner.id} & names if inner.id in names else holders.get(inner.id, set())
            if read and any(_refuses(inner, answers_count) for statement in node.body for inner in ast.walk(statement)):
                found |= read
    return found


def _refuses(node: ast.AST, answers_count: bool = True) -> bool:
    """`raise ...`, `return <a value>`, `abort(429)`: the branch ends the request or answers it.

    Without `answers_count`, a constant returned (`return True`, "this was the last holder") is no refusal."""
    if isinstance(node, ast.Raise):
        return True
    if isinstance(node, ast.Return):
        value = node.value
        if value is None:
            return False
        return not (isinstance(value, ast.Constant) and (value.value is None or not answers_count))
    return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "abort"


def reference_counts(module: ModuleNodes) -> frozenset[str]:
    """Names that count the holders of something per key: an entry goes up by one when it is taken
    (`X[k] = X.get(k, 0) + 1`), down by one when it is let go (`X.get(k, 0) - 1`, `X[k] -= 1`), is
    dropped at zero, and the count is only ever compared with 0 or 1 (`if remaining <= 0:`).

    Acquire and release run in the process that holds the thing, and what the count decides is when
    the last holder in this process tears it down. A count compared with a limit (`if active[user] >=
    MAX`) is a quota, which every worker would enforce separately: not one of these; neither is a count a
    request is refused on (`if _running.get(user, 0) > 0: raise Busy()`), a lock each worker keeps alone.
    """
    dropped = {name for _, names in _removals(module) for name in names}
    candidates = _counted_up_and_down(module) & dropped if dropped else set()
    if not candidates:
        return frozenset()
    compared_otherwise: set[str] = set()
    for function in (*module.nodes_of(ast.FunctionDef), *module.nodes_of(ast.AsyncFunctionDef)):
        # Locals holding a count read from a module name (`remaining = X.get(k, 0) - 1`).
        holders: dict[str, str] = {}
        for node in ast.walk(function):
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                read = next((found for inner in ast.walk(node.value) if (found := _count_read(inner)) is not None), None)
                if read is not None:
                    holders[node.targets[0].id] = read
        for node in ast.walk(function):
            if not isinstance(node, ast.Compare):
                continue
            operands = [node.left, *node.comparators]
            counted = {read for operand in operands if (read := _count_read(operand)) is not None}
            counted |= {holders[operand.id] for operand in operands if isinstance(operand, ast.Name) and operand.id in holders}
            if not counted:
                continue
            others = [
                operand
                for operand in operands
                if _count_read(operand) is None and not (isinstance(operand, ast.Name) and operand.id in holders)
            ]
            if not all(isinstance(other, ast.Constant) and other.value in (0, 1) for other in others):
                compared_otherwise |= counted
    counts = candidates - compared_otherwise
    # `if _running.get(user, 0) > 0: raise Busy()`: one at a time per worker, a lock no other worker sees.
    return frozenset(counts - _gates(module.tree, counts, answers_count=False))


def _counted_up_and_down(module: ModuleNodes) -> set[str]:
    """Names some function of the module counts both up and down by one (`X[k] = X.get(k, 0) + 1`,
    `X[k] -= 1`): what `reference_counts` reads further, found off the node index."""
    up: set[str] = set()
    down: set[str] = set()
    for node in module.nodes_of(ast.BinOp):
        if isinstance(node.right, ast.Constant) and node.right.value == 1 and isinstance(node.op, (ast.Add, ast.Sub)):
            read = _count_read(node.left)
            if read is not None and _in_function(node, module.parents):
                (up if isinstance(node.op, ast.Add) else down).add(read)
    for step in module.nodes_of(ast.AugAssign):
        if (
            isinstance(step.value, ast.Constant)
            and step.value.value == 1
            and isinstance(step.op, (ast.Add, ast.Sub))
            and isinstance(step.target, ast.Subscript)
            and isinstance(step.target.value, ast.Name)
            and _in_function(step, module.parents)
        ):
            (up if isinstance(step.op, ast.Add) else down).add(step.target.value.id)
    return up & down


def _in_function(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    return any(isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)) for ancestor in ancestors(node, parents))


def _count_read(node: ast.AST) -> str | None:
    """`X[k]` or `X.get(k, 0)`: the name X whose entry is read."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name):
        return node.value.id
    if (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "get"
        and isinstance(node.func.value, ast.Name)
        and len(node.args) == 2
        and isinstance(node.args[1], ast.Constant)
        and node.args[1].value == 0
    ):
        return node.func.value.id
    return None
