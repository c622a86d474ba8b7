"""Whole-object dumps of domain objects that carry a secret (BB301).

`dataclasses.asdict(user)`, `user.model_dump()`, `account.dict()`: every field of the object
goes out, and when its class declares a password hash, a private key or an SSN, so does that.
The class is known when the object is built in the handler (`User(...)`), returned by a
function annotated with it (`def load_user(...) -> User`), or a parameter annotated with it;
its fields are those declared in this file (dataclass, attrs and pydantic fields alike).
"""

from __future__ import annotations

import ast
from collections.abc import Callable

from backbone.records import Record
from backbone.review.knowledge.schemas import SensitiveField, sensitive_field

Resolve = Callable[[ast.expr], "str | None"]
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef

_DUMP_FUNCTIONS = frozenset({"dataclasses.asdict", "attr.asdict", "attrs.asdict", "pydantic.dataclasses.asdict"})
_DUMP_METHODS = frozenset({"model_dump", "dict", "model_dump_json", "json", "_asdict", "to_dict"})


class SecretDump(Record, frozen=True):
    class_name: str
    field: str
    secret: SensitiveField


class SecretDumps:
    """Answers `secret_dump(call)` for the dumps in one file's handlers."""

    def __init__(self, tree: ast.Module, resolve: Resolve, module: str) -> None:
        self._resolve = resolve
        self._module = module
        self._classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
        self._functions = {
            node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }

    def secret_dump(
        self, call: ast.Call, function: FunctionNode, bindings: dict[str, list[ast.expr | None]]
    ) -> SecretDump | None:
        """The secret field a dump sends, when the dumped object's class declares one."""
        dumped: ast.expr | None = None
        if self._resolve(call.func) in _DUMP_FUNCTIONS and call.args:
            dumped = call.args[0]
        elif isinstance(call.func, ast.Attribute) and call.func.attr in _DUMP_METHODS and not _excludes(call):
            dumped = call.func.value
        if dumped is None:
            return None
        node = self._class_of(dumped, function, bindings, depth=0)
        if node is None:
            return None
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                secret = sensitive_field(item.target.id)
                if secret is not None and not _hidden(item.value):
                    return SecretDump(node.name, item.target.id, secret)
        return None

    def _class_of(
        self, value: ast.expr, function: FunctionNode, bindings: dict[str, list[ast.expr | None]], depth: int
    ) -> ast.ClassDef | None:
        if depth > 3:
            return None
        if isinstance(value, ast.Name):
            for argument in [*function.args.posonlyargs, *function.args.args, *function.args.kwonlyargs]:
                if argument.arg == value.id and argument.annotation is not None:
                    return self._local_class(argument.annotation)
            values = bindings.get(value.id)
            if values is not None and len(values) == 1 and values[0] is not None:
                return self._class_of(values[0], function, bindings, depth + 1)
            return None
        if isinstance(value, ast.Await):
            return self._class_of(value.value, function, bindings, depth + 1)
        if isinstance(value, ast.Call):
            built = self._local_class(value.func)
            if built is not None:
                return built
            if isinstance(value.func, ast.Name):
                called = self._functions.get(value.func.id)
                if called is not None and called.returns is not None:
                    return self._local_class(called.returns)
        return None

    def _local_class(self, node: ast.expr) -> ast.ClassDef | None:
        qualified = self._resolve(node)
        if qualified is None:
            return None
        prefix = f"{self._module}." if self._module else ""
        name = qualified[len(prefix):] if qualified.startswith(prefix) else qualified
        return self._classes.get(name)


def _excludes(call: ast.Call) -> bool:
    """`model_dump(include=...)` / `exclude=...`: the caller chose the fields."""
    return any(keyword.arg in ("include", "exclude") for keyword in call.keywords)


def _hidden(value: ast.expr | None) -> bool:
    """pydantic `Field(exclude=True)`, dataclass `field(repr=False)` is still dumped: only exclude counts."""
    return isinstance(value, ast.Call) and any(
        keyword.arg == "exclude" and isinstance(keyword.value, ast.Constant) and keyword.value.value is True
        for keyword in value.keywords
    )
