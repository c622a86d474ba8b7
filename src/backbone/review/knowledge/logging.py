"""What counts as reporting a failure: logging, error trackers, warnings, telling the user.

A call reports when it goes somewhere an operator (or the user) will see it:

- the `logging` module and logger objects (`logger.error(...)`, `getLogger(...).warning`,
  `self.logger.exception`), structlog and loguru loggers, logfire, twisted's log;
- error trackers (`sentry_sdk.capture_exception`, rollbar, bugsnag, New Relic, raven's
  `client.captureException`), `warnings.warn`, `traceback.print_exc` (it prints the
  traceback on stderr: crude, but the failure is reported);
- Django's messages framework and Flask's `flash`: the user is told (USER_NOTIFIED).

`print(...)`, even to stderr, is not reporting: it carries no level, no traceback and
usually goes nowhere in production.

Whether an object is a logger is decided, most certain first, by where it came from (a
name bound to `logging.getLogger(...)`, `structlog.get_logger()`, loguru's `logger`), then
by convention (`logger`, `log`, `LOGGER`, `_logger`, `self.log`, `app.logger`).
"""

from __future__ import annotations

import ast
import enum
import re
from collections.abc import Callable

from backbone.records import Record
from backbone.review.names import dotted_name

Resolve = Callable[[ast.expr], str | None]


class Reporting(enum.Enum):
    """How a call reports a failure, most certain first."""

    # A resolved logging or error-tracking call.
    LOGGED = "logged"
    # A logging call recognised by convention: a level method on an object named like a
    # logger (`log.error`), an error level on an object backbone can't identify
    # (`self.output.exception(...)`), or a project function named for reporting (`log_failure`).
    LOGGED_BY_NAME = "logged-by-name"
    # The user is told (Django messages, Flask flash): the failure is visible, if not logged.
    USER_NOTIFIED = "user-notified"
    NOT_REPORTED = "not-reported"

    @property
    def reports(self) -> bool:
        return self is not Reporting.NOT_REPORTED


_LEVELS = frozenset(
    {"debug", "info", "warning", "warn", "error", "exception", "critical", "fatal", "log", "msg", "trace", "success"}
)
# structlog's async logger API awaits the same levels with an `a` prefix: `await logger.aexception(...)`.
LOG_LEVEL_METHODS = _LEVELS | frozenset(f"a{level}" for level in _LEVELS)

# Level methods that, called on anything, are almost always a logger (or an error reporter):
# `info`/`log`/`msg` are common names elsewhere, these are not.
_ERROR_LEVELS = frozenset({"warning", "warn", "error", "exception", "critical", "fatal"})
_ERROR_LEVEL_METHODS = _ERROR_LEVELS | frozenset(f"a{level}" for level in _ERROR_LEVELS)

# Error-tracker client methods, whatever object they are called on (raven, rollbar,
# New Relic, OpenTelemetry spans, Bugsnag, Honeybadger, Airbrake).
_ERROR_TRACKER_METHODS = frozenset(
    {
        "captureException",
        "captureMessage",
        "capture_exception",
        "capture_message",
        "capture_event",
        "report_exc_info",
        "report_message",
        "notice_error",
        "record_exception",
        "notify_exception",
    }
)

# Module-level functions that report, by qualified name.
REPORTING_FUNCTIONS = frozenset(
    {
        "warnings.warn",
        "warnings.warn_explicit",
        "traceback.print_exc",
        "traceback.print_exception",
        "traceback.print_last",
        "sentry_sdk.capture_exception",
        "sentry_sdk.capture_message",
        "sentry_sdk.capture_event",
        "sentry_sdk.api.capture_exception",
        "sentry_sdk.api.capture_message",
        "rollbar.report_exc_info",
        "rollbar.report_message",
        "bugsnag.notify",
        "honeybadger.honeybadger.notify",
        "newrelic.agent.notice_error",
        "newrelic.agent.record_exception",
        "twisted.python.log.err",
        "twisted.python.log.msg",
        "django.utils.log.log_response",
    }
)

# Modules whose level functions log (`logging.exception(...)`, `logfire.error(...)`).
_LOGGING_MODULES = ("logging", "logfire", "structlog", "loguru")

# Calls that return a logger.
LOGGER_FACTORIES = frozenset(
    {
        "logging.getLogger",
        "logging.LoggerAdapter",
        "logging.Logger",
        "structlog.get_logger",
        "structlog.getLogger",
        "structlog.stdlib.get_logger",
        "structlog.wrap_logger",
        "celery.utils.log.get_task_logger",
        "celery.utils.log.get_logger",
        "twisted.logger.Logger",
    }
)

# Base classes of the logging pipeline's own components: a filter, handler or formatter runs while a
# record is being emitted, so it cannot log its own failure (that would re-enter the pipeline), and
# the standard library hands any error it raises to `Handler.handleError`, not to the code that logged.
LOGGING_COMPONENT_BASES = frozenset(
    {
        "logging.Filter",
        "logging.Handler",
        "logging.StreamHandler",
        "logging.FileHandler",
        "logging.Formatter",
        "logging.handlers.QueueHandler",
        "logging.handlers.MemoryHandler",
        "logging.handlers.BufferingHandler",
        "logging.handlers.RotatingFileHandler",
        "logging.handlers.TimedRotatingFileHandler",
        "logging.handlers.WatchedFileHandler",
    }
)
# The methods through which the pipeline calls a component.
LOGGING_COMPONENT_METHODS = frozenset({"filter", "emit", "handle", "format", "formatTime", "formatException", "formatMessage", "flush"})


