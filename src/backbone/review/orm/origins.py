"""Where a value comes from: request input, a constant, configuration, the database, or unknown.

Any rule can ask `origin_of(expression, flow)`: BB204 reports SQL built from request input
at high confidence, from a value of unknown origin at medium, and never SQL built from
constants. The analysis follows, within a bounded depth:

- names to their assignments (in the function, the enclosing functions and the module),
  loop variables to their iterables (`range()`, `enumerate()` indexes and literal tuples
  are constants), augmented assignments (`sql += term`);
- string building (f-strings, `%`, `.format()`, `+`, `join()`) and string methods: the
  result is as bad as the worst value that went in;
- calls of project functions and reads of project properties to what they return (a
  property returning a dialect's `"now()"` is a constant), from the per-file facts;
- numbers and quoting (`int(x)`, `len(x)`, `x.replace("'", "''")`) to ESCAPED: whatever
  went in, what comes out can't close a quoted string.

A value read from the request is REQUEST whatever its name: a local called `query` or
`order_by` holding `request.args["sort"]` is input, not a fragment of SQL. Parameters are
UNKNOWN, except the parameters of a request handler itself (`handler=True`), which the
framework fills from the request.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterable

from backbone.records import Record
from backbone.review.knowledge.errors import NON_RETURNING_CALLS
from backbone.review.names import NameResolver, dotted_parts
from backbone.review.orm.flow.bindings import BindingKind
from backbone.review.orm.flow.common import _END
from backbone.review.orm.flow.module import ScopeFlow
from backbone.review.orm.values import Origin, QueryKind, ValueKind

_MAX_DEPTH = 8
# Qualified names of the framework's current request object.
_REQUEST_GLOBALS = frozenset(
    {"flask.request", "quart.request", "bottle.request", "sanic.request", "pyramid.threadlocal.get_current_request"}
)
# Names a parameter (or `self.` attribute) of the request object goes by.
_REQUEST_NAMES = frozenset({"request", "req"})
_REQUEST_TYPES = ("Request", "HttpRequest", "WSGIRequest", "ASGIRequest")
# What a request object carries from the client.
_REQUEST_PARTS = frozenset(
    {
        "GET", "POST", "args", "form", "values", "json", "data", "query_params", "query", "params", "headers",
        "cookies", "COOKIES", "files", "FILES", "body", "path_params", "match_info", "rel_url", "query_string",
        "path", "full_path", "url", "stream", "content", "META", "environ", "view_args", "get_json", "get_data",
        "text", "form_data", "path_info", "matchdict", "json_body", "GET_dict", "raw_post_data",
    }
)
# Roots of configuration: settings modules and objects, the environment.
_CONFIGURATION_ROOTS = frozenset({"settings", "config", "conf", "configuration", "cfg", "app_config"})
_CONFIGURATION_NAMES = frozenset({"os.environ", "os.getenv", "os.environ.get", "django.conf.settings"})
# Calls whose result is a number or a quoted value, whatever their argument.
_ESCAPING_CALLS = frozenset(
    {
        "int", "float", "len", "bool", "abs", "round", "hex", "id", "hash", "ord", "uuid4", "uuid.uuid4",
        "quote_name", "quote_ident", "quote_identifier", "escape_string", "escape_identifier", "quote_literal",
        "escape_like", "quote_table_name", "quote_column_name", "quote_value", "sql_identifier", "format_identifier",
        "literal", "escape", "quote", "Identifier", "Literal", "count", "index", "isoformat", "timestamp",
        "uuid1", "token_hex", "token_urlsafe", "randint", "randrange", "random", "getrandbits",
    }
)
# Standard-library calls that pick items of their first argument at random: what they give
# is one of those items (`random.choice(string.ascii_lowercase)` is a lowercase letter).
_PICKING_CALLS = frozenset({"random.choice", "random.choices", "random.sample", "secrets.choice"})
# Standard-library attributes that hold what the process was given from outside.
_OUTSIDE_ATTRIBUTES = frozenset({"argv", "orig_argv", "stdin", "environ", "environb"})
# String methods: the result holds the receiver's text (and the arguments').
_STRING_METHODS = frozenset(
    {
        "strip", "lstrip", "rstrip", "lower", "upper", "title", "capitalize", "casefold", "replace", "format",
        "join", "split", "rsplit", "splitlines", "encode", "decode", "zfill", "ljust", "rjust", "center",
        "removeprefix", "removesuffix", "expandtabs", "swapcase", "translate",
    }
)
# Methods that read one item of a container: the item comes from where the container does.
_ITEM_METHODS = frozenset({"get", "getlist", "pop", "getone", "get_all", "setdefault", "copy", "items", "values", "keys"})
_QUOTES = ("'", '"', "`")
# The schema declared in code: SQLAlchemy metadata and tables, Django model options.
_SCHEMA_PARTS = frozenset({"metadata", "__table__", "__tablename__", "_meta", "sorted_tables"})
# Annotations of values that are numbers: nothing typed so can close a quoted string.
_NUMBER_TYPES = frozenset({"int", "float", "bool", "complex", "Decimal", "decimal.Decimal"})
# Annotations of reflected schema objects (SQLAlchemy): their names are the database's
# own identifiers, not values a client sent.
_SCHEMA_TYPES = frozenset({"Column", "Table", "MetaData", "Index", "ForeignKeyConstraint", "Constraint"})
# What identifies a schema object: its name, key or the table it belongs to.
# What an annotation of schema objects may wrap them in.
_SCHEMA_CONTAINERS = frozenset({"list", "List", "tuple", "Tuple", "Sequence", "Iterable", "Optional", "None", "typing"})
_SCHEMA_NAMES = frozenset({"name", "key", "fullname", "table", "columns", "c"})


class Provenance(Record, frozen=True):
    """The origin of a value and the expression that gives it (`request.args.get("q")`)."""

    origin: Origin
    source: ast.AST | None = None

    def worst(self, other: Provenance) -> Provenance:
        return other if other.origin.rank > self.origin.rank else self


_CONSTANT = Provenance(Origin.CONSTANT)
_ESCAPED = Provenance(Origin.ESCAPED)
_UNKNOWN = Provenance(Origin.UNKNOWN)


def origin_of(node: ast.AST, flow: ScopeFlow, handler: bool = False) -> Provenance:
    """Where the value of `node` (an expression of `flow`'s scope) comes from.

    `handler`: the scope is a request handler, so its parameters are request input.
    """
    return _Origins(flow, handler).of(node, 0)


def returned_origin(flow: ScopeFlow) -> Origin | None:
    """The origin of what a function returns, when every `return` has one backbone can name.

    UNKNOWN and DATABASE are not worth a fact: callers assume them anyway.
    """
    if not flow.returns or isinstance(flow.scope, ast.Module):
        return None
    returns = flow.scope.returns if isinstance(flow.scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
    if returns is not None and _annotated_number(returns):
        # `def advisory_key(...) -> int`: a number, whatever it was computed from.
        return Origin.ESCAPED
    origins = _Origins(flow, False)
    found = Origin.CONSTANT
    for returned in flow.returns:
        found = found.worst(origins.of(returned, 1).origin)
        if found in (Origin.UNKNOWN, Origin.DATABASE):
            return None
    return found


class _Origins:
    __slots__ = ("flow", "handler")

    def __init__(self, flow: ScopeFlow, handler: bool) -> None:
        self.flow = flow
        self.handler = handler

    def of(self, node: ast.AST, depth: int) -> Provenance:
        if depth > _MAX_DEPTH:
            return _UNKNOWN
        if isinstance(node, ast.Constant):
            return _CONSTANT
        if isinstance(node, ast.JoinedStr):
            return self._all((part.value for part in node.values if isinstance(part, ast.FormattedValue)), depth)
        if isinstance(node, ast.FormattedValue):
            return self.of(node.value, depth)
        if isinstance(node, ast.BinOp):
            return self._binary(node, depth)
        if isinstance(node, ast.UnaryOp):
            return _ESCAPED if isinstance(node.op, (ast.USub, ast.UAdd, ast.Invert)) else _CONSTANT
        if isinstance(node, ast.Compare):
            return _ESCAPED
        if isinstance(node, ast.BoolOp):
            return self._all(node.values, depth)
        if isinstance(node, ast.IfExp):
            return self._all((node.body, node.orelse), depth)
        if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
            return self._all(node.elts, depth)
        if isinstance(node, ast.Dict):
            return self._all((value for value in node.values if value is not None), depth)
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.GeneratorExp)):
            return self._comprehension(node, depth)
        if isinstance(node, ast.DictComp):
            return self._all((node.key, node.value), depth)
        if isinstance(node, (ast.Await, ast.NamedExpr, ast.Starred)):
            return self.of(node.value, depth)
        if isinstance(node, ast.Name):
            return self._name(node, depth)
        if isinstance(node, ast.Attribute):
            return self._attribute(node, depth)
        if isinstance(node, ast.Subscript):
            return self._item(node, node.value, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        return _UNKNOWN

    def _all(self, nodes: Iterable[ast.AST], depth: int) -> Provenance:
        found = _CONSTANT
        for node in nodes:
            found = found.worst(self.of(node, depth + 1))
            if found.origin is Origin.REQUEST:
                break
        return found

    def _binary(self, node: ast.BinOp, depth: int) -> Provenance:
        if isinstance(node.op, ast.Mod) and _is_text(node.left):
            return self._all((node.left, node.right), depth)
        if isinstance(node.op, ast.Mult) and (_is_text(node.left) or _is_text(node.right)):
            # `"?, " * n`: repeated constant text.
            return self._all((operand for operand in (node.left, node.right) if _is_text(operand)), depth)
        if not isinstance(node.op, ast.Add) or _is_number(node.left) or _is_number(node.right):
            # Arithmetic: a number (or an error), whatever the operands.
            return _ESCAPED
        return self._all((node.left, node.right), depth)

    def _comprehension(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp, depth: int) -> Provenance:
        # The element names the comprehension's targets through their iterables.
        return self.of(node.elt, depth + 1)

    # --- names --------------------------------------------------------------------------

    def _name(self, node: ast.Name, depth: int) -> Provenance:
        flow = self.flow
        if self._narrowed_to_constants(node):
            return _CONSTANT
        member = self._member_of(node, depth)
        if member is not None:
            return member
        binding, _ = flow.local_binding(node)
        owner = flow
        if (binding is None or node.id in flow.globals) and not isinstance(flow.scope, ast.Module):
            owner = flow.module.flow(flow.module.tree)
            binding = owner.binding_at(node.id, _END)
        if binding is None:
            return self._global(node)
        found = _UNKNOWN
        inner = self if owner is flow else _Origins(owner, False)
        if binding.kind is BindingKind.ASSIGN and isinstance(binding.node, ast.AST):
            found = inner.of(binding.node, depth + 1)
        elif binding.kind is BindingKind.ELEMENT and isinstance(binding.node, ast.expr):
            found = inner._element(binding.node, binding.path, depth)
        elif binding.kind is BindingKind.UNPACK and isinstance(binding.node, ast.expr):
            found = inner.of(binding.node, depth + 1)
        elif binding.kind is BindingKind.PARAM:
            found = self._parameter(binding.node, node)
        elif binding.kind is BindingKind.DEFINITION:
            found = _CONSTANT
        if owner is flow:
            for augmented in flow.augmented.get(node.id, []):
                if binding.position <= (augmented.lineno, augmented.col_offset) < (node.lineno, node.col_offset):
                    found = found.worst(self.of(augmented.value, depth + 1))
        if found.origin is Origin.UNKNOWN and node.id.isupper():
            return _CONSTANT
        return found

    def _narrowed_to_constants(self, node: ast.Name) -> bool:
        """`if comparator in ("IN", "NOT IN"): f"... {comparator} ..."`: under a test that
        compares the name with constants, it holds one of them."""
        child: ast.AST = node
        parent = self.flow.parent(child)
        while parent is not None and parent is not self.flow.scope:
            test: ast.expr | None = None
            if isinstance(parent, ast.If) and child in parent.body or isinstance(parent, ast.IfExp) and child is parent.body:
                test = parent.test
            if test is not None and _narrows(test, node.id):
                # Not rebound after the test (`if x in (...): x = request.args["x"]`).
                binding = self.flow.binding_at(node.id, node)
                return binding is None or binding.position < (test.lineno, test.col_offset)
            child = parent
            parent = self.flow.parent(child)
        return False

    def _member_of(self, node: ast.Name, depth: int) -> Provenance | None:
        """The origin of the collection a test found the name in, when the name is used only
        where the test holds: `[f for f in requested if f in known]`, `if f in known: ...`,
        `if f not in known: raise ...` before the use. The name equals one of the collection's
        items (an allow-list), so it comes from where they do."""
        child: ast.AST = node
        parent = self.flow.parent(child)
        while parent is not None:
            # (test, whether the use runs where the test is false: a guard that leaves).
            tests: list[tuple[ast.expr, bool]] = []
            if isinstance(parent, ast.If) and child in parent.body or isinstance(parent, ast.IfExp) and child is parent.body:
                tests.append((parent.test, False))
            if isinstance(parent, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
                tests += [
                    (condition, False)
                    for generator in parent.generators
                    if isinstance(generator.target, ast.Name) and generator.target.id == node.id
                    for condition in generator.ifs
                ]
            for block in _blocks(parent):
                if child in block:
                    # `if f not in known: continue` (or return, raise) before the statement.
                    tests += [
                        (statement.test, True)
                        for statement in block[: block.index(child)]
                        if isinstance(statement, ast.If) and self._leaves_at_once(statement.body)
                    ]
            for test, guard in tests:
                collection = _membership(test, node.id, guard)
                if collection is None or not self._unchanged_since(node, test):
                    continue
                return self.of(collection, depth + 1)
            if parent is self.flow.scope:
                break
            child = parent
            parent = self.flow.parent(child)
        return None

    def _leaves_at_once(self, block: list[ast.stmt]) -> bool:
        """`continue`, `return ...`, `raise ...`, `abort(400)`: the block never falls through."""
        for statement in block:
            if isinstance(statement, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
                return True
            if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
                if self.flow.resolver.qualified_name(statement.value.func) in NON_RETURNING_CALLS:
                    return True
        return False

    def _unchanged_since(self, node: ast.Name, test: ast.expr) -> bool:
        binding = self.flow.binding_at(node.id, node)
        return binding is None or binding.position <= (test.lineno, test.col_offset)

    def _global(self, node: ast.Name) -> Provenance:
        qualname = self.flow.resolver.qualified_name(node)
        if qualname in _CONFIGURATION_NAMES:
            return Provenance(Origin.CONFIGURATION, node)
        if node.id.isupper():
            return _CONSTANT
        return _UNKNOWN

    def _element(self, iterable: ast.expr, path: tuple[int, ...], depth: int) -> Provenance:
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Name):
            wrapper = iterable.func.id
            if wrapper == "range":
                return _ESCAPED
            if wrapper == "enumerate" and iterable.args:
                if path[:1] == (0,):
                    return _ESCAPED
                return self.of(iterable.args[0], depth + 1)
            if wrapper in ("zip", "sorted", "reversed", "list", "tuple", "set") and iterable.args:
                return self._all(iterable.args, depth)
        if isinstance(iterable, ast.Call) and isinstance(iterable.func, ast.Attribute) and iterable.func.attr in ("items", "keys", "values"):
            return self.of(iterable.func.value, depth + 1)
        return self.of(iterable, depth + 1)

    def _parameter(self, node: ast.AST | None, use: ast.Name) -> Provenance:
        if self._is_request_object(use):
            # The request object itself is not text: what is read from it is.
            return _UNKNOWN
        annotation = node.annotation if isinstance(node, (ast.arg, ast.AnnAssign)) else None
        if annotation is not None and _annotated_number(annotation):
            # `key: int`: a number, whatever the caller (or the framework) passed.
            return _ESCAPED
        if annotation is not None and _annotated_schema(annotation, self.flow.resolver):
            # `columns: list[sa.Column]`: reflected schema objects; their names are the
            # database's own identifiers.
            return _CONSTANT
        if self.handler and isinstance(node, ast.arg) and node.arg not in ("self", "cls"):
            return Provenance(Origin.REQUEST, node)
        if isinstance(node, ast.arg):
            passed = self._passed_by_callers(node)
            if passed is not None:
                return Provenance(passed, node)
        return _UNKNOWN

    def _passed_by_callers(self, parameter: ast.arg) -> Origin | None:
        """What every project caller passes for the parameter, when none passes input:
        `self.acquire_lock(connection, lock_id)` with `lock_id` an int option."""
        scope = self.flow.scope
        if not isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return None
        arguments = scope.args
        # The function's own parameter (not a lambda's of the same name).
        if parameter not in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs):
            return None
        position = self.flow.call_position(parameter.arg)
        if position is None:
            return None
        return self.flow.knowledge.parameter_origin(self.flow.context.qualname, position, parameter.arg)

    # --- the request ----------------------------------------------------------------------

    def _is_request_object(self, node: ast.expr) -> bool:
        """`request` (a parameter, flask's global), `self.request`, `req: Request`."""
        if isinstance(node, ast.Name):
            qualname = self.flow.resolver.qualified_name(node)
            if qualname in _REQUEST_GLOBALS:
                return True
            binding, _ = self.flow.local_binding(node)
            if binding is not None and binding.kind is BindingKind.PARAM and isinstance(binding.node, ast.arg):
                annotation = binding.node.annotation
                if annotation is not None:
                    shown = ast.unparse(annotation)
                    return shown.rpartition(".")[2].startswith(_REQUEST_TYPES)
                return node.id in _REQUEST_NAMES
            return binding is None and node.id in _REQUEST_NAMES and qualname is None
        if isinstance(node, ast.Attribute):
            return node.attr in _REQUEST_NAMES and isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")
        return False

    def _handler_input(self, node: ast.Attribute) -> bool:
        """`form.config.url` in a request handler whose parameter `form` the framework fills from the
        request: a field of the client's input, whatever the fields are called."""
        root: ast.expr = node
        while isinstance(root, ast.Attribute):
            root = root.value
        if not self.handler or not isinstance(root, ast.Name) or root.id in ("self", "cls"):
            return False
        binding, _ = self.flow.local_binding(root)
        return (
            binding is not None
            and binding.kind is BindingKind.PARAM
            and isinstance(binding.node, ast.arg)
            and not self._is_request_object(root)
        )

    def _reads_request(self, node: ast.Attribute) -> bool:
        """`request.args`, `self.request.GET`, `request.rel_url.query`."""
        current: ast.expr = node
        while isinstance(current, ast.Attribute):
            if current.attr in _REQUEST_PARTS and self._is_request_object(current.value):
                return True
            current = current.value
        return False

    # --- attributes, items, calls ---------------------------------------------------------

    def _attribute(self, node: ast.Attribute, depth: int) -> Provenance:
        if self._reads_request(node):
            return Provenance(Origin.REQUEST, node)
        qualname = _qualname(node, self.flow)
        if qualname is not None and (qualname in _CONFIGURATION_NAMES or qualname.startswith("django.conf.settings.")):
            return Provenance(Origin.CONFIGURATION, node)
        if qualname is not None and _standard_constant(qualname, node):
            # `string.ascii_lowercase`, `os.sep`: a constant of the standard library.
            return _CONSTANT
        parts = dotted_parts(node)
        if parts is not None and (
            parts[0] in _CONFIGURATION_ROOTS or ("config" in parts[:-1] and not self._handler_input(node))
        ):
            return Provenance(Origin.CONFIGURATION, node)
        if node.attr.isupper() or (parts is not None and _SCHEMA_PARTS.intersection(parts)):
            return _CONSTANT
        if node.attr in _SCHEMA_NAMES and self._schema_object(node.value):
            # `column.name` of a reflected `Column`: the database's own identifier.
            return _CONSTANT
        if node.attr in self.flow.module.numeric_options and isinstance(node.value, ast.Name):
            # `args.lock_id` of an option declared `type=int`.
            return _ESCAPED
        base = self.flow.value(node.value)
        if base is not None and base.kind in (ValueKind.INSTANCE, ValueKind.ROWS):
            return Provenance(Origin.DATABASE, node)
        declared = self._property(node)
        if declared is not None:
            return Provenance(declared, node)
        owner = self.of(node.value, depth + 1)
        # An attribute of a known value comes from where the value does (`table.name` of a
        # table of the declared schema is code; `form.cleaned.name` of a request form is input).
        return owner if owner.origin is not Origin.UNKNOWN else _UNKNOWN

    def _schema_object(self, node: ast.expr, depth: int = 0) -> bool:
        """`column` of `for column in columns` where `columns: list[sa.Column]`, or
        `table.columns` of `table: sa.Table`: an object of the reflected schema."""
        if depth > 3:
            return False
        if isinstance(node, ast.Attribute):
            return node.attr in _SCHEMA_NAMES and self._schema_object(node.value, depth + 1)
        if not isinstance(node, ast.Name):
            return False
        binding, _ = self.flow.local_binding(node)
        if binding is None:
            return False
        if binding.kind is BindingKind.PARAM and isinstance(binding.node, ast.arg):
            return binding.node.annotation is not None and _annotated_schema(binding.node.annotation, self.flow.resolver)
        if binding.kind is BindingKind.ELEMENT and isinstance(binding.node, ast.expr):
            return self._schema_object(binding.node, depth + 1)
        return False

    def _property(self, node: ast.Attribute) -> Origin | None:
        """`self.timestamp_now`, `db.serial_primary_key`: what a project property returns."""
        knowledge = self.flow.knowledge
        owner = self.flow.context.class_qualname
        if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls") and owner is not None:
            return knowledge.attribute_origin(owner, node.attr)
        return knowledge.attribute_origin(None, node.attr)

    def _item(self, node: ast.expr, container: ast.expr, depth: int) -> Provenance:
        if _option_key(node) in self.flow.module.numeric_options:
            # `options["lock_id"]` of an option declared `type=int`: argparse made it a number.
            return _ESCAPED
        if isinstance(container, ast.Attribute) and self._reads_request(container):
            return Provenance(Origin.REQUEST, node)
        if isinstance(container, ast.Name) and self._is_request_object(container):
            return Provenance(Origin.REQUEST, node)
        found = self.of(container, depth + 1)
        if found.origin is Origin.REQUEST:
            return Provenance(Origin.REQUEST, node)
        return found

    def _call(self, node: ast.Call, depth: int) -> Provenance:
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        qualname = _qualname(func, self.flow)
        if qualname in _CONFIGURATION_NAMES:
            return Provenance(Origin.CONFIGURATION, node)
        if isinstance(func, ast.Attribute):
            if _escapes_quotes(node):
                return _ESCAPED
            if self._reads_request(func) or self._is_request_object(func.value):
                return Provenance(Origin.REQUEST, node)
            if name in _ITEM_METHODS:
                return self._item(node, func.value, depth)
            if name in _STRING_METHODS:
                if name == "join" and node.args:
                    return self.of(func.value, depth + 1).worst(self.of(node.args[0], depth + 1))
                return self._all((func.value, *node.args, *(keyword.value for keyword in node.keywords)), depth)
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("int", "float"):
            # `int.from_bytes(digest, "big")`: a number.
            return _ESCAPED
        if name in _ESCAPING_CALLS or (qualname is not None and qualname.rpartition(".")[2] in _ESCAPING_CALLS):
            return _ESCAPED
        if qualname in _PICKING_CALLS and node.args:
            # A value generated here: an item picked from the first argument.
            return self.of(node.args[0], depth + 1)
        if name in ("str", "dict", "tuple", "list", "sorted", "set") and qualname in (None, name):
            return self._all((*node.args, *(keyword.value for keyword in node.keywords)), depth)
        value, event = self.flow.call_result(node)
        if event is not None and event.kind is QueryKind.READ or (value is not None and value.kind in (ValueKind.ROWS, ValueKind.INSTANCE)):
            return Provenance(Origin.DATABASE, node)
        returned = self._returned(node)
        if returned is not None:
            return Provenance(returned, node)
        if _constant_arguments(node):
            # `self._dist_fn()`, `gettext("...")`: computed from constants, not from input.
            return _CONSTANT
        return _UNKNOWN

    def _returned(self, node: ast.Call) -> Origin | None:
        knowledge = self.flow.knowledge
        func = node.func
        owner = self.flow.context.class_qualname
        if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and func.value.id in ("self", "cls") and owner:
            method = knowledge.method(owner, func.attr)
            return knowledge.returns_origin(method) if method else None
        qualname = _qualname(func, self.flow)
        if qualname is None:
            return None
        target = knowledge.resolve_function(qualname)
        return knowledge.returns_origin(target) if target else None


def _standard_constant(qualname: str, node: ast.Attribute) -> bool:
    """`string.ascii_lowercase` read from the module it belongs to, a module of the standard
    library: code, not what the process was given (`sys.argv`, `os.environ`)."""
    module, _, attribute = qualname.rpartition(".")
    if not module or attribute in _OUTSIDE_ATTRIBUTES or module.split(".")[0] not in sys.stdlib_module_names:
        return False
    # The attribute of the module itself, not of an object (`sys.stdin.name`).
    return isinstance(node.value, ast.Name) and module.count(".") == 0


def _membership(test: ast.expr, name: str, guard: bool) -> ast.expr | None:
    """The collection of `name in collection` (a test that holds where the name is used, alone
    or joined by `and`), or of `name not in collection` (`guard`: a test whose true branch
    leaves, alone or joined by `or`)."""
    joining = ast.Or if guard else ast.And
    if isinstance(test, ast.BoolOp) and isinstance(test.op, joining):
        for value in test.values:
            found = _membership(value, name, guard)
            if found is not None:
                return found
        return None
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and test.left.id == name):
        return None
    collection = test.comparators[0]
    if not isinstance(test.ops[0], ast.NotIn if guard else ast.In) or isinstance(collection, ast.Constant):
        return None
    return collection


def _blocks(node: ast.AST) -> list[list[ast.stmt]]:
    return [
        block for block in (getattr(node, "body", None), getattr(node, "orelse", None), getattr(node, "finalbody", None))
        if isinstance(block, list)
    ]


def _narrows(test: ast.expr, name: str) -> bool:
    """`name in ("IN", "NOT IN")`, `name == "asc"`, or one of them joined by `and`."""
    if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
        return any(_narrows(value, name) for value in test.values)
    if not (isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.left, ast.Name) and test.left.id == name):
        return False
    operator, other = test.ops[0], test.comparators[0]
    if isinstance(operator, ast.Eq):
        return isinstance(other, ast.Constant)
    if isinstance(operator, ast.In) and isinstance(other, (ast.Tuple, ast.List, ast.Set)):
        return bool(other.elts) and all(isinstance(element, ast.Constant) for element in other.elts)
    return False


