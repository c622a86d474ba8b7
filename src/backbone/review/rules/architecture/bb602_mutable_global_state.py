"""BB602 mutable-global-state: a handler, or a function it calls, changes module-level state."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, cast

from backbone.findings import Confidence, Severity
from backbone.records import Record
from backbone.review.frameworks import qualname_of
from backbone.review.knowledge import state
from backbone.review.knowledge.domains import identifier_words
from backbone.review.knowledge.logging import reporting_of_call
from backbone.review.knowledge.paths import is_test_path
from backbone.review.knowledge.state import Container
from backbone.review.names import dotted_name
from backbone.review.orm import QueryKind, module_flows, query_chain
from backbone.review.orm.access import project_knowledge
from backbone.review.orm.origins import origin_of
from backbone.review.orm.values import Origin
from backbone.review.project import ProjectIndex
from backbone.review.rules.architecture._support import handler_qualnames, short_name
from backbone.review.rules.base import OptionValue, Rule, RuleDoc, RuleOption, Scope
from backbone.review.semantic import parameter_names, parameter_positions

if TYPE_CHECKING:
    from backbone.review.context import FileContext

# Mutators whose arguments are what gets stored (not `pop(key)` or `remove(item)`).
_STORING_MUTATORS = frozenset({"append", "extend", "insert", "update", "setdefault", "add"})
# Objects of the framework that hold what the current request (or its user) carries.
_REQUEST_GLOBALS = state.REQUEST_OBJECTS | frozenset(
    {"flask_login.current_user", "flask_security.current_user", "bottle.request", "sanic.request"}
)
_FIX = (
    "Keep the state in a shared store (the database, Redis, the framework's cache or session), "
    "or pass it through the request, instead of a module-level variable."
)
_FIX_CACHE = (
    "Cache in a shared store with an expiry (Redis, Django's cache framework) and invalidate it where the data "
    "changes, or read the database each time."
)
_CACHE_CONSEQUENCE = (
    "every worker keeps its own copy, which goes stale when the data changes through another worker, "
    "and never shrinks"
)
_CONSEQUENCE = (
    "each worker process has its own copy, so the change is invisible to requests served by other "
    "workers and lost on restart"
)


class _State(Record, frozen=True):
    """A module-level name a function may change, and what backbone knows of its value."""

    name: str
    container: Container
    # Defined in another project module (imported); its value was not seen.
    imported: bool = False
    # Holds an object of a project class that is no container (`Automations = AutomationTable()`):
    # its methods and items are the class's own code, not changes to a list or dict.
    project_object: bool = False
    # The qualified name of the variable (`app.store.CARTS`), when known.
    qualified: str | None = None


class MutableGlobalState(Rule):
    code = "BB602"
    name = "mutable-global-state"
    summary = (
        "A request handler, or a project function it calls, changes module-level state: per-process "
        "state breaks horizontal scaling."
    )
    severity = Severity.WARNING
    scope = Scope.PROJECT
    subscribes = (ast.FunctionDef, ast.AsyncFunctionDef)
    options = (
        RuleOption("max-depth", 3, "How many project calls to follow from a handler to the function that mutates."),
    )
    doc = RuleDoc(
        what_it_does=(
            "Finds request handlers, and the project functions they call (following the call graph "
            "`max-depth` calls deep), that change module-level state:\n\n"
            "- rebinding a name declared `global` (`global hits; hits += 1`), each assignment reported;\n"
            "- changing a module-level list, dict, set, `defaultdict`, `Counter` or `deque` in place: "
            "`append`, `extend`, `insert`, `update`, `setdefault`, `pop`, `add`, `discard`, `clear`, "
            "item assignment, item deletion and augmented item assignment (`HITS[path] += 1`), also "
            "through an item (`CARTS[user].append(line)`);\n"
            "- the same on a variable imported from another project module (`from .store import CARTS`), "
            "or reached through it (`store.CARTS[user] = cart`, `store.counter = 0`).\n\n"
            "Such a change is reported only when a request can see it: what is stored, or the key it is "
            "stored under or removed by, carries request input (a parameter of the handler, the body, query, "
            "headers, cookies or path of the request, the current user: `CARTS[user_id] = []`, "
            "`_hits[request.META[\"REMOTE_ADDR\"]].append(now)`, a value a handler passes down to the function "
            "that stores it, or kept in a local on the way: `parts[\"files\"] = {\"key\": body.files.key}` ... "
            "`_SECRETS[part] = parts[part]`), or a request handler of the module reads the state to answer "
            "(`visits += 1` in a handler that returns `visits`). Process bookkeeping that no request stores "
            "into and no handler answers from is not flagged: flags and counters of a background writer set "
            "from constants (`_accepting = False`, `_submitted += 1`), what the process's own queue holds, an "
            "entry held only while a call runs (`_held[place] = {...}` ... `finally: del _held[place]`), and an "
            "index of the process's own tasks (`chat_tasks[chat].append(task_id)` beside `tasks[task_id] = "
            "asyncio.create_task(...)`, and its removal by the same keys).\n\n"
            "A change that stores only what configuration gives (`NAMES.update(json.loads(config.get(\"names\")))`, "
            "`config.STORAGE = [s for s in config.STORAGE if valid(s)]`: values read from settings, the environment "
            "or constants, never from the request, a parameter or the database) is not flagged: every worker "
            "derives the same state.\n\n"
            "Test code is not reviewed. Mutations at import time (module-level code, decorators that register functions, functions "
            "only called while the module loads) are not flagged: they run once per process and are the "
            "same in every worker; neither are the functions a handler reaches only through a lazy "
            "initialisation (`global _store; if _store is None: _store = build(uri); set_registry_uri(uri)`), "
            "which runs in the first call of each process. `functools.lru_cache` is not flagged, and neither are constants: a "
            "tuple or frozenset can't be changed. `threading.local()` and `ContextVar` values are "
            "per-request by design.\n\n"
            "Per-process caches are reported only when they hold database data: a container whose name "
            "says it is a cache (`_product_cache`, `_memo`, `LRU`), a `cachetools`/`weakref` container, or "
            "any module-level state kept by a function that answers from it (a memo: `hit = _SEEN.get(key)` "
            "... `_SEEN[key] = value; return value`, or `if _client is not None: return _client`), is "
            "reported (medium confidence) when the function filling it runs a database query, itself or "
            "through project functions: each worker's copy goes stale when a row changes through another "
            "worker. A cache of values derived otherwise (file fingerprints, a remote document, a compiled "
            "class, a client handle per key filled when missing: `if name not in _queues: _queues[name] = "
            "Queue(name)` ... `return _queues[name]`) is not flagged, since every worker rebuilds the same thing; "
            "neither is an entry reset to a new empty container (`_results[user] = LRU()`, `_memo[key] = "
            "{}`: an invalidation that stores no data, whatever else the function reads), nor the lazy creation "
            "of a client or a model loaded on first use (`global _client; if _client is None: _client = "
            "make_client()`, also as another module's attribute: `if state.model is None: state.model = "
            "load_model(name)`), one-time set-up "
            "guarded by a flag (`if _installed: return`), or a per-key lock registry "
            "(`_LOCKS.setdefault(key, asyncio.Lock())`), which coordinates the tasks of one process.\n\n"
            "A container whose entries the module drops by size or by age is a cache by construction, whatever "
            "its name: trimmed to a cap (`if len(_created) >= MAX: del _created[next(iter(_created))]`) or expired "
            "by the clock (`now = time.monotonic()` ... `if deadline <= now: _failed.pop(key)`). Its owner accepts "
            "that any entry may be missing at any time, which is all another worker's copy can do, so it is "
            "reported only as a cache filled with database data. Neither an eviction (`del`, `pop`) nor an entry "
            "that is a time computed from the clock and constants (`_failed[key] = time.monotonic() + TTL`, a "
            "negative cache that only spaces out retries) is such a fill. State the module refuses a request on "
            "is no cache, however it expires: a lockout or a throttle (`if _locked_until.get(user, 0) > now: "
            "return JsonResponse(status=429)`, `raise`) kept per worker lets every worker grant its own share, "
            "and is reported.\n\n"
            "State that belongs to one process by nature is not flagged either: a module variable declared or "
            "built as an object of the process's event loop or threads (`_waiters: set[asyncio.Future[None]]`, "
            "`_loop: asyncio.AbstractEventLoop | None`), a registry the function fills with such objects (the "
            "`asyncio.Queue` of each connected websocket added to `subscribers`, `filters[queue] = spec`, and "
            "their removal), state rebuilt when the running loop changes (`if _owner_loop is not loop: "
            "_queue = asyncio.Queue(); _inflight = ()`), and a set that only keeps a log line to once per "
            "process (`if key not in _warned: _warned.add(key); log.warning(...)`). So is a reference count: a "
            "dict whose entry goes up by one when something is taken (`_refs[run] = _refs.get(run, 0) + 1`), down "
            "by one when it is let go, is dropped at zero, and is only ever compared with 0 or 1 (`if remaining <= "
            "0: _refs.pop(run)`): it counts the holders in this process of something this process tears down when "
            "the last one lets go. A count compared with a limit (`if _active[user] >= MAX_ACTIVE`) is a quota "
            "each worker would enforce on its own, and is reported; so is a count a request is refused on "
            "(`if _running.get(user, 0) > 0: raise Busy()`), a one-at-a-time lock each worker keeps alone.\n\n"
            "A lock around the change (`with _lock:`) does not make it go away: a lock serialises the "
            "threads of one process, not the worker processes; the message says so. A variable imported "
            "from another module is reported with medium confidence, and only for changes no other kind of "
            "object makes (`append`, `setdefault`, item assignment ...), since backbone does not see its value. "
            "A module-level object of a project class that is no container (`Automations = AutomationTable()`, "
            "a table or repository singleton, imported or not) is not flagged when its methods are called "
            "(`Automations.insert(...)`) or its items set: that is the class's own code, not a list or dict "
            "changing; a class based on `dict`, `list` or `set` is a container, and rebinding the name is "
            "still reported."
        ),
        why_is_this_bad=(
            "Production runs several worker processes (gunicorn, uvicorn workers, several pods), and "
            "each has its own copy of every module. A cart stored in a module-level dict exists only in "
            "the worker that served the request that filled it: the next request lands on another worker "
            "and finds nothing. Counters undercount, rate limits multiply by the number of workers, "
            "registrations vanish on every deploy or restart, and the bug never shows up on a developer "
            "machine that runs a single process. Module-level state changed by requests is also shared by "
            "the threads of one worker, which races without a lock."
        ),
        example=(
            "from fastapi import APIRouter\n\n"
            "router = APIRouter()\n"
            "CARTS: dict[int, list[str]] = {}\n\n\n"
            "@router.post(\"/cart/{user_id}\")\n"
            "def add_to_cart(user_id: int, sku: str):\n"
            "    CARTS.setdefault(user_id, []).append(sku)\n"
            "    return {\"items\": CARTS[user_id]}\n"
        ),
        use_instead=(
            "from fastapi import APIRouter\n\n"
            "from .cache import redis\n\n"
            "router = APIRouter()\n\n\n"
            "@router.post(\"/cart/{user_id}\")\n"
            "def add_to_cart(user_id: int, sku: str):\n"
            "    redis.rpush(f\"cart:{user_id}\", sku)\n"
            "    return {\"items\": redis.lrange(f\"cart:{user_id}\", 0, -1)}\n"
        ),
    )

    VALID = (
        # Import-time registration: the registry is filled while the module loads.
        """
        from flask import Flask

        app = Flask(__name__)
        HANDLERS = {}

        def register(name):
            def wrap(function):
                HANDLERS[name] = function
                return function
            return wrap

        @register("csv")
        def export_csv(rows):
            return ",".join(rows)

        @app.route("/export/<kind>")
        def export(kind):
            return HANDLERS[kind](["a", "b"])
        """,
        # FastAPI: a local list shadows the module-level one; lru_cache; reading a constant.
        """
        import functools

        from fastapi import FastAPI

        app = FastAPI()
        ITEMS = []
        ALLOWED = ("a", "b")

        @functools.lru_cache(maxsize=128)
        def price_table(region: str) -> dict:
            return {"region": region}

        @app.get("/items")
        def items(region: str):
            ITEMS = []
            ITEMS.append(price_table(region))
            return {"items": ITEMS, "allowed": ALLOWED}
        """,
        # Lazy creation of a client, done the same way in every worker.
        """
        import httpx
        from fastapi import FastAPI

        app = FastAPI()
        _client = None

        def client() -> httpx.Client:
            global _client
            if _client is None:
                _client = httpx.Client(timeout=5)
            return _client

        @app.get("/rates")
        def rates():
            return client().get("https://rates.example.com").json()
        """,
        # Django: per-request data in threading.local and the request itself; a plain
        # function that mutates state is not called by any view.
        """
        import threading

        from django.http import JsonResponse
        from django.urls import path

        _local = threading.local()
        COUNTS = {}

        def bump(key):
            COUNTS[key] = COUNTS.get(key, 0) + 1

        def whoami(request):
            _local.user = request.user
            request.session["seen"] = True
            return JsonResponse({"user": str(_local.user)})

        urlpatterns = [path("whoami/", whoami)]
        """,
        # DRF: the view copies module-level data instead of changing it.
        """
        from rest_framework.response import Response
        from rest_framework.views import APIView

        DEFAULTS = {"page_size": 20}

        class SettingsView(APIView):
            def get(self, request):
                settings = dict(DEFAULTS)
                settings.update(request.query_params.dict())
                return Response(settings)
        """,
        # Memos and per-process caches that every worker can rebuild; a per-key lock registry.
        """
        import asyncio
        import os

        from fastapi import FastAPI

        app = FastAPI()
        _rates_cache = {}
        _fingerprints = {}
        _LOCKS = {}

        def fingerprint(path):
            token = _fingerprints.get(path)
            if token is None:
                token = str(os.stat(path).st_mtime)
                _fingerprints[path] = token
            return token

        @app.get("/rates/{currency}")
        async def rate(currency: str):
            lock = _LOCKS.setdefault(currency, asyncio.Lock())
            async with lock:
                if currency not in _rates_cache:
                    _rates_cache[currency] = await fetch_rate(currency)
            return {"rate": _rates_cache[currency], "v": fingerprint("rates.json")}
        """,
        # Starlette: changes to attributes of the app state and of objects, not module containers.
        """
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        class Stats:
            def __init__(self):
                self.items = []

        async def ping(request):
            request.app.state.pings = getattr(request.app.state, "pings", 0) + 1
            stats = Stats()
            stats.items.append(1)
            return JSONResponse({"ok": True})

        app = Starlette(routes=[Route("/ping", ping)])
        """,
        # State every worker derives identically from configuration: set from settings, whatever
        # request runs it first.
        """
        import json

        from flask import Flask

        from app.common import config

        app = Flask(__name__)
        LEGACY_ROUTE_NAMES = {}

        def legacy_names():
            mappings = config.get("legacy_route_mappings")
            if mappings:
                LEGACY_ROUTE_NAMES.update(json.loads(mappings))
            return LEGACY_ROUTE_NAMES

        def shared_storage():
            required = {"name", "path"}
            config.SHARED_STORAGE = [item for item in config.SHARED_STORAGE if required <= set(item)]
            return config.SHARED_STORAGE

        @app.route("/routes")
        def routes():
            return {"legacy": legacy_names(), "storage": shared_storage()}
        """,
        # Bookkeeping of a background writer: flags and counters set from constants and from what the
        # process's own queue holds, and an index of the process's tasks; no request value is stored and
        # no handler answers from them.
        """
        import asyncio
        import uuid

        from fastapi import FastAPI

        app = FastAPI()
        _queue = None
        _accepting = True
        _submitted = 0
        _inflight = ()
        tasks = {}
        chat_tasks = {}

        def _admit(event):
            global _submitted, _accepting, _inflight
            _submitted += 1
            _accepting = False
            batch = [event]
            _inflight = tuple(batch)

        def start(chat_id, work):
            task_id = str(uuid.uuid4())
            tasks[task_id] = asyncio.create_task(work)
            chat_tasks.setdefault(chat_id, []).append(task_id)
            return task_id

        def cleanup(task_id, chat_id):
            tasks.pop(task_id, None)
            chat_tasks.get(chat_id, []).remove(task_id)

        @app.post("/keys")
        async def create_key(name: str):
            _admit("key")
            start(name, asyncio.sleep(0))
            cleanup("t", name)
            return {"name": name}
        """,
    )

    INVALID = (
        # Flask: a global counter and a module-level list changed by a view.
        """
        from flask import Flask, request

        app = Flask(__name__)
        visits = 0
        RECENT = []

        @app.route("/visit", methods=["POST"])
        def visit():
            global visits
            visits += 1  # expect: BB602
            RECENT.append(request.remote_addr)  # expect: BB602
            return {"visits": visits}
        """,
        # FastAPI: a cart kept in a dict, item assignment and setdefault, through a helper.
        """
        from fastapi import APIRouter

        router = APIRouter()
        CARTS: dict[int, list[str]] = {}

        def remember(user_id: int, sku: str) -> None:
            CARTS.setdefault(user_id, []).append(sku)  # expect: BB602

        @router.post("/cart/{user_id}")
        def add_to_cart(user_id: int, sku: str):
            remember(user_id, sku)
            return {"items": CARTS[user_id]}

        @router.delete("/cart/{user_id}")
        def clear_cart(user_id: int):
            CARTS[user_id] = []  # expect: BB602
            return {}
        """,
        # Django: a view-side rate limiter in a defaultdict, protected by a lock.
        """
        import threading
        import time
        from collections import defaultdict

        from django.http import HttpResponse
        from django.urls import path

        _lock = threading.Lock()
        _hits = defaultdict(list)

        def login(request):
            with _lock:
                _hits[request.META["REMOTE_ADDR"]].append(time.time())  # expect: BB602
            return HttpResponse("ok")

        urlpatterns = [path("login/", login)]
        """,
        # DRF: a method of a view and a helper method it calls, through self.
        """
        from collections import Counter

        from rest_framework.response import Response
        from rest_framework.views import APIView

        VOTES = Counter()
        VOTERS = set()

        class VoteView(APIView):
            def post(self, request):
                self.record(request.user.id, request.data["choice"])
                return Response(dict(VOTES))

            def record(self, voter, choice):
                VOTERS.add(voter)  # expect: BB602
                VOTES[choice] += 1  # expect: BB602
        """,
        # Starlette: a module attribute rebound through global (another handler answers with it),
        # and deletion of the item the client's cookie names.
        """
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        SESSIONS = {}
        last_login = None

        async def logout(request):
            global last_login
            del SESSIONS[request.cookies["sid"]]  # expect: BB602
            last_login = None  # expect: BB602
            return JSONResponse({})

        async def status(request):
            return JSONResponse({"last_login": last_login})

        app = Starlette(routes=[Route("/logout", logout, methods=["POST"]), Route("/status", status)])
        """,
        # Django: a per-process cache of database rows, stale in every other worker once a row changes.
        """
        from django.db import models
        from django.http import JsonResponse
        from django.urls import path

        class Product(models.Model):
            name = models.CharField(max_length=100)

        _product_cache = {}

        def product_detail(request, pk):
            if pk not in _product_cache:
                _product_cache[pk] = Product.objects.values("id", "name").get(pk=pk)  # expect: BB602
            return JsonResponse(_product_cache[pk])

        urlpatterns = [path("products/<int:pk>/", product_detail)]
        """,
        # Flask MethodView: a rebinding, and a list extended two calls away from the handler.
        """
        from flask import Flask, request
        from flask.views import MethodView

        app = Flask(__name__)
        WEBHOOKS = []
        current_plan = "free"

        def _store(url):
            WEBHOOKS.extend([url])  # expect: BB602

        def register(url):
            _store(url)

        class WebhookAPI(MethodView):
            def post(self):
                global current_plan
                register(request.json["url"])
                current_plan = request.json["plan"]  # expect: BB602
                return {"ok": True}

        app.add_url_rule("/webhooks", view_func=WebhookAPI.as_view("webhooks"))
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        depth = self.option("max-depth")
        self._max_depth = depth if isinstance(depth, int) and depth >= 0 else 3
        index = context.project
        # Test code runs in one process by design: its views and fixtures are not deployed.
        self._reachable: Mapping[str, tuple[str, ...]] = (
            index.view(f"{self.code}.reachable.{self._max_depth}", lambda built: _reachable(built, self._max_depth))
            if index is not None and not is_test_path(context.path)
            else {}
        )
        self._module_state = _module_containers(context)
        self._locks = frozenset(
            name
            for name, value in _module_assignments(context.tree)
            if isinstance(value, ast.Call) and context.call_name(value) in state.LOCK_CONSTRUCTORS
        )
        # Module names that hold objects of this process's event loop or threads (by their declared
        # type or their value): per-process by nature.
        self.per_process = frozenset(
            name
            for name, value, annotation in _module_bindings(context.tree)
            if (annotation is not None and state.annotation_holds_per_process(annotation, context.qualified_name))
            or (value is not None and state.is_per_process_value(value, context.qualified_name))
        )
        # Module containers whose entries the module drops by size or by age: caches by construction.
        # Both read every function of the module: only asked when the module keeps state.
        module_state = frozenset(self._module_state)
        self.evicting = state.evicting_containers(context, context.qualified_name) & module_state if module_state else frozenset()
        # Module dicts counting the holders of something per key, dropped at zero (see `state.reference_counts`).
        self.reference_counts = state.reference_counts(context) & module_state if module_state else frozenset()
        self._registries: frozenset[str] | None = None
        self._handler_reads: frozenset[str] | None = None

    def per_process_registries(self) -> frozenset[str]:
        """Module state that a function of this module fills with objects of this process's event loop
        or threads (`tasks[task_id] = asyncio.create_task(...)`), or with the keys of such a registry
        (`item_tasks[chat].append(task_id)`): an index of per-process objects, per-process itself."""
        if self._registries is None:
            self._registries = _per_process_registries(self.context, self.per_process)
        return self._registries

    def read_by_handler(self, target: _State) -> bool:
        """A request handler of this module reads the state (`return {"items": CARTS[user]}`): what one
        request stored answers another, which a request served by another worker does not see."""
        if self._handler_reads is None:
            self._handler_reads = frozenset(self._names_read_by_handlers())
        return target.name in self._handler_reads or (target.qualified is not None and target.qualified in self._handler_reads)

    def _names_read_by_handlers(self) -> Iterator[str]:
        for node in ast.walk(self.context.tree):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            qualname = qualname_of(node, self.context)
            if self._reachable.get(qualname) != (qualname,):
                continue
            own = list(self.context.semantic.own_nodes(node))
            declared = {name for inner in own if isinstance(inner, ast.Global) for name in inner.names}
            local = _local_names(node, own) - declared
            resolve = self.context.qualified_name
            for inner in own:
                if isinstance(inner, ast.Name) and isinstance(inner.ctx, ast.Load) and inner.id not in local:
                    yield inner.id
                    yield resolve(inner) or f"{self.context.module}.{inner.id}"
                elif isinstance(inner, ast.Attribute) and isinstance(inner.value, ast.Name) and isinstance(inner.ctx, ast.Load):
                    yield f"{inner.value.id}.{inner.attr}"
                    module = resolve(inner.value)
                    if module is not None:
                        yield f"{module}.{inner.attr}"

    def visit(self, node: ast.AST) -> None:
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) or not self._reachable:
            return
        chain = self._chain_of(node)
        if chain is None:
            return
        checker = _FunctionMutations(self, node, chain)
        checker.run()

    def _chain_of(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[str, ...] | None:
        """The call chain from a handler to `node`, or to the function `node` is nested in."""
        current: ast.AST | None = node
        while current is not None:
            if isinstance(current, (ast.FunctionDef, ast.AsyncFunctionDef)):
                qualname = qualname_of(current, self.context)
                if qualname in self._reachable:
                    return self._reachable[qualname]
            current = self.context.parent(current)
        return None

    # ------------------------------------------------------------------ what a name is

    def state_of(self, name: ast.Name) -> _State | None:
        """The module-level state a name read inside a function refers to (locals excluded by the caller)."""
        container = self._module_state.get(name.id)
        if container is not None:
            project_object = container is Container.UNKNOWN and self._builds_project_object(
                self.context.facts.built_by.get(name.id)
            )
            return _State(name.id, container, project_object=project_object, qualified=f"{self.context.module}.{name.id}")
        qualified = self.context.qualified_name(name)
        if qualified is None or name.id in self.context.facts.symbols:
            return None
        return self._project_variable(qualified, name.id)

    def module_attribute_state(self, node: ast.Attribute) -> _State | None:
        """`store.CARTS` where `store` is an imported project module and CARTS one of its variables."""
        if not isinstance(node.value, ast.Name):
            return None
        module = self.context.qualified_name(node.value)
        index = self.context.project
        if module is None or index is None or module not in index.modules:
            return None
        return self._project_variable(f"{module}.{node.attr}", f"{node.value.id}.{node.attr}")

    def _project_variable(self, qualified: str, shown: str) -> _State | None:
        index = self.context.project
        if index is None or qualified in index.functions or qualified in index.classes or qualified in index.modules:
            return None
        module, _, attribute = qualified.rpartition(".")
        facts = index.modules.get(module)
        if facts is None or attribute not in facts.symbols:
            return None
        project_object = self._builds_project_object(facts.built_by.get(attribute))
        return _State(shown, Container.UNKNOWN, imported=True, project_object=project_object, qualified=qualified)

    def _builds_project_object(self, callee: str | None) -> bool:
        """`callee` is a project class that is no container (`class AutomationTable:`, not
        `class Registry(dict)`): what it builds changes only through the class's own methods."""
        index = self.context.project
        if callee is None or index is None:
            return False
        return state.is_plain_project_class(index, index.resolve(callee))

    def is_logging(self, statement: ast.stmt) -> bool:
        """The statement is a logging or warning call (`log.warning(...)`, `warnings.warn(...)`)."""
        if not (isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)):
            return False
        return reporting_of_call(statement.value, self.context.qualified_name, self.context.logger_bindings()).reports

    def is_lock(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Call):
            node = node.func
        if isinstance(node, ast.Name):
            return node.id in self._locks or "lock" in node.id.lower()
        return isinstance(node, ast.Attribute) and "lock" in node.attr.lower()

    # ------------------------------------------------------------------ reporting

    def _where(self, chain: tuple[str, ...]) -> str:
        index = self.context.project
        assert index is not None
        names = [short_name(index, qualname) for qualname in chain]
        if len(names) == 1:
            return f"handler `{names[0]}`"
        return f"`{names[-1]}`, which handler `{names[0]}` calls ({' -> '.join(names)})"

    def report_cache(self, node: ast.AST, target: _State, what: str, chain: tuple[str, ...]) -> None:
        self.report(
            node,
            f"Module-level cache `{target.name}` is filled with database data (`{what}`) in {self._where(chain)}: "
            f"{_CACHE_CONSEQUENCE}.",
            fix=_FIX_CACHE,
            confidence=Confidence.MEDIUM,
        )

    def report_mutation(self, node: ast.AST, target: _State, what: str, chain: tuple[str, ...], locked: bool) -> None:
        where = self._where(chain)
        lock = " (the lock serialises threads, not worker processes)" if locked else ""
        kind = "name" if target.container is Container.UNKNOWN else target.container.value
        origin = " imported from another module" if target.imported else ""
        self.report(
            node,
            f"Module-level {kind} `{target.name}`{origin} is changed (`{what}`) in {where}{lock}: {_CONSEQUENCE}.",
            fix=_FIX,
            confidence=Confidence.MEDIUM if target.imported else Confidence.HIGH,
        )