# Names that are loggers themselves.
LOGGER_OBJECTS = frozenset(
    {
        "logging.root",
        "loguru.logger",
        "flask.current_app.logger",
        "quart.current_app.logger",
        "logfire",
    }
)

# Methods that derive a logger from a logger (structlog's bind, loguru's opt, getChild).
_LOGGER_DERIVING_METHODS = frozenset({"bind", "opt", "new", "getChild", "patch", "contextualize"})

USER_NOTICE_FUNCTIONS = frozenset(
    {
        "django.contrib.messages.error",
        "django.contrib.messages.warning",
        "django.contrib.messages.add_message",
        "flask.flash",
        "quart.flash",
    }
)

# Words that name reporting in a function's name: `log_failure`, `report_error`,
# `notify_admins`, `handle_exception`, `self.mark_failed(job)`.
_REPORTING_WORDS = frozenset(
    {
        "log",
        "logs",
        "logger",
        "logging",
        "report",
        "notify",
        "alert",
        "capture",
        "warn",
        "traceback",
        "error",
        "errors",
        "exception",
        "fail",
        "failed",
        "failure",
    }
)

# `log` that is a logarithm.
_ARITHMETIC_LOGS = frozenset({"math.log", "cmath.log", "numpy.log", "decimal.Decimal.log"})

_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")


class LoggerBindings(Record, frozen=True):
    """The names in one module that are bound to a logger: `logger`, `self.log`, `cls._logger`."""

    names: frozenset[str]

    @classmethod
    def of_assignments(cls, assignments: list[tuple[ast.Assign | ast.AnnAssign, bool]], resolve: Resolve) -> LoggerBindings:
        """From the module's assignments in source order, each with whether it sits directly in a
        class body (`FileContext.logger_bindings` gives them off the file's node index)."""
        names: set[str] = set()
        # Two passes let `log = logger.bind(user=...)` follow `logger = structlog.get_logger()`
        # whatever order the two come in.
        for _ in range(2):
            for node, in_class in assignments:
                value = node.value
                if value is None or not is_logger_expression(value, resolve, frozenset(names)):
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    dotted = dotted_name(target)
                    if dotted is None:
                        continue
                    names.add(dotted)
                    if in_class and "." not in dotted:
                        names.update({f"self.{dotted}", f"cls.{dotted}"})
        return cls(frozenset(names))


def is_logger_expression(node: ast.expr, resolve: Resolve, bound: frozenset[str]) -> bool:
    """True when `node` evaluates to a logger, as far as imports and assignments tell."""
    if isinstance(node, ast.Call):
        callee = resolve(node.func)
        if callee in LOGGER_FACTORIES:
            return True
        func = node.func
        return (
            isinstance(func, ast.Attribute)
            and func.attr in _LOGGER_DERIVING_METHODS
            and is_logger_expression(func.value, resolve, bound)
        )
    qualified = resolve(node)
    if qualified is not None and qualified in LOGGER_OBJECTS:
        return True
    dotted = dotted_name(node)
    return dotted is not None and dotted in bound


def is_conventional_logger_name(node: ast.expr) -> bool:
    """`logger`, `log`, `LOGGER`, `_logger`, `self.log`, `app.logger`, `audit_logger`."""
    func = node.func if isinstance(node, ast.Call) else None
    if isinstance(func, ast.Attribute) and func.attr in _LOGGER_DERIVING_METHODS:
        return is_conventional_logger_name(func.value)
    last = node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else None
    if last is None:
        return False
    word = last.lstrip("_").lower()
    return word in ("log", "logger") or word.endswith(("_logger", "_log")) or word.startswith(("logger_", "log_"))


def reporting_of_call(call: ast.Call, resolve: Resolve, loggers: LoggerBindings) -> Reporting:
    """How (and whether) `call` reports a failure."""
    callee = resolve(call.func)
    if callee is not None:
        if callee in REPORTING_FUNCTIONS:
            return Reporting.LOGGED
        if callee in USER_NOTICE_FUNCTIONS:
            return Reporting.USER_NOTIFIED
        module, _, function = callee.rpartition(".")
        if module in _LOGGING_MODULES and function in LOG_LEVEL_METHODS:
            return Reporting.LOGGED
    func = call.func
    if isinstance(func, ast.Attribute):
        if func.attr in LOG_LEVEL_METHODS:
            if is_logger_expression(func.value, resolve, loggers.names):
                return Reporting.LOGGED
            if is_conventional_logger_name(func.value):
                return Reporting.LOGGED_BY_NAME
            # An error level on an object backbone can't identify is almost always a logger.
            if func.attr in _ERROR_LEVEL_METHODS:
                return Reporting.LOGGED_BY_NAME
        if func.attr in _ERROR_TRACKER_METHODS:
            return Reporting.LOGGED_BY_NAME
    name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else None
    # A class named for an error (`ExportError(...)`) is built, not reported, unless raised.
    if name is not None and not name[:1].isupper() and callee not in _ARITHMETIC_LOGS and names_reporting(name):
        return Reporting.LOGGED_BY_NAME
    return Reporting.NOT_REPORTED


def names_reporting(function_name: str) -> bool:
    """True for names like `log_failure`, `reportError`, `notify_admins`, `handle_exception`."""
    words = {word.lower() for word in _WORD.findall(function_name)}
    return bool(words & _REPORTING_WORDS)
