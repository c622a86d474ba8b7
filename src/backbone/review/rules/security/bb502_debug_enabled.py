"""BB502 debug-enabled: debug modes and credentialed wildcard CORS switched on in code."""

from __future__ import annotations

import ast
from collections.abc import Mapping
from typing import TYPE_CHECKING

from backbone.findings import Confidence, Severity
from backbone.review.knowledge import deployment
from backbone.review.knowledge.paths import is_test_path
from backbone.review.names import import_source, keyword_value
from backbone.review.project import ProjectIndex
from backbone.review.rules.base import OptionValue, Rule, RuleDoc, Scope

if TYPE_CHECKING:
    from backbone.review.context import FileContext

_FIX_DJANGO_DEBUG = (
    'Read DEBUG from the environment so it is off unless turned on: `DEBUG = os.environ.get("DJANGO_DEBUG") == "1"`.'
)
_FIX_RUN = (
    "Start the development server with `flask run --debug` (or a DEBUG environment variable) and serve "
    "production with gunicorn or uvicorn, never with `debug=True` in code."
)
_FIX_APP_DEBUG = "Pass `debug=` from configuration that is false by default, e.g. `debug=settings.debug`."
_FIX_CORS = (
    "List the trusted origins explicitly (`allow_origins=[\"https://app.example.com\"]`), or drop credentials "
    "if the API is really public."
)
_FIX_DJANGO_CORS = (
    "Set `CORS_ALLOWED_ORIGINS` to the trusted front-end origins instead of allowing all of them, "
    "or turn credentials off."
)


