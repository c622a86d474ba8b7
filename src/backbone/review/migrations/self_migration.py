"""Projects that apply their migrations themselves, with their service not serving.

The PostgreSQL lock rules warn that a migration step holds a lock live queries wait on. A project
whose own code runs its migrations (a self-hosted server that migrates its database as it starts,
or through its own migrate command while it is stopped), or whose service refuses to start until
its database is at the migrations' head (it is stopped while an operator migrates it), has no
query waiting: the lock matters only where other instances serve while one migrates.

Per file (cached in `ModuleFacts.self_migrations`, so records only): each
function, or the module's own code, that shows one of these (`SelfMigration`), with the library
call that shows it. Test code, Django migrations, Alembic revisions and Alembic's `env.py` (which
the `alembic` command line runs; its `context.run_migrations()` is no sign) hold none.

Project-wide (`applied_by`): the first of them, as a message names it.
"""

from __future__ import annotations

import ast
from collections.abc import Callable
from typing import TYPE_CHECKING

from backbone.records import Record
from backbone.review.knowledge.paths import is_test_path
from backbone.review.migrations.model import SelfMigration, SelfMigrationKind
from backbone.review.names import NameResolver, argument, within
from backbone.review.semantic import SemanticModel, block_nodes, own_nodes, subtree

if TYPE_CHECKING:
    from backbone.review.project import ProjectIndex

# What the calls that build Alembic's objects return, by their class: a migration context, a
# migration environment, the scripts directory, the command line.
_CONTEXT = "alembic.runtime.migration.MigrationContext"
_ENVIRONMENT = "alembic.runtime.environment.EnvironmentContext"
_SCRIPTS = "alembic.script.ScriptDirectory"
_COMMAND_LINE = "alembic.config.CommandLine"
_BUILDERS = {
    "alembic.runtime.migration.MigrationContext.configure": _CONTEXT,
    "alembic.migration.MigrationContext.configure": _CONTEXT,
    "alembic.runtime.environment.EnvironmentContext": _ENVIRONMENT,
    "alembic.environment.EnvironmentContext": _ENVIRONMENT,
    "alembic.script.ScriptDirectory": _SCRIPTS,
    "alembic.script.ScriptDirectory.from_config": _SCRIPTS,
    "alembic.script.base.ScriptDirectory": _SCRIPTS,
    "alembic.script.base.ScriptDirectory.from_config": _SCRIPTS,
    "alembic.config.CommandLine": _COMMAND_LINE,
}
_UPGRADE_COMMANDS = frozenset({"alembic.command.upgrade", "flask_migrate.upgrade"})
_ALEMBIC_MAIN = "alembic.config.main"
_CALL_COMMAND = "django.core.management.call_command"
_EXECUTE_COMMAND_LINE = "django.core.management.execute_from_command_line"
# `migrate` options that apply nothing: record as applied, only check, only show the plan.
_NOT_APPLYING_OPTIONS = frozenset({"fake", "check_unapplied", "plan"})
_NOT_APPLYING_FLAGS = frozenset({"--fake", "--check", "--plan"})
# What the database is at, and what the scripts' head is, per object that tells it.
_DATABASE_REVISION = {_CONTEXT: frozenset({"get_current_heads", "get_current_revision"})}
_SCRIPTS_HEAD = {
    _SCRIPTS: frozenset({"get_heads", "get_current_head"}),
    _ENVIRONMENT: frozenset({"get_head_revisions", "get_head_revision"}),
}
# The ScriptDirectory methods a migration function hands the runtime: which way it migrates.
_UPGRADE_STEPS = "_upgrade_revs"
_OTHER_STEPS = frozenset({"_stamp_revs", "_downgrade_revs"})
_EXITS = frozenset({"sys.exit", "exit", "quit", "os._exit"})
# Imports that make a module worth reading: only these packages migrate.
_MIGRATING_PACKAGES = ("alembic", "flask_migrate", "django.core.management")
_MIGRATING_ROOTS = frozenset({"django", "django.core"})
# A module importing one of these is a migration: an Alembic revision or `env.py`.
_MIGRATION_MODULES = frozenset({"alembic.op", "alembic.context"})

_Nodes = Callable[[ast.AST], list[ast.AST]]


# --- per file -----------------------------------------------------------------------------------


