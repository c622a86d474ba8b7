"""Calls that block the thread they run on, and the ways of running them elsewhere.

Inside `async def` a blocking call stalls the event loop: every other request, task and
timer on that loop waits until it returns. Rules ask:

- `blocking_call(call, types)`: does this call block? By qualified name (`time.sleep`,
  `requests.get`, `urllib.request.urlopen`, `smtplib.SMTP`, `subprocess.run`,
  `os.system`, `psycopg2.connect`, `sqlite3.connect`, `open`, ...) or by what its
  receiver is (a requests Session, a sync httpx Client, an http.client connection, a
  urllib3 pool, an SMTP connection, a Popen, a Path);
- `blocking_query(event)`: is this query (an ORM layer event) a synchronous one?
- `blocking_function(qualified)`: does a call site recorded in the project index, known
  only by its callee's name, block? (The call graph keeps names, not receivers.)

`await`ed calls never block (they return an awaitable), and neither do the blocking
callables *passed* to `asyncio.to_thread`, `loop.run_in_executor`, asgiref's
`sync_to_async`, Channels' `database_sync_to_async`, Starlette's `run_in_threadpool` or
`anyio.to_thread.run_sync`: they run in a worker thread. Only the call decides.

Queries are the ORM layer's business (`backbone.review.orm`): it knows which calls and
iterations run SQL (Django QuerySets, SQLAlchemy sessions/engines/connections, DB-API
cursors) and whether the handle is async; `blocking_query(event)` turns its answer into a
`BlockingCall` when the query is a synchronous one.
"""

from __future__ import annotations

import ast
import enum
from typing import TYPE_CHECKING


from backbone.findings import Confidence
from backbone.records import Record
from backbone.review.knowledge.bindings import MODULE_FILE, ObjectTypes
from backbone.review.knowledge.network import (
    HTTP_CONNECTIONS,
    HTTPX_FUNCTIONS,
    REQUESTS_FUNCTIONS,
    REQUESTS_SESSION_CLASSES,
    URLLIB3_REQUEST,
    URLOPEN,
    URLRETRIEVE,
)
from backbone.review.orm import DataLayer, QueryEvent, QuerySite

if TYPE_CHECKING:
    from backbone.review.context import FileContext


class BlockingKind(enum.Enum):
    """What a blocking call waits for, as a verb phrase a message can use."""

    SLEEP = "sleeps"
    HTTP = "makes a blocking HTTP request"
    EMAIL = "talks to an SMTP server"
    SUBPROCESS = "runs a process and waits for it"
    DATABASE = "talks to the database synchronously"
    ORM = "runs a synchronous Django ORM query"
    FILE = "reads or writes a file synchronously"


class BlockingCall(Record, frozen=True):
    kind: BlockingKind
    # The call as a message shows it: "time.sleep()", "db.query(...).first()".
    shown: str
    fix: str
    confidence: Confidence
    # The name whose later calls are the same blocking conversation (`conn` for
    # `conn.execute(...)`), so a rule can report the first and count the rest.
    receiver: str | None = None
    # The query runs because `shown` is iterated (`for row in ...`, `list(...)`), not called.
    iterated: bool = False


# --- by qualified name ---------------------------------------------------------------------

_SLEEP_FIX = "Use `await asyncio.sleep(...)` instead."
_HTTP_FIX = (
    "Use an async HTTP client (`httpx.AsyncClient`, aiohttp) or run the call in a thread "
    "with `await asyncio.to_thread(...)`."
)
_EMAIL_FIX = "Send with an async client (aiosmtplib) or hand the email to a background task or queue."
_SUBPROCESS_FIX = "Use `await asyncio.create_subprocess_exec(...)`, or run the call with `await asyncio.to_thread(...)`."
_DRIVER_FIX = (
    "Use an async driver (asyncpg, psycopg's AsyncConnection, aiosqlite, aiomysql) or run the "
    "call with `await asyncio.to_thread(...)`."
)
_SQLALCHEMY_FIX = (
    "Use `AsyncSession`/`create_async_engine` with `await`, or declare the function with plain "
    "`def` so the framework runs it in its thread pool."
)
DJANGO_ASYNC_FIX = _DJANGO_FIX = (
    "Use the async ORM (`aget()`, `afirst()`, `acount()`, `acreate()`, `async for`), or wrap the "
    "query in `sync_to_async`."
)
_FILE_FIX = "Read the file in a thread (`await asyncio.to_thread(path.read_text)`) or with aiofiles/anyio."

