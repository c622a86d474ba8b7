"""Entry points that run alone: CLI commands and scripts.

An `async def` behind a click/typer command (`@cli.command()`, `@app.command()`,
`@click.group()`) or started by a script's `asyncio.run(main())` owns its event loop:
nothing else is waiting on it, so a blocking call there delays nobody but the command
itself. Rules about stalling a shared event loop ask:

- `is_command(facts, index)`: is this project function a CLI command (in a project using
  click, typer or cyclopts; not a chat bot's `@bot.command()`, which shares the bot's loop)?
- `runs_only_from_commands(index, qualname)`: is this function a command, or called
  (awaited) only by commands and by functions that are themselves only called by
  commands? A function nobody in the project calls is an entry point of its own (a
  handler, a callback) and does not qualify.
- `script_entry_points(tree, resolve)`: the functions a module runs with
  `asyncio.run(...)` (or anyio/trio/uvloop) at module level.
- `loop_runs(nodes, resolve)`: the loop-runner calls among some nodes and what each
  starts: the one reading of `asyncio.run(main())` / `anyio.run(main, ...)` that the
  project index (`loop_starts`), `script_entry_points` and `loop_owners` share.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Iterator

from backbone.review.project import FunctionFacts, ProjectIndex
from backbone.review.semantic import block_nodes

Resolve = Callable[[ast.expr], str | None]

# The last segment of a decorator that declares a CLI command: click's `command`/`group`
# (`@click.command()`, `@cli.command()`), typer's and cyclopts' `@app.command()`, and
# cyclopts' `@app.default`. (Not `callback`: Dash callbacks answer HTTP requests.)
COMMAND_DECORATOR_NAMES = frozenset({"command", "group", "default"})
# Runners that start an event loop for one coroutine.
EVENT_LOOP_RUNNERS = frozenset({"asyncio.run", "anyio.run", "trio.run", "uvloop.run", "asyncer.runnify"})
_MAX_CALLER_DEPTH = 6


# A project that declares commands with one of these...
CLI_PACKAGES = frozenset({"click", "asyncclick", "rich_click", "typer", "cyclopts"})
# ...unless the module is a chat bot, whose `@bot.command()` coroutines share the bot's loop.
BOT_PACKAGES = frozenset({"discord", "nextcord", "disnake", "interactions", "aiogram", "pyrogram", "telegram"})


def is_command(facts: FunctionFacts, index: ProjectIndex) -> bool:
    if not index.imported_packages & CLI_PACKAGES:
        return False
    if not any(decorator.rpartition(".")[2] in COMMAND_DECORATOR_NAMES for decorator in facts.decorators):
        return False
    module = index.module_of(facts.qualname)
    return module is None or not module.imported_packages & BOT_PACKAGES


def runs_only_from_commands(index: ProjectIndex, qualname: str) -> bool:
    """True when `qualname` is a CLI command or only ever called from them (see the module doc)."""
    memo: dict[str, bool] = index.view("commands.only-from-commands", lambda _: {})
    if qualname not in memo:
        memo[qualname] = _only_from_commands(index, qualname, 0, frozenset())
    return memo[qualname]


def _only_from_commands(index: ProjectIndex, qualname: str, depth: int, seen: frozenset[str]) -> bool:
    facts = index.functions.get(qualname)
    if facts is not None and is_command(facts, index):
        return True
    callers = index.callers(qualname)
    if not callers or depth >= _MAX_CALLER_DEPTH:
        return False
    seen = seen | {qualname}
    return all(
        caller in seen or _only_from_commands(index, caller, depth + 1, seen) for caller in callers
    ) and any(caller not in seen for caller in callers)


def runs_on_own_loop(index: ProjectIndex, qualname: str) -> bool:
    """True when `qualname` only ever runs on an event loop that serves nothing else: a CLI
    command, an RQ job (RQ's worker runs a job's coroutine on a new event loop per job), a
    coroutine a loop runner starts (`asyncio.run(main(...))`, anywhere in the project), or one
    every caller of which is such a start or a coroutine that itself runs on such a loop (or a
    command's helper). A coroutine nobody in the project calls is an entry point of its own
    (a handler, a callback) and does not qualify."""
    memo: dict[str, bool] = index.view("commands.own-loop", lambda _: {})
    if qualname not in memo:
        memo[qualname] = _on_own_loop(index, qualname, 0, frozenset())
    return memo[qualname]


def _on_own_loop(index: ProjectIndex, qualname: str, depth: int, seen: frozenset[str]) -> bool:
    from backbone.review.knowledge.queues import QueueLibrary, task_library

    facts = index.functions.get(qualname)
    if facts is not None and (is_command(facts, index) or task_library(facts, index) is QueueLibrary.RQ):
        return True
    callers = index.callers(qualname)
    if not callers or depth >= _MAX_CALLER_DEPTH:
        return False
    seen = seen | {qualname}
    reached = False
    for caller in callers:
        if caller in seen:
            continue
        reached = True
        if _starts_on_fresh_loop(index, caller, qualname):
            continue
        caller_facts = index.functions.get(caller)
        if caller_facts is not None and caller_facts.is_async and _on_own_loop(index, caller, depth + 1, seen):
            continue
        if _only_from_commands(index, caller, depth + 1, seen):
            continue
        return False
    return reached


def _starts_on_fresh_loop(index: ProjectIndex, caller: str, qualname: str) -> bool:
    """Every call of `qualname` in `caller` is started by a loop runner (`asyncio.run(qualname(...))`)."""
    module = index.module_of(caller)
    if module is None or not module.loop_starts:
        return False
    sites = [site for site, target in index.callees(caller) if target.qualname == qualname]
    return bool(sites) and all((site.line, site.column) in module.loop_starts for site in sites)


def loop_runs(nodes: Iterable[ast.AST], resolve: Resolve) -> Iterator[tuple[ast.Call, ast.expr]]:
    """Each loop-runner call among `nodes` with what it starts on its fresh loop: `main` in
    `asyncio.run(main(...))` (the started call's callee) and in `anyio.run(main, ...)` (the
    callable handed over)."""
    for node in nodes:
        if isinstance(node, ast.Call) and node.args and resolve(node.func) in EVENT_LOOP_RUNNERS:
            started = node.args[0]
            yield node, started.func if isinstance(started, ast.Call) else started


def loop_owners(tree: ast.Module, resolve: Resolve) -> dict[str, frozenset[str]]:
    """Coroutines of this module that only ever run on an event loop of their own.

    `def main(): anyio.run(_execute_hook, args.path)` (or `asyncio.run(_execute_hook(...))`) in a
    plain function starts a fresh loop that serves that one coroutine until it returns; a coroutine
    named nowhere else in the module is never awaited on a shared loop. Maps its name to the names
    of the functions that start it (the only callers it may have).
    """
    started: dict[str, set[str]] = {}
    runner_targets: set[int] = set()
    for function in tree.body:
        if not isinstance(function, ast.FunctionDef):
            continue
        for _, target in loop_runs(block_nodes(function.body), resolve):
            if isinstance(target, ast.Name):
                started.setdefault(target.id, set()).add(function.name)
                runner_targets.add(id(target))
    if not started:
        return {}
    coroutines = {node.name for node in tree.body if isinstance(node, ast.AsyncFunctionDef)}
    elsewhere = {
        node.id
        for node in ast.walk(tree)
        if isinstance(node, ast.Name) and node.id in started and id(node) not in runner_targets
    }
    return {name: frozenset(starters) for name, starters in started.items() if name in coroutines and name not in elsewhere}


def script_entry_points(tree: ast.Module, resolve: Resolve) -> frozenset[str]:
    """Names of functions this module runs at module level with `asyncio.run(name(...))`."""
    return frozenset(target.id for _, target in loop_runs(block_nodes(tree.body), resolve) if isinstance(target, ast.Name))
