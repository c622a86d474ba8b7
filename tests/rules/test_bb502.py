"""BB502 beyond its own examples: which settings modules count, and how sure each finding is."""

from __future__ import annotations

import textwrap

import pytest

from backbone.findings import Confidence, Finding
from backbone.review.checker import check_source

DJANGO_DEBUG = textwrap.dedent(
    """\
    INSTALLED_APPS = ["shop"]
    DEBUG = True
    """
)
PLAIN_DEBUG = "DEBUG = True\n"


def findings(snippet: str, path: str = "example.py", module: str = "example") -> list[Finding]:
    return check_source(textwrap.dedent(snippet), ("BB502",), path=path, module=module)


@pytest.mark.parametrize(
    ("path", "confidence"),
    [
        ("shop/settings.py", Confidence.HIGH),
        ("config/settings/production.py", Confidence.HIGH),
        ("shop/prod_settings.py", Confidence.HIGH),
        ("config/settings/base.py", Confidence.MEDIUM),
        ("examples/shop/settings.py", Confidence.LOW),
        ("demo/settings/base.py", Confidence.LOW),
    ],
)
def test_settings_modules_by_path(path: str, confidence: Confidence) -> None:
    found = findings(PLAIN_DEBUG, path=path)
    assert [(f.line, f.rule_confidence) for f in found] == [(1, confidence)]
    assert path in found[0].message


@pytest.mark.parametrize(
    "path",
    [
        "config/settings/dev.py",
        "config/settings/local.py",
        "shop/test_settings.py",
        "shop/settings_development.py",
        "tests/settings.py",
        "shop/testutils/settings.py",
        "shop/config.py",  # not a settings module: no INSTALLED_APPS, not named so
    ],
)
def test_development_test_and_other_modules_are_quiet(path: str) -> None:
    assert findings(PLAIN_DEBUG, path=path) == []


def test_module_defining_django_settings_is_a_settings_module() -> None:
    assert [f.line for f in findings(DJANGO_DEBUG, path="shop/conf.py")] == [2]


def test_chained_assignment_and_annotation() -> None:
    found = findings(
        """
        ROOT_URLCONF = "shop.urls"
        DEBUG = TEMPLATE_DEBUG = True
        """
    )
    assert [f.line for f in found] == [3]
    assert [f.line for f in findings('ROOT_URLCONF = "x"\nDEBUG: bool = True\n')] == [2]


def test_django_cors_needs_credentials_in_the_same_module() -> None:
    assert findings('INSTALLED_APPS = ["corsheaders"]\nCORS_ALLOW_ALL_ORIGINS = True\n') == []
    found = findings(
        'CORS_ALLOW_CREDENTIALS = True\nCORS_ORIGIN_ALLOW_ALL = True\n', path="shop/settings.py"
    )
    assert [f.line for f in found] == [2]
    assert "CORS_ORIGIN_ALLOW_ALL" in found[0].message


def test_main_block_is_reported_only_when_it_serves_every_interface() -> None:
    # A `__main__` dev server on loopback (the default) or on a configured host is a development
    # entry point; one bound to every interface is reachable by outsiders.
    flask_main = """
        import os

        from flask import Flask

        from myservice import config

        app = Flask(__name__)

        if __name__ == "__main__":
            app.run(debug=True)
            app.run(host=config.DEBUG_HOST, debug=True)
            app.run(host="127.0.0.1", debug=True)
            app.run(host="0.0.0.0", port=8000, debug=True)
            app.run(host=os.environ.get("HOST", "::"), debug=True)
        """
    found = findings(flask_main)
    assert [(f.line, f.rule_confidence) for f in found] == [(14, Confidence.MEDIUM), (15, Confidence.MEDIUM)]
    assert "`__main__` block" in found[0].message and "every network interface" in found[0].message


