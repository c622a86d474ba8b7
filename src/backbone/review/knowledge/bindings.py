"""What object an expression holds: `session` after `session = requests.Session()`.

Rules about clients and connections (`session.get(...)` without a timeout, `conn.execute`
inside `async def`) must know what the receiver of a method is. This module answers that
for one file, as far as plain assignments tell (the bindings are the file's semantic model's,
review/semantic.py), without running anything:

- a call of a known class or factory (`requests.Session()`, `sqlite3.connect(...)`),
  directly or through a method that derives one object from another (`conn.cursor()`);
- a name bound by `=`, an annotated assignment, `with ... as name` or a parameter
  annotation (`db: Session = Depends(get_db)`, `Annotated[Session, ...]`, a same-file
  alias such as `SessionDep`), looked up the way Python scopes names: the function,
  the functions around it, then the module;
- `self.attr`, bound in any method of the enclosing class or in its body;
- `self` in a method of a project class that derives from a known class.

A name bound in more than one way (`session = requests.Session()` in one branch,
`session = make_session()` in another) has no known type: backbone stays quiet rather
than guess. What a type *means* (a requests Session, a sync SQLAlchemy session) belongs
to the knowledge module that asks; this one only carries the names.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from backbone.review.semantic import Declared, TypedBinding

if TYPE_CHECKING:
    from backbone.review.context import FileContext

# The qualified name of a called (or annotated) class or factory, and the call (None for
# an annotation) -> the type name of what it produces, or None when not of interest.
Produce = Callable[[str, "ast.Call | None"], "str | None"]
# (receiver type, member name, the call) -> the type name of the result, or None. The
# call is None for an attribute read (`db.session`) and for an operator (`path / "name"`
# asks for "__truediv__"); calling the object itself (`SessionLocal()`) asks for "__call__";
# a function of `applied` called on the object (`os.path.dirname(path)`) asks for the
# function's qualified name followed by "()".
Derive = Callable[[str, str, "ast.Call | None"], "str | None"]
# (the type a project class inherits, the method names the project classes on the way
# define) -> the type of an instance of the project class (a subclass that overrides
# `request` is not a plain Session any more), or None.
Refine = Callable[[str, frozenset[str]], "str | None"]

_MAX_DEPTH = 8
# The name of a module's own file (`Path(__file__).parent / "page.html"`), asked of `produce`.
MODULE_FILE = "__file__"


class ObjectTypes:
    """The types of expressions in one file, for one knowledge domain (HTTP clients, DB handles)."""

    def __init__(
        self,
        context: FileContext,
        produce: Produce,
        derive: Derive | None = None,
        refine: Refine | None = None,
        applied: frozenset[str] = frozenset(),
    ) -> None:
        """`applied`: functions whose result `derive` tells from the type of their first argument."""
        self.context = context
        self._produce = produce
        self._derive = derive
        self._refine = refine
        self._applied = applied
        self._class_types: dict[str, str | None] = {}
        self._in_progress: set[int] = set()
        self._known: dict[ast.expr, str | None] = {}

    # --- public ---------------------------------------------------------------------------

    def of(self, node: ast.expr) -> str | None:
        """The type name of what `node` evaluates to, or None when unknown."""
        if node in self._known:
            return self._known[node]
        key = id(node)
        if key in self._in_progress or len(self._in_progress) > _MAX_DEPTH * 4:
            # A cycle (`x = wrap(x)`) or a very long chain: unknown, which is the quiet answer.
            return None
        self._in_progress.add(key)
        try:
            found = self._type_of(node)
        finally:
            self._in_progress.discard(key)
        self._known[node] = found
        return found

    def of_annotation(self, annotation: ast.expr, depth: int = 0) -> str | None:
        """The type an annotation declares: `Session`, `Optional[Session]`, `Annotated[Session, ...]`."""
        if depth > _MAX_DEPTH:
            return None
        for candidate in _annotation_candidates(annotation):
            qualified = self.context.qualified_name(candidate)
            if qualified is None:
                continue
            produced = self._produce(qualified, None)
            if produced is None:
                produced = self.class_type(qualified)
            if produced is None:
                alias = self._module_alias(candidate)
                if alias is not None:
                    produced = self.of_annotation(alias, depth + 1)
            if produced is not None:
                return produced
        return None

    def class_type(self, qualname: str) -> str | None:
        """The type an instance of project class `qualname` has, from the library class it extends."""
        if qualname in self._class_types:
            return self._class_types[qualname]
        self._class_types[qualname] = None
        found = self._inherited(qualname, frozenset(), 0)
        self._class_types[qualname] = found
        return found

    # --- expressions ------------------------------------------------------------------------

    def _type_of(self, node: ast.expr) -> str | None:
        if isinstance(node, ast.Call):
            return self._call_type(node)
        if isinstance(node, ast.Name):
            return self._name_type(node)
        if isinstance(node, ast.Attribute):
            return self._attribute_type(node)
        if isinstance(node, ast.BoolOp):
            return _same(self.of(value) for value in node.values if not _is_none(value))
        if isinstance(node, ast.IfExp):
            return _same(self.of(value) for value in (node.body, node.orelse) if not _is_none(value))
        if isinstance(node, ast.NamedExpr):
            return self.of(node.value)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            # `BASE_DIR / "templates"`: a path joined to a path is a path.
            left = self.of(node.left)
            return self._derive(left, "__truediv__", None) if left is not None and self._derive is not None else None
        return None

    def _call_type(self, call: ast.Call) -> str | None:
        qualified = self.context.call_name(call)
        if qualified in self._applied and call.args and self._derive is not None:
            argument = self.of(call.args[0])
            applied = self._derive(argument, f"{qualified}()", call) if argument is not None else None
            if applied is not None:
                return applied
        if qualified is not None:
            produced = self._produce(qualified, call)
            if produced is not None:
                return produced
            project_class = self._project_class(qualified)
            if project_class is not None:
                return self.class_type(project_class)
        func = call.func
        if self._derive is None:
            return None
        if isinstance(func, ast.Attribute):
            receiver = self.of(func.value)
            if receiver is not None:
                return self._derive(receiver, func.attr, call)
        elif isinstance(func, ast.Name):
            # `SessionLocal()` after `SessionLocal = sessionmaker(bind=engine)`.
            called = self.of(func)
            if called is not None:
                return self._derive(called, "__call__", call)
        return None

    def _name_type(self, name: ast.Name) -> str | None:
        for scope in self._scopes_around(name):
            if name.id in ("self", "cls") and _first_parameter(scope) == name.id:
                return self._self_type(name)
            bindings = self._bindings_of(scope)
            if name.id in bindings:
                return self._binding_type(bindings[name.id], scope)
        if name.id == MODULE_FILE:
            # The module's own file, which the module does not bind: what it ships with.
            return self._produce(MODULE_FILE, None)
        return None

    def _attribute_type(self, node: ast.Attribute) -> str | None:
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
            owner = self._enclosing_class(node)
            if owner is not None:
                bindings = self._bindings_of_class(owner)
                if node.attr in bindings:
                    return self._binding_type(bindings[node.attr], owner)
        if self._derive is None:
            return None
        receiver = self.of(node.value)
        return self._derive(receiver, node.attr, None) if receiver is not None else None

    def _binding_type(self, bindings: list[TypedBinding], scope: ast.AST) -> str | None:
        types: set[str | None] = set()
        for binding in bindings:
            if binding is None:
                return None
            if isinstance(binding, Declared):
                types.add(self.of_annotation(binding.annotation))
            elif not _is_none(binding):
                types.add(self.of(binding))
        return types.pop() if len(types) == 1 else None

    def _self_type(self, node: ast.AST) -> str | None:
        owner = self._enclosing_class(node)
        if owner is None:
            return None
        qualname = self.context.qualname_of(owner)
        return self.class_type(qualname)

    # --- scopes -----------------------------------------------------------------------------

    def _scopes_around(self, node: ast.AST) -> Iterator[ast.AST]:
        """The function scopes around `node`, innermost first, then the module (classes skipped)."""
        for ancestor in self.context.ancestors(node):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.Module)):
                yield ancestor

    def _bindings_of(self, scope: ast.AST) -> dict[str, list[TypedBinding]]:
        return self.context.semantic.typed_bindings(scope)

    def _bindings_of_class(self, owner: ast.ClassDef) -> dict[str, list[TypedBinding]]:
        return self.context.semantic.class_bindings(owner)

    def _enclosing_class(self, node: ast.AST) -> ast.ClassDef | None:
        function_seen = False
        for ancestor in self.context.ancestors(node):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if function_seen:
                    return None
                function_seen = True
            elif isinstance(ancestor, ast.ClassDef):
                return ancestor if function_seen else None
        return None

    def _module_alias(self, candidate: ast.expr) -> ast.expr | None:
        """`SessionDep` when the module says `SessionDep = Annotated[Session, Depends(...)]`."""
        if not isinstance(candidate, ast.Name):
            return None
        bindings = self._bindings_of(self.context.tree).get(candidate.id, [])
        values = [binding for binding in bindings if isinstance(binding, ast.expr)]
        if len(values) == 1 and isinstance(values[0], (ast.Subscript, ast.Name, ast.Attribute, ast.BinOp)):
            return values[0]
        if len(bindings) == 1 and isinstance(bindings[0], Declared):
            # `SessionDep: TypeAlias = Annotated[...]` is an AnnAssign with a value; a bare
            # declaration says nothing.
            return None
        return None

    # --- project classes ----------------------------------------------------------------------

    def _project_class(self, qualified: str) -> str | None:
        project = self.context.project
        if project is None:
            return None
        resolved = project.resolve(qualified)
        return resolved if resolved in project.classes else None

    def _inherited(self, qualname: str, methods: frozenset[str], depth: int) -> str | None:
        project = self.context.project
        if project is None or depth > _MAX_DEPTH:
            return None
        facts = project.classes.get(project.resolve(qualname))
        if facts is None:
            return None
        defined = methods | frozenset(facts.methods)
        for base in facts.bases:
            resolved = project.resolve(base)
            produced = self._produce(resolved, None)
            if produced is not None:
                return self._refine(produced, defined) if self._refine is not None else produced
            inherited = self._inherited(resolved, defined, depth + 1)
            if inherited is not None:
                return inherited
        return None


def _same(types: Iterator[str | None]) -> str | None:
    found = set(types)
    return found.pop() if len(found) == 1 else None


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _first_parameter(scope: ast.AST) -> str | None:
    if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
        positional = [*scope.args.posonlyargs, *scope.args.args]
        return positional[0].arg if positional else None
    return None


def _annotation_candidates(annotation: ast.expr) -> Iterator[ast.expr]:
    """The types an annotation may mean: `X` in `X`, `Optional[X]`, `X | None`, `Annotated[X, ...]`."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            parsed = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return
        yield from _annotation_candidates(parsed)
        return
    if isinstance(annotation, ast.BinOp) and isinstance(annotation.op, ast.BitOr):
        yield from _annotation_candidates(annotation.left)
        yield from _annotation_candidates(annotation.right)
        return
    if isinstance(annotation, ast.Subscript):
        outer = annotation.value
        last = outer.attr if isinstance(outer, ast.Attribute) else outer.id if isinstance(outer, ast.Name) else ""
        inner = annotation.slice
        if last in ("Optional", "Union"):
            members = inner.elts if isinstance(inner, ast.Tuple) else [inner]
            for member in members:
                yield from _annotation_candidates(member)
        elif last == "Annotated" and isinstance(inner, ast.Tuple) and inner.elts:
            yield from _annotation_candidates(inner.elts[0])
        return
    if isinstance(annotation, (ast.Name, ast.Attribute)):
        yield annotation
