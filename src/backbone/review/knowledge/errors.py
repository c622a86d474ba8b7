"""What an exception type means to a backend, and how code answers a failure.

Rules ask this module three kinds of question:

- How broad is a caught type? `classify_exception("sqlalchemy.exc.OperationalError")`
  is INFRASTRUCTURE (a database error), `"Exception"` is BROAD, `"KeyError"` NARROW.
  Names come in as qualified names (`requests.exceptions.Timeout`, builtins bare).
- When a name could not be resolved (a star import, `conn.OperationalError` on a
  DB-API connection), what does its last segment suggest? `guess_exception_kind`.
- Does a statement answer the failure: a call that never returns (`abort(500)`,
  `sys.exit`, `pytest.fail`), or a returned value that is an error response (4xx/5xx)?
"""

from __future__ import annotations

import ast
import builtins
import enum
import re
from collections.abc import Callable
from http import HTTPStatus

from backbone.records import Record
from backbone.redaction import name_words
from backbone.review.names import last_name
from backbone.review.semantic import own_nodes

Resolve = Callable[[ast.expr], str | None]


class ExceptionKind(enum.Enum):
    """How much a caught type catches, as far as failure handling is concerned."""

    # Catches everything: `except:`, `Exception`, `BaseException`.
    BROAD = "broad"
    # A failure of something outside the process: a database, an HTTP service, SMTP,
    # the network or the OS, a cloud or payment provider.
    INFRASTRUCTURE = "infrastructure"
    # A specific, usually expected condition (KeyError, ValueError, ImportError, ...).
    NARROW = "narrow"
    # Not in the catalogue: a project's own exception, or a library backbone doesn't know.
    UNKNOWN = "unknown"


class InfrastructureArea(enum.Enum):
    """What failed, in words a message can use ("database errors")."""

    DATABASE = "database"
    CACHE = "cache"
    HTTP_CLIENT = "HTTP client"
    EMAIL = "email (SMTP)"
    NETWORK = "network"
    OPERATING_SYSTEM = "OS and I/O"
    CLOUD_SDK = "cloud SDK"
    PAYMENT = "payment provider"
    MESSAGING = "messaging service"


class ExceptionClass(Record, frozen=True):
    kind: ExceptionKind
    area: InfrastructureArea | None = None
    # A unique/foreign-key violation: callers often expect it on purpose (insert-or-ignore),
    # so a silent handler is less certainly a bug.
    constraint_violation: bool = False


_BROAD = ExceptionClass(ExceptionKind.BROAD)
_NARROW = ExceptionClass(ExceptionKind.NARROW)
_UNKNOWN = ExceptionClass(ExceptionKind.UNKNOWN)

BROAD_EXCEPTIONS = frozenset({"Exception", "BaseException", "builtins.Exception", "builtins.BaseException"})

# Builtin OSError subclasses that name one expected condition (a missing file, an existing
# directory, a finished child process). `except FileNotFoundError: return default` is a
# decision, not a swallowed outage, so these are narrow even though OSError is not.
_NARROW_OS_ERRORS = frozenset(
    {
        "FileNotFoundError",
        "FileExistsError",
        "IsADirectoryError",
        "NotADirectoryError",
        "PermissionError",
        "ProcessLookupError",
        "ChildProcessError",
        "InterruptedError",
        "BlockingIOError",
    }
)

_DB = InfrastructureArea.DATABASE
_CACHE = InfrastructureArea.CACHE
_HTTP = InfrastructureArea.HTTP_CLIENT
_EMAIL = InfrastructureArea.EMAIL
_NET = InfrastructureArea.NETWORK
_OS = InfrastructureArea.OPERATING_SYSTEM
_CLOUD = InfrastructureArea.CLOUD_SDK
_PAY = InfrastructureArea.PAYMENT
_MSG = InfrastructureArea.MESSAGING

_DB_API_ERRORS = (
    "Error",
    "DatabaseError",
    "OperationalError",
    "IntegrityError",
    "InterfaceError",
    "DataError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
)