class _Mutation(Record, frozen=True):
    node: ast.AST
    target: _State
    shown: str
    locked: bool
    # The changed state is a cache by its name or type.
    cache: bool = False
    # What is stored: the assigned value, the arguments of `update(...)`; empty when unknown.
    values: tuple[ast.expr, ...] = ()
    # The keys the change goes through: `k` of `X[k] = v`, `X[k].append(v)`, `X.pop(k)`, `del X[k]`.
    keys: tuple[ast.expr, ...] = ()
    # The change drops entries (`del X[k]`, `X.pop(k)`): it stores nothing.
    removes: bool = False


class _FunctionMutations:
    """The mutations of module-level state in one function's own body (nested scopes excluded)."""

    def __init__(self, rule: MutableGlobalState, function: ast.FunctionDef | ast.AsyncFunctionDef, chain: tuple[str, ...]) -> None:
        self.rule = rule
        self.function = function
        self.chain = chain
        self.nodes = list(rule.context.semantic.own_nodes(function))
        self.globals = {name for node in self.nodes if isinstance(node, ast.Global) for name in node.names}
        self.locals = _local_names(function, self.nodes) - self.globals
        # A closure sees the locals of every function it is nested in.
        for ancestor in rule.context.ancestors(function):
            if isinstance(ancestor, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                self.locals |= _local_names(ancestor, rule.context.semantic.own_nodes(ancestor))
        self.locals -= self.globals
        # Local name -> the values assigned to it (a loop variable: its iterable).
        self.local_values: dict[str, list[ast.expr]] = {}
        for node in self.nodes:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        self.local_values.setdefault(target.id, []).append(node.value)
            elif isinstance(node, (ast.For, ast.AsyncFor)) and isinstance(node.target, ast.Name):
                self.local_values.setdefault(node.target.id, []).append(node.iter)
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign)) and isinstance(node.target, ast.Name):
                if node.value is not None:
                    self.local_values.setdefault(node.target.id, []).append(node.value)
        # Local containers -> what the function stores into them (`parts["files"] = {...}`).
        self.stored_into: dict[str, list[ast.expr]] = {}
        for node in self.nodes:
            if isinstance(node, ast.NamedExpr) and isinstance(node.target, ast.Name):
                self.local_values.setdefault(node.target.id, []).append(node.value)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    root = _subscript_root(target)
                    if root is not None and root in self.locals:
                        self.stored_into.setdefault(root, []).append(node.value)
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _STORING_MUTATORS:
                root = _subscript_root(node.func.value, bare=True)
                if root is not None and root in self.locals:
                    self.stored_into.setdefault(root, []).extend(
                        [*node.args, *(keyword.value for keyword in node.keywords)]
                    )
        self.parameters = parameter_names(function)
        # Names used here as keys of per-process state (`tasks[task_id] = task`, `tasks.pop(task_id)`).
        self.per_process_keys = _per_process_keys(self.nodes, rule.per_process | rule.per_process_registries())
        self.mutations: list[_Mutation] = []
        # A mutation that stores a lock: the function hands out per-key locks.
        self.stores_locks = False
        # Module state this function fills with objects of its own event loop (a queue per
        # connection, the running loop, a task): a per-process registry, bookkeeping included.
        self.per_process_targets: set[str] = set()

    def run(self) -> None:
        for node in self.nodes:
            if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Delete)):
                targets = node.targets if isinstance(node, (ast.Assign, ast.Delete)) else [node.target]
                value = node.value if isinstance(node, (ast.Assign, ast.AnnAssign)) else None
                for target in targets:
                    self._target(node, target, value=value)
            elif isinstance(node, (ast.For, ast.AsyncFor)):
                self._target(node, node.target, header_only=True)
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                for item in node.items:
                    if item.optional_vars is not None:
                        self._target(node, item.optional_vars, header_only=True)
            elif isinstance(node, ast.Call):
                self._call(node)
        if not self.mutations or self.stores_locks:
            return
        memo = state.is_cache_name(self.function.name) or self._answers_from_state()
        resolve = self.rule.context.qualified_name
        clocks = state.clock_names(self.function, resolve)
        scoped = self._scoped_entries()
        for mutation in self.mutations:
            if mutation.target.name in self.per_process_targets:
                continue
            if (mutation.target.name, _dump(mutation.keys)) in scoped:
                # `X[place] = {...}` ... `finally: del X[place]`: the entry lives while the call runs and
                # tells what this process is doing now; no later request finds it anywhere.
                continue
            if memo or mutation.cache:
                if mutation.values and all(self._is_fresh_container(value) for value in mutation.values):
                    # `CACHE[user] = LRU()`: an entry reset to a new empty container, an invalidation
                    # that stores nothing, whatever else the function reads.
                    continue
                if mutation.removes:
                    # `del CACHE[next(iter(CACHE))]`, `CACHE.pop(key)`: an eviction stores no data.
                    continue
                if mutation.values and all(state.is_clock_value(value, resolve, clocks) for value in mutation.values):
                    # `FAILURES[key] = time.monotonic() + TTL`: a deadline, which no row or request decides.
                    continue
                # A per-process cache is only a problem when what it holds can change elsewhere.
                if self._fills_from_database():
                    self.rule.report_cache(mutation.node, mutation.target, mutation.shown, self.chain)
                continue
            if mutation.values and all(self._from_configuration(value, 0) for value in mutation.values):
                # Every worker derives the same value from the same configuration.
                continue
            if not (
                any(self._carries_input(item) for item in (*mutation.values, *mutation.keys))
                or self.rule.read_by_handler(mutation.target)
            ):
                # Neither what is stored nor where comes from a request, and no handler reads the state
                # to answer: process bookkeeping (flags, counters of a background writer) no client sees.
                continue
            self.rule.report_mutation(mutation.node, mutation.target, mutation.shown, self.chain, mutation.locked)

    def _record(
        self,
        node: ast.AST,
        target: _State,
        shown: str,
        statement: ast.AST,
        values: tuple[ast.expr, ...] = (),
        keys: tuple[ast.expr, ...] = (),
    ) -> None:
        if "lock" in identifier_words(target.name.rpartition(".")[2]):
            return
        if target.name in self.rule.per_process or self._under_loop_guard(statement):
            return
        if target.name in self.rule.per_process_registries():
            # Module state some function of the module fills with this process's loop objects, or
            # with the keys of such a registry (`item_tasks[chat].append(task_id)` beside
            # `tasks[task_id] = asyncio.create_task(...)`): an index of per-process objects.
            return
        if target.name in self.rule.reference_counts and not target.imported:
            # `_refs[run] = _refs.get(run, 0) + 1` ... `if remaining <= 0: _refs.pop(run)`: counts the holders
            # in this process of something this process tears down when the last one lets go.
            return
        if any(isinstance(item, ast.Name) and item.id in self.per_process_keys for item in (*values, *keys)):
            # `streams.pop(task_id)` beside `tasks.pop(task_id)`: bookkeeping of a per-process object.
            return
        if any(self._is_per_process(value) for value in values):
            self.per_process_targets.add(target.name)
        cache = (
            state.is_cache_name(target.name)
            or target.container is Container.CACHE
            or (target.name in self.rule.evicting and not target.imported)
        )
        removes = isinstance(node, ast.Delete) or (
            isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in state.REMOVERS
        )
        self.mutations.append(_Mutation(node, target, shown, self._locked(statement), cache, values, keys, removes))

    def _scoped_entries(self) -> set[tuple[str, str]]:
        """(state, key) of the entries the function removes in a `finally:` block: what it stores
        under that key lasts only as long as the call."""
        found: set[tuple[str, str]] = set()
        for mutation in self.mutations:
            if mutation.values or not mutation.keys:
                continue
            for ancestor in (mutation.node, *self.rule.context.ancestors(mutation.node)):
                if ancestor is self.function:
                    break
                parent = self.rule.context.parent(ancestor)
                if isinstance(parent, ast.Try) and ancestor in parent.finalbody:
                    found.add((mutation.target.name, _dump(mutation.keys)))
                    break
        return found

    def _fills_from_database(self) -> bool:
        """The function reads the database, itself or through project functions it calls."""
        context = self.rule.context
        if any(event.kind is QueryKind.READ for event in module_flows(context).flow(self.function).events()):
            return True
        index = context.project
        facts = index.functions.get(qualname_of(self.function, context)) if index is not None else None
        if index is None or facts is None:
            return False
        for call in facts.calls:
            callee = index.function(call.callee)
            if callee is not None and query_chain(index, callee.qualname) is not None:
                return True
        return False

    def _target(
        self, statement: ast.stmt, target: ast.expr, header_only: bool = False, value: ast.expr | None = None
    ) -> None:
        if isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                self._target(statement, element, header_only)
            return
        if isinstance(target, ast.Starred):
            self._target(statement, target.value, header_only)
            return
        shown = _statement_text(self.rule.context, statement, header_only)
        stored = (value,) if value is not None else ()
        if isinstance(target, ast.Name):
            if target.id in self.globals and not self._lazy_initialisation(statement, target.id):
                rebound = self.rule.state_of(target) or _State(target.id, Container.UNKNOWN)
                self._record(statement, _rebound(rebound), shown, statement, stored)
            return
        if isinstance(target, ast.Attribute):
            module_state = self.rule.module_attribute_state(target)
            spelled = dotted_name(target)
            if module_state is not None and not (spelled and self._lazy_initialisation(statement, spelled)):
                # `if state.model is None: state.model = load()`: built once in every worker, like a global.
                self._record(statement, _rebound(module_state), shown, statement, stored)
            return
        if isinstance(target, ast.Subscript):
            item_of = self._state_under(target.value)
            if item_of is not None and not item_of.project_object:
                if value is not None and self._is_lock(value):
                    self.stores_locks = True
                if self._is_per_process(target.slice):
                    # A registry keyed by a per-process object (`FILTERS[queue] = spec`).
                    self.per_process_targets.add(item_of.name)
                self._record(statement, item_of, shown, statement, stored, _keys_of(target))

    def _call(self, call: ast.Call) -> None:
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr not in state.CONTAINER_MUTATORS:
            return
        found = self._state_under(func.value)
        if found is None or found.project_object:
            return
        if found.container is Container.UNKNOWN and func.attr not in state.UNAMBIGUOUS_MUTATORS:
            return
        if any(self._is_lock(argument) for argument in call.args):
            self.stores_locks = True
        statement = self.rule.context.enclosing_statement(call) or call
        if func.attr == "add" and len(call.args) == 1 and self._once_per_process(statement, call.args[0], found):
            return
        shown = _clip(" ".join(self.rule.context.segment(call).split()))
        values = (*call.args, *(keyword.value for keyword in call.keywords))
        keys = _keys_of(func.value)
        if func.attr not in _STORING_MUTATORS:
            # `pop(key)`, `remove(item)`, `discard(item)`: what the change goes through.
            keys = (*keys, *call.args[:1])
        self._record(call, found, shown, statement, values if func.attr in _STORING_MUTATORS else (), keys)

    # ------------------------------------------------------------------ request input

    def _carries_input(self, value: ast.expr, depth: int = 0, seen: frozenset[str] = frozenset()) -> bool:
        """What `value` holds may come from the request: its body, query, headers, path parameters,
        cookies or current user, read here, kept in a local, or passed down the call chain.

        A parameter of the handler is request input (the framework fills it); a parameter of a
        function the handler calls is, unless the call on the chain passes a value that carries
        none (a constant, a number, configuration).
        """
        if depth > 6:
            return False
        context = self.rule.context
        if depth == 0:
            handler = len(self.chain) == 1 and self._is_chain_function()
            if origin_of(value, module_flows(context).flow(self.function), handler).origin is Origin.REQUEST:
                return True
        bound = _comprehension_targets(value)
        for node in ast.walk(value):
            if isinstance(node, ast.Attribute) and _self_request(node):
                return True
            if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load) or node.id in bound:
                continue
            if node.id in self.parameters:
                if self._parameter_carries_input(node.id):
                    return True
            elif node.id in self.locals:
                if node.id in seen:
                    continue
                assigned = [*self.local_values.get(node.id, ()), *self.stored_into.get(node.id, ())]
                if any(self._carries_input(item, depth + 1, seen | {node.id}) for item in assigned):
                    return True
            elif node.id not in self.globals:
                qualified = context.qualified_name(node)
                if qualified in _REQUEST_GLOBALS or (qualified is None and node.id == "request"):
                    return True
        return False

    def _is_chain_function(self) -> bool:
        return qualname_of(self.function, self.rule.context) == self.chain[-1]

    def _parameter_carries_input(self, name: str) -> bool:
        if name in ("self", "cls"):
            return False
        if not self._is_chain_function():
            # A parameter of a nested function (a callback): whoever calls it is not known.
            return True
        if len(self.chain) == 1:
            return True
        index = self.rule.context.project
        if index is None:
            return True
        caller, callee = self.chain[-2], self.chain[-1]
        facts = index.functions.get(caller)
        if facts is None:
            return True
        is_method = isinstance(self.rule.context.parent(self.function), ast.ClassDef)
        position = parameter_positions(self.function, is_method).get(name, -1)
        knowledge = project_knowledge(index)
        safe: dict[tuple[int, int], list[tuple[int, str]]] = {}
        for argument in knowledge.arguments.get(caller, ()):
            # A number (`order_id: int`, `int(...)`) can't close a quoted string, but the client may still
            # have chosen it: only constants and configuration carry no request input.
            if argument.origin in (Origin.CONSTANT, Origin.CONFIGURATION):
                safe.setdefault((argument.line, argument.column), []).append((argument.position, argument.keyword))
        sites = [site for site in facts.calls if (index.function(site.callee) or facts).qualname == callee]
        if not sites:
            return True
        for site in sites:
            passed = safe.get((site.line, site.column), [])
            if not any((position >= 0 and at == position) or keyword == name for at, keyword in passed):
                # This call passes something that may carry input (or nothing backbone can name).
                return True
        return False

    def _is_per_process(self, value: ast.expr) -> bool:
        """An object of this process's event loop: built here, kept in a local, or module state declared so."""
        resolve = self.rule.context.qualified_name
        if state.is_per_process_value(value, resolve):
            return True
        if not isinstance(value, ast.Name):
            return False
        if value.id in self.locals:
            return any(state.is_per_process_value(assigned, resolve) for assigned in self.local_values.get(value.id, ()))
        return value.id in self.rule.per_process

    def _under_loop_guard(self, statement: ast.AST) -> bool:
        """`if _owner_loop is not loop: _queue = asyncio.Queue(); _inflight = ()`: the state is rebuilt
        when the running event loop changes, so it belongs to that loop, and to this process."""
        for ancestor in self.rule.context.ancestors(statement):
            if ancestor is self.function:
                return False
            if (
                isinstance(ancestor, ast.If)
                and isinstance(ancestor.test, ast.Compare)
                and all(isinstance(operator, (ast.Is, ast.IsNot)) for operator in ancestor.test.ops)
                and any(self._is_per_process(operand) for operand in (ancestor.test.left, *ancestor.test.comparators))
            ):
                return True
        return False

    def _once_per_process(self, statement: ast.AST, added: ast.expr, found: _State) -> bool:
        """`if key not in _WARNED: _WARNED.add(key); log.warning(...)`: the set only keeps a log line to one
        per process; a second worker logging it once more is what the author accepts."""
        guard = self.rule.context.parent(statement)
        if not isinstance(guard, ast.If) or statement not in guard.body or guard.orelse:
            return False
        if state.once_per_process_guard(guard.test, added) != found.name:
            return False
        others = [other for other in guard.body if other is not statement]
        return bool(others) and all(self.rule.is_logging(other) for other in others)

    def _is_fresh_container(self, value: ast.expr) -> bool:
        index = self.rule.context.project

        def container_class(qualname: str) -> bool:
            return index is not None and qualname in index.classes and not state.is_plain_project_class(index, qualname)

        return state.is_fresh_empty_container(value, self.rule.context.qualified_name, container_class)

    def _is_lock(self, value: ast.expr) -> bool:
        return isinstance(value, ast.Call) and self.rule.context.call_name(value) in state.LOCK_CONSTRUCTORS

    def _state_under(self, node: ast.expr) -> _State | None:
        """The module-level state that `node` is, or is an item of (`CARTS[user]`, `store.CARTS`)."""
        while isinstance(node, ast.Subscript):
            node = node.value
        if isinstance(node, ast.Name):
            if node.id in self.locals:
                return None
            return self.rule.state_of(node)
        if isinstance(node, ast.Attribute):
            return self.rule.module_attribute_state(node)
        return None

    def _lazy_initialisation(self, statement: ast.stmt, name: str) -> bool:
        """`if _client is None: _client = make()`: the same value built once in every worker."""
        for ancestor in self.rule.context.ancestors(statement):
            if ancestor is self.function:
                return False
            if isinstance(ancestor, ast.If) and _tests_unset(ancestor.test, name):
                return True
        return False

    # ------------------------------------------------------------------ configuration

    def _from_configuration(self, value: ast.expr, depth: int) -> bool:
        """`value` is computed from configuration alone: every worker computes the same.

        `LEGACY_NAMES.update(json.loads(config.get("legacy_names")))`, `config.STORAGE = [s for s in
        config.STORAGE if valid(s)]`: what goes in depends on settings, environment and constants,
        never on the request, a parameter or the database.
        """
        if depth > 3:
            return False
        reads = False
        bound = _comprehension_targets(value)
        for node in ast.walk(value):
            if isinstance(node, (ast.Lambda, ast.Await, ast.Yield, ast.YieldFrom)):
                return False
            if isinstance(node, ast.Attribute) and state.names_configuration(node.attr):
                reads = True
            if not isinstance(node, ast.Name) or not isinstance(node.ctx, ast.Load) or node.id in bound:
                continue
            if state.names_configuration(node.id):
                reads = True
                continue
            if node.id in self.locals:
                assigned = self.local_values.get(node.id)
                if not assigned or not all(self._from_configuration(item, depth + 1) for item in assigned):
                    return False
                reads = True
            elif state.is_request_name(node.id, self.rule.context.qualified_name(node)):
                return False
        return reads

    # ------------------------------------------------------------------ memos

    def _is_state_name(self, node: ast.expr) -> bool:
        if not isinstance(node, ast.Name):
            return False
        if node.id in self.globals:
            return True
        return node.id not in self.locals and self.rule.state_of(node) is not None

    def _reads_state(self, node: ast.expr | None) -> bool:
        """`X`, `X[key]`, `X.get(key)` on module-level state."""
        if node is None:
            return False
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "get":
            node = node.func.value
        while isinstance(node, ast.Subscript):
            node = node.value
        return self._is_state_name(node)

    def _answers_from_state(self) -> bool:
        """The function is a memo: it answers from the module-level state it keeps.

        `return _CACHE[key]` (or `if _client is not None: return _client`, or `if _done: return`)
        before the first change; or it returns a local read from the state (`token =
        _SEEN.get(key)` ... `return token`). Every worker rebuilds such state the same way.
        """
        first_change = min(getattr(mutation.node, "lineno", 0) for mutation in self.mutations)
        read_into: set[str] = set()
        for node in self.nodes:
            if isinstance(node, ast.Assign) and self._reads_state(node.value):
                read_into.update(target.id for target in node.targets if isinstance(target, ast.Name))
        filled_when_missing = self._fills_when_missing()
        for node in self.nodes:
            if isinstance(node, ast.Return):
                if isinstance(node.value, ast.Name) and node.value.id in read_into:
                    return True
                if (node.lineno < first_change or filled_when_missing) and self._reads_state(node.value):
                    return True
            elif isinstance(node, ast.If) and node.lineno < first_change and self._tests_set(node.test):
                if node.body and isinstance(node.body[-1], ast.Return):
                    return True
        return False

    def _fills_when_missing(self) -> bool:
        """Every change sits under `if key not in X:` (or `if X is None:`) on the state it changes:
        the function fills what is missing, then answers from it (`return X[key]`)."""
        for mutation in self.mutations:
            name = mutation.target.name
            guarded = False
            for ancestor in self.rule.context.ancestors(mutation.node):
                if ancestor is self.function:
                    break
                if isinstance(ancestor, ast.If) and _unset_state(ancestor.test) == name:
                    guarded = True
                    break
            if not guarded or any(self._reads_request(value) for value in mutation.values):
                return False
        return True

    def _reads_request(self, value: ast.expr) -> bool:
        """`request.json`, `g.user`: what the value holds differs per request, it is no memo."""
        resolve = self.rule.context.qualified_name
        return any(
            isinstance(node, ast.Name) and node.id not in self.locals and state.is_request_name(node.id, resolve(node))
            for node in ast.walk(value)
        )

    def _tests_set(self, test: ast.expr) -> bool:
        """`X`, `X is not None`, `X != None` (possibly within `and`): the state is already there."""
        if isinstance(test, ast.BoolOp) and isinstance(test.op, ast.And):
            return any(self._tests_set(value) for value in test.values)
        if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.IsNot, ast.NotEq)):
            right = test.comparators[0]
            return self._is_state_name(test.left) and isinstance(right, ast.Constant) and right.value is None
        return self._is_state_name(test)

    def _locked(self, statement: ast.AST) -> bool:
        for ancestor in self.rule.context.ancestors(statement):
            if ancestor is self.function:
                return False
            if isinstance(ancestor, (ast.With, ast.AsyncWith)) and any(
                self.rule.is_lock(item.context_expr) for item in ancestor.items
            ):
                return True
        return False


