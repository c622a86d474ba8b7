"""The handler registry: every request handler of the project, with its methods and routes.

Built once per project index (`index.view("handlers", build_registry)`) from the route
declarations of every module: routers and their prefixes, mounts (include_router,
register_blueprint, Django include()), route bindings, class-based views and their
framework bases, DRF viewsets and routers.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import msgspec

from backbone.records import Record
from backbone.review.frameworks.catalog import (
    DRF_ACTIONS,
    DRF_LIST_ACTION,
    DRF_MIXIN_ACTIONS,
    HTTP_METHODS,
    VIEW_BASES,
    RouterRole,
    ViewBase,
    ViewFamily,
    WebFramework,
)
from backbone.review.frameworks.declarations import (
    ActionDeclaration,
    MethodSource,
    MountDeclaration,
    Pagination,
    ReturnedCall,
    RouteBinding,
    RouterDeclaration,
    SettingDeclaration,
    ViewClassDeclaration,
    ViewMethodsDeclaration,
)
from backbone.review.project import SUPER_CALL

if TYPE_CHECKING:
    from backbone.review.project import ProjectIndex

_MAX_ROUTES = 8
_MAX_DEPTH = 12
_DETAIL_LOOKUP = "{pk}"


class Handler(Record, frozen=True):
    """A project function or method that a framework routes HTTP requests to."""

    qualname: str
    framework: WebFramework
    # Upper-case verbs; empty when the handler accepts any method or backbone can't tell.
    # A websocket endpoint has {"WEBSOCKET"}.
    methods: frozenset[str]
    # The full route template with every known prefix, or None when it can't be determined.
    route: str | None
    # Every route the handler is served at (a function can be bound more than once).
    routes: tuple[str, ...]
    path: str
    line: int
    is_async: bool
    class_based: bool
    # The class-based view the method belongs to, and the DRF action it implements.
    view_class: str | None = None
    action: str | None = None

    def answers(self, method: str) -> bool:
        """Known to answer `method` ("GET"): named explicitly, never assumed from "any method"."""
        return method.upper() in self.methods

    @property
    def answers_get(self) -> bool:
        return "GET" in self.methods


class ViewAction(Record, frozen=True):
    """What a class-based view answers: a verb method (get) or a DRF viewset action (list)."""

    name: str
    methods: frozenset[str]
    # DRF: the action works on one object (retrieve, update) rather than the collection.
    detail: bool | None
    # The project function implementing it; None when the framework's base class does.
    handler: str | None
    # The framework implements it by returning the whole collection (ListView.get, DRF list).
    lists: bool


class ViewClass(Record, frozen=True):
    """A project class-based view (Django View/generic, DRF APIView/ViewSet, Flask MethodView...)."""

    qualname: str
    framework: WebFramework
    family: ViewFamily
    path: str
    line: int
    routes: tuple[str, ...]
    actions: tuple[ViewAction, ...]
    # The pagination its own body or its project bases set (UNSET: the framework default applies).
    pagination: Pagination
    # The framework base classes, most specific first.
    bases: tuple[str, ...]
    # Wired by a route (a urls.py entry, a router registration, add_url_rule ...).
    routed: bool

    def action(self, name: str) -> ViewAction | None:
        for action in self.actions:
            if action.name == name:
                return action
        return None

    @property
    def list_actions(self) -> tuple[ViewAction, ...]:
        """The GET actions the framework implements by returning the whole collection."""
        return tuple(action for action in self.actions if action.lists and "GET" in action.methods)


class HandlerRegistry(msgspec.Struct):
    """Every handler of the project, by the qualified name of its function."""

    by_qualname: dict[str, Handler] = msgspec.field(default_factory=dict)
    view_classes: dict[str, ViewClass] = msgspec.field(default_factory=dict)
    # DRF's DEFAULT_PAGINATION_CLASS with a PAGE_SIZE in settings: True; set off or absent
    # from a settings module that was reviewed: False; no settings seen, or not literal: None.
    drf_default_pagination: bool | None = None
    # A settings module sets REST_FRAMEWORK to something backbone can't read (a function's
    # result): the default pagination is unknown although the project configures it.
    drf_settings_opaque: bool = False
    # callee qualname -> the project functions that answer with what it returns.
    returned_by: dict[str, list[ReturnedCall]] = msgspec.field(default_factory=dict)

    def get(self, qualname: str) -> Handler | None:
        return self.by_qualname.get(qualname)

    def __contains__(self, qualname: object) -> bool:
        return qualname in self.by_qualname

    def __iter__(self) -> Iterator[Handler]:
        return iter(self.by_qualname.values())

    def __len__(self) -> int:
        return len(self.by_qualname)

    def view_class(self, qualname: str) -> ViewClass | None:
        return self.view_classes.get(qualname)

    def counts(self) -> dict[WebFramework, int]:
        """Handlers per framework."""
        counts: dict[WebFramework, int] = {}
        for handler in self:
            counts[handler.framework] = counts.get(handler.framework, 0) + 1
        return counts

    def returning_callers(self, qualname: str) -> list[ReturnedCall]:
        """The functions whose return value includes what `qualname` returns."""
        return self.returned_by.get(qualname, [])

    def paginated(self, view: ViewClass) -> bool | None:
        """Whether the framework paginates the view's list: its class says, else the settings do."""
        if view.pagination is Pagination.CONFIGURED:
            return True
        if view.pagination is Pagination.DISABLED:
            return False
        if view.framework is WebFramework.DRF:
            return self.drf_default_pagination
        return False