# Qualified name -> area, for types that live in modules with non-infrastructure neighbours.
_INFRASTRUCTURE_NAMES: dict[str, InfrastructureArea] = {
    # Builtins and the standard library: the network and the OS.
    "OSError": _OS,
    "IOError": _OS,
    "EnvironmentError": _OS,
    "os.error": _OS,
    "select.error": _OS,
    "ConnectionError": _NET,
    "ConnectionRefusedError": _NET,
    "ConnectionResetError": _NET,
    "ConnectionAbortedError": _NET,
    "BrokenPipeError": _NET,
    "TimeoutError": _NET,
    "socket.error": _NET,
    "socket.timeout": _NET,
    "socket.gaierror": _NET,
    "socket.herror": _NET,
    "ssl.SSLError": _NET,
    "ssl.SSLEOFError": _NET,
    "ssl.SSLZeroReturnError": _NET,
    "ssl.SSLSyscallError": _NET,
    "ssl.SSLCertVerificationError": _NET,
    "ssl.CertificateError": _NET,
    "asyncio.TimeoutError": _NET,
    "asyncio.exceptions.TimeoutError": _NET,
    "concurrent.futures.TimeoutError": _NET,
    "imaplib.IMAP4.error": _EMAIL,
    "poplib.error_proto": _EMAIL,
    # SQLAlchemy: the DB-API wrappers and connection-pool failures; not its
    # programming errors (ArgumentError, NoInspectionAvailable) or result-shape errors,
    # nor StatementError, which code catches for bind-parameter conversion failures
    # (a string where an int was expected) rather than for outages.
    **{f"sqlalchemy.exc.{name}": _DB for name in (*_DB_API_ERRORS, "SQLAlchemyError", "DBAPIError")},
    "sqlalchemy.exc.DisconnectionError": _DB,
    "sqlalchemy.exc.TimeoutError": _DB,
    "sqlalchemy.exc.PendingRollbackError": _DB,
    "sqlalchemy.exc.ResourceClosedError": _DB,
    "sqlalchemy.exc.InvalidatePoolError": _DB,
    "sqlalchemy.orm.exc.StaleDataError": _DB,
    # Django's DB-API wrappers, from either module.
    **{f"django.db.{name}": _DB for name in _DB_API_ERRORS},
    **{f"django.db.utils.{name}": _DB for name in _DB_API_ERRORS},
    # aiohttp: the client side only (aiohttp.web.HTTPNotFound is a response, not a failure).
    **{
        f"aiohttp.{name}": _HTTP
        for name in (
            "ClientError",
            "ClientConnectionError",
            "ClientConnectorError",
            "ClientConnectorSSLError",
            "ClientConnectorCertificateError",
            "ClientOSError",
            "ClientResponseError",
            "ClientPayloadError",
            "ClientSSLError",
            "ClientHttpProxyError",
            "ClientConnectionResetError",
            "ServerConnectionError",
            "ServerDisconnectedError",
            "ServerTimeoutError",
            "ServerFingerprintMismatch",
            "ConnectionTimeoutError",
            "SocketTimeoutError",
            "ContentTypeError",
            "TooManyRedirects",
            "WSServerHandshakeError",
        )
    },
    "tornado.httpclient.HTTPError": _HTTP,
    "tornado.httpclient.HTTPClientError": _HTTP,
    "grpc.RpcError": _NET,
    "grpc.aio.AioRpcError": _NET,
    "kubernetes.client.rest.ApiException": _CLOUD,
    "confluent_kafka.KafkaException": _MSG,
    "stripe.StripeError": _PAY,
    "stripe.APIError": _PAY,
    "stripe.APIConnectionError": _PAY,
    "stripe.AuthenticationError": _PAY,
    "stripe.RateLimitError": _PAY,
    "stripe.InvalidRequestError": _PAY,
    "stripe.PermissionError": _PAY,
    "stripe.IdempotencyError": _PAY,
}


class _Family(Record, frozen=True):
    """Every exception under a module prefix, except the named narrow ones."""

    prefix: str
    area: InfrastructureArea
    narrow: frozenset[str] = frozenset()