class DebugEnabled(Rule):
    code = "BB502"
    name = "debug-enabled"
    summary = (
        "A production-unsafe switch is on in code: Django DEBUG, a debug app or development server, "
        "or wildcard CORS origins together with credentials."
    )
    # Each of these hands an attacker something (a remote shell through the Werkzeug
    # debugger, settings and tracebacks, the user's authenticated session): an error.
    severity = Severity.ERROR
    # Which settings module the project runs with is a fact of the whole project (manage.py, wsgi.py).
    scope = Scope.PROJECT
    subscribes = (ast.Assign, ast.AnnAssign, ast.Call)
    doc = RuleDoc(
        what_it_does=(
            "Finds switches that must be off in production, where the code turns them on:\n\n"
            "- `DEBUG = True` in a Django settings module: a module named `settings` or `*_settings`, any "
            "module of a `settings/` package, or one that defines `INSTALLED_APPS`, `MIDDLEWARE` or "
            "`ROOT_URLCONF`. A value read from the environment (`DEBUG = os.environ.get(\"DEBUG\") == "
            "\"1\"`) is not flagged, nor is an assignment under an `if`.\n"
            "- `app.run(debug=True)` on a Flask, Quart, Sanic or Dash app (or `socketio.run(app, "
            "debug=True)`), `app.debug = True`, `app.config[\"DEBUG\"] = True` and "
            "`app.config.update(DEBUG=True)`.\n"
            "- `FastAPI(debug=True)`, `Starlette(debug=True)` and `Litestar(debug=True)`.\n"
            "- Wildcard CORS with credentials: Starlette/FastAPI `CORSMiddleware` with "
            "`allow_origins=[\"*\"]` (or an `allow_origin_regex` that matches everything) and "
            "`allow_credentials=True`, through `app.add_middleware(...)` or `Middleware(...)`; "
            "Flask-CORS `CORS(app, supports_credentials=True)` or `@cross_origin(supports_credentials=True)` "
            "with `origins=\"*\"` or no `origins` at all (its default is every origin, unless the app's "
            "configuration sets `CORS_ORIGINS`, which Flask-CORS merges under the call's own arguments); "
            "django-cors-headers "
            "`CORS_ALLOW_ALL_ORIGINS = True` (or the old `CORS_ORIGIN_ALLOW_ALL`) with "
            "`CORS_ALLOW_CREDENTIALS = True` in the same module. A CORS finding points at the wildcard "
            "(the `allow_origins=`/`origins=` argument, or the call when Flask-CORS's default applies). It is "
            "reported at low confidence when no code of the project (tests aside) reads or sets a cookie, keeps a "
            "session or reads HTTP authentication, itself or through a library that does (a session middleware, "
            "a login manager, HTTP Basic, Django, Pyramid): an API that takes bearer tokens only gives a browser "
            "nothing to send by itself.\n\n"
            "A `DEBUG = True` that a later `from settings_local import *` of the same module may rebind (a "
            "module outside the project, which the deployment writes, or a project module that sets DEBUG) is "
            "reported at low confidence: the deployment's own file decides.\n\n"
            "Settings modules named for development or tests (`settings/dev.py`, `local_settings.py`, "
            "`test_settings.py`) and test code are not flagged: debug is their point. Neither are settings "
            "templates: when the project names the settings module it runs with (`os.environ.setdefault("
            "\"DJANGO_SETTINGS_MODULE\", \"shop.settings\")` in manage.py, wsgi.py or asgi.py) and that module "
            "is not in the reviewed tree (users write it, often by copying `settings_example.py`), the "
            "settings modules that are shipped are examples to copy, not the deployed settings. Confidence is "
            "lowered for shared base settings (`settings/base.py`, which production modules usually "
            "import and override: medium), for sample projects (under `example/`, `demo/`, `sandbox/`, "
            "`docs/`: low) and for an app whose type backbone infers only from its name (`app = create_app()`).\n\n"
            "A Flask-CORS `CORS(...)` or `@cross_origin(...)` without its own `origins` is not reported when the "
            "project's Flask configuration lists the origins (`CORS_ORIGINS = [\"https://app.example.com\"]` in "
            "a settings module or config class, `app.config[\"CORS_ORIGINS\"] = [...]`): Flask-CORS takes the "
            "app's `CORS_ORIGINS` when the call names none. When the configuration sets `CORS_ORIGINS` only from "
            "the environment, or is loaded from a file backbone does not see (`app.config.from_envvar(...)`, "
            "`from_pyfile`), the default is a guess and the finding is a warning (medium confidence).\n\n"
            "An app's debug switch (`FastAPI(debug=True)`, `app.run(debug=True)`, `app.debug = True`) that runs "
            "only when an `if` the program decides at run time says so (`if in_debug_mode(): app = "
            "FastAPI(debug=True)` with `else: app = FastAPI()`, `FastAPI(debug=True) if config.debug else "
            "FastAPI()`) is not flagged: configuration turns it on, not the code. A constant test (`if True:`) "
            "does not count.\n\n"
            "`app.run(debug=True)` under `if __name__ == \"__main__\":` is reported (medium confidence) only "
            "when the server binds every interface (`host=\"0.0.0.0\"`, `\"::\"`, also as the fallback of "
            "`os.environ.get(\"HOST\", \"0.0.0.0\")`): that block runs only when the file is executed "
            "directly, which is how some containers start the service (`CMD [\"python\", \"app.py\"]`), and "
            "a server on every interface lets outsiders reach its debugger. A `__main__` block that serves the "
            "default loopback interface or a host read from configuration (`host=config.DEBUG_HOST`) is a "
            "development entry point and is not reported: nothing shows a client other than the developer "
            "reaches it."
        ),
        why_is_this_bad=(
            "Django's debug pages show settings, environment, SQL and source to whoever triggers an error, "
            "and DEBUG keeps every query in memory. The Werkzeug debugger behind `app.run(debug=True)` is an "
            "interactive Python console in the browser: anyone who reaches an error page can run code on the "
            "server (the PIN is guessable from public facts). `FastAPI(debug=True)` returns tracebacks to "
            "clients. A CORS policy that allows every origin with credentials lets any website send "
            "requests with the visitor's cookies and read the answers: Starlette and Flask-CORS reflect "
            "the caller's origin in that configuration, so the browser's protection is gone."
        ),
        example=(
            "from fastapi import FastAPI\n"
            "from fastapi.middleware.cors import CORSMiddleware\n\n"
            "app = FastAPI(debug=True)\n"
            "app.add_middleware(\n"
            "    CORSMiddleware,\n"
            "    allow_origins=[\"*\"],\n"
            "    allow_credentials=True,\n"
            ")\n"
        ),
        use_instead=(
            "from fastapi import FastAPI\n"
            "from fastapi.middleware.cors import CORSMiddleware\n\n"
            "from .config import settings\n\n"
            "app = FastAPI(debug=settings.debug)\n"
            "app.add_middleware(\n"
            "    CORSMiddleware,\n"
            "    allow_origins=settings.cors_origins,  # [\"https://app.example.com\"]\n"
            "    allow_credentials=True,\n"
            ")\n"
        ),
    )

    VALID = (
        # Django: DEBUG read from the environment.
        """
        import os

        INSTALLED_APPS = ["django.contrib.auth", "shop"]
        DEBUG = os.environ.get("DJANGO_DEBUG") == "1"
        CORS_ALLOW_ALL_ORIGINS = DEBUG
        CORS_ALLOW_CREDENTIALS = True
        """,
        # Django: DEBUG = True only when the environment says so.
        """
        import os

        ROOT_URLCONF = "shop.urls"
        DEBUG = False
        if os.environ.get("ENVIRONMENT") == "development":
            DEBUG = True
        """,
        # The app's debug chosen by a switch the program reads at run time, production built without it.
        """
        import os

        from fastapi import FastAPI

        def in_debug_mode():
            return os.environ.get("APP_DEBUG", "").lower() == "true"

        if in_debug_mode():
            app = FastAPI(debug=True)
        else:
            app = FastAPI(docs_url=None)

        def create_app(config):
            api = FastAPI(debug=True) if config.debug else FastAPI()
            if config.debug:
                api.debug = True
            return api
        """,
        # DEBUG = True in a module that is not a settings module: a script's own flag.
        """
        DEBUG = True

        def log(message):
            if DEBUG:
                print(message)
        """,
        # django-cors-headers: all origins, but no credentials.
        """
        INSTALLED_APPS = ["corsheaders"]
        CORS_ALLOW_ALL_ORIGINS = True
        CORS_ALLOW_CREDENTIALS = False
        """,
        # Flask: debug from the environment; asyncio.run(debug=True) is asyncio's debug mode.
        """
        import asyncio
        import os

        from flask import Flask

        app = Flask(__name__)

        async def main():
            pass

        if __name__ == "__main__":
            app.run(debug=os.environ.get("FLASK_DEBUG") == "1")
            asyncio.run(main(), debug=True)
        """,
        # A development entry point: the __main__ block serves loopback, or the host configuration names.
        """
        from flask_socketio import SocketIO

        from myservice import config, create_app

        app = create_app()
        socketio = SocketIO(app)

        if __name__ == "__main__":
            socketio.run(app, host=config.DEBUG_HOST, port=config.DEBUG_PORT, debug=True)
            app.run(debug=True)
        """,
        # FastAPI: debug from configuration; CORS with explicit origins and credentials.
        """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        from .config import settings

        app = FastAPI(debug=settings.debug)
        app.add_middleware(
            CORSMiddleware,
            allow_origins=["https://shop.example.com"],
            allow_credentials=True,
        )
        """,
        # Starlette: a public API with every origin but no credentials.
        """
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware

        middleware = [Middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["GET"])]
        app = Starlette(debug=False, middleware=middleware)
        """,
        # Flask-CORS: credentials for listed origins; wildcard without credentials.
        """
        from flask import Flask
        from flask_cors import CORS, cross_origin

        app = Flask(__name__)
        CORS(app, origins=["https://shop.example.com"], supports_credentials=True)

        @app.route("/public")
        @cross_origin()
        def public():
            return "ok"
        """,
        # Unrelated objects with a debug attribute or a run(debug=...) method.
        """
        class Worker:
            def __init__(self):
                self.debug = True

        def start(pipeline):
            pipeline.run(debug=True)
        """,
    )

    INVALID = (
        # The Django startproject default, left on.
        """
        from pathlib import Path

        BASE_DIR = Path(__file__).resolve().parent.parent
        SECRET_KEY = os.environ["SECRET_KEY"]
        DEBUG = True  # expect: BB502
        ALLOWED_HOSTS = ["*"]
        INSTALLED_APPS = ["django.contrib.admin", "shop"]
        """,
        # django-cors-headers: every origin, with credentials (old and new names).
        """
        INSTALLED_APPS = ["corsheaders", "shop"]
        MIDDLEWARE = ["corsheaders.middleware.CorsMiddleware"]
        CORS_ALLOW_ALL_ORIGINS = True  # expect: BB502
        CORS_ORIGIN_ALLOW_ALL = True  # expect: BB502
        CORS_ALLOW_CREDENTIALS = True
        """,
        # Flask: the Werkzeug debugger turned on at import, on the app and in its config.
        """
        from flask import Flask

        app = Flask(__name__)
        app.debug = True  # expect: BB502
        app.config["DEBUG"] = True  # expect: BB502
        app.config.update(DEBUG=True)  # expect: BB502
        app.run(host="0.0.0.0", debug=True)  # expect: BB502
        """,
        # Flask: a factory-built app run with debug in the __main__ block, on every interface.
        """
        from myservice import create_app

        app = create_app()

        if __name__ == "__main__":
            app.run(host="0.0.0.0", debug=True)  # expect: BB502
        """,
        # FastAPI and Starlette debug apps.
        """
        from fastapi import FastAPI
        from starlette.applications import Starlette

        api = FastAPI(title="shop", debug=True)  # expect: BB502
        internal = Starlette(debug=True)  # expect: BB502
        """,
        # FastAPI: CORSMiddleware with every origin and credentials, origins through a name.
        """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        origins = ["*"]
        app = FastAPI()
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,  # expect: BB502
            allow_credentials=True,
            allow_methods=["*"],
        )
        """,
        # Starlette: Middleware(...) declaration; a regex that matches every origin.
        """
        from starlette.applications import Starlette
        from starlette.middleware import Middleware
        from starlette.middleware.cors import CORSMiddleware

        middleware = [
            Middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True),  # expect: BB502
            Middleware(CORSMiddleware, allow_origin_regex=".*", allow_credentials=True),  # expect: BB502
        ]
        app = Starlette(middleware=middleware)
        """,
        # Flask-CORS: the default origins are "*"; explicit "*" in a resource and a decorator.
        """
        from flask import Flask
        from flask_cors import CORS, cross_origin

        app = Flask(__name__)
        CORS(app, supports_credentials=True)  # expect: BB502
        CORS(app, resources={r"/api/*": {"origins": "*"}}, supports_credentials=True)  # expect: BB502

        @app.route("/me")
        @cross_origin(origins="*", supports_credentials=True)  # expect: BB502
        def me():
            return "me"
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        path = context.path
        self._skipped = is_test_path(path)
        self._sample = deployment.is_sample_project(path)
        self._settings_module = deployment.is_settings_path(path) or deployment.defines_django_settings(context.tree)
        self._development_settings = deployment.is_development_settings(path) or self._settings_template()
        self._module_values = _module_level_values(context.tree)
        self._dev_server_apps = self._names_bound_to(deployment.DEV_SERVER_APPS)
        self._django_credentials = deployment.is_true(self._module_values.get(deployment.DJANGO_CORS_CREDENTIALS))

    def _settings_template(self) -> bool:
        """The project runs with a settings module it does not ship (manage.py names `shop.settings`,
        which is not in the tree): its settings modules are templates the user copies or imports
        (`settings_example.py`), not the deployed settings, unless one of them is the one named."""
        index = self.context.project
        if index is None:
            return False
        configured = index.view(f"{self.code}.settings-modules", _configured_settings_modules)
        if not configured or any(_is_module(module, name) for module in index.modules for name in configured):
            return False
        return not any(_is_module(self.context.module, name) for name in configured)

    def _names_bound_to(self, classes: frozenset[str]) -> frozenset[str]:
        """Names assigned (anywhere in the module) an instance of one of `classes`."""
        names: set[str] = set()
        for node in self.context.nodes_of(ast.Assign):
            if isinstance(node.value, ast.Call):
                if self.context.call_name(node.value) in classes:
                    names.update(target.id for target in node.targets if isinstance(target, ast.Name))
        return frozenset(names)

    # ------------------------------------------------------------------ dispatch

    def visit(self, node: ast.AST) -> None:
        if self._skipped:
            return
        if isinstance(node, ast.Assign):
            for target in node.targets:
                self._check_assignment(node, target, node.value)
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            self._check_assignment(node, node.target, node.value)
        elif isinstance(node, ast.Call):
            self._check_call(node)

    def _confidence(self, confidence: Confidence) -> Confidence:
        # A sample project shipped next to a library is run by people trying it, not deployed.
        return Confidence.LOW if self._sample else confidence

    # ------------------------------------------------------------------ assignments

    def _check_assignment(self, statement: ast.stmt, target: ast.expr, value: ast.expr) -> None:
        if not deployment.is_true(value):
            return
        if isinstance(target, ast.Name):
            self._check_setting(statement, target.id)
        elif self.context.under_runtime_switch(statement):
            # `if settings.debug: app.debug = True`: configuration turns it on, not the code.
            return
        elif isinstance(target, ast.Attribute) and target.attr == "debug":
            app = self._app_confidence(target.value)
            if app is not None:
                self.report(
                    statement,
                    f"Debug mode is switched on (`{self.context.segment(target)} = True`), which turns on the "
                    "development server's interactive debugger: anyone who triggers an error can run code on the server.",
                    fix=_FIX_RUN,
                    confidence=self._confidence(app),
                )
        elif isinstance(target, ast.Subscript) and _is_config_key(target, "DEBUG"):
            assert isinstance(target.value, ast.Attribute)
            app = self._app_confidence(target.value.value)
            if app is not None:
                self.report(
                    statement,
                    f"Debug mode is switched on (`{self.context.segment(target)} = True`), which turns on the "
                    "development server's interactive debugger: anyone who triggers an error can run code on the server.",
                    fix=_FIX_RUN,
                    confidence=self._confidence(app),
                )

    def _check_setting(self, statement: ast.stmt, name: str) -> None:
        """DEBUG and django-cors-headers switches: module-level, unconditional assignments only."""
        if name != "DEBUG" and name not in deployment.DJANGO_CORS_ALLOW_ALL:
            return
        if self._development_settings or not self._unconditional_module_statement(statement):
            return
        if name == "DEBUG":
            if not self._settings_module:
                return
            confidence = Confidence.HIGH
            caveat = ""
            if deployment.is_shared_base_settings(self.context.path):
                confidence = Confidence.MEDIUM
                caveat = " unless every production settings module overrides it"
            overriding = self._star_imported_after(statement, name)
            if overriding is not None:
                # `from settings_local import *` further down: what the deployment's own settings
                # file says wins, and backbone does not see it.
                confidence = Confidence.LOW
                caveat = f" unless `{overriding}`, star-imported after it, sets it"
            self.report(
                statement,
                f"DEBUG is True in the Django settings module `{self.context.path}`, which shows tracebacks, "
                f"settings and SQL to anyone who triggers an error{caveat}.",
                fix=_FIX_DJANGO_DEBUG,
                confidence=self._confidence(confidence),
            )
        elif self._django_credentials:
            self.report(
                statement,
                f"Every origin is allowed (`{name} = True`) together with `CORS_ALLOW_CREDENTIALS = True`, so "
                "any website can send requests with the visitor's cookies and read the answers.",
                fix=_FIX_DJANGO_CORS,
                confidence=self._confidence(Confidence.HIGH),
            )

    def _star_imported_after(self, statement: ast.stmt, name: str) -> str | None:
        """The module a later module-level `from X import *` of this file imports that may rebind
        `name`: one outside the project (a local settings file the deployment writes), or a project
        module that defines it. None when there is none."""
        project = self.context.project
        for node in self.context.nodes_of(ast.ImportFrom):
            if node.lineno <= statement.lineno or not any(alias.name == "*" for alias in node.names):
                continue
            source = import_source(node, self.context.module, self.context.path.endswith("__init__.py"))
            known = project.modules.get(source) if project is not None else None
            if known is None or name in known.symbols:
                return source
        return None

    def _unconditional_module_statement(self, statement: ast.stmt) -> bool:
        """At module level and not under an `if` (an environment-dependent switch)."""
        for ancestor in self.context.ancestors(statement):
            if isinstance(ancestor, (ast.If, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                return False
        return True

    # ------------------------------------------------------------------ calls

    def _check_call(self, call: ast.Call) -> None:
        callee = self.context.call_name(call)
        if callee in deployment.DEBUG_ARGUMENT_APPS:
            if deployment.is_true(keyword_value(call, "debug")) and not self.context.under_runtime_switch(call):
                short = callee.rpartition(".")[2]
                self.report(
                    call,
                    f"The {short} app is built with `debug=True`, so it returns tracebacks to clients when a "
                    "request fails.",
                    fix=_FIX_APP_DEBUG,
                    confidence=self._confidence(Confidence.HIGH),
                )
            return
        if callee in deployment.MIDDLEWARE_DECLARATIONS and call.args:
            if self.context.qualified_name(call.args[0]) in deployment.CORS_MIDDLEWARES:
                self._check_starlette_cors(call)
            return
        if callee in deployment.FLASK_CORS or callee in deployment.FLASK_CORS_DECORATORS:
            self._check_flask_cors(call, callee)
            return
        if not isinstance(call.func, ast.Attribute):
            return
        method = call.func.attr
        if method == "add_middleware" and call.args:
            if self.context.qualified_name(call.args[0]) in deployment.CORS_MIDDLEWARES:
                self._check_starlette_cors(call)
        elif method in ("run", "run_server") and callee not in deployment.NOT_SERVER_RUNS:
            self._check_run(call)
        elif (
            method in ("update", "from_mapping")
            and deployment.is_true(keyword_value(call, "DEBUG"))
            # `if in_debug_mode(): app.config.update(DEBUG=True)`: the switch is the configuration's
            # (asked last: it climbs the call's ancestors, and most calls are no such update).
            and not self.context.under_runtime_switch(call)
        ):
            config = call.func.value
            if isinstance(config, ast.Attribute) and config.attr == "config":
                app = self._app_confidence(config.value)
                if app is not None:
                    self.report(
                        call,
                        f"Debug mode is switched on (`{self.context.segment(call.func)}(DEBUG=True)`), which turns "
                        "on the development server's interactive debugger: anyone who triggers an error can run "
                        "code on the server.",
                        fix=_FIX_RUN,
                        confidence=self._confidence(app),
                    )

    def _check_run(self, call: ast.Call) -> None:
        if not deployment.is_true(keyword_value(call, "debug")):
            return
        assert isinstance(call.func, ast.Attribute)
        app = self._app_confidence(call.func.value)
        if app is None:
            return
        shown = self.context.segment(call.func)
        if self._in_main_block(call):
            if not _binds_every_interface(keyword_value(call, "host")):
                # A development entry point run as `python module.py`, serving the loopback
                # interface (the default) or a host chosen by configuration: nothing shows
                # that a client other than the developer can reach its debugger.
                return
            self.report(
                call,
                f"The `__main__` block starts the development server with its interactive debugger "
                f"(`{shown}(debug=True)`) on every network interface whenever the service is started with "
                "`python`, letting anyone who triggers an error run code on the server.",
                fix=_FIX_RUN,
                confidence=self._confidence(app.at_most(Confidence.MEDIUM)),
            )
            return
        self.report(
            call,
            f"The development server is started with its interactive debugger (`{shown}(debug=True)`), which "
            "lets anyone who triggers an error run code on the server.",
            fix=_FIX_RUN,
            confidence=self._confidence(app),
        )

    def _check_starlette_cors(self, call: ast.Call) -> None:
        origins = self._value(keyword_value(call, "allow_origins"))
        regex = self._value(keyword_value(call, "allow_origin_regex"))
        credentials = self._value(keyword_value(call, "allow_credentials"))
        if not deployment.is_true(credentials):
            return
        wildcard: ast.AST
        if origins is not None and deployment.is_wildcard_origin(origins):
            shown = "`allow_origins=[\"*\"]`"
            wildcard = _keyword_node(call, "allow_origins") or call
        elif regex is not None and deployment.is_wildcard_origin_regex(regex):
            shown = f"`allow_origin_regex={self.context.segment(regex)}`"
            wildcard = _keyword_node(call, "allow_origin_regex") or call
        else:
            return
        message, confidence = self._credentialed(
            f"CORSMiddleware allows every origin ({shown}) together with `allow_credentials=True`, so any "
            "website can send requests with the visitor's cookies and read the answers.",
            Confidence.HIGH,
        )
        self.report(wildcard, message, fix=_FIX_CORS, confidence=self._confidence(confidence))

    def _check_flask_cors(self, call: ast.Call, callee: str) -> None:
        """Flask-CORS: `origins` defaults to "*"; `resources` entries may set their own options."""
        credentials = deployment.is_true(self._value(keyword_value(call, "supports_credentials")))
        origins = self._value(keyword_value(call, "origins"))
        resources = self._value(keyword_value(call, "resources"))
        # Without its own `origins`, the call inherits the app's `CORS_ORIGINS`, else "*".
        inherited = self._inherited_origins()
        wildcard_default = deployment.is_wildcard_origin(origins) if origins is not None else inherited is not None
        inherits = origins is None
        wildcard_with_credentials = False
        if isinstance(resources, ast.Dict) and callee in deployment.FLASK_CORS:
            for options in resources.values:
                if not isinstance(options, ast.Dict):
                    continue
                own = _dict_entries(options)
                own_origins = own.get("origins")
                wildcard = deployment.is_wildcard_origin(own_origins) if own_origins is not None else wildcard_default
                inherits = inherits and own_origins is None
                own_credentials = own.get("supports_credentials")
                with_credentials = deployment.is_true(own_credentials) if own_credentials is not None else credentials
                wildcard_with_credentials = wildcard_with_credentials or (wildcard and with_credentials)
        elif resources is None or callee in deployment.FLASK_CORS_DECORATORS:
            wildcard_with_credentials = wildcard_default and credentials
        if not wildcard_with_credentials:
            return
        short = callee.rpartition(".")[2]
        confidence = Confidence.HIGH
        if origins is not None or resources is not None:
            how = "every origin"
        elif inherited is not None and inherited[0]:
            how = "every origin (the app's `CORS_ORIGINS`)"
        else:
            how = "every origin (its default)"
        if inherits and inherited is not None:
            confidence = inherited[1]
        message, confidence = self._credentialed(
            f"Flask-CORS `{short}` allows {how} together with `supports_credentials=True`, so any website can "
            "send requests with the visitor's cookies and read the answers.",
            confidence,
        )
        self.report(
            _keyword_node(call, "origins") or _keyword_node(call, "resources") or call,
            message, fix=_FIX_CORS, confidence=self._confidence(confidence),
        )

    def _credentialed(self, message: str, confidence: Confidence) -> tuple[str, Confidence]:
        """A credentialed-CORS report as the project qualifies it: low confidence, saying why, when no
        project code outside tests reads or sets cookies, sessions or HTTP authentication
        (`ModuleFacts.browser_credentials`): a browser then has nothing of the service's to send."""
        index = self.context.project
        if index is None or index.view(f"{self.code}.browser-credentials", _browser_credentials):
            return message, confidence
        return message + (
            " No code of the project reads or sets a cookie, a session or HTTP authentication, so a browser "
            "has nothing of this service's to send (tokens in an `Authorization: Bearer` header are not sent "
            "by the browser itself): low confidence."
        ), Confidence.LOW

    def _inherited_origins(self) -> tuple[bool, Confidence] | None:
        """The origins a Flask-CORS call without its own `origins` allows, as far as the project's Flask
        configuration shows: None when the configuration lists them (`CORS_ORIGINS = ["https://..."]`,
        or a value read at run time next to a listed one); otherwise every origin, with whether the
        configuration says so itself and how sure backbone is: high for a literal `"*"` or when nothing
        sets `CORS_ORIGINS` (the default is "*"), medium when only run-time values set it or the
        configuration is also loaded from a file or the environment backbone does not see."""
        index = self.context.project
        if index is None:
            kinds = frozenset(self.context.facts.flask_cors_configuration)
        else:
            kinds = index.view(f"{self.code}.flask-cors-configuration", _flask_cors_configuration)
        if "wildcard" in kinds:
            return True, Confidence.HIGH
        if "listed" in kinds:
            return None
        if "unknown" in kinds or deployment.EXTERNAL_CONFIG in kinds:
            return False, Confidence.MEDIUM
        return False, Confidence.HIGH

    # ------------------------------------------------------------------ helpers

    def _app_confidence(self, receiver: ast.expr) -> Confidence | None:
        """How sure backbone is that `receiver` is a web app with a development server."""
        if not isinstance(receiver, ast.Name):
            return None
        if receiver.id in self._dev_server_apps:
            return Confidence.HIGH
        if receiver.id in deployment.CONVENTIONAL_APP_NAMES and self.context.qualified_name(receiver) is None:
            # A local or module name whose value backbone did not see built (`app = create_app()`).
            return Confidence.MEDIUM
        resolved = self.context.qualified_name(receiver)
        if receiver.id in deployment.CONVENTIONAL_APP_NAMES and resolved is not None:
            value = self._module_values.get(receiver.id)
            if value is None or (isinstance(value, ast.Call) and self.context.call_name(value) is not None):
                # Imported (`from service import app`) or built by a project factory.
                return Confidence.MEDIUM
        return None

    def _value(self, node: ast.expr | None) -> ast.expr | None:
        """A literal, or the module-level literal a plain name is bound to once."""
        if isinstance(node, ast.Name) and node.id in self._module_values:
            return self._module_values[node.id]
        return node

    def _in_main_block(self, node: ast.AST) -> bool:
        return self.context.in_main_block(node)


def _binds_every_interface(host: ast.expr | None) -> bool:
    """`host="0.0.0.0"`, `host=os.environ.get("HOST", "::")`: the server listens on every interface."""
    if host is None:
        return False
    return any(isinstance(node, ast.Constant) and node.value in ("0.0.0.0", "::") for node in ast.walk(host))


def _is_module(module: str, name: str) -> bool:
    """`name` (as the project imports it, from below a source root) is `module`."""
    return module == name or module.endswith(f".{name}")


def _flask_cors_configuration(index: ProjectIndex) -> frozenset[str]:
    return frozenset(
        kind
        for facts in index.modules.values()
        if not is_test_path(facts.path)
        for kind in facts.flask_cors_configuration
    )


def _configured_settings_modules(index: ProjectIndex) -> frozenset[str]:
    return frozenset(name for facts in index.modules.values() for name in facts.settings_modules)


def _module_level_values(tree: ast.Module) -> dict[str, ast.expr]:
    """Module-level names bound exactly once (outside any `if`), with their values."""
    values: dict[str, ast.expr] = {}
    seen_twice: set[str] = set()
    for statement in tree.body:
        pairs: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(statement, ast.Assign):
            pairs = [(target, statement.value) for target in statement.targets]
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            pairs = [(statement.target, statement.value)]
        for target, value in pairs:
            if isinstance(target, ast.Name):
                if target.id in values:
                    seen_twice.add(target.id)
                values[target.id] = value
    for name in seen_twice:
        del values[name]
    return values


def _keyword_node(call: ast.Call, name: str) -> ast.keyword | None:
    for keyword in call.keywords:
        if keyword.arg == name:
            return keyword
    return None


def _dict_entries(node: ast.Dict) -> dict[str, ast.expr]:
    return {
        key.value: value
        for key, value in zip(node.keys, node.values)
        if isinstance(key, ast.Constant) and isinstance(key.value, str)
    }


def _is_config_key(target: ast.Subscript, key: str) -> bool:
    return (
        isinstance(target.value, ast.Attribute)
        and target.value.attr == "config"
        and isinstance(target.slice, ast.Constant)
        and target.slice.value == key
    )


def _browser_credentials(index: ProjectIndex) -> bool:
    return any(facts.browser_credentials and not is_test_path(facts.path) for facts in index.modules.values())