def test_factory_built_app_outside_main_is_medium() -> None:
    found = findings(
        """
        from service import create_app

        def serve():
            app = create_app()
            app.run(debug=True)

        __all__ = ["serve"]
        """
    )
    assert [(f.line, f.rule_confidence) for f in found] == [(6, Confidence.MEDIUM)]


def test_socketio_and_dash_run() -> None:
    found = findings(
        """
        from flask import Flask
        from flask_socketio import SocketIO

        app = Flask(__name__)
        socketio = SocketIO(app)
        socketio.run(app, debug=True)
        """
    )
    assert [(f.line, f.rule_confidence) for f in found] == [(7, Confidence.HIGH)]


def test_messages_name_the_switch() -> None:
    found = findings(
        """
        from fastapi import FastAPI
        from fastapi.middleware.cors import CORSMiddleware

        app = FastAPI(debug=True)
        app.add_middleware(CORSMiddleware, allow_origins="*", allow_credentials=True)


        @app.get("/me")
        def me(request):
            return {"session": request.cookies.get("session")}
        """
    )
    assert [f.message for f in found] == [
        "The FastAPI app is built with `debug=True`, so it returns tracebacks to clients when a request fails.",
        "CORSMiddleware allows every origin (`allow_origins=[\"*\"]`) together with `allow_credentials=True`, "
        "so any website can send requests with the visitor's cookies and read the answers.",
    ]
    assert all(f.fix for f in found)


def test_flask_cors_resource_options() -> None:
    found = findings(
        """
        from flask import Flask
        from flask_cors import CORS

        app = Flask(__name__)
        CORS(app, resources={r"/api/*": {"origins": "*", "supports_credentials": True}})
        CORS(app, resources={r"/api/*": {"origins": ["https://a.example"]}}, supports_credentials=True)
        CORS(app, origins="*")
        """
    )
    assert [f.line for f in found] == [6]


def _review_tree(root, files: dict[str, str]) -> list[Finding]:
    from backbone.api import ReviewRequest, review

    for relative, content in {**files, "pyproject.toml": '[tool.backbone]\nselect = ["BB502"]\n'}.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content), encoding="utf-8")
    result, _ = review(ReviewRequest(paths=(str(root),), use_cache=False, jobs=1))
    assert result.internal_errors == []
    return result.findings


SETTINGS_TEMPLATE = {
    "shop/__init__.py": "",
    "shop/settings_example.py": DJANGO_DEBUG,
    "shop/wsgi.py": """\
        import os

        from django.core.wsgi import get_wsgi_application

        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
        application = get_wsgi_application()
        """,
}


def test_settings_template_of_a_settings_module_the_project_does_not_ship(tmp_path) -> None:
    """wsgi.py runs with `shop.settings`, which users write: the shipped settings are a template."""
    assert _review_tree(tmp_path, SETTINGS_TEMPLATE) == []


def test_shipped_settings_module_the_project_runs_with_is_reported(tmp_path) -> None:
    files = {**SETTINGS_TEMPLATE, "shop/settings.py": DJANGO_DEBUG}
    found = _review_tree(tmp_path, files)
    # With the configured module in the tree, any shipped settings module may be the deployed one.
    assert sorted((f.path, f.line) for f in found) == [("shop/settings.py", 2), ("shop/settings_example.py", 2)]


def test_settings_module_named_from_below_a_source_root_is_the_configured_one(tmp_path) -> None:
    """manage.py names `shop.settings`; the tree holds it as `src_root.shop.settings`: it ships."""
    files = {
        "src_root/__init__.py": "",
        "src_root/shop/__init__.py": "",
        "src_root/shop/settings.py": DJANGO_DEBUG,
        "src_root/manage.py": """\
            import os

            os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
            """,
    }
    found = _review_tree(tmp_path, files)
    assert [(f.path, f.line) for f in found] == [("src_root/shop/settings.py", 2)]


FLASK_CORS_VIEWS = """\
    from flask import Blueprint, session
    from flask_cors import cross_origin

    auth = Blueprint("auth", __name__)


    @auth.route("/login", methods=["POST"])
    @cross_origin(supports_credentials=True)
    def login():
        return session.get("user", "ok")
    """
