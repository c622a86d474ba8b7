"""BB401 blocking-call-in-async: a call that blocks the event loop, directly or through sync helpers."""

from __future__ import annotations

import ast
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

from backbone.findings import Severity
from backbone.records import Record
from backbone.review.context_kinds import ExecutionContext, Framework
from backbone.review.frameworks import WebFramework, handler_for
from backbone.review.knowledge.bindings import ObjectTypes
from backbone.review.knowledge.blocking import (
    OFFLOADING_CALLS,
    OFFLOADING_DECORATORS,
    OFFLOADING_METHODS,
    ONE_TIME_DECORATORS,
    BlockingCall,
    blocking_call,
    blocking_function,
    blocking_query,
    blocking_site,
    blocking_types,
)
from backbone.review.knowledge.calls import (
    display_name,
    function_or_constructor,
    project_callee,
)
from backbone.review.knowledge.commands import (
    loop_owners,
    runs_on_own_loop,
    runs_only_from_commands,
    script_entry_points,
)
from backbone.review.knowledge.paths import is_test_path
from backbone.review.orm import module_flows, project_knowledge
from backbone.review.project import INSTANCE_CALL, FunctionFacts, ProjectIndex
from backbone.review.rules.base import (
    ONE_OFF_RUNS,
    OptionValue,
    Rule,
    RuleDoc,
    RuleOption,
    Scope,
)
from backbone.review.semantic import constant_truth

if TYPE_CHECKING:
    from backbone.review.context import FileContext

_NESTED = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_STALL = "which stalls the event loop and every other request it is serving"


class _Path(Record, frozen=True):
    """How a project function reaches a blocking call: the functions on the way, then the call."""

    functions: tuple[str, ...]
    leaf: BlockingCall


