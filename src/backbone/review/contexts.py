"""Execution contexts: where a function runs, and the evidence for it.

A senior reviewer asks first *when does this code run?* A query per row in a request
handler is an N+1 that users wait on; the same loop in a one-off repair command, a
migration or a test fixture serves no one. Every function of the project gets the set of
contexts it runs in, each with the evidence (the root that reaches it and the chain):

- request: a handler of a supported framework, or a function a handler reaches;
- task: a background task (Celery, RQ, Dramatiq, Huey, arq, Django-Q) or what it reaches;
- startup: application start and stop (`on_event`, `before_first_request`, lifespan,
  `AppConfig.ready`, app factories that build the application object), import time;
- cli: click/typer/cyclopts commands, Flask CLI commands, Django management commands,
  functions that read a command line with argparse or optparse (a script's `main()`);
- migration: Django migrations and Alembic revisions, and the project functions they name
  (`RunPython(forwards)` with `forwards` imported from a helper module);
- test: test modules, fixtures, factories and test-support code;
- script: files under scripts/ or bin/;
- unreachable: a class or function the project names only in branches that never run
  (`if False:`, `elif kind == "x" and False:`), with all its code; such branches add no call edges;
  and code after a `return`, `raise`, `continue` or `break` of its block;
- unknown: nothing in the project reaches the function (a library API, a callback the
  framework finds by name): rules treat it as they always did;
- uncalled: nothing reaches the function and nothing in the project even names it: a
  module-level function, or a method of a module-level class, that no code calls, imports,
  decorates, exports in `__all__`, spells in a dotted-path string or reads as an attribute
  (`obj.name`, `getattr(x, "name")`), that no framework calls by convention (a dunder, a
  method of a class with a framework base or of a mixin of one), with all its code: a leftover
  helper, a fallback never wired in, or the public function of a library whose callers are
  elsewhere. Rules report there at low confidence at most (`rules.base.AT_MOST`).

Roots come from the project index (decorators, class bases, paths) and the handler
registry; the rest is one breadth-first walk over the call graph per context, so every
function reached gets the shortest chain from its root.
"""

from __future__ import annotations

import ast
import functools
from collections import deque
from collections.abc import Iterable, Iterator
from pathlib import PurePosixPath

from backbone.records import Record
from backbone.review import reads
from backbone.review.context_kinds import PRECEDENCE, ExecutionContext
from backbone.review.knowledge.commands import is_command
from backbone.review.knowledge.imports import module_imported
from backbone.review.knowledge.paths import is_test_path
from backbone.review.knowledge.queues import task_library
from backbone.review.naming import is_dunder
from backbone.review.project import FunctionFacts, ModuleFacts, ProjectIndex


class ContextFact(Record, frozen=True):
    """One context a function runs in: the root that puts it there and the call chain."""

    context: ExecutionContext
    # What makes the root one: "FastAPI handler", "Celery task", "management command"...
    reason: str
    # Qualified names from the root to the function itself (one name when it is the root).
    chain: tuple[str, ...]

    def describe(self) -> str:
        names = " -> ".join(f"{name.rpartition('.')[2]}()" for name in self.chain)
        if len(self.chain) <= 1:
            return f"{self.context.value} ({self.reason})"
        return f"{self.context.value} ({self.reason}: {names})"


UNKNOWN_FACT = ContextFact(ExecutionContext.UNKNOWN, "reached from no known entry point", ())
UNREACHABLE_FACT = ContextFact(
    ExecutionContext.UNREACHABLE, "named only in branches that never run (`if False:`, `and False`)", ()
)


def uncalled_fact(qualname: str, module: str) -> ContextFact:
    """A function of `module` that nothing in the project calls or names, and all its code."""
    return ContextFact(
        ExecutionContext.UNCALLED, f"nothing in the project calls or names `{qualname.removeprefix(module + '.')}`", (qualname,)
    )