_DB_API_CONNECT = frozenset(
    {
        "psycopg2.connect",
        "psycopg.connect",
        "psycopg.Connection.connect",
        "sqlite3.connect",
        "pymysql.connect",
        "pymysql.connections.Connection",
        "MySQLdb.connect",
        "mysql.connector.connect",
        "pyodbc.connect",
        "cx_Oracle.connect",
        "oracledb.connect",
        "pymssql.connect",
    }
)
_SMTP_CLASSES = frozenset({"smtplib.SMTP", "smtplib.SMTP_SSL", "smtplib.LMTP"})
_SLEEP = frozenset({"time.sleep"})
# Not `os.waitpid`: with `os.WNOHANG` (the usual way to reap children) it returns at once.
_SUBPROCESS = frozenset(
    {
        "subprocess.run",
        "subprocess.call",
        "subprocess.check_call",
        "subprocess.check_output",
        "subprocess.getoutput",
        "subprocess.getstatusoutput",
        "os.system",
        "os.popen",
    }
)
_DJANGO_MAIL = frozenset(
    {
        "django.core.mail.send_mail",
        "django.core.mail.send_mass_mail",
        "django.core.mail.mail_admins",
        "django.core.mail.mail_managers",
    }
)
_OPEN = frozenset({"open", "io.open", "codecs.open"})

BLOCKING_FUNCTIONS: dict[str, BlockingKind] = {
    **{name: BlockingKind.SLEEP for name in _SLEEP},
    **{name: BlockingKind.HTTP for name in REQUESTS_FUNCTIONS | HTTPX_FUNCTIONS | URLOPEN | URLRETRIEVE},
    **{name: BlockingKind.HTTP for name in URLLIB3_REQUEST},
    **{name: BlockingKind.EMAIL for name in _SMTP_CLASSES | _DJANGO_MAIL},
    **{name: BlockingKind.SUBPROCESS for name in _SUBPROCESS},
    **{name: BlockingKind.DATABASE for name in _DB_API_CONNECT},
    **{name: BlockingKind.FILE for name in _OPEN},
}

# Names that only block when the project index sees them: constructing an http.client
# connection does not connect, but a function that builds one uses it.
_BLOCKING_IN_CALL_GRAPH: dict[str, BlockingKind] = {name: BlockingKind.HTTP for name in HTTP_CONNECTIONS}

_FIXES: dict[BlockingKind, str] = {
    BlockingKind.SLEEP: _SLEEP_FIX,
    BlockingKind.HTTP: _HTTP_FIX,
    BlockingKind.EMAIL: _EMAIL_FIX,
    BlockingKind.SUBPROCESS: _SUBPROCESS_FIX,
    BlockingKind.DATABASE: _DRIVER_FIX,
    BlockingKind.ORM: _DJANGO_FIX,
    BlockingKind.FILE: _FILE_FIX,
}

# Run a sync callable in a worker thread: the callable is passed, not called.
OFFLOADING_CALLS = frozenset(
    {
        "asyncio.to_thread",
        "asgiref.sync.sync_to_async",
        "channels.db.database_sync_to_async",
        "starlette.concurrency.run_in_threadpool",
        "fastapi.concurrency.run_in_threadpool",
        "anyio.to_thread.run_sync",
        "trio.to_thread.run_sync",
    }
)
# `loop.run_in_executor(None, fn)`, `executor.submit(fn)`: methods of whatever loop or pool.
OFFLOADING_METHODS = frozenset({"run_in_executor"})
# Decorators that turn a sync function into an awaitable one that runs in a thread.
OFFLOADING_DECORATORS = frozenset(
    {"asgiref.sync.sync_to_async", "channels.db.database_sync_to_async", "asyncer.asyncify"}
)
# Decorators that run a function once and then answer from memory: a one-off cost at
# start-up (reading settings), not a per-request stall.
ONE_TIME_DECORATORS = frozenset(
    {"functools.cache", "functools.lru_cache", "functools.cached_property", "django.utils.functional.cached_property"}
)


def blocking_function(qualified: str) -> BlockingCall | None:
    """A call known by its callee's qualified name only (a call site in the project index)."""
    kind = BLOCKING_FUNCTIONS.get(qualified) or _BLOCKING_IN_CALL_GRAPH.get(qualified)
    if kind is None:
        return None
    return BlockingCall(kind, f"{qualified}()", _FIXES[kind], _confidence(kind))


