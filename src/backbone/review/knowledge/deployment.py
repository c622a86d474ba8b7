"""Switches that must be off in production: debug modes and credentialed wildcard CORS.

BB502 asks this module which constructors take a `debug=` switch, which objects run a
development server, which classes are CORS middlewares, and what a Django settings module
is. Names come in as qualified names from the file's imports.
"""

from __future__ import annotations

import ast
import re
from pathlib import PurePosixPath

from backbone.review.names import within

# Application classes whose `debug=True` turns on tracebacks in responses (Starlette's
# ServerErrorMiddleware debug page, Litestar's debug responses).
DEBUG_ARGUMENT_APPS = frozenset(
    {
        "fastapi.FastAPI",
        "fastapi.applications.FastAPI",
        "starlette.applications.Starlette",
        "litestar.Litestar",
        "litestar.app.Litestar",
    }
)

# Applications whose `run(debug=True)` starts the Werkzeug (or Quart/Sanic) development
# server with its interactive debugger: a remote shell for anyone who can trigger an error.
DEV_SERVER_APPS = frozenset(
    {
        "flask.Flask",
        "flask.app.Flask",
        "quart.Quart",
        "quart.app.Quart",
        "sanic.Sanic",
        "dash.Dash",
        "flask_socketio.SocketIO",
    }
)
# Names a Flask-style app is conventionally bound to; used when the value is built by a
# project factory (`app = create_app()`) that backbone does not follow.
CONVENTIONAL_APP_NAMES = frozenset({"app", "application", "flask_app", "server", "socketio", "sio"})
# `.run(debug=True)` receivers that have nothing to do with a web server.
NOT_SERVER_RUNS = frozenset({"asyncio.run", "asyncio.runners.run", "trio.run", "anyio.run", "uvloop.run"})

CORS_MIDDLEWARES = frozenset(
    {
        "starlette.middleware.cors.CORSMiddleware",
        "fastapi.middleware.cors.CORSMiddleware",
    }
)
# `Middleware(CORSMiddleware, ...)`: the Starlette/FastAPI middleware declaration.
MIDDLEWARE_DECLARATIONS = frozenset({"starlette.middleware.Middleware", "fastapi.middleware.Middleware"})
# Flask-CORS: the extension and the per-view decorator. Its `origins` default is "*".
FLASK_CORS = frozenset({"flask_cors.CORS", "flask_cors.extension.CORS"})
FLASK_CORS_DECORATORS = frozenset({"flask_cors.cross_origin", "flask_cors.decorator.cross_origin"})

# django-cors-headers: the current and the pre-3.0 spelling of "every origin".
DJANGO_CORS_ALLOW_ALL = frozenset({"CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL"})
DJANGO_CORS_CREDENTIALS = "CORS_ALLOW_CREDENTIALS"

# Module-level names only a Django settings module defines.
_DJANGO_SETTINGS_MARKERS = frozenset(
    {"INSTALLED_APPS", "MIDDLEWARE", "MIDDLEWARE_CLASSES", "ROOT_URLCONF", "WSGI_APPLICATION", "ASGI_APPLICATION"}
)
# Settings modules meant for a developer's machine or the test suite, where DEBUG = True
# is the point: settings/dev.py, settings/local.py, settings_test.py, test_settings.py.
_DEVELOPMENT_WORDS = frozenset(
    {"dev", "devel", "develop", "development", "local", "test", "tests", "testing", "ci", "debug"}
)
# Settings that production modules usually import and override (`from .base import *`).
_SHARED_BASE_WORDS = frozenset({"base", "common", "default", "defaults", "shared", "global"})
# Directories of sample projects shipped next to a library: not deployed as such.
_SAMPLE_DIRECTORIES = frozenset({"example", "examples", "sample", "samples", "demo", "demos", "sandbox", "docs"})
_WORDS = re.compile(r"[a-z]+")


def module_name_words(path: str) -> tuple[list[str], list[str]]:
    """The words of a file's stem and of its directories: `config/settings/dev_local.py`."""
    posix = PurePosixPath(path.replace("\\", "/"))
    stem_words = _WORDS.findall(posix.stem.lower())
    directory_words = [word for part in posix.parts[:-1] for word in _WORDS.findall(part.lower())]
    return stem_words, directory_words


