"""Outbound HTTP clients, and how each one takes (or drops) a timeout.

Rules ask one question: `unbounded_call(call, types)`, "can this call wait forever for a
server?". The answer depends on the client:

- **requests** has no default timeout: every module function (`requests.get`, ...,
  `requests.request`) and every Session method (`session.get`, ..., `session.request`,
  `session.send`) waits forever unless given `timeout=`. A Session is recognised when it
  is created in the function, at module level, as `with requests.Session() as s`, in
  `self.session = requests.Session()`, through a parameter annotated `requests.Session`,
  or as an instance of a project subclass. A subclass that overrides `request` or `send`,
  and a session with a project adapter mounted (`session.mount("https://",
  TimeoutHTTPAdapter(...))`) or a patched `session.request`, are taken to set a default
  timeout. Third-party Session subclasses (requests-oauthlib, requests-cache) count too.
- **urllib.request**: `urlopen` and `OpenerDirector.open` take `timeout` (keyword or the
  third positional argument); `urlretrieve` takes none at all.
- **http.client**: `HTTPConnection(host, port, timeout)` and `HTTPSConnection(...,
  timeout=...)`; without one a connection waits on the socket default (none).
- **urllib3**: a PoolManager (or connection pool) built without `timeout=` and a request
  on it without one; `urllib3.request(...)` without one.
- **httpx** times out after 5 seconds by default, so only an explicit `timeout=None` (or
  `httpx.Timeout(None)` with no read timeout) on a module function, a client constructor or
  a client method is unbounded.
- **aiohttp** sessions default to a 5-minute total timeout, and current aiohttp reads
  `timeout=None` as "use the session default"; what is unbounded is an explicit
  `aiohttp.ClientTimeout(...)` that sets neither `total` nor `sock_read`.

A call that forwards `**kwargs` is not flagged: the timeout may well be in them, and the
caller of the wrapper is where it is decided. Names are qualified names (imports
resolved), receivers are typed through `backbone.review.knowledge.bindings`.
"""

from __future__ import annotations

import ast
import enum
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backbone.findings import Confidence
from backbone.records import Record
from backbone.review.knowledge.bindings import ObjectTypes
from backbone.review.names import argument, dotted_name, keyword_value, last_name

if TYPE_CHECKING:
    from backbone.review.context import FileContext
    from backbone.review.project import ProjectIndex


class HttpLibrary(enum.Enum):
    REQUESTS = "requests"
    URLLIB = "urllib.request"
    HTTP_CLIENT = "http.client"
    URLLIB3 = "urllib3"
    HTTPX = "httpx"
    AIOHTTP = "aiohttp"


# Type names this module gives objects (see `network_types`).
REQUESTS_SESSION = "requests.Session"
# A Session whose class or adapters set a default timeout.
REQUESTS_SESSION_WITH_TIMEOUT = "requests.Session+timeout"
HTTPX_CLIENT = "httpx.Client"
HTTPX_CLIENT_WITHOUT_TIMEOUT = "httpx.Client-timeout"
URLLIB_OPENER = "urllib.request.OpenerDirector"
URLLIB3_POOL = "urllib3.PoolManager"
URLLIB3_POOL_WITH_TIMEOUT = "urllib3.PoolManager+timeout"
HTTP_CONNECTION = "http.client.HTTPConnection"

REQUESTS_VERBS = ("get", "post", "put", "patch", "delete", "head", "options", "request")

# Module-level functions of requests; all of them forward to a Session without a timeout.
REQUESTS_FUNCTIONS = frozenset(
    {f"requests.{verb}" for verb in REQUESTS_VERBS} | {f"requests.api.{verb}" for verb in REQUESTS_VERBS}
)
REQUESTS_SESSION_METHODS = frozenset({*REQUESTS_VERBS, "send"})