def after_exit_fact(statement: ast.stmt) -> ContextFact:
    """Code after a `return`, `raise`, `continue` or `break` of its block: it never runs."""
    word = {ast.Return: "return", ast.Raise: "raise", ast.Continue: "continue", ast.Break: "break"}.get(type(statement), "exit")
    return ContextFact(ExecutionContext.UNREACHABLE, f"after the `{word}` at line {statement.lineno} of its block", ())


# --- roots ------------------------------------------------------------------------------------

_MIGRATION_DIRECTORIES = frozenset({"migrations", "alembic"})
_SCRIPT_DIRECTORIES = frozenset({"scripts", "bin"})
# Decorators whose last segments declare start-up or shut-down work.
_STARTUP_DECORATORS = frozenset(
    {"on_event", "before_first_request", "before_serving", "after_serving", "on_startup", "on_shutdown"}
)
# Constructors of an application object: a function that builds one is an app factory.
_APPLICATION_CLASSES = frozenset(
    {"flask.Flask", "quart.Quart", "fastapi.FastAPI", "starlette.applications.Starlette", "litestar.Litestar"}
)
_APP_CONFIG = "django.apps.AppConfig"
_MANAGEMENT_COMMANDS = frozenset(
    {"django.core.management.base.BaseCommand", "django.core.management.BaseCommand",
     "django.core.management.base.LabelCommand", "django.core.management.base.AppCommand"}
)


@functools.lru_cache(maxsize=4096)
def path_context(path: str) -> ContextFact | None:
    """The context a file's location alone gives all of its code, if any."""
    parts = PurePosixPath(path.replace("\\", "/")).parts
    directories = parts[:-1]
    if is_test_path(path) or "fixtures" in directories:
        return ContextFact(ExecutionContext.TEST, "test code", ())
    # A `migrations.py` module holds a project's own schema migrations, like a migrations/ directory.
    migration_module = bool(parts) and parts[-1] == "migrations.py"
    if _MIGRATION_DIRECTORIES & set(directories) or migration_module or ("versions" in directories and "alembic" in path):
        return ContextFact(ExecutionContext.MIGRATION, "migration", ())
    if len(directories) >= 2 and directories[-2:] == ("management", "commands"):
        return ContextFact(ExecutionContext.CLI, "management command", ())
    if _SCRIPT_DIRECTORIES & set(directories):
        return ContextFact(ExecutionContext.SCRIPT, "script", ())
    return None


def revision_context(module: ModuleFacts) -> ContextFact | None:
    """An Alembic revision kept outside the usual folders (`from alembic import op`)."""
    if "alembic.op" in module.imports.values():
        return ContextFact(ExecutionContext.MIGRATION, "Alembic revision", ())
    return None


def _class_has_base(index: ProjectIndex, class_qualname: str, bases: frozenset[str], depth: int = 0) -> bool:
    facts = index.classes.get(class_qualname)
    if facts is None or depth > 8:
        return False
    for base in facts.bases:
        resolved = index.resolve(base)
        if resolved in bases or base in bases or _class_has_base(index, resolved, bases, depth + 1):
            return True
    return False


def _root(facts: FunctionFacts, index: ProjectIndex) -> ContextFact | None:
    """The context a function starts by itself, from its decorators, class or body."""
    chain = (facts.qualname,)
    if task_library(facts, index) is not None:
        return ContextFact(ExecutionContext.TASK, "background task", chain)
    last_segments = [decorator.rpartition(".")[2] for decorator in facts.decorators]
    if any(decorator.endswith("cli.command") for decorator in facts.decorators) or is_command(facts, index):
        return ContextFact(ExecutionContext.CLI, "CLI command", chain)
    if any(index.resolve(call.callee) in _ARGUMENT_PARSERS for call in facts.calls):
        # `def main(): parser = argparse.ArgumentParser(...)`: a command line's entry point.
        return ContextFact(ExecutionContext.CLI, "command-line entry point (argparse)", chain)
    if _STARTUP_DECORATORS.intersection(last_segments):
        return ContextFact(ExecutionContext.STARTUP, "start-up hook", chain)
    owner, _, name = facts.qualname.rpartition(".")
    if owner in index.classes:
        if name == "ready" and _class_has_base(index, owner, frozenset({_APP_CONFIG})):
            return ContextFact(ExecutionContext.STARTUP, "AppConfig.ready", chain)
        if name == "handle" and _class_has_base(index, owner, _MANAGEMENT_COMMANDS):
            return ContextFact(ExecutionContext.CLI, "management command", chain)
    if any(index.resolve(call.callee) in _APPLICATION_CLASSES for call in facts.calls):
        return ContextFact(ExecutionContext.STARTUP, "application factory", chain)
    return None


