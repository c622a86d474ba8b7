"""What may call a definition by its name, without a call the call graph shows.

A function nothing calls may still run: a module names it to hand it on (`map(fetch, urls)`,
`signal.connect(on_save)`), a decorator registers it, `__all__` exports it, settings spell its
dotted path (`"app.errors.exception_handler"`), an entry point names it (`"rates =
app.cli:main"`), or code reads it as an attribute (`handlers.on_save`, `getattr(module,
"on_save")`, `self.refresh()`). A method may be called through a name built at run time
(`getattr(self, "visit_" + kind)`, `getattr(job, action)(request)`), or by a framework, by
convention, when its class derives from one of the framework's (a view's `get_queryset`, a
form's `clean_email`, a template's `order.total`).

Per file, `looked_up` turns the lookups of a module into `ModuleFacts.attribute_reads`
entries; per project, `NamesRead` gathers every name the code reads, imports or spells and
answers whether a definition of some name may be called so, and `framework_facing` lists the
classes whose methods code outside the project may call. The execution contexts ask both to
tell a function that nothing calls or names (`ExecutionContext.UNCALLED`).
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from backbone.records import Record
from backbone.review.names import BUILTIN_NAMES, NameResolver

if TYPE_CHECKING:
    from backbone.review.project import ModuleFacts, ProjectIndex


def is_dunder(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


# Calls that read attributes by name: `getattr(x, "name")`, `attrgetter("name")`, and those that
# read every attribute of a module or object (`globals()`, `vars(module)`, `inspect.getmembers`).
LOOKUPS = frozenset({"getattr", "hasattr", "attrgetter", "methodcaller", "globals", "vars", "dir", "getmembers"})


def lookup_name(call: ast.Call) -> str:
    """The name a call is made by (`getattr`, `attrgetter` of `operator.attrgetter`)."""
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def looked_up(
    call: ast.Call,
    module: str,
    resolver: NameResolver,
    parents: Mapping[ast.AST, ast.AST],
    enclosing_class: Callable[[ast.AST], str],
    called: set[str],
) -> set[str]:
    """The `ModuleFacts.attribute_reads` entries of a lookup call of `module` (one of `LOOKUPS`):
    `enclosing_class` names the class a node is in ("" outside any), `called` holds the local
    names the module calls (`handler = getattr(obj, action)`, then `handler(request)`)."""
    name = lookup_name(call)
    arguments = call.args
    if name in ("attrgetter", "methodcaller"):
        names = [argument.value for argument in arguments[: None if name == "attrgetter" else 1]
                 if isinstance(argument, ast.Constant) and isinstance(argument.value, str)]
        return {part for text in names for part in text.split(".") if part.isidentifier() and not is_dunder(part)}
    if name == "globals":
        return {f"{module}.*"} if not arguments else set()
    if not arguments or any(isinstance(argument, ast.Starred) for argument in arguments):
        return set()
    start = ""
    if name in ("getattr", "hasattr"):
        if len(arguments) < 2:
            return set()
        key = arguments[1]
        if isinstance(key, ast.Constant):
            text = key.value
            return {text} if isinstance(text, str) and text.isidentifier() and not is_dunder(text) else set()
        start = _constant_start(key)
    receiver = arguments[0]
    if isinstance(receiver, ast.Name) and receiver.id in ("self", "cls"):
        # Its own methods, overrides in subclasses included: a dispatch on the class.
        owner = enclosing_class(call)
    else:
        owner = (resolver.qualified_name(receiver) if isinstance(receiver, (ast.Name, ast.Attribute)) else None) or ""
    if owner:
        return {f"{owner}.{start}*"}
    if start:
        # `getattr(form, "clean_" + field)`: a naming convention, on any object.
        return {f"{start}*"}
    # `getattr(job, action)(request)` calls what it finds: any method of anything may be called so.
    # `getattr(row, field)` only reads a value.
    return {"*"} if name == "getattr" and _dispatches(call, parents.get(call), called) else set()


def _dispatches(call: ast.Call, parent: ast.AST | None, called: set[str]) -> bool:
    return (isinstance(parent, ast.Call) and parent.func is call) or (
        isinstance(parent, ast.Assign) and any(isinstance(target, ast.Name) and target.id in called for target in parent.targets)
    )


def _constant_start(key: ast.expr) -> str:
    """`"visit_"` of `"visit_" + kind`, `f"visit_{kind}"`, `"visit_%s" % kind`, `"visit_{}".format(kind)`."""
    text: object = None
    if isinstance(key, ast.JoinedStr) and key.values and isinstance(key.values[0], ast.Constant):
        text = key.values[0].value
    elif isinstance(key, ast.BinOp) and isinstance(key.op, (ast.Add, ast.Mod)) and isinstance(key.left, ast.Constant):
        text = key.left.value
    elif (
        isinstance(key, ast.Call) and isinstance(key.func, ast.Attribute) and key.func.attr == "format"
        and isinstance(key.func.value, ast.Constant)
    ):
        text = key.func.value.value
    if not isinstance(text, str):
        return ""
    start = text.split("%")[0].split("{")[0]
    return start if start.isidentifier() else ""


def spelled_names(facts: ModuleFacts) -> tuple[str, ...]:
    """The dotted names a module's code reads where it can run, imports, or spells in a
    dotted-path string: with its attribute reads, what it names (`NamesRead`, and the `N` keys
    an edit changes, `incremental.changed_facts`)."""
    return (*facts.references, *facts.imports.values(), *facts.dotted_class_paths, *facts.dotted_function_paths)


class NamesRead(Record, frozen=True):
    """What the project's code names, anywhere (`ProjectIndex.names_read`)."""

    # Every segment of the names its code reads where it can run, imports, or spells in a
    # dotted-path string, and every attribute name it reads.
    segments: frozenset[str]
    # The constant starts of the names it looks up at run time on objects no name resolves
    # (`getattr(form, "clean_" + field)`); "" when it calls what a name built entirely at run
    # time finds (`getattr(job, action)(request)`): methods of any class may be called so.
    method_prefixes: tuple[str, ...]
    # Per module or class (its last segment) whose attributes the code looks up by names built
    # at run time (`getattr(handlers, name)`, `getattr(self, "visit_" + kind)`, `globals()`):
    # their constant starts, "" for any name. Matched by name, not resolved, so that an import
    # elsewhere does not change the answer.
    owner_prefixes: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, modules: Iterable[ModuleFacts]) -> NamesRead:
        """One pass over the facts the files already hold."""
        segments: set[str] = set()
        method_prefixes: set[str] = set()
        owner_prefixes: dict[str, set[str]] = {}
        for facts in modules:
            # One split of them all: the names of a module are many, their segments few.
            segments.update(".".join(spelled_names(facts)).split("."))
            for name in facts.attribute_reads:
                if not name.endswith("*"):
                    segments.add(name)
                    continue
                owner, _, start = name[:-1].rpartition(".")
                if owner:
                    owner_prefixes.setdefault(owner.rpartition(".")[2], set()).add(start)
                else:
                    method_prefixes.add(start)
        return cls(
            frozenset(segments),
            tuple(sorted(method_prefixes)),
            {owner: tuple(sorted(starts)) for owner, starts in owner_prefixes.items()},
        )

    def names(self, name: str, owners: Iterable[str], method: bool) -> bool:
        """Whether the project may call a definition called `name` by that name: a module-level
        function of the module, or a method (`method`) of the class, whose last segments are
        `owners` (a method's class, then the classes it inherits from)."""
        if name in self.segments or (method and name.startswith(self.method_prefixes)):
            return True
        return any(name.startswith(self.owner_prefixes.get(owner, ())) for owner in owners)


