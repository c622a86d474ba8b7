"""BB401 beyond its own examples: chains across modules, the depth option, entry points that
run alone, one report per connection, and the knowledge it asks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from helpers import review_tree_with

from backbone.findings import Confidence, Finding
from backbone.review.checker import check_source
from backbone.review.knowledge.blocking import (
    BLOCKING_FUNCTIONS,
    BlockingKind,
    blocking_function,
)


def findings(snippet: str, path: str = "example.py") -> list[Finding]:
    return check_source(textwrap.dedent(snippet), ("BB401",), path=path)


def lines(snippet: str, path: str = "example.py") -> list[int]:
    return [finding.line for finding in findings(snippet, path)]


def review_tree(root: Path, files: dict[str, str], config: str = "") -> list[Finding]:
    return review_tree_with(root, files, "BB401", config, jobs=None)


# --- what the finding says ------------------------------------------------------------


def test_direct_call_message_and_fix() -> None:
    (finding,) = findings(
        """
        import time

        async def poll():
            time.sleep(1)

        __all__ = ["poll"]
        """
    )
    assert finding.message == (
        "In `async def poll()`, `time.sleep()` sleeps, which stalls the event loop and every other "
        "request it is serving."
    )
    assert finding.fix is not None and finding.fix.message == "Use `await asyncio.sleep(...)` instead."
    # No handler, task or command reaches `poll()`: what serves on its loop is not known.
    assert finding.rule_confidence is Confidence.MEDIUM


def test_chain_message_names_every_function_and_the_blocking_call() -> None:
    (finding,) = findings(
        """
        import subprocess

        def git_revision():
            return subprocess.check_output(["git", "rev-parse", "HEAD"])

        def version():
            return {"revision": git_revision()}

        async def health():
            return version()
        """
    )
    assert finding.line == 11
    assert finding.message == (
        "In `async def health()`, `version()` runs a process and waits for it through the `await`-less "
        "call chain version() -> git_revision() -> subprocess.check_output(), which stalls the event loop "
        "and every other request it is serving."
    )
    assert finding.fix is not None
    assert finding.fix.message == (
        "Run `version` in a thread with `await asyncio.to_thread(version, ...)`, or make the chain async "
        "down to `subprocess.check_output()`."
    )


def test_django_projects_are_told_about_sync_to_async() -> None:
    (finding,) = findings(
        """
        import requests
        from django.http import JsonResponse

        def rates():
            return requests.get("https://rates.example.com", timeout=5).json()

        async def view(request):
            return JsonResponse(rates())
        """
    )
    assert finding.fix is not None and "`await sync_to_async(rates)(...)`" in finding.fix.message


def test_calls_on_one_connection_are_reported_once_and_counted() -> None:
    (finding,) = findings(
        """
        import sqlite3

        async def report(path):
            conn = sqlite3.connect(path)
            conn.execute("delete from cache")
            conn.execute("vacuum")
            conn.commit()
        """
    )
    assert finding.line == 5
    assert "(and 3 more blocking calls on `conn` after it)" in finding.message


def test_file_io_has_medium_confidence() -> None:
    (finding,) = findings(
        """
        async def load(path):
            with open(path) as handle:
                return handle.read()

        __all__ = ["load"]
        """
    )
    assert finding.rule_confidence is Confidence.MEDIUM


def test_a_path_read_has_medium_confidence_and_a_file_shipped_with_the_module_low() -> None:
    # How long a read blocks depends on the file: a path from outside is as uncertain as open();
    # a file next to the module's own (`Path(__file__).parent / ...`, `os.path.dirname(__file__)`)
    # is a template or a schema shipped with the code, small and on the local disk.
    found = findings(
        """
        import os
        from pathlib import Path

        HERE = os.path.dirname(os.path.abspath(__file__))
        page_path = Path(__file__).resolve().parent / "templates" / "page.html"

        async def page():
            return page_path.read_text()

        async def schema():
            with open(os.path.join(HERE, "schema.json")) as handle:
                return handle.read()

        async def upload(path: Path):
            return path.read_bytes()

        async def report(name):
            return Path("/srv/reports", name).read_text()

        __all__ = ["page", "schema", "upload", "report"]
        """
    )
    by_line = {finding.line: finding.rule_confidence for finding in found}
    assert by_line == {9: Confidence.LOW, 12: Confidence.LOW, 16: Confidence.MEDIUM, 19: Confidence.MEDIUM}, by_line


# --- what is exempt ----------------------------------------------------------------------


def test_awaited_and_offloaded_calls_are_quiet() -> None:
    assert (
        lines(
            """
            import asyncio
            import time

            import anyio
            import requests
            from asgiref.sync import sync_to_async

            async def work(url):
                await asyncio.to_thread(requests.get, url, timeout=5)
                await sync_to_async(time.sleep)(1)
                await anyio.to_thread.run_sync(lambda: requests.get(url, timeout=5))
                await asyncio.get_running_loop().run_in_executor(None, time.sleep, 1)
            """
        )
        == []
    )


def test_sync_to_async_decorated_and_cached_helpers_are_not_followed() -> None:
    assert (
        lines(
            """
            import functools
            import time

            from asgiref.sync import sync_to_async

            @sync_to_async
            def slow():
                time.sleep(1)

            @functools.cache
            def settings():
                time.sleep(1)
                return {}

            async def view():
                await slow()
                return settings()
            """
        )
        == []
    )


def test_a_nested_function_called_directly_is_followed() -> None:
    assert lines(
        """
        import time

        async def handler():
            def pause():
                time.sleep(1)
            pause()
        """
    ) == [7]


def test_a_constructor_running_blocking_code_is_followed() -> None:
    assert lines(
        """
        import requests

        class Rates:
            def __init__(self):
                self.table = requests.get("https://rates.example.com", timeout=5).json()

        async def price():
            return Rates().table
        """
    ) == [9]


def test_async_helpers_are_checked_on_their_own_not_through_the_caller() -> None:
    assert lines(
        """
        import time

        async def helper():
            time.sleep(1)

        async def caller():
            await helper()
        """
    ) == [5]


def test_test_code_is_not_checked() -> None:
    snippet = "import time\n\nasync def test_retry():\n    time.sleep(0.1)\n"
    assert lines(snippet, path="tests/test_retry.py") == []
    assert lines(snippet, path="app/retry.py") == [4]


def test_a_script_started_with_asyncio_run_owns_its_loop() -> None:
    assert (
        lines(
            """
            import asyncio
            import subprocess

            async def main():
                subprocess.run(["make", "assets"], check=True)

            if __name__ == "__main__":
                asyncio.run(main())
            """
        )
        == []
    )


def test_cli_commands_and_what_only_they_await_are_exempt(tmp_path: Path) -> None:
    found = review_tree(
        tmp_path,
        {
            "tool/__init__.py": "",
            "tool/cli.py": """\
                import subprocess

                import typer

                from tool.steps import deploy_steps

                app = typer.Typer()

                @app.command()
                async def deploy():
                    subprocess.run(["git", "pull"], check=True)
                    await deploy_steps()
                """,
            "tool/steps.py": """\
                import subprocess

                async def deploy_steps():
                    subprocess.run(["make"], check=True)

                async def shared_step():
                    subprocess.run(["make", "shared"], check=True)
                """,
            "tool/server.py": """\
                from tool.steps import shared_step

                async def on_request():
                    await shared_step()
                """,
        },
    )
    assert [(finding.path, finding.line) for finding in found] == [("tool/steps.py", 7)]


def test_a_chat_bot_command_shares_the_bots_loop() -> None:
    assert lines(
        """
        import time

        import click
        from discord.ext import commands

        bot = commands.Bot(command_prefix="!")

        @bot.command()
        async def ping(ctx):
            time.sleep(1)
            await ctx.send("pong")
        """
    ) == [11]


def test_flask_async_views_run_in_their_own_loop_but_quart_shares_one() -> None:
    flask = """
        import time
        from flask import Flask

        app = Flask(__name__)

        @app.get("/slow")
        async def slow():
            time.sleep(1)
            return "ok"
        """
    assert lines(flask) == []
    assert lines(flask.replace("from flask import Flask", "from quart import Quart").replace("Flask(", "Quart(")) == [9]


# --- the ORM layer's queries -------------------------------------------------------------


def test_django_async_orm_is_quiet_and_the_sync_orm_is_not() -> None:
    assert lines(
        """
        from django.http import JsonResponse

        from shop.models import Order

        async def orders(request):
            count = await Order.objects.acount()
            recent = [order.pk async for order in Order.objects.order_by("-pk")[:10]]
            everything = list(Order.objects.all())
            return JsonResponse({"count": count, "recent": recent, "all": len(everything)})
        """
    ) == [9]


# --- across modules ----------------------------------------------------------------------

CHAIN = {
    "app/__init__.py": "",
    "app/api.py": """\
        from fastapi import FastAPI

        from app.reports import build

        app = FastAPI()

        @app.get("/report")
        async def report():
            return build()
        """,
    "app/reports.py": """\
        from app.render import render

        def build():
            return {"pdf": render()}
        """,
    "app/render.py": """\
        from app.store import load_template

        def render():
            return load_template().upper()
        """,
    "app/store.py": """\
        import requests

        def load_template():
            return requests.get("https://templates.example.com/report", timeout=5).text
        """,
}


def test_chain_across_modules(tmp_path: Path) -> None:
    (finding,) = review_tree(tmp_path, CHAIN)
    assert (finding.path, finding.line) == ("app/api.py", 9)
    assert "build() -> render() -> load_template() -> requests.get()" in finding.message


def test_max_depth_option_limits_the_chain(tmp_path: Path) -> None:
    assert review_tree(tmp_path, CHAIN, config="[tool.backbone.rules.BB401]\nmax_depth = 2\n") == []


# --- knowledge ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("time.sleep", BlockingKind.SLEEP),
        ("requests.post", BlockingKind.HTTP),
        ("httpx.get", BlockingKind.HTTP),
        ("urllib.request.urlopen", BlockingKind.HTTP),
        ("http.client.HTTPSConnection", BlockingKind.HTTP),
        ("smtplib.SMTP_SSL", BlockingKind.EMAIL),
        ("django.core.mail.send_mail", BlockingKind.EMAIL),
        ("subprocess.check_output", BlockingKind.SUBPROCESS),
        ("os.system", BlockingKind.SUBPROCESS),
        ("psycopg2.connect", BlockingKind.DATABASE),
        ("open", BlockingKind.FILE),
    ],
)
def test_blocking_functions_by_name(name: str, kind: BlockingKind) -> None:
    found = blocking_function(name)
    assert found is not None and found.kind is kind


@pytest.mark.parametrize("name", ["asyncio.sleep", "subprocess.Popen", "os.waitpid", "httpx.AsyncClient", "json.loads"])
def test_not_blocking_by_name(name: str) -> None:
    assert blocking_function(name) is None


def test_async_variants_are_not_in_the_catalogue() -> None:
    assert not any(name.startswith(("asyncio.", "aiohttp.", "aiosqlite.", "asyncpg.")) for name in BLOCKING_FUNCTIONS)


def test_lifespan_handed_at_module_level_reaches_another_module(tmp_path: Path) -> None:
    """`app = FastAPI(lifespan=lifespan)` at import: the coroutines the lifespan awaits, in any module,
    run at start-up. A package `__init__` defining a CLI `main()` next to the module `pkg.main`
    does not make the module's functions part of that command; a handler doing the same I/O is reported."""
    files = {
        "pkg/__init__.py": """\
            import typer

            cli = typer.Typer()

            @cli.command()
            def main():
                print("serve")
            """,
        "pkg/config.py": """\
            import json

            async def import_legacy_config():
                with open("config.json") as handle:
                    return json.load(handle)

            async def read_config():
                with open("config.json") as handle:
                    return json.load(handle)
            """,
        "pkg/main.py": """\
            from contextlib import asynccontextmanager

            from fastapi import FastAPI

            from pkg.config import import_legacy_config, read_config

            @asynccontextmanager
            async def lifespan(app):
                await import_legacy_config()
                yield

            app = FastAPI(lifespan=lifespan)

            @app.get("/config")
            async def show_config():
                return await read_config()

            async def unused_helper():
                with open("notes.txt") as notes:
                    return notes.read()
            """,
    }
    found = review_tree(tmp_path, files)
    assert [(f.path, f.line) for f in found] == [("pkg/config.py", 8), ("pkg/main.py", 19)]