# Modules whose exceptions are all failures of something outside the process
# (an exception caught from `psycopg2.` is a database failure whatever its name).
_FAMILIES: tuple[_Family, ...] = (
    _Family("psycopg2.", _DB),
    _Family("psycopg.", _DB),
    _Family("asyncpg.", _DB),
    _Family("pymysql.", _DB),
    _Family("MySQLdb.", _DB),
    _Family("mysql.connector.", _DB),
    _Family("sqlite3.", _DB),
    _Family("aiosqlite.", _DB),
    _Family("aiomysql.", _DB),
    _Family("aiopg.", _DB),
    _Family("cx_Oracle.", _DB),
    _Family("oracledb.", _DB),
    _Family("pyodbc.", _DB),
    _Family("pymssql.", _DB),
    _Family("pymongo.errors.", _DB),
    _Family("motor.", _DB),
    _Family("cassandra.", _DB),
    _Family("neo4j.exceptions.", _DB),
    _Family("clickhouse_driver.errors.", _DB),
    _Family("elasticsearch.", _DB, frozenset({"NotFoundError"})),
    _Family("opensearchpy.", _DB, frozenset({"NotFoundError"})),
    _Family("redis.", _CACHE),
    _Family("aioredis.", _CACHE),
    _Family("pymemcache.", _CACHE),
    _Family("pylibmc.", _CACHE),
    # Malformed URLs and headers are the caller's bug, not the remote service's failure.
    _Family(
        "requests.",
        _HTTP,
        frozenset({"MissingSchema", "InvalidSchema", "InvalidURL", "InvalidHeader", "URLRequired"}),
    ),
    _Family("httpx.", _HTTP, frozenset({"InvalidURL", "CookieConflict", "UnsupportedProtocol"})),
    _Family("aiohttp.client_exceptions.", _HTTP, frozenset({"InvalidURL", "InvalidUrlClientError"})),
    _Family("urllib.error.", _HTTP),
    _Family("urllib2.", _HTTP),
    _Family("urllib3.exceptions.", _HTTP, frozenset({"LocationParseError", "LocationValueError"})),
    _Family("http.client.", _HTTP),
    _Family("httplib2.", _HTTP),
    _Family("pycurl.", _HTTP),
    _Family("websockets.exceptions.", _NET),
    _Family("zeep.exceptions.", _HTTP),
    # An encrypted key given without its passphrase is a property of the input, not of the network.
    _Family("paramiko.", _NET, frozenset({"PasswordRequiredException"})),
    _Family("ftplib.", _NET),
    _Family("smtplib.", _EMAIL),
    _Family("aiosmtplib.", _EMAIL),
    _Family("botocore.exceptions.", _CLOUD),
    _Family("boto3.exceptions.", _CLOUD),
    _Family("boto.exception.", _CLOUD),
    _Family("aiobotocore.", _CLOUD),
    # `Conflict`/`AlreadyExists` answer a create of what exists (an idempotent create), like azure's
    # `ResourceExistsError`: the state asked for is there.
    _Family("google.api_core.exceptions.", _CLOUD, frozenset({"NotFound", "Conflict", "AlreadyExists"})),
    _Family("google.cloud.exceptions.", _CLOUD, frozenset({"NotFound"})),
    _Family("google.auth.exceptions.", _CLOUD),
    _Family("googleapiclient.errors.", _CLOUD),
    _Family("azure.core.exceptions.", _CLOUD, frozenset({"ResourceNotFoundError", "ResourceExistsError"})),
    _Family("kubernetes.client.exceptions.", _CLOUD),
    _Family("docker.errors.", _CLOUD, frozenset({"NotFound", "ImageNotFound"})),
    _Family("firebase_admin.exceptions.", _CLOUD),
    # A declined card or a forged webhook signature is a business answer, not an outage.
    _Family("stripe.error.", _PAY, frozenset({"CardError", "SignatureVerificationError"})),
    _Family("stripe._error.", _PAY, frozenset({"CardError", "SignatureVerificationError"})),
    _Family("braintree.exceptions.", _PAY),
    _Family("paypalrestsdk.exceptions.", _PAY),
    _Family("razorpay.errors.", _PAY),
    _Family("mollie.api.error.", _PAY),
    _Family("twilio.base.exceptions.", _MSG),
    _Family("python_http_client.exceptions.", _MSG),
    _Family("slack_sdk.errors.", _MSG),
    _Family("kombu.exceptions.", _MSG, frozenset({"EncodeError", "DecodeError", "ContentDisallowed"})),
    _Family("pika.exceptions.", _MSG),
    _Family("kafka.errors.", _MSG),
    _Family("aiokafka.errors.", _MSG),
    _Family("nats.errors.", _MSG),
)

