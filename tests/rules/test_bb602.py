"""BB602 across modules: state imported from another module, services reached from handlers,
import-time calls, the call depth, and caches filled from the database."""

from __future__ import annotations

from pathlib import Path

from helpers import review_tree_with

from backbone.findings import Confidence, Finding


def review_tree(root: Path, files: dict[str, str], config: str = "") -> list[Finding]:
    return review_tree_with(root, files, "BB602", config)


SERVICE = {
    "app/__init__.py": "",
    "app/store.py": """\
        PENDING_CODES = {}
        issued = []
        counter = 0

        def register(code):
            issued.append(code)

        register("bootstrap")
        """,
    "app/main.py": """\
        from fastapi import FastAPI

        from app import store
        from app.store import PENDING_CODES, register

        app = FastAPI()

        @app.post("/oauth/authorize")
        def authorize(client_id: str, code: str):
            PENDING_CODES[code] = client_id
            store.issued.append(code)
            store.counter = store.counter + 1
            register(code)
            return {"code": code}
        """,
}


def test_state_of_another_module(tmp_path: Path) -> None:
    found = review_tree(tmp_path, SERVICE)
    assert [(f.path, f.line, f.rule_confidence) for f in found] == [
        ("app/main.py", 10, Confidence.MEDIUM),
        ("app/main.py", 11, Confidence.MEDIUM),
        ("app/main.py", 12, Confidence.MEDIUM),
        # register() changes its own module's list; reached from the handler, not from the
        # import-time call at the bottom of store.py.
        ("app/store.py", 6, Confidence.HIGH),
    ]
    assert "`PENDING_CODES` imported from another module" in found[0].message
    assert "which handler `authorize` calls (authorize -> register)" in found[3].message


def test_only_import_time_callers_are_quiet(tmp_path: Path) -> None:
    files = dict(SERVICE)
    files["app/main.py"] = """\
        from fastapi import FastAPI

        from app.store import PENDING_CODES

        app = FastAPI()

        @app.get("/codes/{code}")
        def lookup(code: str):
            return {"client": PENDING_CODES.get(code)}
        """
    assert review_tree(tmp_path, files) == []


def test_max_depth_option(tmp_path: Path) -> None:
    files = {
        "svc.py": """\
            from flask import Flask

            app = Flask(__name__)
            EVENTS = []

            def record(event):
                EVENTS.append(event)

            def track(event):
                record(event)

            @app.post("/events")
            def post_event():
                track("hit")
                return "ok"
            """,
    }
    assert [f.line for f in review_tree(tmp_path, files)] == [7]
    assert review_tree(tmp_path, files, "[tool.backbone.rules.BB602]\nmax-depth = 1\n") == []