# Classes and factories whose instances are requests Sessions.
REQUESTS_SESSION_CLASSES = frozenset(
    {
        "requests.Session",
        "requests.session",
        "requests.sessions.Session",
        "requests.sessions.session",
        "requests_oauthlib.OAuth1Session",
        "requests_oauthlib.OAuth2Session",
        "requests_oauthlib.oauth1_session.OAuth1Session",
        "requests_oauthlib.oauth2_session.OAuth2Session",
        "requests_cache.CachedSession",
        "requests_cache.session.CachedSession",
        "requests_futures.sessions.FuturesSession",
    }
)
# Overriding one of these in a Session subclass is how a default timeout is injected.
_SESSION_TIMEOUT_HOOKS = frozenset({"request", "send", "prepare_request", "merge_environment_settings"})
_ADAPTER_BASES = frozenset({"requests.adapters.HTTPAdapter", "requests.adapters.BaseAdapter"})

HTTPX_FUNCTIONS = frozenset(
    {f"httpx.{verb}" for verb in ("get", "post", "put", "patch", "delete", "head", "options", "request", "stream")}
)
HTTPX_CLIENT_CLASSES = frozenset({"httpx.Client", "httpx.AsyncClient"})
HTTPX_CLIENT_METHODS = frozenset(
    {"get", "post", "put", "patch", "delete", "head", "options", "request", "stream", "send"}
)
_HTTPX_TIMEOUT = frozenset({"httpx.Timeout"})

URLOPEN = frozenset({"urllib.request.urlopen"})
URLRETRIEVE = frozenset({"urllib.request.urlretrieve"})
_OPENER_FACTORIES = frozenset({"urllib.request.build_opener", "urllib.request.OpenerDirector"})

HTTP_CONNECTIONS = frozenset({"http.client.HTTPConnection", "http.client.HTTPSConnection"})

URLLIB3_REQUEST = frozenset({"urllib3.request"})
_URLLIB3_POOLS = frozenset(
    {
        "urllib3.PoolManager",
        "urllib3.ProxyManager",
        "urllib3.HTTPConnectionPool",
        "urllib3.HTTPSConnectionPool",
        "urllib3.connection_from_url",
        "urllib3.poolmanager.PoolManager",
        "urllib3.poolmanager.ProxyManager",
        "urllib3.connectionpool.HTTPConnectionPool",
        "urllib3.connectionpool.HTTPSConnectionPool",
    }
)
_URLLIB3_METHODS = frozenset({"request", "urlopen", "request_encode_url", "request_encode_body"})

# Every method name `_by_receiver` looks at: other calls are not worth typing a receiver for.
_CLIENT_METHODS = REQUESTS_SESSION_METHODS | HTTPX_CLIENT_METHODS | _URLLIB3_METHODS | {"open"}

AIOHTTP_CLIENT_TIMEOUT = frozenset({"aiohttp.ClientTimeout", "aiohttp.client.ClientTimeout", "aiohttp.timeout.ClientTimeout"})


class UnboundedCall(Record, frozen=True):
    """A call that can wait for a server forever, and why."""

    library: HttpLibrary
    # What is unbounded, as a message starts: "HTTP call `requests.get()`".
    subject: str
    # Why, as a predicate: "has no timeout".
    problem: str
    fix: str
    confidence: Confidence


def produce_network_object(qualified: str, call: ast.Call | None) -> str | None:
    """The type of what a class or factory of an HTTP library produces (see `ObjectTypes`)."""
    if qualified in REQUESTS_SESSION_CLASSES:
        return REQUESTS_SESSION
    if qualified in HTTPX_CLIENT_CLASSES:
        if call is not None and _explicit_no_timeout(call, _HTTPX_TIMEOUT):
            return HTTPX_CLIENT_WITHOUT_TIMEOUT
        return HTTPX_CLIENT
    if qualified in _OPENER_FACTORIES:
        return URLLIB_OPENER
    if qualified in _URLLIB3_POOLS:
        if call is None or keyword_value(call, "timeout") is not None or _forwards_keywords(call):
            return URLLIB3_POOL_WITH_TIMEOUT
        return URLLIB3_POOL
    if qualified in HTTP_CONNECTIONS:
        return HTTP_CONNECTION
    return None