def blocking_query(event: QueryEvent) -> BlockingCall | None:
    """The ORM layer's query event as a blocking call, unless its handle is async."""
    if event.receiver is not None and event.receiver.is_async:
        return None
    if event.relation is not None and event.layer is DataLayer.SQLALCHEMY:
        # A SQLAlchemy relationship read is not blocking I/O of its own: on an AsyncSession's
        # object a lazy load raises (MissingGreenlet) instead of blocking, and an object of a
        # sync Session came from a query, which is where the sync session is reported.
        return None
    kind = BlockingKind.ORM if event.layer is DataLayer.DJANGO else BlockingKind.DATABASE
    fix = {DataLayer.DJANGO: _DJANGO_FIX, DataLayer.SQLALCHEMY: _SQLALCHEMY_FIX}.get(event.layer, _DRIVER_FIX)
    iterated = event.operation in _ITERATING_OPERATIONS
    # Calls on one session, connection or cursor (`db.query(...).first()`, then `db.commit()`)
    # are one conversation; queries on a model class (`Order.objects...`, `User.query...`) are not.
    root = _root_name(event.node) if event.layer is not DataLayer.DJANGO else None
    receiver = root if root is not None and not root.rpartition(".")[2][:1].isupper() else None
    return BlockingCall(kind, _clip(event.text), fix, event.confidence, receiver=receiver, iterated=iterated)


def blocking_site(site: QuerySite, django_project: bool) -> BlockingCall:
    """A query a project function runs (ORM layer facts), as the end of a blocking call chain."""
    kind = BlockingKind.ORM if django_project and ".objects" in site.text else BlockingKind.DATABASE
    return BlockingCall(kind, site.text, _DJANGO_FIX if kind is BlockingKind.ORM else _DRIVER_FIX, site.confidence)


_LONGEST_SHOWN = 60


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= _LONGEST_SHOWN else text[: _LONGEST_SHOWN - 3] + "..."


# The ORM layer's operations that run a query by iterating rather than calling.
_ITERATING_OPERATIONS = frozenset({"iteration", "list()", "tuple()", "set()", "len()", "sorted()", "bool()"})


# --- by receiver ------------------------------------------------------------------------------

# Type names given by `blocking_types`.
_REQUESTS_SESSION = "requests.Session"
_HTTPX_SYNC_CLIENT = "httpx.Client"
_HTTP_CONNECTION = "http.client.HTTPConnection"
_URLLIB3_POOL = "urllib3.PoolManager"
_URLLIB_OPENER = "urllib.request.OpenerDirector"
_SMTP = "smtplib.SMTP"
_POPEN = "subprocess.Popen"
_PATH = "pathlib.Path"
# A path to a file shipped with the module's own code (`Path(__file__).parent / "page.html"`,
# `os.path.join(os.path.dirname(__file__), "schema.json")`): a template, a schema, static text,
# on the local disk and small; reading it blocks as briefly as anything does.
_PACKAGE_FILE = "package file"
# Functions whose result is a path to what their first argument points into.
_PATH_FUNCTIONS = frozenset(
    {"pathlib.Path", "pathlib.PurePath", "os.path.dirname", "os.path.join", "os.path.abspath",
     "os.path.realpath", "os.path.normpath"}
)

_PRODUCERS: dict[str, str] = {
    **{name: _REQUESTS_SESSION for name in REQUESTS_SESSION_CLASSES},
    "httpx.Client": _HTTPX_SYNC_CLIENT,
    **{name: _HTTP_CONNECTION for name in HTTP_CONNECTIONS},
    "urllib3.PoolManager": _URLLIB3_POOL,
    "urllib3.ProxyManager": _URLLIB3_POOL,
    "urllib3.HTTPConnectionPool": _URLLIB3_POOL,
    "urllib3.HTTPSConnectionPool": _URLLIB3_POOL,
    "urllib3.poolmanager.PoolManager": _URLLIB3_POOL,
    "urllib.request.build_opener": _URLLIB_OPENER,
    **{name: _SMTP for name in _SMTP_CLASSES},
    "subprocess.Popen": _POPEN,
    "pathlib.Path": _PATH,
    "pathlib.PosixPath": _PATH,
    "pathlib.WindowsPath": _PATH,
}

_FILE_METHODS = frozenset({"read_text", "read_bytes", "write_text", "write_bytes"})
_HTTP_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream"})
# Methods that do I/O, per receiver type, and what they block on.
_BLOCKING_METHODS: dict[str, tuple[frozenset[str], BlockingKind, str]] = {
    _REQUESTS_SESSION: (_HTTP_METHODS, BlockingKind.HTTP, _HTTP_FIX),
    _HTTPX_SYNC_CLIENT: (_HTTP_METHODS, BlockingKind.HTTP, _HTTP_FIX),
    _HTTP_CONNECTION: (frozenset({"request", "getresponse", "connect", "endheaders", "send"}), BlockingKind.HTTP, _HTTP_FIX),
    _URLLIB3_POOL: (frozenset({"request", "urlopen", "request_encode_url", "request_encode_body"}), BlockingKind.HTTP, _HTTP_FIX),
    _URLLIB_OPENER: (frozenset({"open"}), BlockingKind.HTTP, _HTTP_FIX),
    _SMTP: (
        frozenset({"connect", "login", "starttls", "ehlo", "helo", "sendmail", "send_message", "quit", "noop"}),
        BlockingKind.EMAIL,
        _EMAIL_FIX,
    ),
    _POPEN: (frozenset({"communicate", "wait"}), BlockingKind.SUBPROCESS, _SUBPROCESS_FIX),
    _PATH: (_FILE_METHODS, BlockingKind.FILE, _FILE_FIX),
    _PACKAGE_FILE: (_FILE_METHODS, BlockingKind.FILE, _FILE_FIX),
}
_ANY_BLOCKING_METHOD = frozenset(name for methods, _, _ in _BLOCKING_METHODS.values() for name in methods)
_PATH_DERIVING = frozenset(
    {"resolve", "absolute", "expanduser", "joinpath", "with_name", "with_suffix", "with_stem", "__truediv__", "parent"}
)