def _qualname(node: ast.expr, flow: ScopeFlow) -> str | None:
    if isinstance(node, ast.Name):
        return flow.resolver.qualified_name(node)
    parts = dotted_parts(node)
    if parts is None or parts[0] not in flow.resolver.imports:
        return None
    return flow.resolver.resolve_parts(parts)


def _annotation_names(annotation: ast.expr) -> list[str]:
    """The names an annotation is written with: `int | None` gives int and None."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        try:
            annotation = ast.parse(annotation.value, mode="eval").body
        except SyntaxError:
            return []
    found: list[str] = []
    for node in ast.walk(annotation):
        if isinstance(node, ast.Name):
            found.append(node.id)
        elif isinstance(node, ast.Attribute):
            found.append(node.attr)
        elif isinstance(node, ast.Constant) and node.value is None:
            found.append("None")
    return found


def _annotated_number(annotation: ast.expr) -> bool:
    """`int`, `int | None`, `Optional[float]`: every type the annotation allows is a number."""
    names = [name for name in _annotation_names(annotation) if name not in ("Optional", "None", "Union", "typing", "decimal")]
    return bool(names) and all(name in _NUMBER_TYPES for name in names)


def _annotated_schema(annotation: ast.expr, resolver: NameResolver) -> bool:
    """`sa.Column`, `list[Column]`, `Sequence[sa.Table]`: reflected schema objects of SQLAlchemy
    (the names resolved through the file's imports: a project class called `Table` is not one)."""
    found = False
    for node in ast.walk(annotation):
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load) or isinstance(node, ast.Name):
            qualname = resolver.qualified_name(node) or (node.id if isinstance(node, ast.Name) else node.attr)
            if qualname.startswith("sqlalchemy.") and qualname.rpartition(".")[2] in _SCHEMA_TYPES:
                found = True
            elif qualname.rpartition(".")[2] not in _SCHEMA_CONTAINERS and not qualname.startswith("sqlalchemy"):
                return False
    return found


def _option_key(node: ast.expr) -> str | None:
    """The constant key of `options["x"]` or `options.get("x")`/`.pop("x")`."""
    if isinstance(node, ast.Subscript):
        key: ast.expr | None = node.slice
    elif isinstance(node, ast.Call) and node.args:
        key = node.args[0]
    else:
        key = None
    return key.value if isinstance(key, ast.Constant) and isinstance(key.value, str) else None


def _is_text(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or isinstance(node, ast.JoinedStr)


def _is_number(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)


def _escapes_quotes(call: ast.Call) -> bool:
    """`s.replace("'", "''")`: doubling the quote character is how SQL escapes it."""
    func = call.func
    if not (isinstance(func, ast.Attribute) and func.attr == "replace" and len(call.args) == 2):
        return False
    old, new = call.args
    if not (isinstance(old, ast.Constant) and isinstance(new, ast.Constant)):
        return False
    return old.value in _QUOTES and new.value in (old.value * 2, "\\" + str(old.value))


def _constant_arguments(call: ast.Call) -> bool:
    return all(isinstance(argument, ast.Constant) for argument in call.args) and all(
        isinstance(keyword.value, ast.Constant) for keyword in call.keywords
    )