def refine_network_subclass(inherited: str, methods: frozenset[str]) -> str | None:
    """A project subclass of a Session that overrides `request`/`send` sets its own timeout."""
    if inherited == REQUESTS_SESSION and methods & _SESSION_TIMEOUT_HOOKS:
        return REQUESTS_SESSION_WITH_TIMEOUT
    return inherited


def network_types(context: FileContext) -> ObjectTypes:
    """Types of HTTP clients in one file: sessions, clients, openers, pools."""
    return ObjectTypes(context, produce_network_object, refine=refine_network_subclass)


class SessionsWithDefaults:
    """Receivers (by their dotted text) that a module configures with a default timeout.

    `session.mount("https://", TimeoutHTTPAdapter(timeout=5))` with an adapter the project
    defines, or `session.request = functools.partial(session.request, timeout=5)`. Matched
    by text module-wide: a name configured anywhere in the module is trusted everywhere in
    it, which errs on the side of silence.
    """

    def __init__(self, context: FileContext) -> None:
        self._context = context
        self._receivers: frozenset[str] | None = None

    def covers(self, receiver: ast.expr) -> bool:
        dotted = dotted_name(receiver)
        if dotted is None:
            return False
        if self._receivers is None:
            # One walk of the module, and only once a Session call needs it.
            self._receivers = _configured_receivers(self._context)
        return dotted in self._receivers


# Top-level packages a module must import (or a project HTTP client class it must import) for
# any of its calls to be an outbound HTTP call.
NETWORK_PACKAGES = frozenset(
    {"requests", "httpx", "urllib", "urllib3", "http", "aiohttp", "requests_oauthlib", "requests_cache", "requests_futures"}
)


def may_call_out(context: FileContext) -> bool:
    """Whether the module imports an HTTP library or a project class built on one.

    A cheap first question: most modules do neither, and their calls need no typing.
    """
    facts = context.facts
    if facts.imported_packages & NETWORK_PACKAGES:
        return True
    project = context.project
    if project is None:
        return False
    clients = project.view("network.client-classes", _client_classes)
    return any(project.resolve(target) in clients for target in facts.imports.values())


def _client_classes(index: ProjectIndex) -> frozenset[str]:
    """Project classes that derive, directly or not, from a requests Session or an httpx client."""
    roots = REQUESTS_SESSION_CLASSES | HTTPX_CLIENT_CLASSES
    found: set[str] = set()
    changed = True
    while changed:
        changed = False
        for facts in index.classes.values():
            if facts.qualname in found:
                continue
            if any((resolved := index.resolve(base)) in roots or resolved in found for base in facts.bases):
                found.add(facts.qualname)
                changed = True
    return frozenset(found)


def requested_address(call: ast.Call, types: ObjectTypes) -> ast.expr | None:
    """The URL `call` sends an HTTP request to (`requests.get(url)`, `session.post(url=...)`,
    `client.get(url)` on an httpx client, `urlopen(url)`), or None when it sends none (as far as
    names and the receiver's type tell)."""
    qualified = types.context.call_name(call) or ""
    func = call.func
    sends = qualified in REQUESTS_FUNCTIONS or qualified in HTTPX_FUNCTIONS or qualified in URLOPEN or qualified in URLRETRIEVE
    if not sends and isinstance(func, ast.Attribute):
        receiver_type = types.of(func.value)
        sends = (
            receiver_type in (REQUESTS_SESSION, REQUESTS_SESSION_WITH_TIMEOUT) and func.attr in REQUESTS_SESSION_METHODS
            or receiver_type in (HTTPX_CLIENT, HTTPX_CLIENT_WITHOUT_TIMEOUT) and func.attr in HTTPX_CLIENT_METHODS
            # A client of a type not known here (an aiohttp session handed in): an HTTP verb given a `url=`.
            or receiver_type is None and func.attr in HTTPX_CLIENT_METHODS and keyword_value(call, "url") is not None
        )
    if not sends:
        return None
    address = keyword_value(call, "url")
    if address is None and call.args:
        # `request("GET", url)` takes the method first.
        address = call.args[1] if last_name(func) == "request" and len(call.args) > 1 else call.args[0]
    return address