# Last segments that are narrow wherever they live: the shape of a query result, or
# input that failed validation.
_NARROW_ANYWHERE = frozenset(
    {
        "DoesNotExist",
        "ObjectDoesNotExist",
        "MultipleObjectsReturned",
        "NoResultFound",
        "MultipleResultsFound",
        "ValidationError",
        "JSONDecodeError",
    }
)

_CONSTRAINT_VIOLATIONS = frozenset(
    {
        "IntegrityError",
        "UniqueViolation",
        "UniqueViolationError",
        "ForeignKeyViolation",
        "ForeignKeyViolationError",
        "DuplicateKeyError",
    }
)

# Last segments that name an infrastructure failure whatever module they come from:
# used only when the name itself could not be resolved (so with lowered confidence).
_INFRASTRUCTURE_SHORT_NAMES: dict[str, InfrastructureArea] = {
    **{name: _DB for name in _DB_API_ERRORS if name != "Error"},
    "SQLAlchemyError": _DB,
    "DBAPIError": _DB,
    "PyMongoError": _DB,
    "RedisError": _CACHE,
    "RequestException": _HTTP,
    "RequestError": _HTTP,
    "HTTPError": _HTTP,
    "URLError": _HTTP,
    "ClientError": _CLOUD,
    "BotoCoreError": _CLOUD,
    "GoogleAPIError": _CLOUD,
    "GoogleAPICallError": _CLOUD,
    "StripeError": _PAY,
    "SMTPException": _EMAIL,
    "ConnectTimeout": _HTTP,
    "ReadTimeout": _HTTP,
}

_BUILTIN_EXCEPTIONS = frozenset(
    name
    for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, BaseException)
)


def describe_exception(qualified_name: str) -> ExceptionClass:
    """The kind (and, for infrastructure errors, the area) of a resolved exception type."""
    if qualified_name in BROAD_EXCEPTIONS:
        return _BROAD
    name = qualified_name.removeprefix("builtins.")
    last = name.rpartition(".")[2]
    constraint = last in _CONSTRAINT_VIOLATIONS
    if name in _INFRASTRUCTURE_NAMES:
        return ExceptionClass(ExceptionKind.INFRASTRUCTURE, _INFRASTRUCTURE_NAMES[name], constraint)
    if name in _NARROW_OS_ERRORS or last in _NARROW_ANYWHERE:
        return _NARROW
    family = _family_of(name)
    if family is not None:
        if last in family.narrow:
            return _NARROW
        return ExceptionClass(ExceptionKind.INFRASTRUCTURE, family.area, constraint)
    if name in _BUILTIN_EXCEPTIONS:
        return _NARROW
    return _UNKNOWN


# What Python raises when an optional package is not installed.
_MISSING_MODULE_ERRORS = frozenset({"ImportError", "ModuleNotFoundError"})


def catches_missing_module(handler: ast.ExceptHandler, resolve: Resolve) -> bool:
    """`except ImportError:`, `except (ImportError, ModuleNotFoundError):`: the clause runs when
    a package is not installed, a state of the deployment that every request meets alike."""
    if handler.type is None:
        return False
    caught = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    for node in caught:
        name = resolve(node) or last_name(node) or ""
        if name.removeprefix("builtins.") not in _MISSING_MODULE_ERRORS:
            return False
    return bool(caught)


def classify_exception(qualified_name: str) -> ExceptionKind:
    """BROAD, INFRASTRUCTURE, NARROW or UNKNOWN for a resolved exception type name."""
    return describe_exception(qualified_name).kind