def extract_self_migrations(
    tree: ast.Module, path: str, resolver: NameResolver, is_migration: bool, semantic: SemanticModel | None = None
) -> tuple[tuple[SelfMigration, ...], bool]:
    """The functions of the file (and its own top-level code) that apply the project's
    migrations, or stop unless they were applied; and whether its code starts Django's own HTTP
    server (`call_command("runserver")`, `execute_from_command_line([..., "runserver"])`: the
    project serves itself, `_serves_itself`). `is_migration`: the file is a Django migration.
    `semantic`: the file's model, whose node index lends the walks."""
    imported = resolver.imports.values()
    if is_migration or is_test_path(path) or not any(
        target.startswith(_MIGRATING_PACKAGES) or target in _MIGRATING_ROOTS for target in imported
    ) or any(target in _MIGRATION_MODULES for target in imported):
        return (), False
    own_of = semantic.own_nodes if semantic is not None else own_nodes
    walk: _Nodes = semantic.walk if semantic is not None else subtree
    found: dict[tuple[str, SelfMigrationKind], SelfMigration] = {}
    scopes: list[tuple[str, ast.FunctionDef | ast.AsyncFunctionDef | None, list[ast.AST]]] = [
        ("", None, block_nodes(tree.body))
    ]
    stack: list[tuple[list[ast.stmt], str]] = [(tree.body, resolver.module)]
    while stack:
        body, prefix = stack.pop()
        for node in block_nodes(body):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                qualname = f"{prefix}.{node.name}" if prefix else node.name
                stack.append((node.body, qualname))
                if not isinstance(node, ast.ClassDef):
                    scopes.append((qualname, node, own_of(node)))
    starts_server = False
    for qualname, function, nodes in scopes:
        scope = _Scope(nodes, resolver, walk)
        for kind, api in scope.signs():
            if kind is SelfMigrationKind.ALEMBIC_RUNTIME and function is not None and _other_steps_only(function, walk):
                continue
            found.setdefault((qualname, kind), SelfMigration(qualname, kind, api))
        starts_server = starts_server or scope.starts_server
    return tuple(found.values()), starts_server


def _other_steps_only(function: ast.FunctionDef | ast.AsyncFunctionDef, walk: _Nodes) -> bool:
    """The migration functions the function defines (or calls on its scripts) only stamp or
    downgrade (`script._stamp_revs(...)`): what the runtime runs is no upgrade."""
    methods = {node.func.attr for node in walk(function) if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)}
    return bool(methods & _OTHER_STEPS) and _UPGRADE_STEPS not in methods


class _Scope:
    """The nodes of one function (or of a module's own code) and the Alembic objects it builds."""

    def __init__(self, nodes: list[ast.AST], resolver: NameResolver, walk: _Nodes) -> None:
        self.nodes = nodes
        self.resolver = resolver
        self.walk = walk
        # Local names bound to what an Alembic builder returns: name -> the object's class.
        self.objects: dict[str, str] = {}
        # The calls in the block of a `with EnvironmentContext(...)`, by id.
        self.in_environment: set[int] = set()
        # Its code starts Django's own HTTP server (found by `signs`).
        self.starts_server = False
        for node in nodes:
            if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
                built = self._built(node.value)
                if built:
                    self.objects[node.targets[0].id] = built
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    built = self._object(item.context_expr)
                    if built and isinstance(item.optional_vars, ast.Name):
                        self.objects[item.optional_vars.id] = built
                    if built == _ENVIRONMENT:
                        self.in_environment.update(id(inner) for statement in node.body for inner in walk(statement))

    def _built(self, node: ast.expr) -> str:
        """The class of the Alembic object a call builds (`MigrationContext.configure(conn)`), or ""."""
        return _BUILDERS.get(self.resolver.qualified_name(node.func) or "", "") if isinstance(node, ast.Call) else ""

    def _object(self, node: ast.expr) -> str:
        """The class of the Alembic object an expression holds: a local name bound to one, or a call building one."""
        return self.objects.get(node.id, "") if isinstance(node, ast.Name) else self._built(node)

    def signs(self) -> list[tuple[SelfMigrationKind, str]]:
        found: list[tuple[SelfMigrationKind, str]] = []
        database: list[ast.Call] = []
        head: list[ast.Call] = []
        for node in self.nodes:
            if not isinstance(node, ast.Call):
                continue
            qualified = self.resolver.qualified_name(node.func) or ""
            if (qualified in _UPGRADE_COMMANDS and not _option_set(node, "sql")
                    or qualified == _ALEMBIC_MAIN and _runs_upgrade(node)):
                found.append((SelfMigrationKind.ALEMBIC_COMMAND, qualified))
            elif qualified == _CALL_COMMAND and _runs_migrate(node):
                found.append((SelfMigrationKind.DJANGO_MIGRATE, qualified))
            elif qualified in (_CALL_COMMAND, _EXECUTE_COMMAND_LINE) and _runs_server(node, qualified):
                self.starts_server = True
            elif isinstance(node.func, ast.Attribute):
                method, owner = node.func.attr, self._object(node.func.value)
                if owner == _COMMAND_LINE and method == "main" and _runs_upgrade(node):
                    found.append((SelfMigrationKind.ALEMBIC_COMMAND, f"{_COMMAND_LINE}.main"))
                elif method == "run_migrations" and owner in (_CONTEXT, _ENVIRONMENT):
                    found.append((SelfMigrationKind.ALEMBIC_RUNTIME, f"{owner}.run_migrations"))
                elif method == "run_env" and id(node) in self.in_environment:
                    found.append((SelfMigrationKind.ALEMBIC_RUNTIME, f"{_SCRIPTS}.run_env"))
                elif method in _DATABASE_REVISION.get(owner, ()):
                    database.append(node)
                elif method in _SCRIPTS_HEAD.get(owner, ()):
                    head.append(node)
        if database and head and self._stops_when_they_differ(database + head):
            method = database[0].func.attr if isinstance(database[0].func, ast.Attribute) else ""
            found.append((SelfMigrationKind.HEAD_CHECK, f"{_CONTEXT}.{method}"))
        return found

    def _stops_when_they_differ(self, readings: list[ast.Call]) -> bool:
        """An `if` compares what a reading returned (directly, or through names bound to it) and
        one of its branches raises or exits."""
        derived: set[int] = {id(reading) for reading in readings}
        names: set[str] = set()
        for _ in range(3):
            before = len(names)
            for node in self.nodes:
                if isinstance(node, ast.Assign):
                    targets, value = node.targets, node.value
                elif isinstance(node, ast.AnnAssign) and node.value is not None:
                    targets, value = [node.target], node.value
                else:
                    continue
                if self._mentions(value, derived, names):
                    names.update(name.id for target in targets for name in self.walk(target) if isinstance(name, ast.Name))
            if len(names) == before:
                break
        for node in self.nodes:
            if not isinstance(node, ast.If):
                continue
            compared = [inner for inner in self.walk(node.test) if isinstance(inner, ast.Compare)]
            if any(self._mentions(comparison, derived, names) for comparison in compared) and (
                self._stops(node.body) or self._stops(node.orelse)
            ):
                return True
        return False

    def _mentions(self, node: ast.AST, calls: set[int], names: set[str]) -> bool:
        return any(id(inner) in calls or isinstance(inner, ast.Name) and inner.id in names for inner in self.walk(node))

    def _stops(self, block: list[ast.stmt]) -> bool:
        return any(
            isinstance(node, ast.Raise)
            or isinstance(node, ast.Call) and self.resolver.qualified_name(node.func) in _EXITS
            for node in block_nodes(block)
        )