def test_cache_filled_through_a_service_that_queries(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/models.py": """\
            from django.db import models

            class Product(models.Model):
                name = models.CharField(max_length=100)
            """,
        "shop/services.py": """\
            from shop.models import Product

            def load_product(pk):
                return Product.objects.get(pk=pk)
            """,
        "shop/views.py": """\
            import hashlib

            from django.http import JsonResponse
            from django.urls import path

            from shop.services import load_product

            _product_cache = {}
            _digest_cache = {}

            def product(request, pk):
                if pk not in _product_cache:
                    _product_cache[pk] = load_product(pk).name
                if pk not in _digest_cache:
                    _digest_cache[pk] = hashlib.sha256(str(pk).encode()).hexdigest()
                return JsonResponse({"name": _product_cache[pk]})

            def digest(request, pk):
                if pk not in _digest_cache:
                    _digest_cache[pk] = hashlib.sha256(str(pk).encode()).hexdigest()
                return JsonResponse({"digest": _digest_cache[pk]})

            urlpatterns = [path("products/<int:pk>/", product), path("digests/<int:pk>/", digest)]
            """,
    }
    found = review_tree(tmp_path, files)
    # The product cache holds rows; the digest cache, in a function that runs no query, is quiet.
    # In `product` both fills run next to a query, so both are reported.
    assert [(f.path, f.line, f.rule_confidence) for f in found] == [
        ("shop/views.py", 13, Confidence.MEDIUM),
        ("shop/views.py", 15, Confidence.MEDIUM),
    ]
    assert found[0].message.startswith("Module-level cache `_product_cache` is filled with database data")


PER_PROCESS = {
    "app/__init__.py": "",
    "app/stream.py": """\
        import asyncio
        import logging
        from asyncio import Queue
        from contextlib import asynccontextmanager
        from typing import Set

        log = logging.getLogger(__name__)

        subscribers: Set["Queue[dict]"] = set()
        filters: dict = {}
        _waiters: set[asyncio.Future[None]] = set()
        _owner_loop: asyncio.AbstractEventLoop | None = None
        _inflight: tuple = ()
        _queue = None
        _warned = set()
        _seen_users = set()

        @asynccontextmanager
        async def subscribed(spec: str):
            queue: "Queue[dict]" = Queue(maxsize=16)
            subscribers.add(queue)
            filters[queue] = spec
            try:
                yield queue
            finally:
                subscribers.remove(queue)
                del filters[queue]

        def ensure_writer():
            global _owner_loop, _inflight, _queue
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return None
            if _owner_loop is not loop:
                _queue = asyncio.Queue()
                _owner_loop = loop
                _inflight = ()
                _waiters.clear()
            return _queue

        def warn_deprecated(endpoint: str):
            if endpoint not in _warned:
                _warned.add(endpoint)
                log.warning("%s is deprecated", endpoint)

        def remember(user: str):
            if user not in _seen_users:
                _seen_users.add(user)
                log.info("first visit of %s", user)
                return True
            return False
        """,
    "app/main.py": """\
        from fastapi import FastAPI, WebSocket

        from app.stream import ensure_writer, remember, subscribed, warn_deprecated

        app = FastAPI()

        @app.websocket("/events")
        async def events(websocket: WebSocket):
            async with subscribed("all") as queue:
                await websocket.send_json(await queue.get())

        @app.post("/audit")
        async def audit(user: str):
            ensure_writer()
            warn_deprecated("/audit")
            remember(user)
            return {}
        """,
}


def test_state_that_is_per_process_by_nature(tmp_path: Path) -> None:
    """Registries of a connection's asyncio queue, the running loop and the state rebuilt with it, and a
    set that keeps a warning to once per process are quiet; a set whose answer the caller uses is not."""
    findings = review_tree(tmp_path, PER_PROCESS)
    assert [(finding.path, finding.line) for finding in findings] == [("app/stream.py", 49)]
    assert "_seen_users" in findings[0].message


def test_object_of_a_project_class_is_no_container(tmp_path: Path) -> None:
    """`Automations.insert(...)` on a module-level object of a project class calls the class's own
    method (a table or repository singleton); a module-level subclass of dict is still a container,
    and rebinding the name is still a change."""
    files = {
        "app/__init__.py": "",
        "app/tables.py": """\
            class AutomationTable:
                def insert(self, user_id, form):
                    return {"user": user_id, **form}

                def pop(self, key):
                    return key

            class Registry(dict):
                pass

            Automations = AutomationTable()
            REGISTRY = Registry()
            """,
        "app/main.py": """\
            from fastapi import FastAPI

            from app import tables
            from app.tables import REGISTRY, Automations, AutomationTable

            app = FastAPI()
            Local = AutomationTable()

            @app.post("/automations")
            def create(user_id: int, form: dict):
                Automations.insert(user_id, form)
                Local.insert(user_id, form)
                Automations.pop(user_id)
                REGISTRY.setdefault(user_id, form)
                tables.Automations = AutomationTable()
                return {}
            """,
    }
    found = review_tree(tmp_path, files)
    assert [(f.path, f.line) for f in found] == [("app/main.py", 14), ("app/main.py", 15)]


def test_keyed_memo_filled_when_missing(tmp_path: Path) -> None:
    """`if key not in X: X[key] = build(key)` then `return X[key]`: a per-process memo of handles every
    worker builds alike; a memo filled from the database and a value taken from the request are reported."""
    files = {
        "app/__init__.py": "",
        "app/main.py": """\
            import threading

            from fastapi import FastAPI
            from flask import request

            from app.queue import Queue, load_rows

            app = FastAPI()
            _instances: dict[str, Queue] = {}
            _instances_lock = threading.Lock()
            _rows = {}
            _first_seen = {}

            def queue_for(name):
                with _instances_lock:
                    if name not in _instances:
                        _instances[name] = Queue(name, retries=0)
                    return _instances[name]

            def rows_for(name):
                if name not in _rows:
                    _rows[name] = load_rows(name)
                return _rows[name]

            def first_seen(name):
                if name not in _first_seen:
                    _first_seen[name] = request.remote_addr
                return _first_seen[name]

            @app.post("/jobs/{name}")
            def submit(name: str):
                return {"q": str(queue_for(name)), "rows": rows_for(name), "ip": first_seen(name)}
            """,
        "app/queue.py": """\
            import sqlite3

            class Queue:
                def __init__(self, name, retries):
                    self.name = name

            def load_rows(name):
                return sqlite3.connect("db").execute("select * from t where n = ?", (name,)).fetchall()
            """,
    }
    found = review_tree(tmp_path, files)
    assert [(f.path, f.line) for f in found] == [("app/main.py", 22), ("app/main.py", 27)]
    assert "cache" in found[0].message


def test_only_request_input_or_state_a_handler_answers_from_is_reported(tmp_path: Path) -> None:
    """A handler stores what the client posted in a module dict (another handler answers from it):
    reported. Bookkeeping of the process (flags and counters set from constants, an index of its own
    asyncio tasks, an entry held only while a call runs) carries no request input and is not."""
    files = {
        "app/__init__.py": "",
        "app/pause.py": """\
            import contextlib
            import itertools
            import time

            _places = itertools.count()
            _held = {}

            @contextlib.contextmanager
            def writing(kind, method=None, path=None):
                held = next(_places)
                _held[held] = {"kind": kind, "method": method, "path": path, "since": time.time()}
                try:
                    yield True
                finally:
                    del _held[held]
            """,
        "app/main.py": """\
            import asyncio
            import uuid

            from fastapi import FastAPI, Request

            from app.pause import writing
            from app.schemas import Destinations

            app = FastAPI()
            _secrets = {"for": {}}
            _failures = 0
            _accepting = True
            tasks: dict[str, asyncio.Task] = {}
            chat_tasks = {}

            def _note_failure():
                global _failures, _accepting
                _failures += 1
                _accepting = False

            def start(chat_id, work):
                task_id = str(uuid.uuid4())
                tasks[task_id] = asyncio.create_task(work)
                if chat_tasks.get(chat_id):
                    chat_tasks[chat_id].append(task_id)
                else:
                    chat_tasks[chat_id] = [task_id]
                return task_id

            def cleanup(task_id, chat_id):
                tasks.pop(task_id, None)
                chat_tasks.pop(chat_id, None)

            @app.put("/destinations")
            async def save(http_request: Request):
                body = Destinations.model_validate_json(await http_request.body())
                parts = {}
                if files := body.files:
                    parts["files"] = {"bucket": files.bucket, "key": files.key}
                for part in ("files",):
                    _secrets["for"][part] = dict(parts[part])
                _note_failure()
                with writing("request", method="PUT", path="/destinations"):
                    start(body.chat, asyncio.sleep(0))
                    cleanup("t", body.chat)
                return {}

            @app.post("/run")
            async def run():
                return {"held": sorted(_secrets.get("for") or {})}
            """,
    }
    found = review_tree(tmp_path, files)
    assert [(f.path, f.line) for f in found] == [("app/main.py", 41)]


def test_cache_entry_reset_to_an_empty_container_is_not_a_fill(tmp_path: Path) -> None:
    files = {
        "shop/__init__.py": "",
        "shop/models.py": """\
            from django.db import models

            class Product(models.Model):
                name = models.CharField(max_length=100)
            """,
        "shop/state.py": """\
            from collections import OrderedDict

            class LRU(OrderedDict):
                pass

            query_cache = {}
            """,
        "shop/views.py": """\
            from django.http import JsonResponse
            from django.urls import path

            from shop import state
            from shop.models import Product
            from shop.state import LRU

            def search(request, user):
                results = [product.name for product in Product.objects.filter(name__icontains=request.GET["q"])]
                state.query_cache.setdefault(user, LRU())["q"] = results
                return JsonResponse({"results": results})

            def reindex(request, user):
                for product in Product.objects.all():
                    product.save()
                state.query_cache[user] = LRU()
                state.query_cache[request.GET["other"]] = {}
                return JsonResponse({})

            urlpatterns = [path("search/<user>/", search), path("reindex/<user>/", reindex)]
            """,
    }
    found = review_tree(tmp_path, files)
    # The fill in `search` is reported; `reindex` only resets entries to new empty containers.
    assert [(f.path, f.line) for f in found] == [("shop/views.py", 10)]


def test_lazy_load_into_another_modules_attribute(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/state.py": """\
            chat_model = None
            """,
        "app/models.py": """\
            class ChatModel:
                def __init__(self, name: str):
                    self.name = name
            """,
        "app/main.py": """\
            from fastapi import FastAPI

            from app import state
            from app.models import ChatModel

            app = FastAPI()

            @app.post("/chat")
            def chat(model_name: str):
                if state.chat_model is None or state.chat_model.name is None:
                    state.chat_model = ChatModel(model_name)
                return {"model": state.chat_model.name}

            @app.post("/model")
            def switch(model_name: str):
                state.chat_model = ChatModel(model_name)
                return {}
            """,
    }
    found = review_tree(tmp_path, files)
    # Built on first use in every worker; replacing it unconditionally is still reported.
    assert [(f.path, f.line) for f in found] == [("app/main.py", 16)]


def test_calls_made_by_a_lazy_initialisation_run_once_per_process(tmp_path: Path) -> None:
    files = {
        "app/__init__.py": "",
        "app/registry.py": """\
            _registry_uri = None

            def set_registry_uri(uri):
                global _registry_uri
                _registry_uri = uri
            """,
        "app/main.py": """\
            import os

            from fastapi import FastAPI

            from app import registry

            app = FastAPI()
            _store = None

            class Store:
                def __init__(self, uri):
                    self.uri = uri

            def get_store(uri=None):
                global _store
                if _store is None:
                    store_uri = uri or os.environ.get("STORE_URI")
                    _store = Store(store_uri)
                    registry.set_registry_uri(store_uri)
                return _store

            @app.get("/models")
            def models(uri: str):
                return {"uri": get_store(uri).uri}
            """,
    }
    # `set_registry_uri` runs once per process, in the first call of `get_store`.
    assert review_tree(tmp_path / "lazy", files) == []
    # A handler that calls it itself changes it on every request.
    files["app/admin.py"] = """\
        from fastapi import APIRouter

        from app import registry

        router = APIRouter()

        @router.post("/registry")
        def switch(uri: str):
            registry.set_registry_uri(uri)
            return {}
        """
    found = review_tree(tmp_path / "direct", files)
    assert [(f.path, f.line) for f in found] == [("app/registry.py", 5)]
    assert "(switch -> set_registry_uri)" in found[0].message


BOUNDED = {
    "shop/__init__.py": "",
    "shop/models.py": """\
        from django.db import models

        class Organization(models.Model):
            name = models.CharField(max_length=100)
            created_at = models.DateTimeField()
        """,
    "shop/age.py": """\
        _MAX = 1000
        _created_at = {}
        _unbounded = {}

        def remember(org_id, created_at):
            if org_id in _created_at:
                return
            if len(_created_at) >= _MAX:
                del _created_at[next(iter(_created_at))]
            _created_at[org_id] = created_at

        def keep(org_id, created_at):
            _unbounded[org_id] = created_at
        """,
    "shop/failures.py": """\
        import time

        from shop.models import Organization

        _TTL = 3600.0
        _FAILED = {}
        _FAILED_FOREVER = {}

        def refresh(org_ids):
            now = time.monotonic()
            for org_id, deadline in list(_FAILED.items()):
                if deadline <= now:
                    _FAILED.pop(org_id, None)
            for org_id in org_ids:
                if org_id in _FAILED:
                    continue
                if not Organization.objects.filter(pk=org_id).exists():
                    _FAILED[org_id] = time.monotonic() + _TTL
                    _FAILED_FOREVER[org_id] = time.monotonic() + _TTL
        """,
    "shop/views.py": """\
        from django.http import JsonResponse
        from django.urls import path

        from shop.age import keep, remember
        from shop.failures import refresh

        def organization(request, org_id):
            created_at = request.GET["created_at"]
            remember(org_id, created_at)
            keep(org_id, created_at)
            refresh([org_id])
            return JsonResponse({})

        urlpatterns = [path("org/<org_id>/", organization)]
        """,
}


def test_bounded_and_expiring_containers_are_caches(tmp_path: Path) -> None:
    """A dict the module trims to a size cap, or whose entries expire by the clock, is a cache by
    construction: it is reported only when it holds database data, and a deadline is no such data."""
    found = review_tree(tmp_path, BOUNDED)
    # The unbounded dict, and the dict whose entries never expire, are still reported.
    assert [(f.path, f.line) for f in found] == [("shop/age.py", 13), ("shop/failures.py", 19)]


REFCOUNTS = {
    "shop/__init__.py": "",
    "shop/streams.py": """\
        _refs = {}
        _active = {}
        MAX_ACTIVE = 3

        def acquire(run_id):
            _refs[run_id] = _refs.get(run_id, 0) + 1

        def release(run_id):
            remaining = _refs.get(run_id, 0) - 1
            if remaining <= 0:
                _refs.pop(run_id, None)
                return True
            _refs[run_id] = remaining
            return False

        def is_live(run_id):
            return _refs.get(run_id, 0) > 0

        def start(user):
            if _active.get(user, 0) >= MAX_ACTIVE:
                raise RuntimeError("too many")
            _active[user] = _active.get(user, 0) + 1

        def stop(user):
            _active[user] = _active.get(user, 0) - 1
            if _active[user] == 0:
                del _active[user]

        _running = {}

        def begin_export(user):
            if _running.get(user, 0) > 0:
                raise RuntimeError("busy")
            _running[user] = _running.get(user, 0) + 1

        def end_export(user):
            remaining = _running.get(user, 0) - 1
            if remaining <= 0:
                _running.pop(user, None)
            else:
                _running[user] = remaining
        """,
    "shop/views.py": """\
        from django.http import JsonResponse
        from django.urls import path

        from shop.streams import acquire, begin_export, end_export, release, start, stop

        def run(request, run_id):
            acquire(run_id)
            try:
                return JsonResponse({})
            finally:
                release(run_id)

        def work(request, user):
            start(user)
            stop(user)
            begin_export(user)
            end_export(user)
            return JsonResponse({})

        urlpatterns = [path("run/<run_id>/", run), path("work/<user>/", work)]
        """,
}


def test_reference_counts_compared_only_with_zero_are_per_process(tmp_path: Path) -> None:
    """A count of holders that drops its entry at zero tracks what this process holds; a count compared
    with a limit is a quota that every worker would enforce separately, and is still reported."""
    found = review_tree(tmp_path, REFCOUNTS)
    # The quota (`_active`), and the one-at-a-time count a request is refused on (`_running`), are reported.
    assert [(f.path, f.line) for f in found] == [
        ("shop/streams.py", 22),
        ("shop/streams.py", 25),
        ("shop/streams.py", 27),
        ("shop/streams.py", 34),
        ("shop/streams.py", 39),
        ("shop/streams.py", 41),
    ]


LOCKOUT = {
    "shop/__init__.py": "",
    "shop/views.py": """\
        import time

        from django.http import JsonResponse
        from django.urls import path

        _LOCK_SECONDS = 300
        _locked_until = {}
        _last_call = {}

        def login(request, user):
            now = time.monotonic()
            for name, deadline in list(_locked_until.items()):
                if deadline <= now:
                    _locked_until.pop(name, None)
            if _locked_until.get(user, 0) > now:
                return JsonResponse({}, status=429)
            _locked_until[user] = time.monotonic() + _LOCK_SECONDS
            return JsonResponse({})

        def ping(request, ip):
            now = time.time()
            last = _last_call.get(ip)
            if last is not None and now - last < 1:
                raise PermissionError("slow down")
            if len(_last_call) > 1000:
                _last_call.clear()
            _last_call[ip] = time.time()
            return JsonResponse({})

        urlpatterns = [path("login/<user>/", login), path("ping/<ip>/", ping)]
        """,
}


def test_expiring_state_that_refuses_requests_is_not_a_cache(tmp_path: Path) -> None:
    """A lockout or a throttle kept per worker lets each worker grant its own share: reported, even
    though its entries expire by the clock or by size."""
    found = review_tree(tmp_path, LOCKOUT)
    assert [(f.path, f.line) for f in found] == [
        ("shop/views.py", 14),
        ("shop/views.py", 17),
        ("shop/views.py", 26),
        ("shop/views.py", 27),
    ]
