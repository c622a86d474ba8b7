"""The facts of one file: the project index's own (imports, classes, functions and their
calls) and what each layer records for its project-wide views (routes, models and data
access, serializers, migrations). This is what the cache keeps per file.
"""

from __future__ import annotations

import ast
import re

from backbone.review.knowledge.databases import database_mentions
from backbone.review.knowledge.deployment import (
    browser_credentials,
    configured_settings_modules,
    flask_cors_configuration,
)
from backbone.review.names import NameResolver, collect_imports, top_level_symbols
from backbone.review.project import (
    ModuleFacts,
    collect_definitions,
    collect_references,
    hook_callbacks,
)
from backbone.review.semantic import SemanticModel, block_nodes, is_main_guard


def extract_module_facts(
    tree: ast.Module,
    path: str,
    module: str,
    is_package: bool,
    nodes: list[ast.AST] | None = None,
    semantic: SemanticModel | None = None,
) -> ModuleFacts:
    """`semantic`: the file's model, when the rules will look at the same tree: the walks
    made for the facts are kept there for them."""
    # The layers load here, not at import: a review served from the cache never needs them.
    from backbone.review.frameworks.declarations import extract_route_declarations
    from backbone.review.migrations.history import extract_migration_declarations
    from backbone.review.migrations.reading import (
        extract_column_types,
        extract_table_creators,
    )
    from backbone.review.migrations.self_migration import extract_self_migrations
    from backbone.review.orm.declarations import extract_model_declarations
    from backbone.review.serialization.extract import extract_serialization_declarations

    # The model whose node index is `nodes`, when there is one: it hands out the nodes of a type.
    index = semantic if semantic is not None and semantic.indexes(nodes) else None
    imports, stars = collect_imports(
        tree, module, is_package, index.nodes_of(ast.Import, ast.ImportFrom) if index is not None else nodes
    )
    symbols = top_level_symbols(tree)
    resolver = NameResolver(module, imports, symbols, stars)
    if semantic is not None:
        # The rules of this file resolve names as the facts did: one resolver, one memo.
        semantic.resolver = resolver
    classes, functions = collect_definitions(tree, module, resolver, semantic)
    packages = frozenset(name.split(".")[0] for name in imports.values() if name)
    references = collect_references(tree, module, resolver, semantic)
    all_nodes = nodes if nodes is not None else list(ast.walk(tree))

    def nodes_of(*types: type[ast.AST]) -> list[ast.AST]:
        """The nodes of these types off the index, else every node (the readers below filter)."""
        return index.nodes_of(*types) if index is not None else all_nodes

    migrations = extract_migration_declarations(tree, path, resolver)
    self_migrations, starts_django_server = extract_self_migrations(tree, path, resolver, bool(migrations), semantic)
    class_paths, function_paths = dotted_paths(nodes_of(ast.Constant))

    return ModuleFacts(
        path=path,
        module=module,
        imports=imports,
        star_imports=stars,
        symbols=symbols,
        classes=classes,
        functions=functions,
        imported_packages=packages,
        routes=extract_route_declarations(tree, resolver),
        models=extract_model_declarations(tree, resolver, semantic),
        serializers=extract_serialization_declarations(tree, resolver, semantic),
        migrations=migrations,
        settings_modules=configured_settings_modules(tree, nodes_of(ast.Call, ast.Assign, ast.Dict)),
        flask_cors_configuration=flask_cors_configuration(nodes_of(ast.Call, ast.Assign, ast.AnnAssign, ast.Dict)),
        browser_credentials=browser_credentials(nodes_of(ast.Attribute, ast.Constant), references.live),
        loop_starts=loop_starts(nodes_of(ast.Call), resolver),
        dotted_class_paths=class_paths,
        dotted_function_paths=function_paths,
        built_by=module_level_calls(tree, resolver),
        startup_hooks=import_time_hooks(tree, resolver),
        script_calls=script_calls(tree, resolver),
        table_creators=extract_table_creators(tree, resolver),
        column_types=extract_column_types(tree, resolver),
        references=references.live,
        dead_references=references.dead,
        attribute_reads=references.attributes,
        assigned_attributes=assigned_attributes(nodes_of(ast.Assign), resolver),
        databases=database_mentions(tree, nodes_of(ast.Constant)),
        self_migrations=self_migrations,
        starts_django_server=starts_django_server,
    )


