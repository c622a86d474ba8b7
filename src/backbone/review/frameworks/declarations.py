"""What one module declares about HTTP routing, extracted once per file and cached.

Route decorators, `add_api_route`/`add_url_rule` calls, router prefixes, `include_router`,
Django `urlpatterns`, DRF routers, class-view attributes: the facts the handler registry
(`backbone.review.frameworks`) merges across the project. Every fact is a record
(`backbone.records.Record`) holding only tuples, strings, ints, bools and enums: the facts are
stored in the cache as typed data (`backbone.review.cache_codec`), compared, and digested
(`backbone.review.incremental`).

The extraction walks statements only (module, class and function bodies and the blocks
inside them), never every expression: routing is declared by statements.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Iterator
from typing import TypeAlias

import msgspec

from backbone.records import Record
from backbone.review.frameworks.catalog import (
    DJANGO_INCLUDE_FUNCTIONS,
    DJANGO_PATH_FUNCTIONS,
    DJANGO_PATTERN_WRAPPERS,
    DJANGO_REGEX_PATH_FUNCTIONS,
    DJANGO_SETTINGS,
    DRF_ACTION_DECORATORS,
    HTTP_METHODS,
    ROUTE_DECORATORS,
    ROUTER_CONSTRUCTORS,
    STANDALONE_ROUTE_DECORATORS,
    STARLETTE_MOUNT,
    STARLETTE_ROUTE,
    STARLETTE_WEBSOCKET_ROUTE,
    VIEW_METHOD_DECORATORS,
    WEBSOCKET,
    WEBSOCKET_DECORATORS,
    MethodsDecorator,
    RouterConstructor,
    RouterRole,
    WebFramework,
    framework_of_packages,
)
from backbone.review.frameworks.payloads import expand_payload
from backbone.review.names import NameResolver, argument, dotted_parts, keyword_value
from backbone.review.semantic import Bindings, bind_target

URLPATTERNS = "urlpatterns"
# The last name of every router constructor: most assignments are rejected on it, unresolved.
_CONSTRUCTOR_NAMES = frozenset(name.rpartition(".")[2] for name in ROUTER_CONSTRUCTORS)


class MethodSource(enum.Enum):
    """Where a route's HTTP methods come from."""

    # Named by the route: `@app.post`, `methods=["GET", "POST"]`.
    EXPLICIT = "explicit"
    # Not named, and the framework's default applies to a function endpoint (GET for
    # Flask `route`, FastAPI `api_route`, Starlette `Route`); a class endpoint decides itself.
    FRAMEWORK_DEFAULT = "framework-default"
    # The view decides: Django `path()`, DRF `router.register`, flask-restful `add_resource`.
    VIEW = "view"
    # Given, but not as a literal.
    UNKNOWN = "unknown"


class Pagination(enum.Enum):
    """What a class-based view's own body says about pagination."""

    UNSET = "unset"
    CONFIGURED = "configured"  # pagination_class = X, paginate_by = 20
    DISABLED = "disabled"  # pagination_class = None, paginate_by = None


class RouterDeclaration(Record, frozen=True):
    """A routing object: an app, a router/blueprint, a Starlette route list, a urls module."""

    symbol: str
    framework: WebFramework
    role: RouterRole
    # The router's own prefix (APIRouter(prefix=...), Blueprint(url_prefix=...)); "" if none.
    prefix: str
    line: int


class RouteBinding(Record, frozen=True):
    """A route that calls `handler` (a function, or a class-based view)."""

    # The routing object's symbol; "" for stand-alone decorators (Litestar `@get`).
    router: str
    handler: str
    # The path as written; None when it is not a literal.
    path: str | None
    methods: tuple[str, ...]
    method_source: MethodSource
    line: int
    # The framework the module imports, for routes on objects backbone can't resolve.
    framework_hint: WebFramework | None = None
    # DRF `as_view({"get": "list"})`: (verb, action) pairs.
    actions: tuple[tuple[str, str], ...] = ()
    # Django `re_path`/`url`: the path is a regular expression.
    regex: bool = False


class MountDeclaration(Record, frozen=True):
    """`child` is served under `parent` at `prefix`: include_router, register_blueprint, include()."""

    parent: str
    child: str
    # None when the prefix is not a literal.
    prefix: str | None
    # Flask `register_blueprint(bp, url_prefix=...)` replaces the blueprint's own prefix.
    replaces_prefix: bool
    line: int


class ViewMethodsDeclaration(Record, frozen=True):
    """A view-function decorator naming its methods: `require_GET`, `api_view(["GET"])`."""

    function: str
    framework: WebFramework
    # () when the decorator's argument is not a literal.
    methods: tuple[str, ...]
    line: int


class ActionDeclaration(Record, frozen=True):
    """A DRF `@action` on a viewset method."""

    method: str
    methods: tuple[str, ...]
    detail: bool | None
    url_path: str | None


class ViewClassDeclaration(Record, frozen=True):
    """What a class body says that routing and pagination depend on."""

    qualname: str
    line: int
    # Django/DRF `http_method_names`, lower-case; None when not set.
    http_method_names: tuple[str, ...] | None = None
    # Flask View `methods`, upper-case; None when not set.
    methods: tuple[str, ...] | None = None
    actions: tuple[ActionDeclaration, ...] = ()
    pagination: Pagination = Pagination.UNSET
    # Litestar Controller `path`.
    path: str | None = None