def unbounded_call(call: ast.Call, types: ObjectTypes, defaults: SessionsWithDefaults) -> UnboundedCall | None:
    """Why `call` can wait for a server forever, or None when it can't (or backbone can't tell)."""
    context = types.context
    qualified = context.call_name(call)
    if qualified is not None:
        found = _by_name(call, qualified, context)
        if found is not None:
            return found
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in _CLIENT_METHODS:
        return None
    receiver_type = types.of(func.value)
    if receiver_type is None:
        return None
    return _by_receiver(call, func, receiver_type, defaults, context)


def _by_name(call: ast.Call, qualified: str, context: FileContext) -> UnboundedCall | None:
    shown = f"HTTP call `{qualified}()`"
    if qualified in REQUESTS_FUNCTIONS:
        return _requests_without_timeout(call, shown, Confidence.HIGH)
    if qualified in URLOPEN:
        if keyword_value(call, "timeout") is None and len(call.args) < 3 and not _forwards(call):
            return UnboundedCall(
                HttpLibrary.URLLIB, shown, "has no timeout", _URLLIB_FIX, Confidence.HIGH
            )
        return _explicit_none(call, HttpLibrary.URLLIB, shown, _URLLIB_FIX)
    if qualified in URLRETRIEVE:
        return UnboundedCall(
            HttpLibrary.URLLIB,
            f"Download `{qualified}()`",
            "accepts no timeout at all",
            "Download with `urllib.request.urlopen(url, timeout=...)` (or requests with `timeout=`) "
            "and write the body to the file yourself.",
            Confidence.HIGH,
        )
    if qualified in HTTP_CONNECTIONS:
        shown = f"Connection `{qualified}()`"
        positional_limit = 3 if qualified.endswith("HTTPConnection") else 99
        if keyword_value(call, "timeout") is None and len(call.args) < positional_limit and not _forwards(call):
            return UnboundedCall(
                HttpLibrary.HTTP_CLIENT,
                shown,
                "has no timeout",
                f"Pass `timeout=` to `{qualified.rpartition('.')[2]}(...)` (seconds).",
                Confidence.HIGH,
            )
        return _explicit_none(call, HttpLibrary.HTTP_CLIENT, shown, "Pass a number of seconds as `timeout=`.")
    if qualified in URLLIB3_REQUEST:
        if keyword_value(call, "timeout") is None and not _forwards(call):
            return UnboundedCall(
                HttpLibrary.URLLIB3, shown, "has no timeout", _URLLIB3_FIX, Confidence.HIGH
            )
        return None
    if qualified in HTTPX_FUNCTIONS or qualified in HTTPX_CLIENT_CLASSES:
        if qualified in HTTPX_CLIENT_CLASSES:
            shown = f"HTTP client `{qualified}()`"
        if qualified == "httpx.stream":
            return None
        if _explicit_no_timeout(call, _HTTPX_TIMEOUT, context):
            return UnboundedCall(HttpLibrary.HTTPX, shown, _httpx_reason(call), _HTTPX_FIX, Confidence.HIGH)
        return None
    if qualified in AIOHTTP_CLIENT_TIMEOUT:
        if _aiohttp_timeout_unbounded(call):
            arguments = ", ".join(
                f"{keyword.arg}={_clip(ast.unparse(keyword.value))}" for keyword in call.keywords if keyword.arg is not None
            )
            shown = f"Timeout `aiohttp.ClientTimeout({arguments})`"
            # A bounded connect with unbounded reads is how a long-lived stream (a watch, a log
            # follow) is configured on purpose: only a request that should end is at risk.
            connect_bounded = any(
                keyword.arg in ("connect", "sock_connect") and not _is_none(keyword.value) for keyword in call.keywords
            )
            return UnboundedCall(
                HttpLibrary.AIOHTTP,
                shown,
                "bounds only the connect, not the reads" if connect_bounded else "sets neither a total nor a read timeout",
                "Give `aiohttp.ClientTimeout` a `total=` (or at least `sock_read=`) in seconds.",
                Confidence.LOW if connect_bounded else Confidence.HIGH,
            )
        return None
    return None