# What a command line's entry point builds to read its arguments.
_ARGUMENT_PARSERS = frozenset({"argparse.ArgumentParser", "optparse.OptionParser"})


# Decorators that register nothing: the method is called by its name like any other.
_PLAIN_DECORATORS = frozenset({"staticmethod", "classmethod"})


# --- the view ---------------------------------------------------------------------------------


class ExecutionContexts:
    """The contexts of every function in an index, with the shortest chain to each."""

    def __init__(
        self,
        index: ProjectIndex,
        handler_roots: Iterable[tuple[str, str]] = (),
        view_classes: Iterable[tuple[str, str]] = (),
        unreachable: frozenset[str] = frozenset(),
        whole_project: bool = False,
    ) -> None:
        self._index = index
        # Whether the index is the whole project: only then is a function nothing names uncalled.
        self._whole_project = whole_project
        self._uncalled: dict[str, bool] = {}
        # Definitions only dead branches name (`ProjectIndex.unreachable`): known for a whole project only.
        self._unreachable = unreachable
        # Class-based views: their class bodies (`queryset = ...`) serve the requests.
        self._view_classes = dict(view_classes)
        self._facts: dict[str, dict[ExecutionContext, ContextFact]] = {}
        self._module_of: dict[str, ModuleFacts] = {}
        roots: dict[ExecutionContext, list[ContextFact]] = {}
        for module in index.modules.values():
            by_path = path_context(module.path) or revision_context(module)
            for qualname in module.functions:
                self._module_of[qualname] = module
                if by_path is not None:
                    roots.setdefault(by_path.context, []).append(
                        ContextFact(by_path.context, by_path.reason, (qualname,))
                    )
            if by_path is None or by_path.context is not ExecutionContext.MIGRATION:
                continue
            for reference in sorted(module.references):
                # `RunPython(forwards)` with `forwards` imported from `app/migration_utils.py`: the
                # project functions a migration names run when it is applied.
                target = index.function(reference)
                if target is not None and target.qualname not in module.functions:
                    roots.setdefault(ExecutionContext.MIGRATION, []).append(
                        ContextFact(ExecutionContext.MIGRATION, f"run by migration `{module.module}`", (target.qualname,))
                    )
        for module in index.modules.values():
            # `if __name__ == "__main__": main(sys.argv)` in a module nothing else imports: a
            # script, what runs when a person runs the file. A module the service imports is part
            # of it, and its main block one more way to run its functions (a scheduled job). A file
            # whose place already says what it is (a test, a migration) stays that.
            scripted = (
                module.script_calls and path_context(module.path) is None and not module_imported(index, module.module)
            )
            for called in module.script_calls if scripted else ():
                target = index.function(called)
                if target is not None:
                    roots.setdefault(ExecutionContext.SCRIPT, []).append(
                        ContextFact(ExecutionContext.SCRIPT, f"run when `{module.module}` runs as a script", (target.qualname,))
                    )
            for hook in module.startup_hooks:
                # `app = FastAPI(lifespan=lifespan)` at import: the application runs the hook at start.
                target = index.function(hook)
                if target is not None:
                    roots.setdefault(ExecutionContext.STARTUP, []).append(
                        ContextFact(ExecutionContext.STARTUP, "start-up hook", (target.qualname,))
                    )
        for facts in index.functions.values():
            found = _root(facts, index)
            if found is not None:
                roots.setdefault(found.context, []).append(found)
        for qualname, reason in handler_roots:
            roots.setdefault(ExecutionContext.REQUEST, []).append(
                ContextFact(ExecutionContext.REQUEST, reason, (qualname,))
            )
        for context, starts in roots.items():
            self._spread(context, starts)

    def _spread(self, context: ExecutionContext, starts: list[ContextFact]) -> None:
        queue: deque[ContextFact] = deque()
        for fact in starts:
            qualname = fact.chain[-1]
            if context not in self._facts.setdefault(qualname, {}):
                self._facts[qualname][context] = fact
                queue.append(fact)
        while queue:
            fact = queue.popleft()
            for target in self._reached(context, fact.chain[-1]):
                if context is ExecutionContext.TEST and not self._test_module(target.qualname):
                    # Tests call the code they test: being called from a test doesn't make a
                    # function of the application test code.
                    continue
                reached = self._facts.setdefault(target.qualname, {})
                if context not in reached:
                    reached[context] = ContextFact(context, fact.reason, (*fact.chain, target.qualname))
                    queue.append(reached[context])

    def _reached(self, context: ExecutionContext, qualname: str) -> Iterator[FunctionFacts]:
        """The project functions a function of `context` runs: those it calls; on a command
        line, also those it hands to calls (`sub.set_defaults(func=self.prune)`, which argparse's
        dispatch `arguments.func()` then runs, or a callback handed to a helper): a command line
        runs what it registers as it goes, while a server hands its functions to run later, in
        another context (routes, hooks)."""
        for _, target in self._index.callees(qualname):
            yield target
        if context is not ExecutionContext.CLI:
            return
        facts = self._index.functions.get(qualname)
        for handed in facts.handed if facts is not None else ():
            receiver = self._index.function(handed.function)
            if receiver is not None:
                yield receiver

    def _test_module(self, qualname: str) -> bool:
        module = self._module_of.get(qualname)
        found = path_context(module.path) if module is not None else None
        return found is not None and found.context is ExecutionContext.TEST

    def of_function(self, qualname: str) -> tuple[ContextFact, ...]:
        """The contexts `qualname` runs in, most important first; nested functions inherit."""
        current = qualname
        while current:
            found = self._facts.get(current)
            if found and current != qualname and current in self._index.functions:
                # A function defined in a start-up function is handed over to run later (a
                # route, a callback registered at start-up): it doesn't run at start-up.
                found = {context: fact for context, fact in found.items() if context is not ExecutionContext.STARTUP}
                if not found:
                    return ()
            if found:
                return tuple(found[context] for context in PRECEDENCE if context in found)
            if current not in self._module_of and current.rpartition(".")[0] not in self._index.classes:
                break
            module = self._module_of.get(current)
            if module is not None and module.module == current.rpartition(".")[0]:
                # A module-level function: what encloses it is its module, not a function of the
                # same name (`pkg.main`, a module, next to `def main()` in `pkg/__init__.py`).
                break
            current = current.rpartition(".")[0]
        return ()

    def _of_class(self, qualname: str) -> tuple[ContextFact, ...]:
        """A class body's attributes serve its methods: the contexts of those, a view's requests."""
        found: dict[ExecutionContext, ContextFact] = {}
        if qualname in self._view_classes:
            found[ExecutionContext.REQUEST] = ContextFact(
                ExecutionContext.REQUEST, self._view_classes[qualname], (qualname,)
            )
        facts = self._index.classes[qualname]
        for method in facts.methods:
            for fact in self.of_function(f"{qualname}.{method}"):
                found.setdefault(fact.context, fact)
        return tuple(found[context] for context in PRECEDENCE if context in found)

    def of_scope(self, module: str, path: str, scope: str) -> tuple[ContextFact, ...]:
        """The contexts of code at `scope` ("Class.method", "" for module level) of a module."""
        facts = self._index.modules.get(module)
        by_path = path_context(path) or (revision_context(facts) if facts is not None else None)
        parts = scope.split(".") if scope else []
        if self._unreachable:
            for end in range(1, len(parts) + 1):
                if ".".join([module, *parts[:end]]) in self._unreachable:
                    return (UNREACHABLE_FACT,)
        scope_parts = tuple(parts)
        # The innermost enclosing function or class the index knows.
        while parts:
            qualname = ".".join([module, *parts])
            if qualname in self._index.functions:
                found = self.of_function(qualname)
            elif qualname in self._index.classes:
                found = self._of_class(qualname)
            else:
                parts.pop()
                continue
            if found:
                return found
            if by_path is not None:
                return (by_path,)
            uncalled = self._outermost_uncalled(module, scope_parts) if self._whole_project else None
            return (uncalled_fact(uncalled, module),) if uncalled is not None else (UNKNOWN_FACT,)
        if by_path is not None:
            return (by_path,)
        return (ContextFact(ExecutionContext.STARTUP, "import time", ()),)

    def _outermost_uncalled(self, module: str, parts: tuple[str, ...]) -> str | None:
        """The module-level function, or method of a module-level class, around code at `parts` of
        `module` when nothing in the project calls or names it (`uncalled`); None otherwise."""
        functions, classes = self._index.functions, self._index.classes
        first = f"{module}.{parts[0]}"
        if first in functions:
            candidate, owner = first, ""
        elif len(parts) > 1 and first in classes and f"{first}.{parts[1]}" in functions:
            candidate, owner = f"{first}.{parts[1]}", first
        else:
            return None
        # Whether it is named changes only when an edit adds or removes a name with its name as a
        # segment, or a name built at run time: the reads recorded for it (`names_read` records none).
        reads.record_all(reads.name_keys(candidate.rpartition(".")[2]))
        reads.record(f"N\0{reads.BUILT_NAMES}")
        known = self._uncalled.get(candidate)
        if known is None:
            known = self._uncalled[candidate] = self._is_uncalled(candidate, module, owner)
        return candidate if known else None

    def _is_uncalled(self, qualname: str, module: str, owner: str) -> bool:
        name = qualname.rpartition(".")[2]
        if qualname in self._facts or is_dunder(name):
            # Reached from an entry point, or called by the runtime (`__call__`, module `__getattr__`).
            return False
        if any(decorator not in _PLAIN_DECORATORS for decorator in self._index.functions[qualname].decorators):
            # Registered, wrapped or turned into a property: whoever holds it calls it.
            return False
        owners = [module.rpartition(".")[2]]
        if owner:
            if owner in self._index.framework_facing():
                # A framework calls its methods by name (`get_queryset`, `clean_email`, a template's
                # `order.total`): none of them counts as uncalled.
                return False
            owners = [owner.rpartition(".")[2], *(ancestor.rpartition(".")[2] for ancestor in self._ancestors(owner))]
        return not self._index.names_read().names(name, owners, method=bool(owner))

    def _ancestors(self, qualname: str) -> list[str]:
        found: list[str] = []
        pending = [qualname]
        while pending and len(found) < 32:
            facts = self._index.classes.get(pending.pop())
            for base in facts.bases if facts is not None else ():
                resolved = self._index.resolve(base)
                if resolved in self._index.classes and resolved not in found:
                    found.append(resolved)
                    pending.append(resolved)
        return found


CONTEXTS_VIEW = "execution-contexts"


def project_contexts(index: ProjectIndex) -> ExecutionContexts:
    """Contexts over the whole project, handlers included; built once per index."""

    def build(built: ProjectIndex) -> ExecutionContexts:
        from backbone.review.frameworks import handlers

        registry = list(handlers(built))
        return ExecutionContexts(
            built,
            ((handler.qualname, f"{handler.framework.value} handler") for handler in registry),
            ((handler.view_class, f"{handler.framework.value} view") for handler in registry if handler.view_class),
            built.unreachable(),
            whole_project=True,
        )

    return index.view(CONTEXTS_VIEW, build)


def module_contexts(facts: ModuleFacts) -> ExecutionContexts:
    """Contexts from one module alone (FILE-scoped rules): paths, decorators, classes."""
    return ExecutionContexts(ProjectIndex.build([facts]))