class BlockingCallInAsync(Rule):
    code = "BB401"
    name = "blocking-call-in-async"
    summary = (
        "Inside `async def`, a call that blocks the event loop (sleep, sync HTTP, SMTP, subprocess, "
        "sync database drivers and ORMs, file reads), directly or through sync project functions."
    )
    severity = Severity.WARNING
    contexts = ONE_OFF_RUNS
    # Code no entry point reaches (an SDK function, an evaluation harness): whether an event loop
    # that serves other work runs it is not known.
    uncertain_in = frozenset({ExecutionContext.UNKNOWN})
    scope = Scope.PROJECT
    subscribes = (ast.AsyncFunctionDef,)
    options = (
        RuleOption("max_depth", 4, "How many project functions deep to follow sync calls from an `async def`."),
    )
    doc = RuleDoc(
        what_it_does=(
            "Looks inside every `async def` (handlers, services, consumers, background coroutines) for "
            "calls that block the thread they run on:\n\n"
            "- `time.sleep`;\n"
            "- sync HTTP: requests (module functions and Sessions), `urllib.request`, `http.client`, "
            "urllib3, httpx's module functions and a sync `httpx.Client`;\n"
            "- SMTP: `smtplib.SMTP(...)` and its methods, Django's `send_mail` and friends;\n"
            "- processes: `subprocess.run/call/check_call/check_output`, `os.system`, `os.popen`, "
            "`Popen.communicate/wait`;\n"
            "- the database: sync driver connections (`psycopg2.connect`, `sqlite3.connect`, ...) and every "
            "query the ORM layer sees run on a sync handle: Django QuerySet evaluation (`.get()`, "
            "`.first()`, `for x in qs`, `list(qs)`, lazy relation reads), sync SQLAlchemy sessions, "
            "engines and connections (including a FastAPI parameter annotated `Session`), DB-API "
            "cursors; a sync service given the session (`list_users(db)`, or a class FastAPI builds "
            "with `service: UserService = Depends(UserService)`, whose methods are followed);\n"
            "- file I/O: `open(...)`, `Path.read_text/read_bytes/write_text/write_bytes` (medium "
            "confidence: local disks are usually fast, network file systems are not; low for a file "
            "shipped with the module, a path built from its own `__file__` such as "
            "`Path(__file__).parent / \"page.html\"`: a template or a schema, small and local).\n\n"
            "It follows calls into the project's own **sync** functions through the call graph (to "
            "`max_depth` functions deep, across modules) and reports the call in the `async def` with "
            "the chain: \"`version()` runs a process and waits for it through the `await`-less call chain "
            "version() -> git_revision() -> subprocess.check_output()\". Several calls on one connection "
            "or session are reported once, at the first, with a count of the rest.\n\n"
            "Not flagged:\n\n"
            "- `await`ed calls, `async with` and `async for` (they are the async API), Django's async ORM "
            "(`aget()`, `acount()`, `async for`), `AsyncSession`;\n"
            "- blocking callables *passed* to `asyncio.to_thread`, `loop.run_in_executor`, "
            "`sync_to_async`, `database_sync_to_async`, `run_in_threadpool` or "
            "`anyio.to_thread.run_sync`, and code in nested functions and lambdas (they run where they "
            "are passed);\n"
            "- project functions decorated with `sync_to_async`/`database_sync_to_async` (awaitable), or "
            "with `functools.cache`/`lru_cache` (a one-off cost, usually reading settings), and functions "
            "that keep their answer in module-level state (`global _domain; if _domain is None: _domain = "
            "...`, `if key not in _SITES: _SITES[key] = ...`): the work runs once per process, not per "
            "request; likewise whatever a function reaches only through the call that fills such a global "
            "(`if _ROUTES is None: _ROUTES = _load_routes()`, where `_load_routes()` opens a file);\n"
            "- SQLAlchemy relationship reads (`user.addresses`), eager-loaded or not: on an "
            "`AsyncSession`'s object a lazy load raises `MissingGreenlet` instead of blocking, and an "
            "object of a sync `Session` came from a query, which is where the sync session is reported;\n"
            "- coroutines that own their event loop: CLI commands (`@app.command()`, `@click.command()`, "
            "`@cli.group()`, cyclopts' `@app.default`) and the coroutines only they await, and a "
            "script's `asyncio.run(main())`, and a coroutine that a plain function starts on a loop of its "
            "own (`def main(): anyio.run(_execute_hook, path)`) and that nothing else in the module names; "
            "a coroutine that only ever runs on such a loop anywhere in the project: every call of it is "
            "started by `asyncio.run(create(...))` (anyio, trio, uvloop) in a plain function of any module, "
            "or made by a coroutine that itself only runs on such a loop (an argparse CLI's `asyncio.run` "
            "and all it awaits); and an RQ job (`@job(...)` from `rq`), whose coroutine RQ's worker runs on "
            "a new event loop for each job;\n"
            "- a blocking call reached only through a method of an object a sync helper builds "
            "(`server = Server(); server.start()` inside `get_client()`): the chain is followed through "
            "the calls the code names, not through objects built on the way;\n"
            "- start-up and shut-down work: `on_event(\"startup\")` hooks, a `lifespan=` function handed to "
            "the application (`FastAPI(lifespan=lifespan)`, `on_startup=[...]`, `add_event_handler(\"startup\", "
            "hook)`, in an application factory or at module level) and the coroutines it awaits, in its own "
            "module or another, also as methods of an object the hook builds (`manager = ConfigManager()`, "
            "`await manager.init_config()`): they run before the first request is served;\n"
            "- `open()` of a file whose every read and write is handed to a worker thread (`with open(path, "
            "\"rb\") as source: data = await asyncio.to_thread(source.read, limit)`): opening a local file is "
            "one short system call, the I/O runs off the loop;\n"
            "- Flask `async def` views: Flask runs each in an event loop of its own on the request's "
            "worker thread, so blocking it delays nobody else (Quart and the ASGI frameworks share one "
            "loop and are checked);\n"
            "- test code (`tests/`, `test_*.py`, `conftest.py`): tests run one coroutine at a time;\n"
            "- code that never runs: a branch whose test is false whatever the program does (`if False:`, "
            "`elif kind == \"legacy\" and False:`, `if 0:`), and the classes and functions that only such "
            "branches name (a `LegacyAgent` built only under `and False`, named nowhere else, neither "
            "decorated nor listed in `__all__`): their methods run in no context.\n\n"
            "A coroutine of a background worker (an arq job, an async Dramatiq or Celery task) stays a "
            "warning: it shares its event loop with the worker's other jobs, which the blocking call stalls."
        ),
        why_is_this_bad=(
            "An event loop runs every request of the worker on one thread. While a blocking call waits "
            "(for a partner API, the database, a sleep) nothing else runs: not the other requests, not "
            "the health check, not the timeouts meant to cut the slow call short. One slow dependency "
            "turns into a latency spike for every user of that worker, and under load into a full "
            "outage, while CPU stays idle. Django raises `SynchronousOnlyOperation` for sync ORM calls "
            "from async code; other frameworks just stall."
        ),
        example=(
            "import requests\n"
            "from fastapi import FastAPI\n\n"
            "app = FastAPI()\n\n\n"
            "def load_rates():\n"
            '    return requests.get(RATES_URL, timeout=5).json()\n\n\n'
            '@app.get("/prices/{sku}")\n'
            "async def price(sku: str):\n"
            "    rates = load_rates()\n"
            '    return {"sku": sku, "rates": rates}\n'
        ),
        use_instead=(
            "import httpx\n"
            "from fastapi import FastAPI\n\n"
            "app = FastAPI()\n\n\n"
            "async def load_rates():\n"
            "    async with httpx.AsyncClient(timeout=5) as client:\n"
            "        return (await client.get(RATES_URL)).json()\n\n\n"
            '@app.get("/prices/{sku}")\n'
            "async def price(sku: str):\n"
            "    rates = await load_rates()\n"
            '    return {"sku": sku, "rates": rates}\n'
        ),
    )

    VALID = (
        # A class only built in a branch that never runs, and a call under `if False:`.
        """
        import time

        from fastapi import FastAPI

        app = FastAPI()


        class LegacyAgent:
            async def act(self):
                time.sleep(1)


        class Agent:
            async def act(self):
                return "done"


        @app.post("/run")
        async def run(kind: str):
            # TODO: remove once the legacy agent is useful
            if kind == "legacy" and False:
                agent = LegacyAgent()
            else:
                agent = Agent()
            if False:
                time.sleep(1)
            return await agent.act()
        """,
        # A lifespan handed to the application at module level, and the file only read in a thread.
        """
        import asyncio
        import json
        from contextlib import asynccontextmanager

        from fastapi import FastAPI


        async def import_legacy_config():
            with open("config.json") as handle:
                return json.load(handle)


        @asynccontextmanager
        async def lifespan(app):
            await import_legacy_config()
            yield


        app = FastAPI(lifespan=lifespan)


        @app.post("/avatar")
        async def avatar(path: str):
            with open(path, "rb") as source:
                data = await asyncio.to_thread(source.read, 1024)
            return {"size": len(data)}
        """,
        # A one-shot `main()` runs the coroutine on a loop of its own: nothing else waits on it.
        """
        import sys
        from pathlib import Path

        import anyio

        async def _execute_hook(state_path: Path) -> None:
            state = state_path.read_text(encoding="utf-8")
            print(state)

        def main(argv: list[str]) -> int:
            anyio.run(_execute_hook, Path(argv[0]))
            return 0

        if __name__ == "__main__":
            raise SystemExit(main(sys.argv[1:]))
        """,
        # A lifespan handed to the application by its factory: start-up work, before any request.
        """
        import time
        from contextlib import asynccontextmanager

        from fastapi import FastAPI


        async def warm_caches():
            time.sleep(1)
            with open("settings.json") as handle:
                return handle.read()


        @asynccontextmanager
        async def lifespan(app):
            await warm_caches()
            yield


        def create_app():
            return FastAPI(lifespan=lifespan)
        """,
        # asyncio.sleep and an async HTTP client.
        """
        import asyncio

        import httpx
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/status")
        async def status():
            await asyncio.sleep(0.1)
            async with httpx.AsyncClient(timeout=5) as client:
                response = await client.get("https://status.example.com")
            return response.json()
        """,
        # Blocking callables passed to to_thread, run_in_executor and run_in_threadpool, not called.
        """
        import asyncio
        import functools
        import time

        import requests
        from starlette.concurrency import run_in_threadpool

        async def refresh(url):
            await asyncio.to_thread(time.sleep, 1)
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, functools.partial(requests.get, url, timeout=5))
            await loop.run_in_executor(None, lambda: requests.get(url, timeout=5))
            return await run_in_threadpool(requests.get, url, timeout=5)
        """,
        # Django: the async ORM, and sync work wrapped in sync_to_async.
        """
        from asgiref.sync import sync_to_async
        from django.core.mail import send_mail
        from django.http import JsonResponse

        from shop.models import Order

        @sync_to_async
        def order_total(order_id):
            return Order.objects.get(pk=order_id).total

        async def order_view(request, order_id):
            order = await Order.objects.aget(pk=order_id)
            count = await Order.objects.filter(customer=order.customer).acount()
            lines = [line async for line in order.lines.all()]
            total = await order_total(order_id)
            await sync_to_async(send_mail)("Viewed", "...", None, [order.email])
            return JsonResponse({"count": count, "total": total, "lines": len(lines)})
        """,
        # FastAPI: a sync handler with a sync session runs in the thread pool; that is fine.
        """
        from fastapi import Depends, FastAPI
        from sqlalchemy.orm import Session

        app = FastAPI()

        @app.get("/users/{user_id}")
        def read_user(user_id: int, db: Session = Depends(get_db)):
            return db.get(User, user_id)
        """,
        # Async SQLAlchemy.
        """
        from fastapi import Depends, FastAPI
        from sqlalchemy import select
        from sqlalchemy.ext.asyncio import AsyncSession

        app = FastAPI()

        @app.get("/users")
        async def list_users(session: AsyncSession = Depends(get_session)):
            result = await session.execute(select(User))
            await session.commit()
            return result.scalars().all()
        """,
        # A sync helper that only computes, and an async helper awaited.
        """
        import time

        def cents(amount):
            return int(round(amount * 100))

        async def fetch_total(client, order_id):
            return (await client.get(f"/orders/{order_id}")).json()["total"]

        async def invoice(client, order_id):
            total = await fetch_total(client, order_id)
            return {"cents": cents(total)}

        def warm_cache():
            time.sleep(1)
        """,
        # A sync function defined inside the async one and handed to a thread; a cached loader.
        """
        import asyncio
        import functools
        import json

        @functools.lru_cache
        def settings():
            with open("settings.json") as handle:
                return json.load(handle)

        async def export(rows):
            def write():
                with open("/tmp/export.csv", "w") as handle:
                    handle.writelines(rows)
            await asyncio.to_thread(write)
            return settings()["bucket"]
        """,
        # Flask: a sync view may block (one request per worker thread).
        """
        import time

        import requests
        from flask import Flask

        app = Flask(__name__)

        @app.route("/slow")
        def slow():
            time.sleep(1)
            return requests.get("https://api.example.com", timeout=5).text
        """,
        # Flask runs an async view in its own event loop on the request's thread: nobody else waits.
        """
        import requests
        from flask import Flask

        app = Flask(__name__)

        @app.get("/carrier/<tracking>")
        async def carrier(tracking):
            return requests.get(f"https://carrier.example.com/{tracking}", timeout=5).json()
        """,
        # Async subprocesses, and an anyio thread.
        """
        import asyncio
        import subprocess

        import anyio

        async def convert(path):
            process = await asyncio.create_subprocess_exec("convert", path, "out.png")
            await process.wait()
            return await anyio.to_thread.run_sync(subprocess.run, ["optipng", "out.png"])
        """,
        # A value computed once per process: a memo kept in a module global or a module dict.
        """
        from django.http import JsonResponse

        from shop.models import Domain

        _default_domain = None
        _SITES = {}

        def get_default_domain():
            global _default_domain
            if _default_domain is None:
                _default_domain = Domain.objects.get(default=True)
            return _default_domain

        def site_for(name):
            if name not in _SITES:
                _SITES[name] = Domain.objects.get(name=name)
            return _SITES[name]

        async def home(request):
            site = site_for(request.get_host())
            return JsonResponse({"domain": get_default_domain().name, "site": site.pk})
        """,
        # Async SQLAlchemy: reading a relationship never blocks (a lazy load raises under asyncio),
        # whether it was eager-loaded or not, in the coroutine or in a sync model method.
        """
        from sqlalchemy import ForeignKey
        from sqlalchemy.ext.asyncio import AsyncSession
        from sqlalchemy.orm import DeclarativeBase, Mapped, joinedload, mapped_column, relationship

        class Base(DeclarativeBase):
            pass

        class User(Base):
            __tablename__ = "users"
            id: Mapped[int] = mapped_column(primary_key=True)
            addresses: Mapped[list["Address"]] = relationship(back_populates="user")

            def address_count(self):
                return len(self.addresses)

        class Address(Base):
            __tablename__ = "addresses"
            id: Mapped[int] = mapped_column(primary_key=True)
            user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
            user: Mapped[User] = relationship(back_populates="addresses")

        class AddressRepository:
            def __init__(self, session: AsyncSession):
                self.session = session

            async def owner(self, address_id):
                address = await self.session.get(Address, address_id, options=[joinedload(Address.user)])
                return {"owner": address.user.id, "addresses": address.user.address_count()}
        """,
    )

    INVALID = (
        # The file is read on the loop too, not only in a thread.
        """
        import asyncio

        from fastapi import FastAPI

        app = FastAPI()


        @app.post("/avatar")
        async def avatar(path: str):
            with open(path, "rb") as source:  # expect: BB401
                header = source.read(4)
                data = await asyncio.to_thread(source.read, 1024)
            return {"size": len(data), "header": header.hex()}
        """,
        # The same coroutine awaited by a handler too shares the server's loop.
        """
        from pathlib import Path

        import anyio
        from fastapi import FastAPI

        app = FastAPI()

        async def _execute_hook(state_path: Path) -> str:
            return state_path.read_text(encoding="utf-8")  # expect: BB401

        def main(path: str) -> None:
            anyio.run(_execute_hook, Path(path))

        @app.get("/state")
        async def state():
            return await _execute_hook(Path("state.json"))
        """,
        # time.sleep and requests directly in a FastAPI handler.
        """
        import time

        import requests
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/rates")
        async def rates():
            time.sleep(0.5)  # expect: BB401
            return requests.get("https://rates.example.com", timeout=5).json()  # expect: BB401
        """,
        # Through sync project functions: the chain is followed two functions deep.
        """
        import time

        from fastapi import APIRouter

        router = APIRouter()

        def render(report):
            time.sleep(2)
            return report

        def sync_report(report_id):
            return render({"id": report_id})

        @router.post("/reports/{report_id}")
        async def create_report(report_id: int):
            return sync_report(report_id)  # expect: BB401
        """,
        # Django: the sync ORM in an async view.
        """
        from django.http import JsonResponse

        from shop.models import Order

        async def order_detail(request, order_id):
            order = Order.objects.select_related("customer").get(pk=order_id)  # expect: BB401
            recent = [o.pk for o in Order.objects.filter(customer=order.customer)]  # expect: BB401
            return JsonResponse({"id": order.pk, "recent": recent})
        """,
        # FastAPI: a sync SQLAlchemy session in an async handler; one finding per session.
        """
        from fastapi import Depends, FastAPI
        from sqlalchemy.orm import Session

        app = FastAPI()

        @app.post("/users")
        async def create_user(payload: dict, db: Session = Depends(get_db)):
            existing = db.query(User).filter(User.email == payload["email"]).first()  # expect: BB401
            db.add(User(**payload))
            db.commit()
            return existing
        """,
        # A sync driver, a subprocess and SMTP in an async service function.
        """
        import smtplib
        import sqlite3
        import subprocess

        async def nightly(path):
            conn = sqlite3.connect(path)  # expect: BB401
            rows = conn.execute("select email from users").fetchall()
            subprocess.run(["backup", path], check=True)  # expect: BB401
            with smtplib.SMTP("mail.example.com") as smtp:  # expect: BB401
                smtp.send_message(build(rows))
        """,
        # A blocking call evaluated before it is handed to a thread is still called in the loop.
        """
        import asyncio
        import time

        async def wait_then_go():
            await asyncio.to_thread(time.sleep(5))  # expect: BB401
        """,
        # Quart (one event loop for every request) and a method chain on a class (self.helper -> requests).
        """
        import requests
        from quart import Quart

        app = Quart(__name__)

        class Geo:
            def locate(self, ip):
                return self.fetch(ip)

            def fetch(self, ip):
                return requests.get(f"https://geo.example.com/{ip}", timeout=3).json()

            async def country(self, ip):
                return self.locate(ip)["country"]  # expect: BB401

        @app.get("/where")
        async def where():
            with open("/etc/geo.conf") as handle:  # expect: BB401
                config = handle.read()
            return config
        """,
        # DRF-style async view calling a Django mail helper through the call graph.
        """
        from django.core.mail import send_mail
        from django.http import JsonResponse

        def notify(user):
            send_mail("Welcome", "Hello", None, [user.email])

        def on_signup(user):
            notify(user)

        async def signup(request):
            user = await create_user(request)
            on_signup(user)  # expect: BB401
            return JsonResponse({"ok": True})
        """,
        # A sync service that takes the sync Session from `Depends`, called from an async route:
        # a function given the session, and a class FastAPI builds with it.
        """
        from fastapi import APIRouter, Depends
        from sqlalchemy.orm import Session

        router = APIRouter()

        def list_users(db: Session):
            return db.query(User).all()

        class UserService:
            def __init__(self, db: Session = Depends(get_db)):
                self.db = db

            def active_users(self):
                return self.db.query(User).filter(User.active.is_(True)).all()

        @router.get("/users")
        async def users(db: Session = Depends(get_db)):
            return list_users(db)  # expect: BB401

        @router.get("/users/active")
        async def active_users(service: UserService = Depends(UserService)):
            return service.active_users()  # expect: BB401
        """,
        # A sync SQLAlchemy engine, a Session from a sessionmaker, and a sync httpx client.
        """
        import httpx
        from sqlalchemy import create_engine, text
        from sqlalchemy.orm import sessionmaker

        engine = create_engine("postgresql://localhost/shop")
        SessionLocal = sessionmaker(bind=engine)
        client = httpx.Client(timeout=5)

        async def health():
            with engine.connect() as connection:
                connection.execute(text("select 1"))  # expect: BB401
            with SessionLocal() as session:
                session.execute(text("select 1"))  # expect: BB401
            return client.get("https://status.example.com").status_code  # expect: BB401
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._types: ObjectTypes | None = None
        self._django = Framework.DJANGO in context.frameworks or Framework.DRF in context.frameworks
        # Tests run one coroutine at a time: a blocking call there stalls nobody else.
        self._skip_file = is_test_path(context.path)
        self._script_entry_points: frozenset[str] | None = None
        self._loop_owners: dict[str, frozenset[str]] | None = None

    def _flask_view(self, function: ast.AsyncFunctionDef) -> bool:
        """Flask runs an async view in an event loop of its own, on the request's worker thread.

        Blocking that loop delays nobody else (it is pointless, not harmful); Quart and the
        ASGI frameworks share one loop between requests and are checked.
        """
        handler = handler_for(function, self.context)
        return handler is not None and handler.framework is WebFramework.FLASK

    def _runs_alone(self, function: ast.AsyncFunctionDef) -> bool:
        """A CLI command (or a coroutine only CLI commands await), or a script's `asyncio.run(main())`.

        Its event loop serves that one command: blocking it delays nobody else.
        """
        if self._script_entry_points is None:
            self._script_entry_points = script_entry_points(self.context.tree, self.context.qualified_name)
        if function.name in self._script_entry_points and self.context.scope_name(function) == "":
            return True
        project = self.context.project
        if project is None:
            return False
        qualname = self.context.qualname_of(function)
        if self.context.scope_name(function) == "":
            if self._loop_owners is None:
                self._loop_owners = loop_owners(self.context.tree, self.context.qualified_name)
            starters = self._loop_owners.get(function.name)
            module = self.context.module
            if starters is not None and project.callers(qualname) <= {f"{module}.{name}" for name in starters}:
                # `main()` runs it with `anyio.run(...)`: the loop serves it alone.
                return True
        return runs_only_from_commands(project, qualname) or runs_on_own_loop(project, qualname)

    # --- the async def ----------------------------------------------------------------------------

    def visit(self, node: ast.AST) -> None:
        assert isinstance(node, ast.AsyncFunctionDef)
        if self._skip_file or self._runs_alone(node) or self._flask_view(node):
            return
        if self._types is None:
            self._types = blocking_types(self.context)
        # The ORM layer's answer to "which nodes run SQL here" (calls, iterations, lazy relations).
        queries = {id(event.node): event for event in module_flows(self.context).flow(node).events()}
        reported_receivers: dict[str, int] = {}
        pending: list[tuple[ast.AST, BlockingCall, str | None]] = []
        for inner, awaited in _direct_nodes(node):
            if awaited:
                continue
            event = queries.get(id(inner))
            found = blocking_query(event) if event is not None else None
            if found is None and isinstance(inner, ast.Call):
                found = blocking_call(inner, self._types)
                if found is None:
                    self._check_project_call(inner, node)
                    continue
            if found is None:
                continue
            if isinstance(inner, ast.Call) and self._file_used_in_threads(inner, node):
                continue
            key = found.receiver
            if key is not None and key in reported_receivers:
                reported_receivers[key] += 1
                continue
            bound = _bound_name(inner, self.context)
            for name in filter(None, (key, bound)):
                reported_receivers.setdefault(name, 0)
            pending.append((inner, found, key or bound))
        for reported, found, key in pending:
            more = reported_receivers.get(key, 0) if key is not None else 0
            self._report_direct(reported, found, node, more, key)

    def _file_used_in_threads(self, call: ast.Call, function: ast.AsyncFunctionDef) -> bool:
        """`with open(path, "rb") as source: data = await asyncio.to_thread(source.read, limit)`: the
        reads and writes run in a worker thread; opening a local file is one short system call."""
        if self.context.call_name(call) not in ("open", "io.open"):
            return False
        bound = _bound_name(call, self.context)
        if bound is None:
            return False
        uses = [
            inner
            for inner in self.context.semantic.own_nodes(function)
            if isinstance(inner, ast.Name) and inner.id == bound and isinstance(inner.ctx, ast.Load)
        ]
        return bool(uses) and all(self._handed_to_thread(use) for use in uses)

    def _handed_to_thread(self, use: ast.Name) -> bool:
        """`source.read` passed, not called, to `asyncio.to_thread` or `loop.run_in_executor`."""
        method = self.context.parent(use)
        if not isinstance(method, ast.Attribute):
            return False
        call = self.context.parent(method)
        if not isinstance(call, ast.Call) or method not in call.args:
            return False
        if self.context.call_name(call) in OFFLOADING_CALLS:
            return True
        return isinstance(call.func, ast.Attribute) and call.func.attr in OFFLOADING_METHODS

    def _report_direct(
        self, reported: ast.AST, found: BlockingCall, function: ast.AsyncFunctionDef, more: int, key: str | None
    ) -> None:
        also = ""
        if more and key is not None:
            also = f" (and {more} more blocking call{'s' if more > 1 else ''} on `{key}` after it)"
        self.report(
            reported,
            f"In `async def {function.name}()`, {_subject(found)} {found.kind.value}{also}, {_STALL}.",
            fix=found.fix,
            confidence=found.confidence,
        )

    # --- through project functions ------------------------------------------------------------

    def _check_project_call(self, call: ast.Call, function: ast.AsyncFunctionDef) -> None:
        project = self.context.project
        if project is None:
            return
        target = project_callee(call, self.context)
        if target is None or not _follows(target):
            return
        max_depth = self.option("max_depth")
        depth = max_depth if isinstance(max_depth, int) and not isinstance(max_depth, bool) else 4
        path = _blocking_path(project, target.qualname, depth, self._django)
        if path is None:
            return
        chain = " -> ".join([*(display_name(project, name) for name in path.functions), path.leaf.shown])
        first = display_name(project, path.functions[0])
        self.report(
            call,
            f"In `async def {function.name}()`, `{first}` {path.leaf.kind.value} through the "
            f"`await`-less call chain {chain}, {_STALL}.",
            fix=self._chain_fix(call, path.leaf),
            confidence=path.leaf.confidence,
        )

    def _chain_fix(self, call: ast.Call, leaf: BlockingCall) -> str:
        name = " ".join(self.context.segment(call.func).split())
        if self._django:
            offload = f"`await sync_to_async({name})(...)`"
        else:
            offload = f"`await asyncio.to_thread({name}, ...)`"
        return f"Run `{name}` in a thread with {offload}, or make the chain async down to `{leaf.shown}`."


# --- helpers -------------------------------------------------------------------------------------


def _direct_nodes(function: ast.AsyncFunctionDef) -> Iterator[tuple[ast.AST, bool]]:
    """Nodes that run when the async def runs (not nested functions), and whether each is awaited."""
    stack: list[tuple[ast.AST, bool]] = [(statement, False) for statement in reversed(function.body)]
    while stack:
        node, awaited = stack.pop()
        yield node, awaited
        if isinstance(node, _NESTED):
            continue
        children = list(ast.iter_child_nodes(node))
        if isinstance(node, ast.If) and (truth := constant_truth(node.test)) is not None:
            # `if False:` / `elif ... and False:`: the branch the test rules out never runs.
            children = [node.test, *(node.body if truth else node.orelse)]
        for child in reversed(children):
            stack.append((child, _awaits(node, awaited, child)))


def _awaits(parent: ast.AST, parent_awaited: bool, child: ast.AST) -> bool:
    """`await f()`, `async with f()`, `async for x in f()`: f returns something awaitable."""
    if isinstance(parent, ast.Await):
        return True
    if isinstance(parent, ast.AsyncWith):
        return isinstance(child, ast.withitem)
    if isinstance(parent, ast.withitem):
        return parent_awaited and child is parent.context_expr
    if isinstance(parent, ast.AsyncFor):
        return child is parent.iter
    if isinstance(parent, ast.comprehension):
        return bool(parent.is_async) and child is parent.iter
    return False


def _subject(found: BlockingCall) -> str:
    return f"iterating `{found.shown}`" if found.iterated else f"`{found.shown}`"


def _bound_name(call: ast.AST, context: FileContext) -> str | None:
    """`conn` in `conn = sqlite3.connect(...)` or `with smtplib.SMTP(...) as conn`."""
    parent = context.parent(call)
    if isinstance(parent, ast.Assign) and len(parent.targets) == 1 and isinstance(parent.targets[0], ast.Name):
        return parent.targets[0].id
    if isinstance(parent, ast.withitem) and isinstance(parent.optional_vars, ast.Name):
        return parent.optional_vars.id
    return None


def _follows(target: FunctionFacts) -> bool:
    """A sync project function whose body runs when it is called, every time."""
    if target.is_async:
        return False
    return not any(
        decorator in OFFLOADING_DECORATORS or decorator in ONE_TIME_DECORATORS for decorator in target.decorators
    )


def _blocking_path(project: ProjectIndex, qualname: str, depth: int, django: bool) -> _Path | None:
    """The first blocking call `qualname` reaches through sync project calls, `depth` functions deep."""
    memo: dict[tuple[str, int, bool], _Path | None] = project.view("BB401.blocking-paths", lambda _: {})
    key = (qualname, depth, django)
    if key in memo:
        return memo[key]
    memo[key] = None  # cycles end here
    facts = project.functions.get(qualname)
    found: _Path | None = None
    if facts is not None and depth > 0:
        # A call made in a once-per-process initialisation of a module global (`if _routes is None:
        # _routes = load()`) runs for the first caller only: the work is not per request.
        calls = [site for site in facts.calls if not site.once]
        for site in calls:
            leaf = blocking_function(site.callee)
            if leaf is not None:
                found = _Path((qualname,), leaf)
                break
        if found is None:
            # The queries the function runs itself, as the ORM layer recorded them.
            access = project_knowledge(project).function_access(qualname)
            # Outside Django, a relationship read (`self.items`) is SQLAlchemy's: never blocking I/O of its own.
            queries = [site for site in access.queries if django or not site.self_relation] if access is not None else []
            if access is not None and queries and not access.cached:
                found = _Path((qualname,), blocking_site(queries[0], django))
        if found is None and depth > 1:
            for site in calls:
                if INSTANCE_CALL in site.callee:
                    # A method of an object the function builds (`server = Server(); server.start()`):
                    # the call graph knows it for where code runs; what blocks is read through the
                    # calls a reader sees named, as before.
                    continue
                target = function_or_constructor(project, site.callee)
                if target is None or target.qualname == qualname or not _follows(target):
                    continue
                deeper = _blocking_path(project, target.qualname, depth - 1, django)
                if deeper is not None:
                    found = _Path((qualname, *deeper.functions), deeper.leaf)
                    break
    memo[key] = found
    return found