def _by_receiver(
    call: ast.Call, func: ast.Attribute, receiver_type: str, defaults: SessionsWithDefaults, context: FileContext
) -> UnboundedCall | None:
    receiver = dotted_name(func.value) or _clip(context.segment(func.value))
    method = func.attr
    if receiver_type == REQUESTS_SESSION and method in REQUESTS_SESSION_METHODS:
        if defaults.covers(func.value):
            return None
        return _requests_without_timeout(call, f"HTTP call `{receiver}.{method}()` on a requests Session", Confidence.HIGH)
    if receiver_type in (HTTPX_CLIENT, HTTPX_CLIENT_WITHOUT_TIMEOUT) and method in HTTPX_CLIENT_METHODS:
        # A stream opened with its timeout turned off on purpose: a subscription to events that
        # come minutes apart (server-sent events, a long poll), where a read timeout would cut it.
        if method == "stream":  # (httpx.stream(...) likewise)
            return None
        if _explicit_no_timeout(call, _HTTPX_TIMEOUT, context):
            return UnboundedCall(
                HttpLibrary.HTTPX, f"HTTP call `{receiver}.{method}()` on an httpx client", _httpx_reason(call), _HTTPX_FIX, Confidence.HIGH
            )
        return None
    if receiver_type == URLLIB_OPENER and method == "open":
        if keyword_value(call, "timeout") is None and len(call.args) < 3 and not _forwards(call):
            return UnboundedCall(
                HttpLibrary.URLLIB, f"HTTP call `{receiver}.open()` on a urllib opener", "has no timeout", _URLLIB_FIX, Confidence.HIGH
            )
        return None
    if (
        receiver_type == URLLIB3_POOL
        and method in _URLLIB3_METHODS
        and keyword_value(call, "timeout") is None
        and not _forwards(call)
    ):
        return UnboundedCall(
            HttpLibrary.URLLIB3,
            f"HTTP call `{receiver}.{method}()` on a urllib3 pool",
            "has no timeout, and the pool sets none",
            _URLLIB3_FIX,
            Confidence.HIGH,
        )
    return None


_REQUESTS_FIX = "Pass `timeout=` (seconds, or a `(connect, read)` tuple such as `(3.05, 27)`)."
_URLLIB_FIX = "Pass `timeout=` (seconds) to the call."
_URLLIB3_FIX = "Pass `timeout=` (seconds or `urllib3.Timeout(connect=..., read=...)`) to the request or the pool."
_HTTPX_FIX = "Set a finite timeout (`timeout=10.0` or `httpx.Timeout(10.0, connect=5.0)`) instead of None."


def _requests_without_timeout(call: ast.Call, shown: str, confidence: Confidence) -> UnboundedCall | None:
    timeout = keyword_value(call, "timeout")
    if timeout is None:
        if _forwards(call):
            return None
        return UnboundedCall(HttpLibrary.REQUESTS, shown, "has no timeout", _REQUESTS_FIX, confidence)
    if _is_none(timeout):
        return UnboundedCall(HttpLibrary.REQUESTS, shown, "has `timeout=None`", _REQUESTS_FIX, confidence)
    if isinstance(timeout, ast.Tuple) and len(timeout.elts) == 2 and _is_none(timeout.elts[1]):
        return UnboundedCall(HttpLibrary.REQUESTS, shown, "has no read timeout (`None` in the timeout tuple)", _REQUESTS_FIX, confidence)
    return None