def _derive(receiver: str, member: str, call: ast.Call | None) -> str | None:
    if receiver == _PACKAGE_FILE and (member in _PATH_DERIVING or member.removesuffix("()") in _PATH_FUNCTIONS):
        return _PACKAGE_FILE
    if receiver == _PATH and member in _PATH_DERIVING:
        return _PATH
    return None


def _produce(qualified: str, call: ast.Call | None) -> str | None:
    if qualified == MODULE_FILE:
        return _PACKAGE_FILE
    return _PRODUCERS.get(qualified)


def blocking_types(context: FileContext) -> ObjectTypes:
    """Types of blocking clients and handles in one file: sessions, connections, Popen objects, paths."""
    return ObjectTypes(context, _produce, _derive, applied=_PATH_FUNCTIONS)


def blocking_call(call: ast.Call, types: ObjectTypes) -> BlockingCall | None:
    """Why `call` blocks the thread it runs on (queries aside), or None."""
    context = types.context
    qualified = context.call_name(call)
    if qualified is not None:
        kind = BLOCKING_FUNCTIONS.get(qualified)
        if kind is not None:
            path_type = types.of(call.args[0]) if kind is BlockingKind.FILE and call.args else None
            return _named(qualified, kind, call, path_type)
    func = call.func
    if isinstance(func, ast.Attribute) and func.attr in _ANY_BLOCKING_METHOD:
        receiver_type = types.of(func.value)
        if receiver_type is not None:
            return _by_receiver(func, receiver_type, context)
    return None


def _confidence(kind: BlockingKind, path_type: str | None = None) -> Confidence:
    """A file read is as slow as the file is big, which the code does not say: medium; a file
    shipped with the module (a template, a schema) is small and local: low."""
    if kind is not BlockingKind.FILE:
        return Confidence.HIGH
    return Confidence.LOW if path_type == _PACKAGE_FILE else Confidence.MEDIUM


def _named(qualified: str, kind: BlockingKind, call: ast.Call, path_type: str | None = None) -> BlockingCall:
    confidence = _confidence(kind, path_type)
    if qualified in _SMTP_CLASSES and not call.args and not any(k.arg == "host" for k in call.keywords):
        # `smtplib.SMTP()` without a host does not connect yet; its `connect()` will.
        confidence = Confidence.MEDIUM
    return BlockingCall(kind, f"{qualified}()", _FIXES[kind], confidence)


def _by_receiver(func: ast.Attribute, receiver_type: str, context: FileContext) -> BlockingCall | None:
    entry = _BLOCKING_METHODS.get(receiver_type)
    if entry is None:
        return None
    methods, kind, fix = entry
    if func.attr not in methods:
        return None
    shown = _shown(func.value, context)
    return BlockingCall(kind, f"{shown}.{func.attr}()", fix, _confidence(kind, receiver_type), receiver=_root_name(func.value))


def _root_name(node: ast.AST) -> str | None:
    """`conn` for `conn.cursor().execute`; `self.db` for `self.db.query(...)`."""
    while isinstance(node, ast.Call) or (isinstance(node, ast.Attribute) and not _is_self_attribute(node)):
        node = node.func if isinstance(node, ast.Call) else node.value
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _is_self_attribute(node: ast.Attribute) -> bool:
    return isinstance(node.value, ast.Name) and node.value.id in ("self", "cls")


def _shown(node: ast.expr, context: FileContext) -> str:
    """A short form of an expression: calls keep their name, arguments become `...`."""
    if isinstance(node, ast.Call):
        return f"{_shown(node.func, context)}(...)" if node.args or node.keywords else f"{_shown(node.func, context)}()"
    if isinstance(node, ast.Attribute):
        return f"{_shown(node.value, context)}.{node.attr}"
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return f"({_shown(node.left, context)} / ...)"
    text = " ".join(context.segment(node).split())
    return text if len(text) <= 30 else text[:27] + "..."
