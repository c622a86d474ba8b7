"""What a file's context is described by: the frameworks it uses and the execution contexts
a function can run in (the analysis is in `contexts.py`).

Apart so that rules can declare their frameworks and their severity per context without
loading the analysis, and the file context can name them without importing the rules.
"""

from __future__ import annotations

import enum


class ExecutionContext(enum.Enum):
    REQUEST = "request"
    TASK = "task"
    STARTUP = "startup"
    CLI = "cli"
    MIGRATION = "migration"
    TEST = "test"
    SCRIPT = "script"
    UNKNOWN = "unknown"
    UNCALLED = "uncalled"
    UNREACHABLE = "unreachable"


# The order in which a finding names its context when it has several: the one that
# matters most to a service first.
PRECEDENCE = (
    ExecutionContext.REQUEST,
    ExecutionContext.TASK,
    ExecutionContext.UNKNOWN,
    ExecutionContext.UNCALLED,
    ExecutionContext.STARTUP,
    ExecutionContext.CLI,
    ExecutionContext.SCRIPT,
    ExecutionContext.MIGRATION,
    ExecutionContext.TEST,
    ExecutionContext.UNREACHABLE,
)

DESCRIPTIONS = {
    ExecutionContext.REQUEST: "a request handler, or code a handler reaches",
    ExecutionContext.TASK: "a background task (Celery, RQ, Dramatiq, Huey, arq, Django-Q), or code it reaches",
    ExecutionContext.STARTUP: "start-up and shut-down hooks, app factories, AppConfig.ready, import time",
    ExecutionContext.CLI: "CLI commands (click, typer, Flask CLI) and Django management commands",
    ExecutionContext.MIGRATION: "Django migrations and Alembic revisions",
    ExecutionContext.TEST: "tests, fixtures, factories and test-support modules",
    ExecutionContext.SCRIPT: "files under scripts/ or bin/, and what the `if __name__ == \"__main__\":` block of a module nothing imports runs",
    ExecutionContext.UNKNOWN: "code no known entry point reaches (library APIs, callbacks found by name)",
    ExecutionContext.UNCALLED: (
        "a module-level function, or a method of a module-level class, that nothing in the project calls or "
        "names (no call, import, decorator, `__all__`, dotted-path string or attribute read of its name) and "
        "that no framework calls by convention, and its code: a leftover helper, or a library's public "
        "function"
    ),
    ExecutionContext.UNREACHABLE: (
        "classes and functions the project names only in branches that never run (`if False:`, "
        "`elif ... and False:`), and their code; code after a `return`, `raise`, `continue` or `break` of its block"
    ),
}


class Framework(enum.Enum):
    """Frameworks and data layers a rule can be restricted to."""

    FASTAPI = "fastapi"
    STARLETTE = "starlette"
    FLASK = "flask"
    DJANGO = "django"
    DRF = "rest_framework"
    SQLALCHEMY = "sqlalchemy"