class SettingDeclaration(Record, frozen=True):
    """A Django setting routing depends on: ROOT_URLCONF, REST_FRAMEWORK pagination."""

    # "ROOT_URLCONF", "REST_FRAMEWORK", "REST_FRAMEWORK.DEFAULT_PAGINATION_CLASS", "REST_FRAMEWORK.PAGE_SIZE".
    name: str
    # The literal value as text ("None" for None); None when it is not a literal.
    value: str | None
    line: int


class ReturnedCall(Record, frozen=True):
    """`function` returns (or answers with) what the call to `callee` on `line` returns.

    Recorded for every function, since which functions are handlers is only known
    project-wide: a handler answering with `services.list_products()` sends what that
    service returns.
    """

    function: str
    callee: str
    line: int
    column: int
    # Keywords of the call whose value the caller already holds or just created: a parameter of
    # the function, an attribute of a record it looked up by that very parameter
    # (`filter_by(token=token)` then `token=found.token`), or of a record it created and saved.
    handed_back: tuple[str, ...] = ()


RouteDeclaration: TypeAlias = (
    RouterDeclaration
    | RouteBinding
    | MountDeclaration
    | ViewMethodsDeclaration
    | ViewClassDeclaration
    | SettingDeclaration
    | ReturnedCall
)

_MAX_PATTERN_DEPTH = 6


class _Scope(msgspec.Struct):
    """A module, class or function body being walked."""

    # The qualified name of the scope ("" parts for the module).
    names: tuple[str, ...]
    is_function: bool
    class_qualname: str | None
    # Names bound in this function to routers, route lists and nested functions.
    local_symbols: dict[str, str] = msgspec.field(default_factory=dict)
    bindings: Bindings = msgspec.field(default_factory=dict)
    returns: list[ast.Return] = msgspec.field(default_factory=list)
    parent: _Scope | None = None