def assigned_attributes(nodes: list[ast.AST], resolver: NameResolver) -> dict[str, tuple[str, ...]]:
    """`config.code.on_connect = wrap_callback(func)`: attribute -> the calls assigned ("" for
    a value that isn't a call of a name imports resolve; None is left out)."""
    found: dict[str, dict[str, None]] = {}
    for node in nodes:
        if not isinstance(node, ast.Assign):
            continue
        attributes = [target.attr for target in node.targets if isinstance(target, ast.Attribute)]
        if not attributes:
            continue
        value = node.value
        if isinstance(value, ast.Constant) and value.value is None:
            continue
        callee = ""
        if isinstance(value, ast.Call) and isinstance(value.func, (ast.Name, ast.Attribute)):
            callee = resolver.qualified_name(value.func) or ""
        for attribute in attributes:
            found.setdefault(attribute, {})[callee] = None
    return {attribute: tuple(callees) for attribute, callees in found.items()}


def import_time_hooks(tree: ast.Module, resolver: NameResolver) -> tuple[str, ...]:
    """Functions module-level code hands to an application as start-up or shut-down hooks
    (`app = FastAPI(lifespan=lifespan)`, `app.add_event_handler("startup", connect)`)."""
    found: dict[str, None] = {}
    for node in block_nodes(tree.body):
        if isinstance(node, ast.Call):
            for hook in hook_callbacks(node):
                target = resolver.qualified_name(hook)
                if target is not None:
                    found.setdefault(target, None)
    return tuple(found)


def script_calls(tree: ast.Module, resolver: NameResolver) -> tuple[str, ...]:
    """What the module's `if __name__ == "__main__":` block calls (`main(sys.argv)`): the
    functions that run when the file runs as a script."""
    found: dict[str, None] = {}
    for statement in tree.body:
        if not (isinstance(statement, ast.If) and is_main_guard(statement.test)):
            continue
        for node in block_nodes(statement.body):
            if isinstance(node, ast.Call) and isinstance(node.func, (ast.Name, ast.Attribute)):
                target = resolver.qualified_name(node.func)
                if target is not None:
                    found.setdefault(target, None)
    return tuple(found)


def loop_starts(nodes: list[ast.AST], resolver: NameResolver) -> frozenset[tuple[int, int]]:
    """The calls a loop runner starts on an event loop of their own: `main(...)` in
    `asyncio.run(main(...))` (also anyio, trio, uvloop), as (line, column + 1) like a CallSite."""
    from backbone.review.knowledge.commands import loop_runs

    # Only a started call has a call site; the other calls need no resolving.
    starting = [node for node in nodes if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Call)]
    return frozenset(
        (run.args[0].lineno, run.args[0].col_offset + 1) for run, _ in loop_runs(starting, resolver.qualified_name)
    )


def module_level_calls(tree: ast.Module, resolver: NameResolver) -> dict[str, str]:
    """`Automations = AutomationTable()` at module level: name -> the called name, qualified.

    Only a name bound once at the top of the module counts: a name bound again (under an `if`, in
    a loop) may hold something else.
    """
    found: dict[str, str] = {}
    bound_again: set[str] = set()
    for statement in tree.body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        for target in targets:
            if not isinstance(target, ast.Name):
                continue
            if target.id in found:
                bound_again.add(target.id)
            callee = resolver.qualified_name(value.func) if isinstance(value, ast.Call) else None
            if callee is not None:
                found[target.id] = callee
            else:
                bound_again.add(target.id)
    return {name: callee for name, callee in found.items() if name not in bound_again}


_DOTTED_CLASS_PATH = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*\.[A-Z]\w*")
# `app.errors.exception_handler`, `app.cli:main`, and an entry point's `name = app.cli:main [extra]`.
_DOTTED_FUNCTION_PATH = re.compile(
    r"(?:[\w.-]+\s*=\s*)?(?P<path>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*(?:\.|:)[a-z_]\w*)(?:\s*\[[\w,\s-]*\])?"
)


def dotted_paths(nodes: list[ast.AST]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """String constants shaped like the dotted path of a class (`ModuleFacts.dotted_class_paths`),
    and of a function (`ModuleFacts.dotted_function_paths`)."""
    classes: dict[str, None] = {}
    functions: dict[str, None] = {}
    for node in nodes:
        if not isinstance(node, ast.Constant) or not isinstance(node.value, str) or len(node.value) >= 200:
            continue
        text = node.value
        if _DOTTED_CLASS_PATH.fullmatch(text):
            classes.setdefault(text, None)
        elif ("." in text or ":" in text) and (match := _DOTTED_FUNCTION_PATH.fullmatch(text.strip())) is not None:
            functions.setdefault(match.group("path").replace(":", "."), None)
    return tuple(classes), tuple(functions)