def is_settings_path(path: str) -> bool:
    """settings.py, settings_*.py, *_settings.py, or any module in a settings/ package."""
    stem_words, directory_words = module_name_words(path)
    return "settings" in stem_words or "settings" in directory_words


def defines_django_settings(tree: ast.Module) -> bool:
    """The module assigns a name that only a Django settings module defines."""
    for statement in tree.body:
        targets: list[ast.expr] = []
        if isinstance(statement, ast.Assign):
            targets = statement.targets
        elif isinstance(statement, (ast.AnnAssign, ast.AugAssign)):
            targets = [statement.target]
        if any(isinstance(target, ast.Name) and target.id in _DJANGO_SETTINGS_MARKERS for target in targets):
            return True
    return False


_SETTINGS_VARIABLE = "DJANGO_SETTINGS_MODULE"


def configured_settings_modules(tree: ast.Module, nodes: list[ast.AST] | None = None) -> tuple[str, ...]:
    """The Django settings modules a file names as the one to run with:
    `os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")` (manage.py, wsgi.py, asgi.py,
    a Celery app), `os.environ["DJANGO_SETTINGS_MODULE"] = "..."`, `{"DJANGO_SETTINGS_MODULE": "..."}`.
    `nodes`: every node of the tree, when already listed."""
    named: list[str] = []
    for node in ast.walk(tree) if nodes is None else nodes:
        value: ast.expr | None = None
        if isinstance(node, ast.Call) and len(node.args) >= 2 and _is_settings_variable(node.args[0]):
            value = node.args[1]
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Subscript) and _is_settings_variable(target.slice) for target in node.targets
        ):
            value = node.value
        elif isinstance(node, ast.Dict):
            value = next((item for key, item in zip(node.keys, node.values) if key is not None and _is_settings_variable(key)), None)
        if isinstance(value, ast.Constant) and isinstance(value.value, str) and value.value not in named:
            named.append(value.value)
    return tuple(named)