class _RouteExtractor:
    def __init__(self, resolver: NameResolver) -> None:
        self.resolver = resolver
        self.module = resolver.module
        self.found: list[RouteDeclaration] = []
        packages = frozenset(name.split(".")[0] for name in resolver.imports.values() if name)
        self.framework_hint = framework_of_packages(packages)
        self.is_urlconf = False
        # Module-level lists of URL patterns other than `urlpatterns` (`api_patterns = [...]`),
        # for `include(api_patterns)`.
        self.pattern_lists: dict[str, ast.expr] = {}
        # The file's own subclasses of a framework router (`class DefaultRouter(routers.DefaultRouter)`).
        self.router_subclasses: dict[str, RouterConstructor] = {}

    # -- walking -------------------------------------------------------------------------

    def run(self, tree: ast.Module) -> None:
        module_scope = _Scope((), False, None)
        self._body(tree.body, module_scope)

    def _body(self, statements: list[ast.stmt], scope: _Scope) -> None:
        # An explicit stack keeps generated code with deep nesting within the recursion limit.
        stack: list[ast.stmt] = list(reversed(statements))
        while stack:
            statement = stack.pop()
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(statement, scope)
                continue
            if isinstance(statement, ast.ClassDef):
                self._class(statement, scope)
                continue
            self._statement(statement, scope)
            for child in _nested_blocks(statement):
                stack.extend(reversed(child))

    def _qualname(self, scope: _Scope, name: str) -> str:
        return ".".join(filter(None, [self.module, *scope.names, name]))

    def _function(self, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope) -> None:
        qualname = self._qualname(scope, node.name)
        if scope.is_function:
            scope.local_symbols[node.name] = qualname
        for decorator in node.decorator_list:
            self._function_decorator(decorator, qualname, node, scope)
        inner = _Scope((*scope.names, node.name), True, scope.class_qualname, parent=scope)
        for parameter in (*node.args.posonlyargs, *node.args.args, *node.args.kwonlyargs):
            inner.bindings.setdefault(parameter.arg, []).append(None)
        self._body(node.body, inner)
        self._returned_calls(qualname, inner, node)

    def _class(self, node: ast.ClassDef, scope: _Scope) -> None:
        qualname = self._qualname(scope, node.name)
        if scope.is_function:
            scope.local_symbols[node.name] = qualname
        for decorator in node.decorator_list:
            if isinstance(decorator, ast.Call):
                self._class_route_decorator(decorator, qualname, scope)
        for base in node.bases:
            base_name = self._qualified(base, scope)
            constructor = self.router_subclasses.get(base_name or "") or ROUTER_CONSTRUCTORS.get(base_name or "")
            if constructor is not None:
                self.router_subclasses[qualname] = constructor
                break
        inner = _Scope((*scope.names, node.name), False, qualname, parent=scope)
        self._body(node.body, inner)
        # A mixin without bases (`class DeleteRelationMixin:`) can still bring DRF `@action`s and a
        # `pagination_class` to a viewset.
        self._view_class(node, qualname, actions_only=not node.bases)

    def _statement(self, statement: ast.stmt, scope: _Scope) -> None:
        if isinstance(statement, ast.Return):
            if scope.is_function:
                scope.returns.append(statement)
            return
        if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            self._assignment(statement, scope)
        elif isinstance(statement, (ast.For, ast.AsyncFor)):
            bind_target(scope.bindings, statement.target, None)
        elif isinstance(statement, (ast.With, ast.AsyncWith)):
            for item in statement.items:
                if item.optional_vars is not None:
                    bind_target(scope.bindings, item.optional_vars, None)
        elif isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            self._call_statement(statement.value, scope)

    # -- names ---------------------------------------------------------------------------

    def _symbol(self, node: ast.expr, scope: _Scope) -> str | None:
        """The symbol an expression names: a local router or function, or an imported name."""
        parts = dotted_parts(node)
        if parts is None:
            return None
        head, rest = parts[0], parts[1:]
        if head in ("self", "cls") and scope.class_qualname is not None and scope.is_function:
            return f"{scope.class_qualname}.{rest[0]}" if len(rest) == 1 else None
        current: _Scope | None = scope
        while current is not None:
            if current.is_function and head in current.local_symbols:
                return ".".join([current.local_symbols[head], *rest])
            if current.is_function and head in current.bindings:
                # A parameter or an unrelated local: not a module-level name.
                return None
            current = current.parent
        return self.resolver.resolve_parts(parts)

    def _callee(self, func: ast.expr, scope: _Scope) -> str | None:
        if isinstance(func, ast.Name) and func.id in _NOT_CALLEES:
            return None
        return self._symbol(func, scope)

    def _target_symbol(self, target: ast.expr, scope: _Scope) -> str | None:
        if not isinstance(target, ast.Name):
            return None
        symbol = self._qualname(scope, target.id)
        if scope.is_function:
            scope.local_symbols[target.id] = symbol
        return symbol

    def _qualified(self, node: ast.expr, scope: _Scope) -> str | None:
        return self._symbol(node, scope)

    # -- assignments ---------------------------------------------------------------------

    def _assignment(self, statement: ast.Assign | ast.AnnAssign | ast.AugAssign, scope: _Scope) -> None:
        value = statement.value
        targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
        for target in targets:
            if isinstance(statement, ast.AugAssign) or value is None:
                bind_target(scope.bindings, target, None)
            else:
                bind_target(scope.bindings, target, value)
        if value is None:
            return
        at_module = not scope.names
        for target in targets:
            if at_module and isinstance(target, ast.Name) and _may_hold_patterns(value):
                self.pattern_lists[target.id] = value
            if at_module and isinstance(target, ast.Name):
                if target.id == URLPATTERNS:
                    self._urlpatterns(value, statement.lineno, scope)
                    continue
                if target.id in DJANGO_SETTINGS and isinstance(statement, ast.Assign):
                    self._setting(target.id, value, statement.lineno)
                    continue
            if isinstance(statement, ast.AugAssign):
                continue
            if isinstance(value, ast.Call):
                self._router_assignment(target, value, scope)
            elif self._holds_route_entries(value, scope):
                symbol = self._target_symbol(target, scope)
                if symbol is not None:
                    self._router(symbol, WebFramework.STARLETTE, RouterRole.ROUTE_LIST, "", statement.lineno)
                    self._route_entries(value, symbol, "", scope)

    def _router_assignment(self, target: ast.expr, call: ast.Call, scope: _Scope) -> None:
        func = call.func
        last = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if last not in _CONSTRUCTOR_NAMES and not self.router_subclasses:
            return
        constructor_name = self._qualified(func, scope)
        constructor = ROUTER_CONSTRUCTORS.get(constructor_name or "") or self.router_subclasses.get(constructor_name or "")
        if constructor is None:
            return
        symbol = self._target_symbol(target, scope)
        if symbol is None:
            return
        prefix = ""
        if constructor.prefix_keyword is not None:
            prefix = _literal_str(keyword_value(call, constructor.prefix_keyword)) or ""
        self._router(symbol, constructor.framework, constructor.role, prefix, call.lineno)
        routes = keyword_value(call, "routes")
        if routes is not None:
            self._routes_argument(routes, symbol, scope, call.lineno)
        handlers = keyword_value(call, "route_handlers")
        if isinstance(handlers, (ast.List, ast.Tuple)):
            for element in handlers.elts:
                child = self._qualified(element, scope)
                if child is not None:
                    self._mount(symbol, child, "", False, element.lineno)
        # flask-restful/restx `Api(app)`, `Namespace` added later: `Api(app)` serves under app.
        if constructor.role is RouterRole.RESOURCE_API and call.args:
            parent = self._qualified(call.args[0], scope)
            if parent is not None:
                self._mount(parent, symbol, "", False, call.lineno)

    def _routes_argument(self, routes: ast.expr, owner: str, scope: _Scope, line: int) -> None:
        if isinstance(routes, (ast.List, ast.Tuple, ast.BinOp)):
            self._route_entries(routes, owner, "", scope)
            return
        child = self._qualified(routes, scope)
        if child is not None:
            self._mount(owner, child, "", False, line)

    def _holds_route_entries(self, value: ast.expr, scope: _Scope) -> bool:
        """A list literal whose entries are Starlette Route/Mount/WebSocketRoute calls."""
        if not isinstance(value, (ast.List, ast.Tuple, ast.BinOp)):
            return False
        for entry in _list_elements(value):
            if isinstance(entry, ast.Call):
                name = self._qualified(entry.func, scope)
                if name in STARLETTE_ROUTE or name in STARLETTE_MOUNT or name in STARLETTE_WEBSOCKET_ROUTE:
                    return True
        return False

    def _router(self, symbol: str, framework: WebFramework, role: RouterRole, prefix: str, line: int) -> None:
        self.found.append(RouterDeclaration(symbol, framework, role, prefix, line))

    def _mount(self, parent: str, child: str, prefix: str | None, replaces: bool, line: int) -> None:
        self.found.append(MountDeclaration(parent, child, prefix, replaces, line))

    def _setting(self, name: str, value: ast.expr, line: int) -> None:
        if name == "ROOT_URLCONF":
            self.found.append(SettingDeclaration(name, _literal_str(value), line))
            return
        if not isinstance(value, ast.Dict):
            self.found.append(SettingDeclaration(name, None, line))
            return
        self.found.append(SettingDeclaration(name, "{...}", line))
        for key, item in zip(value.keys, value.values, strict=True):
            key_text = _literal_str(key) if key is not None else None
            if key_text in ("DEFAULT_PAGINATION_CLASS", "PAGE_SIZE"):
                self.found.append(SettingDeclaration(f"{name}.{key_text}", _literal_text(item), line))

    # -- Starlette route lists -------------------------------------------------------------

    def _route_entries(self, value: ast.expr, owner: str, prefix: str, scope: _Scope) -> None:
        for entry in _list_elements(value):
            if not isinstance(entry, ast.Call):
                continue
            kind = self._qualified(entry.func, scope)
            path = _literal_str(argument(entry, 0, "path"))
            if kind in STARLETTE_ROUTE or kind in STARLETTE_WEBSOCKET_ROUTE:
                endpoint = argument(entry, 1, "endpoint")
                handler = self._qualified(endpoint, scope) if endpoint is not None else None
                if handler is None:
                    continue
                methods: tuple[str, ...]
                if kind in STARLETTE_WEBSOCKET_ROUTE:
                    methods, source = (WEBSOCKET,), MethodSource.EXPLICIT
                else:
                    methods, source = _methods_argument(keyword_value(entry, "methods"), default=("GET",))
                full = _join_literal(prefix, path)
                self.found.append(RouteBinding(owner, handler, full, methods, source, entry.lineno))
            elif kind in STARLETTE_MOUNT:
                inline = keyword_value(entry, "routes")
                app = argument(entry, 1, "app")
                if inline is not None:
                    self._route_entries(inline, owner, _join_literal(prefix, path) or "", scope)
                elif app is not None:
                    child = self._qualified(app, scope)
                    if child is not None:
                        self._mount(owner, child, _join_literal(prefix, path), False, entry.lineno)

    # -- Django urlpatterns ----------------------------------------------------------------

    def _urlpatterns(self, value: ast.expr, line: int, scope: _Scope) -> None:
        if not self.is_urlconf:
            self.is_urlconf = True
            self._router(self.module, WebFramework.DJANGO, RouterRole.URLCONF, "", line)
        self._patterns(value, "", scope, 0)

    def _patterns(self, value: ast.expr, prefix: str, scope: _Scope, depth: int) -> None:
        if depth > _MAX_PATTERN_DEPTH:
            return
        if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Add):
            self._patterns(value.left, prefix, scope, depth + 1)
            self._patterns(value.right, prefix, scope, depth + 1)
            return
        if isinstance(value, (ast.List, ast.Tuple)):
            for element in value.elts:
                self._pattern(element, prefix, scope, depth + 1)
            return
        if isinstance(value, ast.Attribute) and value.attr == "urls":
            self._mount_urls(value, prefix, scope, value.lineno)
            return
        if isinstance(value, ast.Call):
            name = self._qualified(value.func, scope)
            if name in DJANGO_PATTERN_WRAPPERS:
                for argument in value.args:
                    self._patterns(argument, prefix, scope, depth + 1)
            elif name in DJANGO_PATH_FUNCTIONS:
                self._pattern(value, prefix, scope, depth + 1)

    def _pattern(self, element: ast.expr, prefix: str, scope: _Scope, depth: int) -> None:
        if isinstance(element, ast.Starred):
            self._patterns(element.value, prefix, scope, depth)
            return
        if not isinstance(element, ast.Call):
            return
        name = self._qualified(element.func, scope)
        if name in DJANGO_PATTERN_WRAPPERS:
            self._patterns(element, prefix, scope, depth)
            return
        if name not in DJANGO_PATH_FUNCTIONS:
            return
        regex = name in DJANGO_REGEX_PATH_FUNCTIONS
        route = _literal_str(argument(element, 0, "route"))
        if route is not None and regex:
            route = _strip_regex_anchors(route)
        full = _join_literal(prefix, route)
        view = argument(element, 1, "view")
        if view is None:
            return
        self._pattern_view(view, full, regex, element.lineno, scope, depth)

    def _pattern_view(
        self, view: ast.expr, full: str | None, regex: bool, line: int, scope: _Scope, depth: int
    ) -> None:
        if isinstance(view, ast.Tuple) and view.elts:
            # Old-style `(patterns, app_name, namespace)` and `include()`'s result tuple.
            self._include_target(view.elts[0], full, line, scope, depth)
            return
        if isinstance(view, ast.Attribute) and view.attr == "urls":
            self._mount_urls(view, full, scope, line)
            return
        if isinstance(view, ast.Constant) and isinstance(view.value, str):
            # Django < 2: a dotted path to the view function.
            self._bind(self.module, view.value, full, (), MethodSource.VIEW, line, regex=regex)
            return
        if not isinstance(view, ast.Call):
            handler = self._qualified(view, scope)
            if handler is not None:
                self._bind(self.module, handler, full, (), MethodSource.VIEW, line, regex=regex)
            return
        callee = self._qualified(view.func, scope)
        if callee in DJANGO_INCLUDE_FUNCTIONS:
            target = argument(view, 0, "arg")
            if target is not None:
                self._include_target(target, full, line, scope, depth)
            return
        if isinstance(view.func, ast.Attribute) and view.func.attr == "as_view":
            handler = self._qualified(view.func.value, scope)
            if handler is not None:
                actions = _action_map(view.args[0]) if view.args else ()
                self._bind(self.module, handler, full, (), MethodSource.VIEW, line, actions=actions, regex=regex)
            return
        # A decorated view: `login_required(views.home)`, `cache_page(60)(views.home)`.
        if view.args and len(view.args) <= 2 and depth < _MAX_PATTERN_DEPTH:
            self._pattern_view(view.args[0], full, regex, line, scope, depth + 1)

    def _include_target(self, target: ast.expr, prefix: str | None, line: int, scope: _Scope, depth: int) -> None:
        if isinstance(target, ast.Tuple) and target.elts:
            self._include_target(target.elts[0], prefix, line, scope, depth)
            return
        if isinstance(target, ast.Constant) and isinstance(target.value, str):
            self._mount(self.module, target.value, prefix, False, line)
            return
        if isinstance(target, (ast.List, ast.BinOp)):
            if prefix is not None:
                self._patterns(target, prefix, scope, depth + 1)
            return
        if isinstance(target, ast.Attribute) and target.attr == "urls":
            self._mount_urls(target, prefix, scope, line)
            return
        if isinstance(target, ast.Name) and target.id in self.pattern_lists and target.id != URLPATTERNS:
            if prefix is not None:
                self._patterns(self.pattern_lists[target.id], prefix, scope, depth + 1)
            return
        if isinstance(target, ast.Attribute) and target.attr == URLPATTERNS:
            target = target.value
        child = self._qualified(target, scope)
        if child is not None:
            self._mount(self.module, child, prefix, False, line)

    def _mount_urls(self, urls: ast.Attribute, prefix: str | None, scope: _Scope, line: int) -> None:
        """`router.urls` (DRF), `api.urls` (Ninja), `admin.site.urls` (ignored: not the project's)."""
        child = self._qualified(urls.value, scope)
        if child is not None:
            self._mount(self.module, child, prefix, False, line)

    # -- calls ---------------------------------------------------------------------------

    def _call_statement(self, call: ast.Call, scope: _Scope) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute):
            return
        if isinstance(func.value, ast.Name) and func.value.id == URLPATTERNS and not scope.names:
            if func.attr in ("append", "extend", "insert") and call.args:
                patterns = call.args[-1]
                self._urlpatterns(
                    ast.List(elts=[patterns], ctx=ast.Load()) if func.attr != "extend" else patterns,
                    call.lineno,
                    scope,
                )
            return
        owner = self._qualified(func.value, scope)
        if owner is None:
            return
        method = func.attr
        line = call.lineno
        if method == "include_router":
            child = self._qualified_argument(call, 0, "router", scope)
            if child is not None:
                self._mount(owner, child, _literal_or_empty(keyword_value(call, "prefix")), False, line)
        elif method in ("register_blueprint", "register_api"):
            child = self._qualified_argument(call, 0, "blueprint", scope)
            if child is not None:
                prefix_node = keyword_value(call, "url_prefix")
                replaces = prefix_node is not None
                self._mount(owner, child, _literal_or_empty(prefix_node), replaces, line)
        elif method == "mount":
            child = self._qualified_argument(call, 1, "app", scope)
            if child is not None:
                self._mount(owner, child, _literal_str(argument(call, 0, "path")), False, line)
        elif method == "add_router":
            child = self._qualified_argument(call, 1, "router", scope)
            if child is not None:
                self._mount(owner, child, _literal_str(argument(call, 0, "prefix")), False, line)
        elif method == "add_namespace":
            child = self._qualified_argument(call, 0, "ns", scope)
            if child is not None:
                self._mount(owner, child, _literal_or_empty(keyword_value(call, "path")), True, line)
        elif method in ("add_api_route", "add_route"):
            handler = self._qualified_argument(call, 1, "endpoint", scope)
            if handler is not None:
                methods, source = _methods_argument(keyword_value(call, "methods"), default=("GET",))
                path = _literal_str(argument(call, 0, "path"))
                self._bind(owner, handler, path, methods, source, line)
        elif method in ("add_api_websocket_route", "add_websocket_route"):
            handler = self._qualified_argument(call, 1, "endpoint", scope)
            if handler is not None:
                path = _literal_str(argument(call, 0, "path"))
                self._bind(owner, handler, path, (WEBSOCKET,), MethodSource.EXPLICIT, line)
        elif method == "add_url_rule":
            self._add_url_rule(call, owner, scope)
        elif method == "register":
            self._viewset_registration(call, owner, scope)
        elif method == "add_resource":
            if call.args:
                handler = self._qualified(call.args[0], scope)
                if handler is not None:
                    paths: list[ast.expr | None] = [*call.args[1:]] or [None]
                    for path_node in paths:
                        path = _literal_str(path_node)
                        self._bind(owner, handler, path, (), MethodSource.VIEW, line)

    def _qualified_argument(self, call: ast.Call, position: int, keyword: str, scope: _Scope) -> str | None:
        node = argument(call, position, keyword)
        return self._qualified(node, scope) if node is not None else None

    def _add_url_rule(self, call: ast.Call, owner: str, scope: _Scope) -> None:
        view = argument(call, 2, "view_func")
        if view is None:
            return
        as_view = isinstance(view, ast.Call) and isinstance(view.func, ast.Attribute) and view.func.attr == "as_view"
        target = view.func.value if as_view and isinstance(view, ast.Call) and isinstance(view.func, ast.Attribute) else view
        handler = self._qualified(target, scope)
        if handler is None:
            return
        methods, source = _methods_argument(keyword_value(call, "methods"), default=("GET",))
        path = _literal_str(argument(call, 0, "rule"))
        self._bind(owner, handler, path, methods, source, call.lineno)

    def _viewset_registration(self, call: ast.Call, owner: str, scope: _Scope) -> None:
        viewset = argument(call, 1, "viewset")
        if viewset is None:
            return
        handler = self._qualified(viewset, scope)
        if handler is None:
            return
        path = _literal_str(argument(call, 0, "prefix"))
        if path is not None:
            path = _strip_regex_anchors(path)
        self._bind(owner, handler, path, (), MethodSource.VIEW, call.lineno)

    def _bind(
        self,
        router: str,
        handler: str,
        path: str | None,
        methods: tuple[str, ...],
        source: MethodSource,
        line: int,
        *,
        actions: tuple[tuple[str, str], ...] = (),
        regex: bool = False,
    ) -> None:
        self.found.append(
            RouteBinding(router, handler, path, methods, source, line, self.framework_hint, actions, regex)
        )

    # -- decorators ----------------------------------------------------------------------

    def _function_decorator(
        self, decorator: ast.expr, qualname: str, node: ast.FunctionDef | ast.AsyncFunctionDef, scope: _Scope
    ) -> None:
        call = decorator if isinstance(decorator, ast.Call) else None
        target = call.func if call is not None else decorator
        name = self._qualified(target, scope)
        if name is not None and name in VIEW_METHOD_DECORATORS:
            framework, kind, fixed = VIEW_METHOD_DECORATORS[name]
            methods = fixed
            if kind is MethodsDecorator.FIRST_ARGUMENT and call is not None:
                given = argument(call, 0, "http_method_names" if framework is WebFramework.DRF else "request_method_list")
                if given is not None:
                    methods = _literal_methods(given) or ()
            self.found.append(ViewMethodsDeclaration(qualname, framework, methods, decorator.lineno))
            return
        if name is not None and name in STANDALONE_ROUTE_DECORATORS and call is not None:
            framework, verbs = STANDALONE_ROUTE_DECORATORS[name]
            path_node = argument(call, 0, "path")
            # `@post()` serves the controller's (or app's) own path.
            path = _literal_str(path_node) if path_node is not None else ""
            if verbs:
                methods, source = verbs, MethodSource.EXPLICIT
            else:
                methods, source = _methods_argument(keyword_value(call, "http_method"), default=())
            self.found.append(
                RouteBinding("", qualname, path, methods, source, decorator.lineno, framework)
            )
            return
        if call is None or not isinstance(call.func, ast.Attribute):
            return
        verb = call.func.attr
        if verb not in HTTP_METHODS and verb not in ROUTE_DECORATORS and verb not in WEBSOCKET_DECORATORS:
            if verb == "api_operation":
                methods, source = _methods_argument(argument(call, 0, "methods"), default=())
                path = _literal_str(argument(call, 1, "path"))
                router = self._qualified(call.func.value, scope) or ""
                self._bind(router, qualname, path, methods, source, decorator.lineno)
            return
        router = self._qualified(call.func.value, scope) or ""
        path_node = argument(call, 0, "path")
        if path_node is None:
            path_node = keyword_value(call, "rule")
        path = _literal_str(path_node)
        if verb in WEBSOCKET_DECORATORS:
            methods, source = (WEBSOCKET,), MethodSource.EXPLICIT
        elif verb in ROUTE_DECORATORS:
            methods, source = _methods_argument(keyword_value(call, "methods"), default=("GET",))
        else:
            methods, source = (verb.upper(),), MethodSource.EXPLICIT
        self._bind(router, qualname, path, methods, source, decorator.lineno)

    def _class_route_decorator(self, call: ast.Call, qualname: str, scope: _Scope) -> None:
        """flask-restx `@ns.route("/items")` on a Resource class."""
        if not isinstance(call.func, ast.Attribute) or call.func.attr != "route":
            return
        router = self._qualified(call.func.value, scope)
        if router is None:
            return
        paths: list[ast.expr | None] = [*call.args] or [None]
        for path_node in paths:
            self._bind(router, qualname, _literal_str(path_node), (), MethodSource.VIEW, call.lineno)

    def _view_class(self, node: ast.ClassDef, qualname: str, actions_only: bool = False) -> None:
        http_method_names: tuple[str, ...] | None = None
        methods: tuple[str, ...] | None = None
        pagination = Pagination.UNSET
        path: str | None = None
        actions: list[ActionDeclaration] = []
        for statement in node.body:
            if isinstance(statement, (ast.Assign, ast.AnnAssign)) and statement.value is not None:
                names = [
                    target.id
                    for target in (statement.targets if isinstance(statement, ast.Assign) else [statement.target])
                    if isinstance(target, ast.Name)
                ]
                value = statement.value
                for name in names:
                    if name == "http_method_names":
                        literal = _literal_strings(value)
                        http_method_names = tuple(item.lower() for item in literal) if literal is not None else None
                    elif name == "methods":
                        methods = _literal_methods(value)
                    elif name in ("pagination_class", "paginate_by"):
                        disabled = isinstance(value, ast.Constant) and value.value is None
                        pagination = Pagination.DISABLED if disabled else Pagination.CONFIGURED
                    elif name == "path":
                        path = _literal_str(value)
            elif isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)):
                action = self._action(statement)
                if action is not None:
                    actions.append(action)
        if http_method_names is None and methods is None and pagination is Pagination.UNSET and path is None and not actions:
            return
        if actions_only:
            # A mixin without bases brings its `@action`s and its `pagination_class` to the views that inherit it.
            if not actions and pagination is Pagination.UNSET:
                return
            http_method_names, methods, path = None, None, None
        self.found.append(
            ViewClassDeclaration(qualname, node.lineno, http_method_names, methods, tuple(actions), pagination, path)
        )

    def _action(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ActionDeclaration | None:
        for decorator in node.decorator_list:
            call = decorator if isinstance(decorator, ast.Call) else None
            name = self.resolver.qualified_name(call.func if call is not None else decorator)
            if name not in DRF_ACTION_DECORATORS:
                continue
            methods: tuple[str, ...] = ("GET",)
            detail: bool | None = name.endswith("detail_route") or None
            url_path: str | None = None
            if call is not None:
                methods_node = keyword_value(call, "methods")
                if methods_node is not None:
                    methods = _literal_methods(methods_node) or ()
                detail_node = keyword_value(call, "detail")
                if isinstance(detail_node, ast.Constant) and isinstance(detail_node.value, bool):
                    detail = detail_node.value
                url_path = _literal_str(keyword_value(call, "url_path"))
            if name.endswith("list_route"):
                detail = False
            return ActionDeclaration(node.name, methods, detail, url_path)
        return None

    # -- what functions return -----------------------------------------------------------

    def _returned_calls(self, qualname: str, scope: _Scope, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        seen: set[tuple[str, int, int]] = set()
        for statement in scope.returns:
            if statement.value is None:
                continue
            for payload in expand_payload(statement.value, scope.bindings, lambda node: self._symbol(node, scope)):
                leaf = payload.expression
                if not isinstance(leaf, ast.Call):
                    continue
                callee = self._callee(leaf.func, scope)
                if callee is None:
                    continue
                key = (callee, leaf.lineno, leaf.col_offset + 1)
                if key not in seen:
                    seen.add(key)
                    handed_back = handed_back_keywords(leaf, scope.bindings, function)
                    self.found.append(ReturnedCall(qualname, callee, leaf.lineno, leaf.col_offset + 1, handed_back))


def handed_back_keywords(
    call: ast.Call, bindings: Bindings, function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda
) -> tuple[str, ...]:
    """See `ReturnedCall.handed_back`."""
    if isinstance(function, ast.Lambda):
        return ()
    arguments = function.args
    parameters = {argument.arg for argument in (*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs)}
    return _handed_back(call, bindings, parameters, function)


def _handed_back(
    call: ast.Call, bindings: Bindings, parameters: set[str], function: ast.FunctionDef | ast.AsyncFunctionDef
) -> tuple[str, ...]:
    """The keywords of `call` whose value the caller already holds, or the record it just created."""
    found: list[str] = []
    for keyword in call.keywords:
        value = keyword.value
        if keyword.arg is None:
            continue
        if isinstance(value, ast.Name) and value.id in parameters:
            found.append(keyword.arg)
            continue
        if not (isinstance(value, ast.Attribute) and isinstance(value.value, ast.Name)):
            continue
        record = value.value.id
        bound = bindings.get(record, [])
        if len(bound) != 1 or bound[0] is None:
            continue
        if _looked_up_by(bound[0], value.attr, parameters) or _created_and_saved(bound[0], record, function):
            found.append(keyword.arg)
    return tuple(found)


def _looked_up_by(query: ast.expr, attribute: str, parameters: set[str]) -> bool:
    """`select(Job).filter_by(token=token)`, `Job.objects.get(token=token)`, `Job.token == token`:
    the record was found by the value the caller sent for that attribute."""
    for node in ast.walk(query):
        if isinstance(node, ast.keyword) and node.arg == attribute:
            if isinstance(node.value, ast.Name) and node.value.id in parameters:
                return True
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and isinstance(node.ops[0], ast.Eq):
            sides = [node.left, node.comparators[0]]
            if any(isinstance(side, ast.Attribute) and side.attr == attribute for side in sides) and any(
                isinstance(side, ast.Name) and side.id in parameters for side in sides
            ):
                return True
    return False


_SAVING_METHODS = frozenset({"add", "add_all", "save", "merge", "persist"})


def _created_and_saved(value: ast.expr, record: str, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """`job = JobRequest(...)` then `session.add(job)` or `job.save()`: a record the function created
    and stored, whose generated values (its handle, its token) it hands to the caller who created it."""
    if not isinstance(value, ast.Call):
        return False
    func = value.func
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
    if not name[:1].isupper():
        return False
    for node in ast.walk(function):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute) or node.func.attr not in _SAVING_METHODS:
            continue
        receiver_is_record = isinstance(node.func.value, ast.Name) and node.func.value.id == record
        passes_record = any(isinstance(argument, ast.Name) and argument.id == record for argument in node.args)
        if receiver_is_record or passes_record:
            return True
    return False


# Builtins whose result is never a project function's result.
_NOT_CALLEES = frozenset({"len", "str", "int", "float", "bool", "dict", "repr", "isinstance", "getattr", "super"})


_LOOPS_AND_BRANCHES = (ast.If, ast.For, ast.AsyncFor, ast.While)
_WITH = (ast.With, ast.AsyncWith)
_TRY = (ast.Try, getattr(ast, "TryStar", ast.Try))


def _nested_blocks(statement: ast.stmt) -> Iterator[list[ast.stmt]]:
    """The statement lists inside a compound statement (if/for/while/try/with/match)."""
    if isinstance(statement, _LOOPS_AND_BRANCHES):
        yield statement.body
        if statement.orelse:
            yield statement.orelse
    elif isinstance(statement, _WITH):
        yield statement.body
    elif isinstance(statement, _TRY):
        yield statement.body
        for handler in statement.handlers:
            yield handler.body
        if statement.orelse:
            yield statement.orelse
        if statement.finalbody:
            yield statement.finalbody
    elif isinstance(statement, ast.Match):
        for case in statement.cases:
            yield case.body


def _literal_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


def _literal_or_empty(node: ast.expr | None) -> str | None:
    """A prefix keyword: "" when not given, None when given but not a literal."""
    if node is None:
        return ""
    return _literal_str(node)


def _literal_text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and (node.value is None or isinstance(node.value, (str, int, bool))):
        return str(node.value)
    return None


def _literal_strings(node: ast.expr) -> tuple[str, ...] | None:
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        values = [_literal_str(element) for element in node.elts]
        if all(value is not None for value in values):
            return tuple(value for value in values if value is not None)
    return None


def _literal_methods(node: ast.expr) -> tuple[str, ...] | None:
    strings = _literal_strings(node)
    if strings is None:
        return None
    return tuple(sorted({value.upper() for value in strings}))


def _methods_argument(node: ast.expr | None, default: tuple[str, ...]) -> tuple[tuple[str, ...], MethodSource]:
    if node is None:
        return default, MethodSource.FRAMEWORK_DEFAULT
    methods = _literal_methods(node)
    if methods is None:
        return (), MethodSource.UNKNOWN
    return methods, MethodSource.EXPLICIT


def _action_map(node: ast.expr) -> tuple[tuple[str, str], ...]:
    if not isinstance(node, ast.Dict):
        return ()
    pairs: list[tuple[str, str]] = []
    for key, value in zip(node.keys, node.values, strict=True):
        verb, action = _literal_str(key), _literal_str(value)
        if verb is not None and action is not None:
            pairs.append((verb.upper(), action))
    return tuple(sorted(pairs))


def _strip_regex_anchors(route: str) -> str:
    return route.removeprefix("^").removesuffix("$")


def _join_literal(prefix: str | None, path: str | None) -> str | None:
    if prefix is None or path is None:
        return None
    return prefix + path


def _may_hold_patterns(value: ast.expr) -> bool:
    """A list literal, a concatenation, `router.urls` or a wrapper call: what urlpatterns are made of."""
    if isinstance(value, (ast.List, ast.Tuple, ast.BinOp)):
        return True
    return isinstance(value, ast.Attribute) and value.attr == "urls"


def _list_elements(value: ast.expr) -> Iterator[ast.expr]:
    # A stack, not recursion: generated code concatenates thousands of lists.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (ast.List, ast.Tuple)):
            yield from item.elts
        elif isinstance(item, ast.BinOp) and isinstance(item.op, ast.Add):
            stack += [item.right, item.left]


def extract_route_declarations(tree: ast.Module, resolver: NameResolver) -> tuple[RouteDeclaration, ...]:
    """Every routing fact of one module, in source order of discovery."""
    extractor = _RouteExtractor(resolver)
    extractor.run(tree)
    return tuple(extractor.found)