class _HandlerDraft(msgspec.Struct):
    qualname: str
    framework: WebFramework
    methods: set[str] = msgspec.field(default_factory=set)
    any_method: bool = False
    routes: list[str] = msgspec.field(default_factory=list)
    unrouted: bool = False
    class_based: bool = False
    view_class: str | None = None
    action: str | None = None


class _Builder:
    def __init__(self, index: ProjectIndex) -> None:
        self.index = index
        self.routers: dict[str, RouterDeclaration] = {}
        self.mounts: dict[str, list[MountDeclaration]] = {}
        self.bindings: list[RouteBinding] = []
        self.view_methods: dict[str, ViewMethodsDeclaration] = {}
        self.view_declarations: dict[str, ViewClassDeclaration] = {}
        self.settings: list[SettingDeclaration] = []
        self.returned_calls: list[ReturnedCall] = []
        self.function_paths: dict[str, str] = {}
        self.class_paths: dict[str, str] = {}
        self.drafts: dict[str, _HandlerDraft] = {}
        self.view_classes: dict[str, ViewClass] = {}
        self._prefix_cache: dict[str, list[str | None]] = {}
        self._router_suffixes: dict[str, list[str]] | None = None
        self._collect()

    def _collect(self) -> None:
        mounts: list[MountDeclaration] = []
        for facts in sorted(self.index.modules.values(), key=lambda item: item.path):
            for qualname in facts.functions:
                self.function_paths.setdefault(qualname, facts.path)
            for qualname in facts.classes:
                self.class_paths.setdefault(qualname, facts.path)
            for declaration in facts.routes:
                if isinstance(declaration, RouterDeclaration):
                    self.routers.setdefault(declaration.symbol, declaration)
                elif isinstance(declaration, RouteBinding):
                    self.bindings.append(declaration)
                elif isinstance(declaration, MountDeclaration):
                    mounts.append(declaration)
                elif isinstance(declaration, ViewMethodsDeclaration):
                    self.view_methods.setdefault(declaration.function, declaration)
                elif isinstance(declaration, ViewClassDeclaration):
                    self.view_declarations.setdefault(declaration.qualname, declaration)
                elif isinstance(declaration, SettingDeclaration):
                    self.settings.append(declaration)
                elif isinstance(declaration, ReturnedCall):
                    self.returned_calls.append(declaration)
        for mount in mounts:
            child = self.symbol(mount.child)
            self.mounts.setdefault(child, []).append(mount)

    # -- names ---------------------------------------------------------------------------

    def symbol(self, name: str, depth: int = 0) -> str:
        """Follow imports and re-exports (`from .api import router`) to where `name` is defined."""
        if depth > _MAX_DEPTH or name in self.routers or name in self.index.modules:
            return name
        if name in self.index.functions or name in self.index.classes:
            return name
        parts = name.split(".")
        for split in range(len(parts) - 1, 0, -1):
            module = ".".join(parts[:split])
            facts = self.index.modules.get(module)
            if facts is None:
                continue
            head, rest = parts[split], parts[split + 1 :]
            if head in facts.imports:
                return self.symbol(".".join([facts.imports[head], *rest]), depth + 1)
            resolved = self.index.resolve(name)
            return resolved if self._known(resolved) else self._namespace_suffix(resolved)
        return self._namespace_suffix(name)

    def _known(self, name: str) -> bool:
        return name in self.routers or name in self.index.functions or name in self.index.classes

    def _namespace_suffix(self, name: str) -> str:
        """Where the project's module names and its imports disagree about the import root.

        `open_webui.routers.chats.router` for a module indexed as `chats` (a directory
        without `__init__.py` starts module names): the longest known suffix of the name.
        `include("tasks.urls")` for a urls module indexed as `label_studio.tasks.urls` (the
        project puts its package directory on sys.path): the one router named so.
        """
        parts = name.split(".")
        for start in range(1, len(parts) - 1):
            candidate = ".".join(parts[start:])
            if self._known(candidate):
                return candidate
        if len(parts) >= 2:
            if self._router_suffixes is None:
                self._router_suffixes = {}
                for symbol in self.routers:
                    pieces = symbol.split(".")
                    for start in range(1, len(pieces) - 1):
                        self._router_suffixes.setdefault(".".join(pieces[start:]), []).append(symbol)
            matches = self._router_suffixes.get(name, [])
            if len(matches) == 1:
                return matches[0]
        return name

    # -- prefixes ------------------------------------------------------------------------

    def prefixes(self, symbol: str, visiting: frozenset[str] = frozenset()) -> list[str | None]:
        """The full path prefixes `symbol` (a router, or a handler mounted directly) is served at."""
        if symbol in self._prefix_cache:
            return self._prefix_cache[symbol]
        router = self.routers.get(symbol)
        own = router.prefix if router is not None else ""
        mounts = self.mounts.get(symbol, [])
        if not mounts or symbol in visiting or len(visiting) > _MAX_DEPTH:
            result: list[str | None] = [own]
        else:
            result = []
            for mount in mounts:
                for parent in self.prefixes(self.symbol(mount.parent), visiting | {symbol}):
                    if parent is None or mount.prefix is None:
                        result.append(None)
                    else:
                        result.append(join_path(join_path(parent, mount.prefix), "" if mount.replaces_prefix else own))
            result = list(dict.fromkeys(result))[:_MAX_ROUTES]
        if not visiting:
            self._prefix_cache[symbol] = result
        return result

    def routes_of(self, binding: RouteBinding, router: str, extra: str = "") -> list[str | None]:
        if binding.path is None:
            return [None]
        routes: list[str | None] = []
        for prefix in self.prefixes(router) if router else [""]:
            if prefix is None:
                routes.append(None)
            else:
                routes.append(_absolute(join_path(join_path(prefix, extra), binding.path)))
        return routes

    # -- handlers ------------------------------------------------------------------------

    def build(self) -> HandlerRegistry:
        for binding in self.bindings:
            self._binding(binding)
        for function, declaration in self.view_methods.items():
            resolved = self.index.resolve(function)
            if resolved in self.index.functions and resolved not in self.drafts:
                draft = self._draft(resolved, declaration.framework)
                draft.unrouted = True
                self._view_function_methods(draft, declaration)
        for class_qualname in sorted(self.index.classes):
            if class_qualname not in self.view_classes:
                self._class_view(class_qualname, [], routed=False)
        registry = HandlerRegistry(
            view_classes=self.view_classes,
            drf_default_pagination=self._drf_pagination(),
            drf_settings_opaque=any(item.name == "REST_FRAMEWORK" and item.value is None for item in self.settings),
        )
        for qualname, draft in self.drafts.items():
            controller = self.view_classes.get(self._owner(qualname))
            if controller is not None and controller.family is ViewFamily.CONTROLLER:
                draft.class_based, draft.view_class = True, controller.qualname
            facts = self.index.functions.get(qualname)
            if facts is None:
                continue
            routes = tuple(dict.fromkeys(route for route in draft.routes))
            registry.by_qualname[qualname] = Handler(
                qualname=qualname,
                framework=draft.framework,
                methods=frozenset() if draft.any_method else frozenset(draft.methods),
                route=routes[0] if routes else None,
                routes=routes,
                path=self.function_paths.get(qualname, ""),
                line=facts.line,
                is_async=facts.is_async,
                class_based=draft.class_based,
                view_class=draft.view_class,
                action=draft.action,
            )
        for call in self.returned_calls:
            target = self.index.function(call.callee)
            callee = target.qualname if target is not None else call.callee
            registry.returned_by.setdefault(callee, []).append(call)
        return registry

    def _draft(self, qualname: str, framework: WebFramework) -> _HandlerDraft:
        draft = self.drafts.get(qualname)
        if draft is None:
            draft = self.drafts[qualname] = _HandlerDraft(qualname, framework)
        return draft

    def _binding(self, binding: RouteBinding) -> None:
        router_symbol = self.symbol(binding.router) if binding.router else ""
        router = self.routers.get(router_symbol)
        framework = self._binding_framework(binding, router)
        if framework is None:
            return
        target = self.symbol(binding.handler)
        if target not in self.index.functions and target not in self.index.classes:
            target = self.index.resolve(target)
        if target in self.index.classes:
            if router is not None and router.role is RouterRole.VIEWSET_ROUTER:
                self._class_view(target, [binding], routed=True, viewset_router=router_symbol)
            else:
                self._class_view(target, [binding], routed=True, router_symbol=router_symbol)
            return
        if target not in self.index.functions:
            return
        if router is not None and router.role is RouterRole.VIEWSET_ROUTER:
            return
        extra = self._controller_prefix(target)
        prefix_symbol = router_symbol or (target if target in self.mounts else self._owner(target))
        routes = self.routes_of(binding, prefix_symbol, extra) if prefix_symbol else self.routes_of(binding, "", extra)
        declaration = self.view_methods.get(target)
        if declaration is not None and framework is WebFramework.DJANGO:
            framework = declaration.framework
        draft = self._draft(target, framework)
        self._add_routes(draft, routes)
        if binding.method_source in (MethodSource.EXPLICIT, MethodSource.FRAMEWORK_DEFAULT):
            draft.methods.update(binding.methods)
        elif binding.method_source is MethodSource.VIEW and declaration is not None:
            self._view_function_methods(draft, declaration)
        else:
            draft.any_method = True

    def _binding_framework(self, binding: RouteBinding, router: RouterDeclaration | None) -> WebFramework | None:
        if router is not None:
            return router.framework
        if not binding.router:
            return binding.framework_hint
        # A routing object backbone can't see (`app = create_app()`, a parameter): trust a
        # route decorator with a literal path in a module that imports one web framework.
        if binding.method_source is MethodSource.VIEW or binding.path is None or binding.framework_hint is None:
            return None
        if binding.framework_hint is WebFramework.LITESTAR:
            return None
        return binding.framework_hint

    def _controller_prefix(self, function: str) -> str:
        owner = self._owner(function)
        declaration = self.view_declarations.get(owner) if owner else None
        return (declaration.path or "") if declaration is not None else ""

    def _owner(self, function: str) -> str:
        owner = function.rpartition(".")[0]
        return owner if owner in self.index.classes else ""

    @staticmethod
    def _add_routes(draft: _HandlerDraft, routes: list[str | None]) -> None:
        for route in routes:
            if route is None:
                draft.unrouted = True
            elif route not in draft.routes and len(draft.routes) < _MAX_ROUTES:
                draft.routes.append(route)

    @staticmethod
    def _view_function_methods(draft: _HandlerDraft, declaration: ViewMethodsDeclaration) -> None:
        if declaration.methods:
            draft.methods.update(declaration.methods)
        else:
            draft.any_method = True

    # -- class-based views ---------------------------------------------------------------

    def _mro(self, qualname: str) -> list[str]:
        """The class and its bases, project classes first in DFS order, framework bases as named."""
        order: list[str] = []
        stack = [qualname]
        while stack and len(order) < 64:
            name = stack.pop()
            if name in order:
                continue
            order.append(name)
            facts = self.index.classes.get(name)
            if facts is not None:
                stack.extend(reversed([self.symbol(base) for base in facts.bases]))
        return order

    def _class_view(
        self,
        qualname: str,
        bindings: list[RouteBinding],
        *,
        routed: bool,
        router_symbol: str = "",
        viewset_router: str = "",
    ) -> None:
        mro = self._mro(qualname)
        framework_bases = [(name, VIEW_BASES[name]) for name in mro if name in VIEW_BASES]
        if not framework_bases:
            return
        family = framework_bases[0][1].family
        if any(base.family is ViewFamily.VIEWSET for _, base in framework_bases):
            # A mixin based on GenericAPIView listed before ModelViewSet: still a viewset.
            family = ViewFamily.VIEWSET
        framework = WebFramework.DRF if any(base.framework is WebFramework.DRF for _, base in framework_bases) else framework_bases[0][1].framework
        declarations = [self.view_declarations[name] for name in mro if name in self.view_declarations]
        http_method_names = next(
            (item.http_method_names for item in declarations if item.http_method_names is not None), None
        )
        pagination = next((item.pagination for item in declarations if item.pagination is not Pagination.UNSET), Pagination.UNSET)
        if family is ViewFamily.VIEWSET:
            actions = self._viewset_actions(qualname, mro, [base for _, base in framework_bases], declarations)
        elif family is ViewFamily.DISPATCH:
            actions = self._dispatch_actions(qualname, declarations)
        elif family is ViewFamily.CONTROLLER:
            actions = []
        else:
            actions = self._verb_actions(qualname, [base for _, base in framework_bases])
        if http_method_names is not None:
            allowed = {name.upper() for name in http_method_names}
            actions = [
                ViewAction(a.name, a.methods & allowed, a.detail, a.handler, a.lists) for a in actions if a.methods & allowed
            ]
        routes: list[str] = []
        existing = self.view_classes.get(qualname)
        if existing is not None:
            routes = list(existing.routes)
            routed = routed or existing.routed
        for binding in bindings:
            mapping = dict(binding.actions)
            if mapping:
                actions = [
                    ViewAction(a.name, frozenset(verb for verb, name in mapping.items() if name == a.name), a.detail, a.handler, a.lists)
                    for a in actions
                    if a.name in mapping.values()
                ]
            if viewset_router:
                action_routes = self._viewset_routes(binding, viewset_router, actions)
            else:
                plain = [route for route in self.routes_of(binding, router_symbol) if route is not None]
                action_routes = {action.name: plain for action in actions}
            for action in actions:
                for route in action_routes.get(action.name, []):
                    if route not in routes:
                        routes.append(route)
                if action.handler is not None:
                    draft = self._draft(action.handler, framework)
                    self._class_draft(draft, qualname, action, family)
                    self._add_routes(draft, list(action_routes.get(action.name, [])) or [None])
        if not bindings:
            for action in actions:
                if action.handler is not None and action.handler not in self.drafts:
                    draft = self._draft(action.handler, framework)
                    self._class_draft(draft, qualname, action, family)
                    draft.unrouted = True
        self.view_classes[qualname] = ViewClass(
            qualname=qualname,
            framework=framework,
            family=family,
            path=self.class_paths.get(qualname, ""),
            line=self.index.classes[qualname].line if qualname in self.index.classes else 0,
            routes=tuple(routes[:_MAX_ROUTES]),
            actions=tuple(actions),
            pagination=pagination,
            bases=tuple(name for name, _ in framework_bases),
            routed=routed,
        )

    @staticmethod
    def _class_draft(draft: _HandlerDraft, view: str, action: ViewAction, family: ViewFamily) -> None:
        draft.class_based = True
        draft.view_class = draft.view_class or view
        if family is ViewFamily.VIEWSET:
            draft.action = draft.action or action.name
        if action.methods:
            draft.methods.update(action.methods)
        else:
            draft.any_method = True

    def _verb_actions(self, qualname: str, bases: list[ViewBase]) -> list[ViewAction]:
        implied: dict[str, bool] = {}
        for base in bases:
            for verb in base.implied:
                implied.setdefault(verb, base.lists == verb)
        actions: list[ViewAction] = []
        for verb in HTTP_METHODS:
            handler = self.index.method(qualname, verb)
            if handler is None and verb not in implied:
                continue
            lists = handler is None and implied.get(verb, False)
            actions.append(ViewAction(verb, frozenset({verb.upper()}), None, handler, lists))
        return actions

    def _defers_to_framework(self, handler: str, name: str) -> bool:
        """A project override (`def list(self, request)`) that calls `super().list(...)`: the
        framework's implementation still runs."""
        facts = self.index.functions.get(handler)
        if facts is None:
            return False
        return any(call.callee == f"{SUPER_CALL}{name}" for call in facts.calls)

    def _dispatch_actions(self, qualname: str, declarations: list[ViewClassDeclaration]) -> list[ViewAction]:
        handler = self.index.method(qualname, "dispatch_request")
        methods = next((item.methods for item in declarations if item.methods is not None), ("GET",))
        return [ViewAction("dispatch_request", frozenset(methods), None, handler, False)]

    def _viewset_actions(
        self, qualname: str, mro: list[str], bases: list[ViewBase], declarations: list[ViewClassDeclaration]
    ) -> list[ViewAction]:
        names: list[str] = []
        # Only viewset bases imply actions: a Django view mixed in (`FormView`) implies verbs.
        for base in bases:
            if base.family is ViewFamily.VIEWSET:
                names += [name for name in base.implied if name in DRF_ACTIONS and name not in names]
        for name in mro:
            names += [action for action in DRF_MIXIN_ACTIONS.get(name, ()) if action not in names]
        for action in DRF_ACTIONS:
            if action not in names and self.index.method(qualname, action) is not None:
                names.append(action)
        actions: list[ViewAction] = []
        for name in names:
            verb, detail = DRF_ACTIONS[name]
            handler = self.index.method(qualname, name)
            lists = name == DRF_LIST_ACTION and (handler is None or self._defers_to_framework(handler, name))
            actions.append(ViewAction(name, frozenset({verb}), detail, handler, lists))
        extra: dict[str, ActionDeclaration] = {}
        for declaration in declarations:
            for declared_action in declaration.actions:
                extra.setdefault(declared_action.method, declared_action)
        for method_name, declared in extra.items():
            handler = self.index.method(qualname, method_name)
            actions.append(ViewAction(method_name, frozenset(declared.methods), declared.detail, handler, False))
        # Verb methods on a viewset (`def get`) are reachable only through as_view mappings; skip.
        return actions

    def _viewset_routes(
        self, binding: RouteBinding, router: str, actions: list[ViewAction]
    ) -> dict[str, list[str]]:
        collection = [route for route in self.routes_of(binding, router) if route is not None]
        routes: dict[str, list[str]] = {}
        for action in actions:
            found: list[str] = []
            for base in collection:
                path = base.rstrip("/") + "/"
                if action.detail:
                    path += _DETAIL_LOOKUP + "/"
                if action.name not in DRF_ACTIONS:
                    declared = self._action_path(action.name)
                    path += declared + "/"
                found.append(path)
            routes[action.name] = found
        return routes

    def _action_path(self, method_name: str) -> str:
        for declaration in self.view_declarations.values():
            for action in declaration.actions:
                if action.method == method_name and action.url_path:
                    return action.url_path
        return method_name

    def _drf_pagination(self) -> bool | None:
        values = {setting.name: setting for setting in self.settings}
        rest = values.get("REST_FRAMEWORK")
        if rest is None:
            # Settings without REST_FRAMEWORK use DRF's defaults: no pagination.
            return False if "ROOT_URLCONF" in values else None
        if rest.value is None:
            return None
        pagination_class = values.get("REST_FRAMEWORK.DEFAULT_PAGINATION_CLASS")
        page_size = values.get("REST_FRAMEWORK.PAGE_SIZE")
        if pagination_class is None or pagination_class.value == "None":
            return False
        if pagination_class.value is None or (page_size is not None and page_size.value is None):
            return None
        # A pagination class with no PAGE_SIZE paginates only if the class sets its own size.
        if page_size is not None and page_size.value != "None":
            return True
        return True if self._sizes_own_pages(pagination_class.value) else None

    def _sizes_own_pages(self, dotted: str) -> bool:
        """A project pagination class that decides its own page size (`get_limit()`,
        `get_page_size()` or `paginate_queryset()` overridden): it pages without PAGE_SIZE."""
        qualname = self.index.resolve(dotted)
        return any(self.index.method(qualname, name) for name in ("get_limit", "get_page_size", "paginate_queryset"))


def join_path(prefix: str, path: str) -> str:
    """Join two route fragments without doubling or losing the slash between them."""
    if not prefix:
        return path
    if not path:
        return prefix
    if prefix.endswith("/") and path.startswith("/"):
        return prefix + path[1:]
    return prefix + path


def _absolute(route: str) -> str:
    return route if route.startswith("/") else "/" + route


def build_registry(index: ProjectIndex) -> HandlerRegistry:
    return _Builder(index).build()