def _is_settings_variable(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and node.value == _SETTINGS_VARIABLE


def is_development_settings(path: str) -> bool:
    """A settings module named for development or tests (settings/dev.py, test_settings.py, testutils/settings.py)."""
    stem_words, directory_words = module_name_words(path)
    return bool(set(stem_words) & _DEVELOPMENT_WORDS) or any(word.startswith("test") for word in directory_words)


def is_shared_base_settings(path: str) -> bool:
    """settings/base.py and the like: other settings modules import it and usually override DEBUG."""
    stem_words, _ = module_name_words(path)
    return bool(set(stem_words) & _SHARED_BASE_WORDS)


def is_sample_project(path: str) -> bool:
    """Under example/, examples/, demo/, sandbox/, docs/: a sample, not the deployed service."""
    _, directory_words = module_name_words(path)
    return bool(set(directory_words) & _SAMPLE_DIRECTORIES)


_WILDCARD_REGEXES = frozenset({".*", ".+", "^.*$", "^.+$", "^.*", "https?://.*", "^https?://.*$", "https://.*", "http://.*"})


def is_wildcard_origin(value: ast.expr) -> bool:
    """`"*"`, `["*"]`, `("*",)`, `{"*"}`: every origin allowed."""
    if isinstance(value, ast.Constant):
        return value.value == "*"
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return any(isinstance(item, ast.Constant) and item.value == "*" for item in value.elts)
    return False


def is_wildcard_origin_regex(value: ast.expr) -> bool:
    """`allow_origin_regex=".*"`: a pattern every origin matches."""
    texts: list[object] = []
    if isinstance(value, ast.Constant):
        texts = [value.value]
    elif isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        texts = [item.value for item in value.elts if isinstance(item, ast.Constant)]
    return any(isinstance(text, str) and text.strip() in _WILDCARD_REGEXES for text in texts)


def is_true(value: ast.expr | None) -> bool:
    return isinstance(value, ast.Constant) and value.value is True


# Flask-CORS reads the app's configuration (`CORS_ORIGINS`, ...) under every `CORS(...)` and
# `@cross_origin(...)`: its options are the defaults, overridden by the app's `CORS_*` keys,
# overridden by the call's own arguments (flask_cors.core.get_cors_options).
FLASK_CORS_ORIGINS_KEY = "CORS_ORIGINS"
# Flask config loaders that read a file or the environment backbone does not see.
FLASK_EXTERNAL_CONFIG_LOADERS = frozenset({"from_pyfile", "from_envvar", "from_file", "from_prefixed_env"})
EXTERNAL_CONFIG = "external"


# What a browser sends on its own with a credentialed cross-origin request: cookies and the
# HTTP authentication it was asked for. Reading or setting either, or a library that does
# (sessions, cookie or HTTP Basic auth, login managers), makes the credentials worth stealing.
_CREDENTIAL_ATTRIBUTES = frozenset(
    {"cookies", "COOKIES", "set_cookie", "set_signed_cookie", "get_signed_cookie", "delete_cookie", "authorization"}
)
_CREDENTIAL_HEADERS = frozenset({"cookie", "set-cookie", "www-authenticate"})
_CREDENTIAL_LIBRARIES = frozenset({
    "flask.session", "flask_login", "flask_security", "flask_session", "flask_httpauth", "flask_wtf.csrf",
    "starlette.middleware.sessions", "starlette.authentication", "fastapi.security.APIKeyCookie",
    "fastapi.security.HTTPBasic", "fastapi.security.http.HTTPBasic", "fastapi.security.api_key.APIKeyCookie",
    "fastapi_users", "fastapi_login", "starsessions", "authlib", "django", "werkzeug.http.dump_cookie",
    "http.cookies", "itsdangerous", "aiohttp_session", "pyramid", "webob",
})


def browser_credentials(nodes: list[ast.AST], references: frozenset[str]) -> bool:
    """The file reads or sets cookies (`request.cookies`, `response.set_cookie(...)`, a `Cookie`
    header), reads HTTP authentication (`request.authorization`, `WWW-Authenticate`), keeps
    sessions (`request.session`), or uses a library that does: what a browser sends by itself
    with a credentialed cross-origin request."""
    if any(within(reference, _CREDENTIAL_LIBRARIES) for reference in references):
        return True
    for node in nodes:
        if isinstance(node, ast.Attribute):
            if node.attr in _CREDENTIAL_ATTRIBUTES:
                return True
            if node.attr == "session" and isinstance(node.value, ast.Name) and node.value.id in ("request", "req"):
                return True
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.lower() in _CREDENTIAL_HEADERS:
            return True
    return False


def flask_cors_configuration(nodes: list[ast.AST]) -> tuple[str, ...]:
    """What a file's Flask configuration says about the origins Flask-CORS allows, one word per
    place it sets `CORS_ORIGINS` (a settings module's or config class's `CORS_ORIGINS = [...]`,
    `app.config["CORS_ORIGINS"] = ...`, `app.config.update(CORS_ORIGINS=...)`, a mapping's key):
    "wildcard" (every origin), "listed" (literal origins) or "unknown" (read at run time); and
    "external" when the file loads the configuration from a file or the environment
    (`app.config.from_pyfile(...)`, `from_envvar`)."""
    found: list[str] = []
    for node in nodes:
        values: list[ast.expr] = []
        if isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and target.id == FLASK_CORS_ORIGINS_KEY and node.value is not None:
                    values.append(node.value)
                elif (
                    isinstance(target, ast.Subscript)
                    and isinstance(target.slice, ast.Constant)
                    and target.slice.value == FLASK_CORS_ORIGINS_KEY
                    and node.value is not None
                ):
                    values.append(node.value)
        elif isinstance(node, ast.Call):
            values.extend(
                keyword.value for keyword in node.keywords if keyword.arg == FLASK_CORS_ORIGINS_KEY
            )
            if isinstance(node.func, ast.Attribute) and node.func.attr in FLASK_EXTERNAL_CONFIG_LOADERS:
                found.append(EXTERNAL_CONFIG)
        elif isinstance(node, ast.Dict):
            values.extend(
                value
                for key, value in zip(node.keys, node.values)
                if isinstance(key, ast.Constant) and key.value == FLASK_CORS_ORIGINS_KEY
            )
        for value in values:
            found.append(_origins_kind(value))
    return tuple(dict.fromkeys(found))


def _origins_kind(value: ast.expr) -> str:
    if is_wildcard_origin(value):
        return "wildcard"
    if isinstance(value, ast.Constant) and isinstance(value.value, str):
        return "listed"
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)) and all(
        isinstance(item, ast.Constant) and isinstance(item.value, str) for item in value.elts
    ):
        return "listed"
    return "unknown"