def guess_exception(last_segment: str) -> ExceptionClass:
    """What an unresolved name (`conn.OperationalError`) probably is, from its last segment alone.

    Only well-known infrastructure names are guessed; anything else stays UNKNOWN, so a
    caller can lower its confidence instead of guessing high.
    """
    if last_segment in _NARROW_ANYWHERE or last_segment in _NARROW_OS_ERRORS:
        return _NARROW
    area = _INFRASTRUCTURE_SHORT_NAMES.get(last_segment)
    if area is None:
        return _UNKNOWN
    return ExceptionClass(ExceptionKind.INFRASTRUCTURE, area, last_segment in _CONSTRAINT_VIOLATIONS)


def guess_exception_kind(last_segment: str) -> ExceptionKind:
    return guess_exception(last_segment).kind


def _family_of(name: str) -> _Family | None:
    best: _Family | None = None
    for family in _FAMILIES:
        if name.startswith(family.prefix) and (best is None or len(family.prefix) > len(best.prefix)):
            best = family
    return best


# --- Answering a failure -------------------------------------------------------------

# Calls that never return normally: the failure leaves the handler (as an HTTP error,
# a test failure, or the process exit status).
NON_RETURNING_CALLS = frozenset(
    {
        "sys.exit",
        "os._exit",
        "os.abort",
        "exit",
        "quit",
        "flask.abort",
        "quart.abort",
        "werkzeug.exceptions.abort",
        "pytest.fail",
        "pytest.skip",
        "pytest.xfail",
        "pytest.exit",
        "typer.Exit",
        "click.Abort",
    }
)

# Methods that raise on any receiver they are conventionally called on (unittest).
NON_RETURNING_METHODS = frozenset({"fail", "skipTest"})

# Calls that read the exception being handled without naming it.
CURRENT_EXCEPTION_CALLS = frozenset(
    {
        "sys.exc_info",
        "sys.exception",
        "traceback.format_exc",
        "traceback.format_exception",
        "traceback.format_exception_only",
        "traceback.extract_tb",
        "traceback.TracebackException.from_exception",
    }
)

# Response types whose status is an error by construction.
_ERROR_RESPONSE_TYPES = frozenset(
    {
        "HttpResponseBadRequest",
        "HttpResponseNotFound",
        "HttpResponseForbidden",
        "HttpResponseNotAllowed",
        "HttpResponseGone",
        "HttpResponseServerError",
        "HttpResponseNotModified",
        "InternalServerError",
        "ServiceUnavailable",
        "BadGateway",
        "GatewayTimeout",
        "BadRequest",
        "HTTPInternalServerError",
        "HTTPServiceUnavailable",
        "HTTPBadGateway",
        "HTTPBadRequest",
    }
)

_STATUS_KEYWORDS = frozenset({"status", "status_code"})
_STATUS_IN_NAME = re.compile(r"(?:^|_)[45][0-9][0-9](?:_|$)")