def _option_set(call: ast.Call, name: str) -> bool:
    """`name=True` (a true constant) among the call's keywords."""
    return any(keyword.arg == name and isinstance(keyword.value, ast.Constant) and bool(keyword.value.value)
               for keyword in call.keywords)


def _argv_words(call: ast.Call) -> frozenset[object]:
    """The constants of the `argv` display a command line is given (`main(argv=["upgrade", "head"])`)."""
    argv = argument(call, 0, "argv")
    if not isinstance(argv, (ast.List, ast.Tuple)):
        return frozenset()
    return frozenset(item.value for item in argv.elts if isinstance(item, ast.Constant))


def _runs_upgrade(call: ast.Call) -> bool:
    """Alembic's command line given an `argv` display that names the `upgrade` command."""
    words = _argv_words(call)
    return "upgrade" in words and "--sql" not in words


def _runs_migrate(call: ast.Call) -> bool:
    """`call_command("migrate", ...)` that applies migrations (not `fake`, `check_unapplied` or `plan`)."""
    command = argument(call, 0, "command_name")
    if not (isinstance(command, ast.Constant) and command.value == "migrate"):
        return False
    flags = {given.value for given in call.args[1:] if isinstance(given, ast.Constant)}
    return not flags & _NOT_APPLYING_FLAGS and not any(_option_set(call, name) for name in _NOT_APPLYING_OPTIONS)


def _runs_server(call: ast.Call, qualified: str) -> bool:
    """Django's development server started by the code: `call_command("runserver", ...)`, or
    `execute_from_command_line([...])` given an argv display that names `runserver`."""
    if qualified == _CALL_COMMAND:
        command = argument(call, 0, "command_name")
        return isinstance(command, ast.Constant) and command.value == "runserver"
    return "runserver" in _argv_words(call)


# --- project-wide -------------------------------------------------------------------------------


