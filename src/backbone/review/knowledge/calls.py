"""Which project function a call runs, for rules that follow calls through the project.

The project index records call sites by their callee's qualified name. A rule looking
at a call in the file it checks needs the same answer, including the cases the index
resolves its own way: `self.helper()` inside a class, a function defined in the
function around the call (`def work(): ...` then `work()`), and `Report(...)`, which
runs the project class's `__init__`.
"""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from backbone.review.names import dotted_parts
from backbone.review.project import FunctionFacts, ProjectIndex

if TYPE_CHECKING:
    from backbone.review.context import FileContext


def project_callee(call: ast.Call, context: FileContext) -> FunctionFacts | None:
    """The project function (or constructor) `call` runs, or None when it is not the project's."""
    project = context.project
    if project is None:
        return None
    qualified = callee_name(call, context)
    if qualified is None:
        return None
    return function_or_constructor(project, qualified)


def callee_name(call: ast.Call, context: FileContext) -> str | None:
    parts = dotted_parts(call.func)
    if parts is None:
        return None
    if parts[0] in ("self", "cls") and len(parts) == 2:
        owner = _enclosing_class(call, context)
        return f"{owner}.{parts[1]}" if owner is not None else None
    if len(parts) == 1:
        nested = _nested_function(call, parts[0], context)
        if nested is not None:
            return nested
    if len(parts) == 2:
        owner = _parameter_class(call, parts[0], context)
        if owner is not None:
            return f"{owner}.{parts[1]}"
    return context.call_name(call)


def function_or_constructor(project: ProjectIndex, qualified: str) -> FunctionFacts | None:
    """The function `qualified` names, or the `__init__` of the project class it names."""
    found = project.function(qualified)
    if found is not None:
        return found
    resolved = project.resolve(qualified)
    if resolved in project.classes:
        initializer = project.method(resolved, "__init__")
        return project.functions.get(initializer) if initializer else None
    return None


def display_name(project: ProjectIndex, qualname: str) -> str:
    """`render()` for `shop.reports.render`, `Geo.locate()` for a method of `shop.geo.Geo`."""
    return f"{local_name(project, qualname)}()"


def local_name(project: ProjectIndex, qualname: str) -> str:
    module = project.module_of(qualname)
    return qualname[len(module.module) + 1 :] if module is not None else qualname


def _enclosing_class(node: ast.AST, context: FileContext) -> str | None:
    for ancestor in context.ancestors(node):
        if isinstance(ancestor, ast.ClassDef):
            return context.qualname_of(ancestor)
    return None


def _parameter_class(call: ast.Call, name: str, context: FileContext) -> str | None:
    """The project class a parameter holds: `service: UserService` or `= Depends(UserService)`."""
    function = context.enclosing_function(call)
    project = context.project
    if function is None or project is None:
        return None
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults: dict[str, ast.expr] = {
        argument.arg: default for argument, default in zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults)
    }
    defaults.update(
        {argument.arg: default for argument, default in zip(arguments.kwonlyargs, arguments.kw_defaults) if default is not None}
    )
    for argument in [*positional, *arguments.kwonlyargs]:
        if argument.arg != name:
            continue
        candidates: list[ast.expr] = [argument.annotation] if argument.annotation is not None else []
        default = defaults.get(name)
        # FastAPI builds the instance: `service: UserService = Depends(UserService)`, or `Depends()`.
        if isinstance(default, ast.Call) and default.args:
            candidates.append(default.args[0])
        for candidate in candidates:
            qualified = context.qualified_name(candidate)
            resolved = project.resolve(qualified) if qualified is not None else None
            if resolved is not None and resolved in project.classes:
                return resolved
    return None


def _nested_function(call: ast.Call, name: str, context: FileContext) -> str | None:
    """`helper()` where `def helper` sits in a function around the call."""
    for ancestor in context.ancestors(call):
        if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)):
            for statement in ancestor.body:
                if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == name:
                    return context.qualname_of(statement)
    return None