FLASK_APP_LOADING_SETTINGS = """\
    from flask import Flask

    app = Flask(__name__)
    app.config.from_object("service.settings")
    """


@pytest.mark.parametrize(
    ("settings", "expected"),
    [
        # Flask-CORS merges the app's CORS_ORIGINS under a decorator without `origins`: an allow-list.
        ('CORS_ORIGINS = ["https://app.example.com", r"https?://\\w*\\.example\\.com"]\n', []),
        # A run-time value next to the shipped allow-list: the configuration lists the origins.
        (
            'import os\n\nCORS_ORIGINS = ["http://localhost"]\n'
            'if "CORS_ORIGINS" in os.environ:\n    CORS_ORIGINS = os.environ["CORS_ORIGINS"].split(",")\n',
            [],
        ),
        # The configuration itself allows every origin: reported with certainty.
        ('CORS_ORIGINS = "*"\n', [Confidence.HIGH]),
        # Only a run-time value: every origin unless the deployment says otherwise, a guess.
        ('import os\n\nCORS_ORIGINS = os.environ.get("CORS_ORIGINS")\n', [Confidence.MEDIUM]),
        # Nothing sets CORS_ORIGINS: Flask-CORS's default, every origin.
        ("SECRET_KEY_FILE = '/etc/service/key'\n", [Confidence.HIGH]),
    ],
)
def test_flask_cors_decorator_inherits_the_apps_cors_origins(tmp_path, settings: str, expected: list[Confidence]) -> None:
    files = {
        "service/__init__.py": "",
        "service/app.py": FLASK_APP_LOADING_SETTINGS,
        "service/settings.py": settings,
        "service/auth.py": FLASK_CORS_VIEWS,
    }
    found = _review_tree(tmp_path, files)
    assert [f.rule_confidence for f in found] == expected
    assert all(f.path.endswith("auth.py") for f in found)


def test_flask_cors_origins_set_in_app_config_and_decorator_override(tmp_path) -> None:
    files = {
        "service/__init__.py": "",
        "service/app.py": FLASK_APP_LOADING_SETTINGS.replace(
            'app.config.from_object("service.settings")', 'app.config["CORS_ORIGINS"] = ["https://app.example.com"]'
        ),
        "service/auth.py": textwrap.dedent(FLASK_CORS_VIEWS)
        + '\n\n@auth.route("/me")\n@cross_origin(origins="*", supports_credentials=True)\ndef me():\n    return "me"\n',
    }
    found = _review_tree(tmp_path, files)
    # The decorator's own `origins` wins over the app's configuration.
    assert [(f.line, f.rule_confidence) for f in found] == [(14, Confidence.HIGH)]


def test_flask_cors_configuration_loaded_from_an_unseen_file_is_a_guess(tmp_path) -> None:
    files = {
        "service/__init__.py": "",
        "service/app.py": FLASK_APP_LOADING_SETTINGS.replace(
            'app.config.from_object("service.settings")', 'app.config.from_envvar("SERVICE_SETTINGS")'
        ),
        "service/auth.py": FLASK_CORS_VIEWS,
    }
    found = _review_tree(tmp_path, files)
    assert [(f.rule_confidence, f.severity.value) for f in found] == [(Confidence.MEDIUM, "warning")]


def test_debug_a_later_star_import_of_local_settings_may_rebind_is_low_confidence() -> None:
    overridden = findings(
        """\
        import sys

        INSTALLED_APPS = ["reviews"]
        DEBUG = True

        try:
            from settings_local import *
        except ImportError:
            sys.exit(1)
        """,
        path="site/settings.py",
        module="site.settings",
    )
    assert [(f.line, f.rule_confidence) for f in overridden] == [(4, Confidence.LOW)]
    assert "unless `settings_local`, star-imported after it, sets it" in overridden[0].message
    # A star import above the switch cannot rebind it.
    before = findings(
        """\
        from settings_common import *

        INSTALLED_APPS = ["reviews"]
        DEBUG = True
        """,
        path="site/settings.py",
        module="site.settings",
    )
    assert [(f.line, f.rule_confidence) for f in before] == [(4, Confidence.HIGH)]