def _explicit_none(call: ast.Call, library: HttpLibrary, shown: str, fix: str) -> UnboundedCall | None:
    timeout = keyword_value(call, "timeout")
    if timeout is not None and _is_none(timeout):
        return UnboundedCall(library, shown, "has `timeout=None`", fix, Confidence.HIGH)
    return None


def _httpx_reason(call: ast.Call) -> str:
    timeout = keyword_value(call, "timeout")
    if timeout is not None and _is_none(timeout):
        return "has `timeout=None`, which turns off httpx's default 5-second timeout"
    return "has an `httpx.Timeout` without a read timeout, which turns off httpx's default"


def _explicit_no_timeout(call: ast.Call, timeout_classes: frozenset[str], context: FileContext | None = None) -> bool:
    """`timeout=None`, or `timeout=httpx.Timeout(None)` leaving reads unbounded."""
    timeout = keyword_value(call, "timeout")
    if timeout is None:
        return False
    if _is_none(timeout):
        return True
    if isinstance(timeout, ast.Call) and context is not None and context.call_name(timeout) in timeout_classes:
        default = timeout.args[0] if timeout.args else keyword_value(timeout, "timeout")
        read = keyword_value(timeout, "read")
        if default is not None and _is_none(default) and (read is None or _is_none(read)):
            return not any(keyword.arg is None for keyword in timeout.keywords)
    return False


def _aiohttp_timeout_unbounded(call: ast.Call) -> bool:
    if call.args or any(keyword.arg is None for keyword in call.keywords):
        return False
    given: Mapping[str, ast.expr] = {keyword.arg: keyword.value for keyword in call.keywords if keyword.arg}
    # `connect`/`sock_connect` only bound the handshake: a server that accepts and then says
    # nothing is stopped by `total` or `sock_read` alone.
    return not any(not _is_none(value) for name, value in given.items() if name in ("total", "sock_read"))


def _forwards(call: ast.Call) -> bool:
    """`**kwargs` (or `*args`) passed through: the timeout may be among them."""
    return _forwards_keywords(call) or any(isinstance(arg, ast.Starred) for arg in call.args)


def _forwards_keywords(call: ast.Call) -> bool:
    for keyword in call.keywords:
        if keyword.arg is None:
            if isinstance(keyword.value, ast.Dict):
                if any(isinstance(key, ast.Constant) and key.value == "timeout" for key in keyword.value.keys):
                    return True
                continue
            return True
    return False


def _is_none(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 40 else text[:37] + "..."


def _configured_receivers(context: FileContext) -> frozenset[str]:
    found: set[str] = set()
    for node in context.nodes_of(ast.Call, ast.Assign):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "mount":
            receiver = dotted_name(node.func.value)
            adapter = argument(node, 1, "adapter")
            if receiver is not None and adapter is not None and _adapter_sets_timeout(adapter, context):
                found.add(receiver)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in ("request", "send"):
                    receiver = dotted_name(target.value)
                    if receiver is not None:
                        found.add(receiver)
    return frozenset(found)


def _adapter_sets_timeout(adapter: ast.expr, context: FileContext, depth: int = 0) -> bool:
    """A project adapter class (the TimeoutHTTPAdapter pattern), or one given `timeout=`."""
    if isinstance(adapter, ast.Name) and depth < 2:
        # `session.mount("https://", adapter)` after `adapter = HTTPAdapter(max_retries=...)`.
        values = [
            node.value
            for node in context.nodes_of(ast.Assign)
            if any(isinstance(target, ast.Name) and target.id == adapter.id for target in node.targets)
        ]
        if not values:
            return True
        return any(_adapter_sets_timeout(value, context, depth + 1) for value in values)
    if not isinstance(adapter, ast.Call):
        # An adapter from somewhere backbone can't see: trust it.
        return not isinstance(adapter, ast.Constant)
    if keyword_value(adapter, "timeout") is not None:
        return True
    qualified = context.call_name(adapter)
    if qualified is None:
        return False
    return qualified not in _ADAPTER_BASES