def status_code_of(node: ast.expr) -> int | None:
    """The HTTP status an expression names: `503`, `status.HTTP_503_SERVICE_UNAVAILABLE`,
    `HTTPStatus.SERVICE_UNAVAILABLE`; None when it is not a recognisable status."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int) and not isinstance(node.value, bool):
        return node.value if 100 <= node.value <= 599 else None
    name = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
    if name is None:
        return None
    if name.startswith("HTTP_") and name[5:8].isdigit():
        return int(name[5:8])
    member = HTTPStatus.__members__.get(name)
    return int(member) if member is not None else None


def is_error_status(node: ast.expr) -> bool:
    status = status_code_of(node)
    return status is not None and status >= 400


def is_error_response(node: ast.expr, resolve: Resolve) -> bool:
    """True for a value that answers the client with a 4xx/5xx.

    `JSONResponse({...}, status_code=500)`, `Response(status=status.HTTP_503_...)`,
    `HttpResponseServerError()`, `render(request, "500.html", status=500)`, and Flask's
    `(body, 500)` tuples. A status that is not a constant (`status=code`) is taken as
    an error answer: a handler that computes a status is answering, not swallowing.
    """
    if isinstance(node, ast.Tuple) and len(node.elts) >= 2:
        return is_error_status(node.elts[1])
    if not isinstance(node, ast.Call):
        return False
    callee = (resolve(node.func) or last_name(node.func) or "").rpartition(".")[2]
    if callee in _ERROR_RESPONSE_TYPES:
        return True
    if "response" in callee.lower() or callee.startswith("render"):
        # Flask-AppBuilder style helpers name the status: `self.response_400(...)`.
        named = _STATUS_IN_NAME.search(callee)
        if named is not None:
            return True
        for keyword in node.keywords:
            if keyword.arg in _STATUS_KEYWORDS:
                status = status_code_of(keyword.value)
                if status is None and not isinstance(keyword.value, ast.Constant):
                    return True
                if status is not None and status >= 400:
                    return True
        if any(is_error_status(argument) for argument in node.args):
            return True
    # make_response(jsonify(...), 500) and friends nest the answer one call deep.
    return any(is_error_response(argument, resolve) for argument in node.args if isinstance(argument, ast.Call))


# --- Failures nobody needs to hear about -----------------------------------------------

# Releasing a resource that is being thrown away: when `conn.close()` or `os.remove(tmp)`
# fails there is nothing left to do, and the error that matters (if any) was raised earlier.
TEARDOWN_METHODS = frozenset(
    {
        "close",
        "aclose",
        "unlink",
        "remove",
        "rmdir",
        "removedirs",
        "rmtree",
        "kill",
        "killpg",
        "terminate",
        "shutdown",
        "disconnect",
        "quit",
        "release",
        "cleanup",
        "stop",
        "join",
        "wait_closed",
        "unregister",
        "deregister",
        "cancel",
        "dispose",
    }
)


# Non-blocking signals a teardown sends to what it stops: a sentinel put on a queue, an event set.
SIGNAL_METHODS = frozenset({"put_nowait", "set", "notify", "notify_all", "send_signal", "set_result", "set_exception"})
_TEARDOWN_FUNCTION_WORDS = frozenset({"stop", "shutdown", "close", "aclose", "teardown", "cleanup", "dispose", "finalize", "terminate"})
_TEARDOWN_DUNDERS = frozenset({"__exit__", "__aexit__", "__del__"})


def is_teardown_function(name: str) -> bool:
    """`_stop_message_forwarding`, `shutdown`, `__aexit__`, `_close_pubsub`, `stopServer`: a function that
    releases what it started; what it fails to release can no longer be acted on."""
    return name in _TEARDOWN_DUNDERS or any(word in _TEARDOWN_FUNCTION_WORDS for word in name_words(name))


def is_teardown_call(call: ast.Call) -> bool:
    """`f.close()`, `os.remove(path)`, `proc.kill()`, `retry(driver.quit)`: releasing a resource."""
    name = last_name(call.func)
    if name is not None and name in TEARDOWN_METHODS:
        return True
    # A teardown handed to a helper (`retry_call(driver.close, max_tries=3)`).
    return any(isinstance(argument, ast.Attribute) and argument.attr in TEARDOWN_METHODS for argument in call.args)


# --- a function that raises whatever it is given ---------------------------------------------------

_COMPARISONS: dict[type[ast.cmpop], Callable[[object, object], bool]] = {
    ast.Eq: lambda left, right: left == right,
    ast.NotEq: lambda left, right: left != right,
    ast.Is: lambda left, right: left is right,
    ast.IsNot: lambda left, right: left is not right,
}
_UNKNOWN_VALUE = object()


def module_constants(module: ast.Module) -> dict[str, object]:
    """Top-level names bound once, to a literal (`LIB_SUCCESS = 0`): their value anywhere in the module."""
    seen: dict[str, int] = {}
    values: dict[str, object] = {}
    for node in ast.walk(module):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign)):
            targets = [node.target]
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            for name in node.names:
                seen[name] = seen.get(name, 0) + 2
        for target in targets:
            if isinstance(target, ast.Name):
                seen[target.id] = seen.get(target.id, 0) + 1
    for statement in module.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and isinstance(statement.value, ast.Constant)
            and seen.get(statement.targets[0].id) == 1
        ):
            values[statement.targets[0].id] = statement.value.value
    return values


def raises_on_every_path(
    function: ast.FunctionDef | ast.AsyncFunctionDef, call: ast.Call, constants: dict[str, object]
) -> bool:
    """Called as `call`, the function ends in a `raise` whichever way it goes.

    `def fail(message): raise AppError(message)` always does; `def _check(ret): if ret != SUCCESS:
    raise LibraryError(ret)` does when called with an error code other than `SUCCESS`
    (`_check(LIBRARY_NOT_FOUND)`), which the module's constants tell. A call to it re-raises.
    """
    if isinstance(function, ast.AsyncFunctionDef) or any(
        isinstance(node, (ast.Yield, ast.YieldFrom)) for node in own_nodes(function)
    ):
        # Calling a coroutine function or a generator function only builds the coroutine or generator.
        return False
    arguments = function.args
    if arguments.vararg is not None or arguments.kwarg is not None or call.keywords or any(
        isinstance(argument, ast.Starred) for argument in call.args
    ):
        return False
    parameters = [parameter.arg for parameter in (*arguments.posonlyargs, *arguments.args)]
    if len(call.args) > len(parameters):
        return False
    known = dict(constants)
    for name in parameters:
        known.pop(name, None)
    for parameter in arguments.kwonlyargs:
        known.pop(parameter.arg, None)
    for name, argument in zip(parameters, call.args):
        value = _constant_value(argument, constants)
        if value is not _UNKNOWN_VALUE:
            known[name] = value
    assigned = {
        target.id
        for node in ast.walk(function)
        if isinstance(node, (ast.Assign, ast.AugAssign, ast.AnnAssign, ast.NamedExpr))
        for target in ([*node.targets] if isinstance(node, ast.Assign) else [node.target])
        if isinstance(target, ast.Name)
    }
    for name in assigned:
        known.pop(name, None)
    return _block_raises(function.body, known) is True


def _block_raises(body: list[ast.stmt], known: dict[str, object]) -> bool | None:
    """True: every way through the block raises; False: some way returns or falls off its end;
    None: the block cannot be followed (a loop, a `try`) and nothing is claimed."""
    for statement in body:
        if isinstance(statement, ast.Raise):
            return True
        if isinstance(statement, ast.Return):
            return False
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            if last_name(statement.value.func) in ("exit", "_exit", "abort") and isinstance(
                statement.value.func, ast.Attribute
            ) and last_name(statement.value.func.value) in ("sys", "os"):
                return True
            continue
        if isinstance(statement, ast.If):
            outcome = _if_raises(statement, known)
            if outcome is not False:
                return outcome
            continue
        if isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign, ast.Pass, ast.Expr)):
            continue
        return None
    return False


def _if_raises(statement: ast.If, known: dict[str, object]) -> bool | None:
    """An `if` whose test the known values decide follows that branch; otherwise both.
    False means the way on goes past it, to the statements after."""
    test = _constant_value(statement.test, known)
    branches = [statement.body if test else statement.orelse] if test is not _UNKNOWN_VALUE else [
        statement.body, statement.orelse
    ]
    outcomes = [_block_raises(branch, known) for branch in branches]
    if all(outcome is True for outcome in outcomes):
        return True
    if any(outcome is None for outcome in outcomes) or any(
        outcome is False and _returns(branch) for outcome, branch in zip(outcomes, branches)
    ):
        return None
    return False


def _returns(body: list[ast.stmt]) -> bool:
    return any(isinstance(node, ast.Return) for statement in body for node in ast.walk(statement))


def _constant_value(node: ast.expr, known: dict[str, object]) -> object:
    """The value of an expression made of literals and known names, or `_UNKNOWN_VALUE`."""
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name):
        return known.get(node.id, _UNKNOWN_VALUE)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        operand = _constant_value(node.operand, known)
        return _UNKNOWN_VALUE if operand is _UNKNOWN_VALUE else not operand
    if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARISONS:
        left = _constant_value(node.left, known)
        right = _constant_value(node.comparators[0], known)
        if left is _UNKNOWN_VALUE or right is _UNKNOWN_VALUE:
            return _UNKNOWN_VALUE
        return _COMPARISONS[type(node.ops[0])](left, right)
    return _UNKNOWN_VALUE