# Bases from outside the project that call none of a subclass's methods by name but its dunder
# methods: `object`, exceptions, abstract bases and generic or protocol markers.
_PLAIN_BASES = frozenset(
    {"object", "abc.ABC", "typing.Generic", "typing_extensions.Generic", "typing.Protocol", "typing_extensions.Protocol"}
)


def _plain_base(name: str) -> bool:
    return name in _PLAIN_BASES or (
        name in BUILTIN_NAMES and name.endswith(("Error", "Exception", "Warning", "Exit", "Interrupt"))
    )


def framework_facing(index: ProjectIndex) -> frozenset[str]:
    """`ProjectIndex.framework_facing`: a class with a base from outside the project (a
    framework's view, model, form, command, test case), or loaded by the dotted path a string
    spells (settings), the classes below it, and the project classes those inherit from."""
    parents: dict[str, list[str]] = {}
    children: dict[str, list[str]] = {}
    direct: list[str] = []
    for facts in index.classes.values():
        resolved = [index.resolve(base) for base in facts.bases]
        parents[facts.qualname] = [base for base in resolved if base in index.classes]
        for base in parents[facts.qualname]:
            children.setdefault(base, []).append(facts.qualname)
        if any(base not in index.classes and not _plain_base(base) for base in resolved):
            direct.append(facts.qualname)
    for module in index.modules.values():
        direct.extend(path for path in map(index.resolve, module.dotted_class_paths) if path in index.classes)
    below = _closure(direct, children)
    # The project classes those inherit from: a mixin of a view has its hooks called too.
    return frozenset(_closure(below, parents))


def _closure(starts: Iterable[str], edges: dict[str, list[str]]) -> set[str]:
    found = set(starts)
    queue = deque(found)
    while queue:
        for following in edges.get(queue.popleft(), ()):
            if following not in found:
                found.add(following)
                queue.append(following)
    return found