class AppliedBy(Record, frozen=True):
    """Where and how a project applies its own migrations, as a message names it."""

    # The function as a reader calls it (`Server.start()`), or the file of a module's own code.
    where: str
    kind: SelfMigrationKind
    api: str

    def evidence(self) -> str:
        """What the project does, in a sentence a message can end with (no full stop)."""
        where = f"`{self.where}`"
        if self.kind is SelfMigrationKind.HEAD_CHECK:
            return (f"The project does not start until its database is at the migrations' head: {where} compares "
                    f"`{_short(self.api)}()` with the scripts' head and stops when they differ, so it is stopped "
                    "while its migrations run")
        if self.kind is SelfMigrationKind.DJANGO_MIGRATE:
            how = "runs Django's `migrate` command (`call_command(\"migrate\")`)"
        elif self.kind is SelfMigrationKind.ALEMBIC_RUNTIME:
            how = f"runs them through Alembic's runtime (`{_short(self.api)}()`)"
        elif self.api in _UPGRADE_COMMANDS:
            how = f"calls `{self.api}`"
        else:
            how = f"runs Alembic's command line with `upgrade` (`{self.api}`)"
        return f"The project applies its migrations itself: {where} {how}"


def _short(api: str) -> str:
    """`MigrationContext.run_migrations` for `alembic.runtime.migration.MigrationContext.run_migrations`."""
    return ".".join(api.split(".")[-2:])


_VIEW = "migrations.applied_by"
# Which sign a message names when a project shows several: applying its migrations first.
_ORDER = (SelfMigrationKind.ALEMBIC_COMMAND, SelfMigrationKind.ALEMBIC_RUNTIME, SelfMigrationKind.DJANGO_MIGRATE,
          SelfMigrationKind.HEAD_CHECK)


def applied_by(project: ProjectIndex | None) -> AppliedBy | None:
    """How the project applies its migrations itself (its start-up or its own migrate command
    runs them, or its service stops unless they ran), or None."""
    if project is None:
        return None
    return project.view(_VIEW, _applier)


def _applier(index: ProjectIndex) -> AppliedBy | None:
    from backbone.review.knowledge.calls import display_name

    signs = [(facts.path, sign) for facts in index.modules.values() for sign in facts.self_migrations]
    # A Django project migrates itself when it calls `migrate` as it starts (`AppConfig.ready`, a
    # start script); a setup command that also calls it (`initial_setup`, `setup_db`) creates the
    # database once, and says nothing of how later migrations reach a running service.
    # So does a self-hosted server (its own code runs the HTTP server: `kolibri start`) that calls
    # `migrate` anywhere in its code: it migrates its own database, whoever runs it.
    signs = [
        (path, sign) for path, sign in signs
        if sign.kind is not SelfMigrationKind.DJANGO_MIGRATE or _at_start_up(index, sign.function) or _serves_itself(index)
    ]
    if not signs:
        return None
    path, sign = min(signs, key=lambda found: (_ORDER.index(found[1].kind), found[1].function, found[0]))
    return AppliedBy(display_name(index, sign.function) if sign.function else path, sign.kind, sign.api)


def _at_start_up(index: ProjectIndex, function: str) -> bool:
    """The function runs as the service starts; so does the top-level code ("") of a script
    (an entry point that migrates, then starts the server)."""
    from backbone.review.context_kinds import ExecutionContext
    from backbone.review.contexts import project_contexts

    if not function:
        return True
    return any(fact.context is ExecutionContext.STARTUP for fact in project_contexts(index).of_function(function))


# What a project calls, subclasses or builds when its own code runs its HTTP server (rather than a
# server the deployment chooses importing its WSGI/ASGI application).
_SERVERS = frozenset({
    "cheroot.wsgi", "cherrypy.quickstart", "cherrypy.engine", "cherrypy.server", "cherrypy.wsgiserver", "waitress.serve",
    "waitress.create_server", "uvicorn.run", "uvicorn.Server", "hypercorn.asyncio.serve", "hypercorn.trio.serve",
    "werkzeug.serving.run_simple", "werkzeug.serving.make_server", "wsgiref.simple_server.make_server",
    "aiohttp.web.run_app", "tornado.httpserver.HTTPServer", "twisted.web.server.Site", "gunicorn.app.base",
    "daphne.server.Server", "gevent.pywsgi.WSGIServer", "bjoern.run", "magicbus",
})
_SERVES_VIEW = "migrations.serves-itself"


def _serves_itself(index: ProjectIndex) -> bool:
    """Some project code outside tests runs an HTTP server itself (`_SERVERS`, or Django's own
    server: `call_command("runserver")`): the project is a self-hosted server, not an application
    a deployment's server imports."""
    return index.view(_SERVES_VIEW, _build_serves_itself)


def _build_serves_itself(index: ProjectIndex) -> bool:
    # Test code holds no self-migration sign (`extract_self_migrations`); its references are left out here.
    return any(
        facts.starts_django_server
        or not is_test_path(facts.path) and any(within(reference, _SERVERS) for reference in facts.references)
        for facts in index.modules.values()
    )