def test_a_star_import_of_a_project_module_counts_only_when_it_sets_debug(tmp_path) -> None:
    from helpers import review_tree_with

    def settings(local: str) -> dict[str, str]:
        return {
            "site/__init__.py": "",
            "site/local.py": local,
            "site/settings.py": """\
                INSTALLED_APPS = ["reviews"]
                DEBUG = True

                from .local import *
                """,
        }

    # `local` sets DEBUG after it: the deployment's file decides.
    overridden = review_tree_with(tmp_path / "sets", settings("DEBUG = False\n"), "BB502")
    assert [(f.line, f.rule_confidence) for f in overridden] == [(2, Confidence.LOW)]
    # `local` does not touch DEBUG.
    kept = review_tree_with(tmp_path / "keeps", settings("TIME_ZONE = 'UTC'\n"), "BB502")
    assert [(f.line, f.rule_confidence) for f in kept] == [(2, Confidence.HIGH)]


CORS_APP = """\
    from fastapi import FastAPI
    from fastapi.middleware.cors import CORSMiddleware

    app = FastAPI()
    app.add_middleware(CORSMiddleware, allow_origins=["*"], allow_credentials=True)
    """


def _cors(found: list[Finding]) -> list[tuple[str, Confidence, bool]]:
    return [
        (f.path, f.rule_confidence, "has nothing of this service's to send" in f.message)
        for f in found if "CORS" in f.message
    ]


def test_credentialed_cors_without_browser_credentials_is_low(tmp_path) -> None:
    """An API authenticated by bearer tokens only: a browser sends nothing of it by itself."""
    files = {
        "api/__init__.py": "",
        "api/main.py": CORS_APP,
        "api/auth.py": """\
            def user_of(request):
                return request.headers.get("Authorization", "").removeprefix("Bearer ")
            """,
        # A test that sets a cookie does not make the service use one.
        "tests/test_api.py": """\
            def test_cookie(client):
                client.cookies.set("session", "x")
            """,
    }
    assert _cors(_review_tree(tmp_path, files)) == [("api/main.py", Confidence.LOW, True)]


@pytest.mark.parametrize(
    "auth",
    [
        "def user_of(request):\n    return request.cookies.get('session')\n",
        "def log_in(response):\n    response.set_cookie('session', 'x', httponly=True)\n",
        "from starlette.middleware.sessions import SessionMiddleware\n\nMIDDLEWARE = [SessionMiddleware]\n",
        "from fastapi.security import HTTPBasic\n\nsecurity = HTTPBasic()\n",
        "def challenge():\n    return {'WWW-Authenticate': 'Basic'}\n",
    ],
)
def test_credentialed_cors_with_browser_credentials_anywhere_is_reported(tmp_path, auth: str) -> None:
    files = {"api/__init__.py": "", "api/main.py": CORS_APP, "api/auth.py": auth}
    assert _cors(_review_tree(tmp_path, files)) == [("api/main.py", Confidence.HIGH, False)]


def test_flask_cors_with_a_login_manager_is_reported(tmp_path) -> None:
    app = """\
        from flask import Flask
        from flask_cors import CORS

        app = Flask(__name__)
        CORS(app, supports_credentials=True)
        """
    assert _cors(_review_tree(tmp_path, {"web/__init__.py": "", "web/app.py": app})) == [
        ("web/app.py", Confidence.LOW, True)
    ]
    login = "from flask_login import LoginManager\n\nlogin_manager = LoginManager()\n"
    found = _review_tree(tmp_path, {"web/__init__.py": "", "web/app.py": app, "web/login.py": login})
    assert _cors(found) == [("web/app.py", Confidence.HIGH, False)]