def _dump(nodes: tuple[ast.expr, ...]) -> str:
    return "|".join(ast.dump(node) for node in nodes)


def _keys_of(node: ast.expr) -> tuple[ast.expr, ...]:
    """The keys of `X[a][b]`: a and b."""
    keys: list[ast.expr] = []
    while isinstance(node, ast.Subscript):
        keys.append(node.slice)
        node = node.value
    return tuple(reversed(keys))


def _subscript_root(node: ast.expr, bare: bool = False) -> str | None:
    """`parts` of `parts["files"]` (and of `parts` itself when `bare`)."""
    if not bare and not isinstance(node, ast.Subscript):
        return None
    while True:
        if isinstance(node, ast.Subscript):
            node = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("setdefault", "get"):
            # `X.setdefault(key, [])`: the item of X the change goes into.
            node = node.func.value
        else:
            break
    return node.id if isinstance(node, ast.Name) else None


def _self_request(node: ast.Attribute) -> bool:
    """`self.request` (a class-based view's request): what hangs from it is the request's."""
    return node.attr == "request" and isinstance(node.value, ast.Name) and node.value.id == "self"


def _key_names(node: ast.AST, holders: frozenset[str]) -> Iterator[str]:
    """Names used as keys of `holders`: `X[name]`, `X.pop(name)`, `X.get(name)`."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id in holders:
        if isinstance(node.slice, ast.Name):
            yield node.slice.id
    elif (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in holders
        and node.func.attr in ("pop", "get", "setdefault", "remove", "discard")
        and node.args
        and isinstance(node.args[0], ast.Name)
    ):
        yield node.args[0].id


def _per_process_keys(nodes: list[ast.AST], holders: frozenset[str]) -> frozenset[str]:
    return frozenset(name for node in nodes for name in _key_names(node, holders))


def _per_process_registries(context: FileContext, per_process: frozenset[str]) -> frozenset[str]:
    """Module state a function of the module fills with per-process objects, or with their keys."""
    resolve = context.qualified_name
    # In source order rather than ast.walk's: what is found is a set, the same in any order.
    functions = cast("list[ast.FunctionDef | ast.AsyncFunctionDef]", context.nodes_of(ast.FunctionDef, ast.AsyncFunctionDef))
    filled: set[str] = set()
    owned: dict[int, list[ast.AST]] = {}
    for function in functions:
        nodes = owned[id(function)] = list(context.semantic.own_nodes(function))
        made = {
            target.id
            for node in nodes
            if isinstance(node, ast.Assign) and state.is_per_process_value(node.value, resolve)
            for target in node.targets
            if isinstance(target, ast.Name)
        }

        def of_process(value: ast.expr, made: set[str] = made) -> bool:
            if isinstance(value, ast.Name):
                return value.id in made or value.id in per_process
            return state.is_per_process_value(value, resolve)

        for node in nodes:
            if isinstance(node, ast.Assign) and of_process(node.value):
                for target in node.targets:
                    root = _subscript_root(target)
                    if root is not None and root not in made:
                        filled.add(root)
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("add", "append")
                and len(node.args) == 1
                and of_process(node.args[0])
            ):
                root = _subscript_root(node.func.value, bare=True)
                if root is not None and root not in made:
                    filled.add(root)
    holders = frozenset(filled) | per_process
    index: set[str] = set()
    for function in functions:
        nodes = owned[id(function)]
        keys = _per_process_keys(nodes, holders)
        if not keys:
            continue
        for node in nodes:
            stored: list[tuple[str | None, ast.expr]] = []
            if isinstance(node, ast.Assign):
                stored = [(_subscript_root(target), node.value) for target in node.targets]
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in _STORING_MUTATORS:
                stored = [(_subscript_root(node.func.value, bare=True), argument) for argument in node.args]
            for root, value in stored:
                if root is not None and root not in holders and isinstance(value, ast.Name) and value.id in keys:
                    index.add(root)
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.List):
                for target in node.targets:
                    root = _subscript_root(target)
                    if root is not None and root not in holders and any(
                        isinstance(element, ast.Name) and element.id in keys for element in node.value.elts
                    ):
                        index.add(root)
    return frozenset(filled | index)


def _comprehension_targets(value: ast.expr) -> set[str]:
    """Names a comprehension inside `value` binds (`s` in `[s for s in config.STORAGE]`)."""
    return {
        target.id
        for node in ast.walk(value)
        if isinstance(node, ast.comprehension)
        for target in ast.walk(node.target)
        if isinstance(target, ast.Name)
    }


def _unset_state(test: ast.expr) -> str | None:
    """The state a test finds missing: `key not in X` (X), `X is None`, `not X`."""
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], ast.NotIn):
        container = test.comparators[0]
        return container.id if isinstance(container, ast.Name) else None
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not) and isinstance(test.operand, ast.Name):
        return test.operand.id
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.Eq)):
        right = test.comparators[0]
        if isinstance(test.left, ast.Name) and isinstance(right, ast.Constant) and right.value is None:
            return test.left.id
    return None


def _rebound(found: _State) -> _State:
    """A rebinding changes the name, whatever it held: reported as a name, never as a cache fill."""
    return _State(found.name, Container.UNKNOWN, found.imported, qualified=found.qualified)


def _tests_unset(test: ast.expr, name: str) -> bool:
    """`name is None`, `not name`, `name == None`, possibly inside `and`/`or`; `name` is a plain
    name or a dotted one (`state.model is None` for a module's attribute)."""
    if isinstance(test, ast.BoolOp):
        return any(_tests_unset(value, name) for value in test.values)
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return dotted_name(test.operand) == name
    if isinstance(test, ast.Compare) and len(test.ops) == 1 and isinstance(test.ops[0], (ast.Is, ast.Eq)):
        sides = [test.left, test.comparators[0]]
        return any(dotted_name(side) == name for side in sides) and any(
            isinstance(side, ast.Constant) and side.value is None for side in sides
        )
    return False


def _local_names(function: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda, nodes: list[ast.AST]) -> set[str]:
    """Parameters and every name the function binds itself (assignment, import, def, loop, with, except)."""
    names = parameter_names(function)
    for node in nodes:
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((alias.asname or alias.name).split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        elif isinstance(node, ast.Nonlocal):
            names.update(node.names)
    return names


def _module_assignments(tree: ast.Module) -> Iterator[tuple[str, ast.expr]]:
    """Module-level `name = value` bindings, including those under top-level if/try blocks."""
    for name, value, _ in _module_bindings(tree):
        if value is not None:
            yield name, value


def _module_bindings(tree: ast.Module) -> Iterator[tuple[str, ast.expr | None, ast.expr | None]]:
    """Module-level bindings as (name, value, annotation), including those under top-level if/try blocks."""
    stack: list[ast.stmt] = list(reversed(tree.body))
    while stack:
        statement = stack.pop()
        if isinstance(statement, ast.Assign):
            for target in statement.targets:
                if isinstance(target, ast.Name):
                    yield target.id, statement.value, None
        elif isinstance(statement, ast.AnnAssign):
            if isinstance(statement.target, ast.Name):
                yield statement.target.id, statement.value, statement.annotation
        elif isinstance(statement, ast.If):
            stack.extend(reversed([*statement.body, *statement.orelse]))
        elif isinstance(statement, ast.Try):
            stack.extend(reversed([*statement.body, *statement.orelse, *statement.finalbody]))
            for handler in statement.handlers:
                stack.extend(reversed(handler.body))


def _module_containers(context: FileContext) -> dict[str, Container]:
    """Module-level names bound to a mutable container (a known one wins over an unknown call)."""
    found: dict[str, Container] = {}
    for name, value in _module_assignments(context.tree):
        container = state.container_of(value, context.qualified_name)
        if container is None:
            continue
        if found.get(name) in (None, Container.UNKNOWN):
            found[name] = container
    return found


def _reachable(index: ProjectIndex, max_depth: int) -> dict[str, tuple[str, ...]]:
    """Every project function a handler reaches within `max_depth` calls, with the shortest chain."""
    chains: dict[str, tuple[str, ...]] = {}
    frontier: list[tuple[str, ...]] = []
    for handler in sorted(handler_qualnames(index)):
        if handler in index.functions and handler not in chains:
            chains[handler] = (handler,)
            frontier.append((handler,))
    for _ in range(max_depth):
        following: list[tuple[str, ...]] = []
        for chain in frontier:
            for site, callee in index.callees(chain[-1]):
                if site.once:
                    # Called from a lazy initialisation (`if _store is None: _store = ...; configure()`):
                    # once per process, whatever the request.
                    continue
                if callee.qualname not in chains:
                    chains[callee.qualname] = (*chain, callee.qualname)
                    following.append(chains[callee.qualname])
        frontier = following
    return chains


def _statement_text(context: FileContext, statement: ast.stmt, header_only: bool) -> str:
    if header_only:
        text = context.lines[statement.lineno - 1].strip() if statement.lineno <= len(context.lines) else ""
    else:
        text = context.segment(statement)
    return _clip(" ".join(text.split()))


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