def test_coroutines_started_on_a_fresh_loop_anywhere_in_the_project_are_exempt(tmp_path: Path) -> None:
    """`asyncio.run(create(...))` in a plain function of another module (an argparse CLI's
    command class) starts a loop that serves that coroutine and what it awaits alone."""
    found = review_tree(
        tmp_path,
        {
            "tool/__init__.py": "",
            "tool/commands.py": """\
                import asyncio

                from tool.session import create_preset


                class CreateCommand:
                    def _command(self, args):
                        return asyncio.run(create_preset(args.name))
                """,
            "tool/session.py": """\
                import time

                from tool.agent import run_agent


                def write_state(path):
                    time.sleep(0.01)


                async def create_preset(name):
                    return await run_agent(name)
                """,
            "tool/agent.py": """\
                import asyncio

                from tool import session


                async def run_agent(name):
                    session.write_state(name)
                    await asyncio.gather(read_stream(name))


                async def read_stream(name):
                    session.write_state(name)


                async def served(name):
                    session.write_state(name)


                async def handler(request):
                    await served(request)
                """,
        },
    )
    # `served` is awaited by a coroutine nobody starts on a loop of its own: a shared loop.
    assert [(finding.path, finding.line) for finding in found] == [("tool/agent.py", 16)]


def test_an_rq_job_runs_on_a_loop_of_its_own(tmp_path: Path) -> None:
    """RQ's worker runs a job's coroutine on a new event loop per job; arq shares one loop."""
    found = review_tree(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/jobs.py": """\
                import httpx
                from rq.decorators import job


                @job("high")
                async def notify_event_job(url):
                    httpx.post(url)


                async def arq_notify(ctx, url):
                    httpx.post(url)
                """,
        },
    )
    assert [(finding.path, finding.line) for finding in found] == [("svc/jobs.py", 11)]


def test_a_method_of_a_local_object_awaited_only_at_start_up_is_exempt(tmp_path: Path) -> None:
    """`manager = None; if ...: manager = ConfigManager()` then `await manager.init_config()` in the
    lifespan: the call graph follows the local object to its class, so the method runs at start-up."""
    found = review_tree(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/config.py": """\
                class ConfigManager:
                    async def init_config(self):
                        self._save()

                    async def reload(self):
                        self._save()

                    def _save(self):
                        with open("/etc/svc.yml", "w") as target:
                            target.write("")
                """,
            "svc/app.py": """\
                import os
                from contextlib import asynccontextmanager

                from fastapi import FastAPI

                from svc.config import ConfigManager


                @asynccontextmanager
                async def lifespan(app):
                    manager = None
                    if os.environ.get("SVC_CONFIG"):
                        manager = ConfigManager()
                    if manager is not None:
                        await manager.init_config()
                    yield


                def create_app():
                    app = FastAPI(lifespan=lifespan)

                    @app.post("/reload")
                    async def reload():
                        other = ConfigManager()
                        await other.reload()

                    return app
                """,
        },
    )
    # `reload` serves requests: still reported.
    assert [(finding.path, finding.line) for finding in found] == [("svc/config.py", 6)]


def test_the_blocking_chain_is_not_followed_through_objects_a_helper_builds(tmp_path: Path) -> None:
    found = review_tree(
        tmp_path,
        {
            "svc/__init__.py": "",
            "svc/client.py": """\
                import time


                class Server:
                    def start(self):
                        time.sleep(1)


                def get_client():
                    server = Server()
                    server.start()
                    return "client"


                def get_client_directly():
                    time.sleep(1)
                    return "client"


                async def handler():
                    get_client()
                    get_client_directly()
                """,
        },
    )
    assert [(finding.path, finding.line) for finding in found] == [("svc/client.py", 22)]


def test_one_reading_of_what_a_loop_runner_starts() -> None:
    import ast

    from backbone.review.knowledge.commands import loop_runs, loop_owners, script_entry_points

    tree = ast.parse(
        "import asyncio, anyio\n"
        "async def main(): pass\n"
        "async def hook(path): pass\n"
        "def cli(): anyio.run(hook, 'p')\n"
        "asyncio.run(main())\n"
        "print(main)\n"
    )
    names = {"asyncio.run": "asyncio.run", "anyio.run": "anyio.run"}

    def resolve(node: ast.expr) -> str | None:
        return names.get(ast.unparse(node))

    started = [(ast.unparse(run), ast.unparse(target)) for run, target in loop_runs(ast.walk(tree), resolve)]
    assert sorted(started) == [("anyio.run(hook, 'p')", "hook"), ("asyncio.run(main())", "main")]
    assert script_entry_points(tree, resolve) == frozenset({"main"})
    # `hook` is started by `cli` alone and named nowhere else; `main` is started at module level.
    assert loop_owners(tree, resolve) == {"hook": frozenset({"cli"})}


def test_a_file_read_only_by_the_call_that_fills_a_lazy_global_is_not_per_request() -> None:
    # `_routes()` opens the manifest only the first time, to fill the module global; every later
    # request reads the global. A helper that opens the file on every call is still reported.
    assert lines(
        """
        import json

        _ROUTES = None

        def _load_routes():
            with open("routes.json") as f:
                return json.load(f)

        def _routes():
            global _ROUTES
            if _ROUTES is None:
                _ROUTES = _load_routes()
            return _ROUTES

        def _fresh_routes():
            return _load_routes()

        async def page(path: str):
            return _routes().get(path)

        async def reload(path: str):
            return _fresh_routes().get(path)
        """
    ) == [23]


def test_blocking_in_code_no_entry_point_reaches_is_medium_confidence_at_most() -> None:
    found = findings(
        """
        import time

        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/slow")
        async def slow():
            time.sleep(1)

        async def sdk_helper():
            time.sleep(1)

        # Exported: whoever imports the module may run it.
        __all__ = ["sdk_helper"]
        """
    )
    by_line = {finding.line: finding for finding in found}
    # In a handler: the event loop serves other requests while it sleeps.
    assert by_line[10].rule_confidence is Confidence.HIGH
    # Reached from no handler, task or command: whether a loop serving others runs it is unknown.
    assert by_line[13].rule_confidence is Confidence.MEDIUM
    assert by_line[13].context == "unknown"
