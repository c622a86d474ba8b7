"""Execution contexts: the same mistake is reported where it hurts a service and not in
code that serves no one (a one-off command, a migration, test support), with the context
and its evidence in the output; calibration and --min-confidence."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from helpers import review_json, run_cli, write_tree

from backbone.findings import Confidence, Severity
from backbone.review.context_kinds import ExecutionContext
from backbone.review.knowledge.paths import is_test_path
from backbone.review.rules import all_rules

MODELS = """\
from django.db import models


class Customer(models.Model):
    name = models.CharField(max_length=80)


class Order(models.Model):
    customer_id = models.IntegerField()
    total = models.IntegerField()
"""

# One helper with a query per row; who calls it decides whether it matters.
SERVICES = """\
from shop.models import Customer


def customer_names(orders):
    return [Customer.objects.get(pk=order.customer_id).name for order in orders]
"""
HELPER_LINE = 5


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    base = {
        "backbone.toml": "",
        "shop/__init__.py": "",
        "shop/models.py": MODELS,
        "shop/services.py": SERVICES,
    }
    return write_tree(tmp_path, {**base, **{path: textwrap.dedent(text) for path, text in files.items()}})


def _bb201(capsys: pytest.CaptureFixture[str], root: Path) -> list[dict[str, object]]:
    run = review_json(capsys, str(root), "--no-cache", "--select", "BB201")
    return [f for f in run.findings() if f["code"] == "BB201"]


def test_a_query_per_row_behind_a_handler_is_reported_with_the_request_chain(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(
        tmp_path,
        {
            "shop/views.py": """\
                from fastapi import APIRouter

                from shop.models import Order
                from shop.services import customer_names

                router = APIRouter()


                @router.get("/orders")
                def list_orders():
                    return customer_names(Order.objects.all())
            """,
        },
    )
    findings = _bb201(capsys, root)
    assert [(f["path"], f["line"], f["context"]) for f in findings] == [("shop/services.py", HELPER_LINE, "request")]
    assert findings[0]["context_evidence"] == "request (fastapi handler: list_orders() -> customer_names())"


def test_the_same_helper_called_only_by_commands_is_not_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(
        tmp_path,
        {
            "shop/management/__init__.py": "",
            "shop/management/commands/__init__.py": "",
            "shop/management/commands/repair_names.py": """\
                from django.core.management.base import BaseCommand

                from shop.models import Order
                from shop.services import customer_names


                class Command(BaseCommand):
                    def handle(self, *args, **options):
                        print(customer_names(Order.objects.all()))
            """,
            "shop/cli.py": """\
                import click

                from shop.models import Order
                from shop.services import customer_names


                @click.command()
                def names():
                    click.echo(customer_names(Order.objects.all()))
            """,
        },
    )
    assert _bb201(capsys, root) == []


def test_a_script_main_that_reads_its_command_line_with_argparse_is_a_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = """\
        import argparse

        from shop.models import Order
        from shop.services import customer_names


        def main():
            parser = argparse.ArgumentParser(description="Print the customers' names.")
            parser.parse_args()
            print(customer_names(Order.objects.all()))
        """
    assert _bb201(capsys, _tree(tmp_path / "argparse", {"shop/report_names.py": script})) == []
    # The same main without a command line is not known to be one: its helper's query per row is reported.
    plain = script.replace('    parser = argparse.ArgumentParser(description="Print the customers\' names.")\n', "").replace(
        "    parser.parse_args()\n", ""
    )
    assert _where(_bb201(capsys, _tree(tmp_path / "plain", {"shop/report_names.py": plain}))) == [("shop/services.py", 5, "unknown", "medium")]


def test_what_a_main_block_runs_is_script_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # `if __name__ == "__main__": main(sys.argv)`: what main() reaches runs when a person runs the
    # file, not in the service. A timeout-less call only it reaches is reported for a script, at
    # medium confidence; the same call reached by a view too is request code.
    tool = """\
        import sys

        import requests


        def fetch_token(code):
            return requests.post("https://accounts.example.com/token", data={"code": code}).json()


        def main(argv):
            print(fetch_token(argv[1]))


        if __name__ == "__main__":
            main(sys.argv)
        """
    # A test file's main block leaves it test code: no finding of a rule that reports in scripts.
    swallowing = tool.replace(
        '            return requests.post("https://accounts.example.com/token", data={"code": code}).json()',
        '            try:\n'
        '                return requests.post("https://accounts.example.com/token", data={"code": code}, timeout=5).json()\n'
        "            except requests.ConnectionError:\n"
        "                pass",
    )
    assert swallowing != tool
    root = _tree(tmp_path / "tests", {"tests/test_oauth_tool.py": swallowing, "shop/oauth_tool.py": swallowing})
    run = review_json(capsys, str(root), "--no-cache", "--select", "BB101", "--min-confidence", "low")
    assert [(f["path"], f["context"]) for f in run.findings() if f["code"] == "BB101"] == [("shop/oauth_tool.py", "script")]
    root = _tree(tmp_path / "script", {"shop/oauth_tool.py": tool})
    run = review_json(capsys, str(root), "--no-cache", "--select", "BB102", "--min-confidence", "low")
    [finding] = [f for f in run.findings() if f["code"] == "BB102"]
    assert finding["context"] == "script" and finding["confidence"] == "medium", finding
    assert "`shop.oauth_tool` runs as a script" in str(finding["context_evidence"])
    view = """\
        from shop.oauth_tool import fetch_token


        def callback(request):
            return fetch_token(request.GET["code"])
        """
    urls = "from django.urls import path\n\nfrom shop.views import callback\n\nurlpatterns = [path('cb/', callback)]\n"
    root = _tree(tmp_path / "served", {"shop/oauth_tool.py": tool, "shop/views.py": view, "shop/urls.py": urls})
    run = review_json(capsys, str(root), "--no-cache", "--select", "BB102", "--min-confidence", "low")
    [finding] = [f for f in run.findings() if f["code"] == "BB102"]
    assert finding["context"] == "request" and finding["confidence"] == "high", finding
    # A module the service imports is part of it: its main block is one more way to run a
    # function (a scheduled job), not a sign that the function is a script's.
    user = "from shop import oauth_tool\n\n\ndef describe():\n    return oauth_tool.__doc__\n"
    root = _tree(tmp_path / "imported", {"shop/oauth_tool.py": tool, "shop/about.py": user})
    run = review_json(capsys, str(root), "--no-cache", "--select", "BB102", "--min-confidence", "low")
    [finding] = [f for f in run.findings() if f["code"] == "BB102"]
    assert finding["context"] == "unknown" and finding["confidence"] == "high", finding


@pytest.mark.parametrize("through_package", [False, True])
def test_an_edit_that_imports_a_script_module_makes_a_warm_review_see_it_as_the_service_s(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], through_package: bool
) -> None:
    # Whether a module is imported is read as one question per segment of its name: an edit
    # elsewhere that adds the import (directly, or through a package re-exporting a name of it)
    # must change what a warm review says, as a cold one does.
    tool = "import sys\n\nimport requests\n\n\ndef fetch(code):\n    return requests.post('https://x.example/t', data=code)\n\n\n" \
        "def main(argv):\n    print(fetch(argv[1]))\n\n\nif __name__ == '__main__':\n    main(sys.argv)\n"
    files = {"backbone.toml": "", "shop/__init__.py": "", "shop/tool.py": tool, "shop/about.py": "def describe():\n    return 1\n"}
    edit = {"shop/about.py": "from shop import tool\n\n\ndef describe():\n    return tool.__doc__\n"}
    if through_package:
        edit = {
            "shop/cli/__init__.py": "from shop.tool import fetch as fetched\n",
            "shop/about.py": "from shop.cli import fetched\n\n\ndef describe():\n    return fetched\n",
        }
    root = write_tree(tmp_path, files)

    def contexts(*extra: str) -> list[tuple[object, ...]]:
        run = review_json(capsys, str(root), "--select", "BB102", "--min-confidence", "low", *extra)
        return sorted((f["path"], f["line"], f["context"], f["confidence"]) for f in run.findings() if f["code"] == "BB102")

    before = contexts()
    write_tree(tmp_path, edit)
    warm, cold = contexts(), contexts("--no-cache")
    assert warm == cold
    assert [context for _, _, context, _ in before] == ["script"]
    assert [context for _, _, context, _ in warm] == ["unknown"]


def test_subcommands_argparse_dispatches_to_and_the_client_objects_they_get_are_command_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A command line registers its subcommands with `set_defaults(func=self.names)` and runs
    `arguments.func()`; a subcommand asks a method for a client object (`self.get_client()`)
    and calls the client's methods: all of that is command-line code."""
    script = """\
        import argparse

        from shop.models import Order
        from shop.services import customer_names


        class Report:
            def orders(self):
                return customer_names(Order.objects.all())


        class Tool:
            def get_report(self):
                report = Report()
                return report

            def names(self):
                report = self.get_report()
                print(report.orders())

            def main(self):
                parser = argparse.ArgumentParser()
                commands = parser.add_subparsers()
                names = commands.add_parser("names")
                names.set_defaults(func=self.names)
                arguments = parser.parse_args()
                arguments.func()
        """
    assert _bb201(capsys, _tree(tmp_path / "dispatch", {"shop/tool.py": script})) == []
    # The same subcommand, not registered by the command line: nothing says who runs it.
    unregistered = script.replace("                names.set_defaults(func=self.names)\n", "")
    assert _where(_bb201(capsys, _tree(tmp_path / "unregistered", {"shop/tool.py": unregistered}))) == [("shop/services.py", 5, "unknown", "medium")]
    # Nor is the client's method command code when the subcommand's client is not the one
    # `get_report()` builds: its call is not followed.
    unknown = script.replace("                report = Report()\n                return report\n", "                return load()\n")
    assert _where(_bb201(capsys, _tree(tmp_path / "unknown", {"shop/tool.py": unknown}))) == [("shop/services.py", 5, "unknown", "medium")]


def test_a_helper_reached_from_a_command_and_a_handler_is_reported_for_the_handler(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(
        tmp_path,
        {
            "shop/cli.py": """\
                import click

                from shop.models import Order
                from shop.services import customer_names


                @click.command()
                def names():
                    click.echo(customer_names(Order.objects.all()))
            """,
            "shop/views.py": """\
                from flask import Blueprint

                from shop.models import Order
                from shop.services import customer_names

                bp = Blueprint("orders", __name__)


                @bp.get("/orders")
                def list_orders():
                    return {"names": customer_names(Order.objects.all())}
            """,
        },
    )
    findings = _bb201(capsys, root)
    assert [(f["line"], f["context"]) for f in findings] == [(HELPER_LINE, "request")]


def test_start_up_hooks_and_app_config_ready_are_not_request_code(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(
        tmp_path,
        {
            "shop/apps.py": """\
                from django.apps import AppConfig

                from shop.models import Order
                from shop.services import customer_names


                class ShopConfig(AppConfig):
                    name = "shop"

                    def ready(self):
                        customer_names(Order.objects.all())
            """,
            "shop/main.py": """\
                import time

                from fastapi import FastAPI

                app = FastAPI()


                @app.on_event("startup")
                async def warm_up():
                    time.sleep(1)
            """,
            "shop/factory.py": """\
                from fastapi import FastAPI

                from shop.models import Order
                from shop.services import customer_names


                async def lifespan(app):
                    customer_names(Order.objects.all())
                    yield


                def create_app():
                    return FastAPI(lifespan=lifespan)
            """,
        },
    )
    run = review_json(capsys, str(root), "--no-cache", "--select", "BB201,BB401")
    assert run.findings() == []


def test_background_tasks_lower_n_plus_one_and_per_row_writes_to_info(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(
        tmp_path,
        {
            "shop/tasks.py": """\
                from celery import shared_task

                from shop.models import Order
                from shop.services import customer_names


                @shared_task
                def nightly():
                    customer_names(Order.objects.all())
                    for order in Order.objects.all():
                        order.total = 0
                        order.save()
            """,
        },
    )
    run = review_json(capsys, str(root), "--no-cache", "--select", "BB201,BB202")
    assert [(f["code"], f["severity"], f["context"]) for f in run.findings()] == [
        ("BB201", "info", "task"),
        ("BB202", "info", "task"),
    ]


def test_a_function_defined_at_start_up_runs_later(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A callback a start-up function defines and registers runs when it is called, not at start-up."""
    root = _tree(
        tmp_path,
        {
            "shop/factory.py": """\
                import time

                from fastapi import FastAPI


                def register(app, path):
                    async def page():
                        time.sleep(1)
                        return {}

                    app.router.add_route(path, page)


                def create_app():
                    app = FastAPI()
                    register(app, "/page")
                    return app
            """,
        },
    )
    run = review_json(capsys, str(root), "--no-cache", "--select", "BB401")
    assert [(f["line"], f["context"]) for f in run.findings()] == [(8, "unknown")]


def test_application_code_that_tests_call_is_not_test_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Tests call what they test: the helper keeps its finding; the test module's own helper doesn't."""
    root = _tree(
        tmp_path,
        {
            "tests/__init__.py": "",
            "tests/test_orders.py": """\
                from shop.models import Customer, Order
                from shop.services import customer_names


                def names_of(orders):
                    return [Customer.objects.get(pk=order.customer_id).name for order in orders]


                def test_names():
                    assert customer_names(Order.objects.all()) == names_of(Order.objects.all())
            """,
        },
    )
    findings = _bb201(capsys, root)
    assert [(f["path"], f["line"], f["context"]) for f in findings] == [("shop/services.py", HELPER_LINE, "unknown")]


def test_a_task_of_a_celery_app_built_from_settings_is_a_background_task(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The app object comes from `import_string(...)`; `@app.task` in a tasks module is still a
    Celery task (autodiscovery imports tasks modules)."""
    root = _tree(
        tmp_path,
        {
            "shop/celery.py": """\
                from django.utils.module_loading import import_string

                app = import_string("shop.worker.App")(main="shop")
                app.autodiscover_tasks()
            """,
            "shop/worker.py": """\
                from celery import Celery


                class App(Celery):
                    pass
            """,
            "shop/tasks.py": """\
                from shop.celery import app
                from shop.models import Order
                from shop.services import customer_names


                @app.task(ignore_result=True)
                def nightly():
                    customer_names(Order.objects.all())
            """,
        },
    )
    findings = _bb201(capsys, root)
    assert [(f["severity"], f["context"]) for f in findings] == [("info", "task")]


MIGRATION_USING_A_HELPER = """\
    from django.db import migrations

    from shop.backfill import backfill_names


    class Migration(migrations.Migration):
        dependencies = [("shop", "0001_initial")]
        operations = [migrations.RunPython(backfill_names, migrations.RunPython.noop)]
    """


def test_a_helper_a_migration_names_runs_as_the_migration(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`RunPython(backfill_names)` with the function in a helper module: it runs when the migration
    is applied, and what it calls runs there too."""
    backfill = """\
        from shop.models import Order
        from shop.services import customer_names


        def backfill_names(apps, schema_editor):
            customer_names(Order.objects.all())
        """
    files = {"shop/backfill.py": backfill, "shop/migrations/__init__.py": "", "shop/migrations/0002_names.py": MIGRATION_USING_A_HELPER}
    assert _bb201(capsys, _tree(tmp_path / "migration", files)) == []
    # Called from a view as well: the request reaches it.
    view = """\
        from fastapi import APIRouter

        from shop.backfill import backfill_names

        router = APIRouter()


        @router.post("/names")
        def names():
            backfill_names(None, None)
        """
    found = _bb201(capsys, _tree(tmp_path / "view", {**files, "shop/views.py": view}))
    assert [f["context"] for f in found] == ["request"]


@pytest.mark.parametrize(
    "path",
    ["shop/create_test_data.py", "shop/pytest_plugin.py", "shop/orders_test.py", "shop/testing/helpers.py",
     "tests/test_orders.py", "shop/migrations/0002_backfill.py", "shop/core/migrations.py"],
)
def test_test_support_and_migrations_are_not_reported(
    path: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _tree(
        tmp_path,
        {
            path: """\
                import requests

                from shop.models import Order


                def load():
                    try:
                        requests.get("https://example.com/orders")
                    except Exception:
                        pass
                    for order in Order.objects.all():
                        order.save()
            """,
        },
    )
    run = review_json(capsys, str(root), "--no-cache", "--select", "BB101,BB102,BB202")
    assert [f for f in run.findings() if f["path"] == path] == []


def test_test_words_in_module_names() -> None:
    assert is_test_path("app/create_test_data.py")
    assert is_test_path("plugin/pytest_plugin.py")
    assert is_test_path("pkg/testing/factories.py")
    assert not is_test_path("app/latest_orders.py")
    assert not is_test_path("app/contest.py")


def test_the_app_or_project_test_settings_install_is_test_code() -> None:
    assert is_test_path("guardian/testapp/migrations/0003_auto.py")
    assert is_test_path("shop/test_project/settings.py")
    assert is_test_path("shop/testproject/urls.py")
    assert not is_test_path("shop/testament/models.py")
    assert not is_test_path("shop/contest/migrations/0002_entry_score.py")


def test_every_rule_declares_a_severity_for_every_context() -> None:
    for rule in all_rules().values():
        for context in ExecutionContext:
            severity = rule.severity_for(context)
            assert severity is None or isinstance(severity, Severity)
        if rule.code.startswith("BB7"):
            # The migration-safety rules report in migrations and nowhere else.
            assert rule.severity_for(ExecutionContext.MIGRATION) is rule.severity
            assert all(rule.severity_for(other) is None for other in ExecutionContext if other is not ExecutionContext.MIGRATION)
            continue
        # Never reported where nothing runs for users; always where requests are served.
        assert rule.severity_for(ExecutionContext.MIGRATION) is None
        assert rule.severity_for(ExecutionContext.REQUEST) is rule.severity


def test_an_error_needs_high_confidence() -> None:
    secret_rule = all_rules()["BB501"]
    assert secret_rule.severity is Severity.ERROR
    request = (ExecutionContext.REQUEST,)
    assert secret_rule.severity_in(request, Confidence.HIGH) is Severity.ERROR
    assert secret_rule.severity_in(request, Confidence.MEDIUM) is Severity.WARNING
    assert secret_rule.severity_in((ExecutionContext.TEST,), Confidence.HIGH) is Severity.INFO
    assert secret_rule.severity_in((ExecutionContext.MIGRATION,), Confidence.HIGH) is None


MIXED_CONFIDENCE = """\
import os

STRIPE_KEY = "sk_" "live_" "Zq8Xv2LmT4rW9bN1kY7cP3sD"
SECRET_KEY = "9f8e7d6c5b4a39281706f5e4d3c2b1a0ffee"
"""


def test_min_confidence_on_the_command_line_and_in_the_configuration(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # A sleep in a coroutine is reported at high confidence, file I/O in it at low (what their
    # measured precision earns).
    source = (
        'import time\n\nfrom fastapi import FastAPI\n\napp = FastAPI()\n\n\n@app.get("/data")\nasync def handler():\n'
        '    time.sleep(1)\n    with open("data.txt") as handle:\n        return handle.read()\n'
    )
    write_tree(tmp_path, {"backbone.toml": "", "app.py": source})
    everything = review_json(capsys, str(tmp_path), "--no-cache", "--select", "BB401")
    confidences = sorted(str(f["confidence"]) for f in everything.findings())
    assert confidences == ["high", "low"]
    high_only = review_json(capsys, str(tmp_path), "--no-cache", "--select", "BB401", "--min-confidence", "high")
    assert [f["confidence"] for f in high_only.findings()] == ["high"]
    (tmp_path / "backbone.toml").write_text('min-confidence = "high"\n')
    configured = review_json(capsys, str(tmp_path), "--no-cache", "--select", "BB401")
    assert [f["confidence"] for f in configured.findings()] == ["high"]
    (tmp_path / "backbone.toml").write_text('min-confidence = "certain"\n')
    wrong = run_cli(capsys, "review", str(tmp_path), "--no-cache")
    assert wrong.code == 2
    assert "min-confidence" in wrong.err and "certain" in wrong.err


def test_definitions_named_only_in_branches_that_never_run_are_unreachable(tmp_path: Path) -> None:
    from helpers import review_tree_with

    files = {
        "app/__init__.py": "",
        "app/agents.py": """\
            import time

            class LegacyAgent:
                async def act(self):
                    time.sleep(1)

            class BinaryAgent:
                async def act(self):
                    time.sleep(1)

            class Agent:
                async def act(self):
                    time.sleep(1)

            class AnnotatedAgent:
                async def act(self):
                    time.sleep(1)

            async def legacy_step():
                time.sleep(1)
            """,
        "app/main.py": """\
            from fastapi import FastAPI

            from app.agents import Agent, AnnotatedAgent, BinaryAgent, LegacyAgent, legacy_step

            app = FastAPI()

            def choose(kind: str):
                if kind == "legacy" and False:
                    return LegacyAgent()
                elif False:
                    return BinaryAgent()
                elif 0:
                    return Agent()
                return Agent()

            def typed(agent: AnnotatedAgent) -> None:
                if False:
                    AnnotatedAgent()

            @app.post("/run")
            async def run(kind: str):
                if False:
                    await legacy_step()
                return await choose(kind).act()
            """,
    }
    found = review_tree_with(tmp_path, files, "BB401")
    # `Agent` is also built where it runs, `AnnotatedAgent` is named in an annotation: both live.
    assert [(f.path, f.line) for f in found] == [("app/agents.py", 13), ("app/agents.py", 17)]


def test_the_call_graph_has_no_edges_from_branches_that_never_run() -> None:
    import ast

    from backbone.review.extraction import extract_module_facts
    from backbone.review.project import ProjectIndex

    source = textwrap.dedent(
        """
        def helper():
            return 1

        def other():
            return 2

        def caller(flag):
            if flag and False:
                helper()
            else:
                other()
            if True:
                other()
            else:
                helper()
        """
    )
    index = ProjectIndex.build([extract_module_facts(ast.parse(source), "m.py", "m", False)])
    assert [target.qualname for _, target in index.callees("m.caller")] == ["m.other", "m.other"]
    assert index.unreachable() == frozenset({"m.helper"})


def test_code_after_a_return_raise_continue_or_break_of_its_block_never_runs(tmp_path: Path) -> None:
    from helpers import review_tree_with

    files = {
        "app.py": """\
            import urllib.request

            import requests

            def gravatar(url):
                return "n"
                with urllib.request.urlopen(url) as response:
                    return response.read()

            def unsupported(url):
                raise NotImplementedError
                requests.get(url)

            def each(urls):
                for url in urls:
                    if not url:
                        continue
                        requests.get(url)
                    requests.get(url)

            def fallback(url):
                try:
                    return requests.get(url, timeout=3)
                except requests.Timeout:
                    return None
                    requests.get(url)
                return requests.get(url)
            """,
    }
    found = review_tree_with(tmp_path, files, "BB102")
    # Only the calls that can run: the one after `continue` is in the `if`'s block, not the loop's.
    assert [f.line for f in found] == [19, 27]


def test_after_exit_names_the_statement_that_ends_the_block() -> None:
    import ast

    from backbone.review.contexts import after_exit_fact
    from backbone.review.semantic import after_exit

    tree = ast.parse("def f(x):\n    if x:\n        return 1\n    g()\n    return 2\n    h()\n")
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    calls = {call.func.id: call for call in ast.walk(tree) if isinstance(call, ast.Call) and isinstance(call.func, ast.Name)}
    assert after_exit(calls["g"], parents) is None
    exit_statement = after_exit(calls["h"], parents)
    assert isinstance(exit_statement, ast.Return) and exit_statement.lineno == 5
    fact = after_exit_fact(exit_statement)
    assert fact.context is ExecutionContext.UNREACHABLE and "`return` at line 5" in fact.reason


def test_the_call_graph_has_no_edges_from_code_after_an_exit() -> None:
    import ast

    from backbone.review.extraction import extract_module_facts
    from backbone.review.project import ProjectIndex

    source = textwrap.dedent(
        """
        def helper():
            return 1

        def other():
            return 2

        def caller(items):
            for item in items:
                if item:
                    other()
                    continue
                    helper()
            return other()
            helper()
        """
    )
    index = ProjectIndex.build([extract_module_facts(ast.parse(source), "m.py", "m", False)])
    assert {target.qualname for _, target in index.callees("m.caller")} == {"m.other"}


# --- code nothing in the project calls or names --------------------------------------------------

# An outbound call without a timeout in a module-level function: who names the function decides
# how sure the finding is.
CLIENTS = """\
import requests


def fetch_rates(url):
    return requests.get(url).json()
"""


# The same call in a function nothing names: the tests that show a name counting as a use keep it
# uncalled beside.
LEGACY = "\n\ndef fetch_legacy(url):\n    return requests.get(url).json()\n"


def _clients_tree(tmp_path: Path, files: dict[str, str], clients: str = CLIENTS) -> Path:
    tree = {"backbone.toml": "", "app/__init__.py": "", "app/clients.py": clients}
    return write_tree(tmp_path, {**tree, **{path: textwrap.dedent(text) for path, text in files.items()}})


def _timeouts(capsys: pytest.CaptureFixture[str], root: Path, *arguments: str) -> list[dict[str, object]]:
    run = review_json(capsys, str(root), "--no-cache", "--select", "BB102", *arguments)
    return [f for f in run.findings() if f["code"] == "BB102"]


def _where(findings: list[dict[str, object]]) -> list[tuple[object, ...]]:
    return [(f["path"], f["line"], f["context"], f["confidence"]) for f in findings]


def test_a_function_nothing_calls_or_names_is_reported_at_low_confidence_with_the_evidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _clients_tree(tmp_path, {})
    findings = _timeouts(capsys, root, "--min-confidence", "low")
    assert _where(findings) == [("app/clients.py", 5, "uncalled", "low")]
    assert findings[0]["context_evidence"] == "uncalled (nothing in the project calls or names `fetch_rates`)"
    # Not dropped: below the default report, which says it left one out.
    default = review_json(capsys, str(root), "--no-cache", "--select", "BB102", "--min-confidence", "high")
    assert default.findings() == [] and default.summary()["below_confidence"] == 1
    sarif = run_cli(capsys, "review", str(root), "--no-cache", "--select", "BB102", "--min-confidence", "low",
                    "--format", "sarif").json()
    (result,) = sarif["runs"][0]["results"]  # type: ignore[index]
    assert result["properties"]["context"] == "uncalled"
    assert result["properties"]["contextEvidence"] == "uncalled (nothing in the project calls or names `fetch_rates`)"


@pytest.mark.parametrize(
    "views",
    [
        """\
        from flask import Flask

        from app.clients import fetch_rates

        app = Flask(__name__)


        @app.get("/rates")
        def rates():
            return fetch_rates("https://rates.example.com")
        """,
        """\
        from fastapi import APIRouter

        from app import clients

        router = APIRouter()


        @router.get("/rates")
        def rates():
            return clients.fetch_rates("https://rates.example.com")
        """,
    ],
    ids=["flask", "fastapi"],
)
def test_the_same_function_called_from_a_route_has_its_usual_confidence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], views: str
) -> None:
    root = _clients_tree(tmp_path, {"app/views.py": views}, CLIENTS + LEGACY)
    assert _where(_timeouts(capsys, root)) == [
        ("app/clients.py", 5, "request", "high"), ("app/clients.py", 9, "uncalled", "low"),
    ]


# Each names `fetch_rates` (or may call it by its name) without a call the call graph shows.
NAMED = {
    "decorator": (
        {"app/registry.py": "HANDLERS = []\n\n\ndef register(function):\n    HANDLERS.append(function)\n    return function\n"},
        CLIENTS.replace("import requests\n", "import requests\n\nfrom app.registry import register\n").replace(
            "def fetch_rates", "@register\ndef fetch_rates"
        ),
    ),
    "__all__": ({}, CLIENTS + '\n\n__all__ = ["fetch_rates"]\n'),
    "dotted path in settings": ({"app/settings.py": 'RATES_SOURCE = "app.clients.fetch_rates"\n'}, CLIENTS),
    "entry point": (
        {"setup.py": 'ENTRY_POINTS = {"console_scripts": ["rates = app.clients:fetch_rates"]}\n'},
        CLIENTS,
    ),
    "getattr on the module": (
        {"app/jobs.py": 'from app import clients\n\n\ndef run(url):\n    return getattr(clients, "fetch_rates")(url)\n'},
        CLIENTS,
    ),
    "name built on the module": (
        {"app/jobs.py": 'from app import clients\n\n\ndef run(kind, url):\n    return getattr(clients, "fetch_" + kind)(url)\n'},
        CLIENTS,
    ),
    "passed to map": (
        {"app/jobs.py": "from app import clients\n\n\ndef run(urls):\n    return list(map(clients.fetch_rates, urls))\n"},
        CLIENTS,
    ),
    "a callback": (
        {"app/wiring.py": 'from blinker import signal\n\nfrom app import clients\n\nsignal("rates").connect(clients.fetch_rates)\n'},
        CLIENTS,
    ),
    "re-exported": ({"app/api.py": "from app.clients import fetch_rates as fetch_rates\n"}, CLIENTS),
    "an attribute read": (
        {"app/jobs.py": "def run(source, url):\n    return source.fetch_rates(url)\n"},
        CLIENTS,
    ),
}


@pytest.mark.parametrize("case", sorted(NAMED))
def test_a_function_the_project_names_without_calling_it_counts_as_used(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str
) -> None:
    files, clients = NAMED[case]
    root = _clients_tree(tmp_path, {**files, "app/legacy.py": "import requests\n" + LEGACY}, clients)
    line = next(number for number, text in enumerate(clients.splitlines(), 1) if "requests.get(" in text)
    assert _where(_timeouts(capsys, root)) == [
        ("app/clients.py", line, "unknown", "high"), ("app/legacy.py", 5, "uncalled", "low"),
    ]


METHODS = """\
import requests
from django.views import View


class RatesClient:
    def load(self, url):
        return requests.get(url)

    def refresh(self, url):
        return requests.get(url)

    def __call__(self, url):
        return requests.get(url)


class Dispatcher:
    def handle(self, kind, url):
        return getattr(self, "on_" + kind)(url)


class Handlers(Dispatcher):
    def on_rates(self, url):
        return requests.get(url)


class CacheMixin:
    def warm_cache(self, url):
        return requests.get(url)


class RatesView(CacheMixin, View):
    def fetch_upstream(self, url):
        return requests.get(url)
"""


def test_a_method_is_uncalled_only_when_nothing_reads_its_name_and_no_framework_calls_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = _clients_tree(
        tmp_path, {"app/jobs.py": "def run(client, url):\n    return client.load(url)\n"}, METHODS
    )
    findings = {int(str(f["line"])): (f["context"], f["confidence"]) for f in _timeouts(capsys, root)}
    assert findings == {
        7: ("unknown", "high"),  # `client.load(url)` reads its name
        10: ("uncalled", "low"),  # nothing reads `refresh`
        13: ("unknown", "high"),  # the runtime calls `__call__`
        23: ("unknown", "high"),  # `getattr(self, "on_" + kind)` in a base class finds it
        28: ("unknown", "high"),  # a mixin of a view: the view's framework may call it
        33: ("unknown", "high"),  # a method of a view
    }


def test_a_name_looked_up_at_run_time_and_called_leaves_no_method_uncalled(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dispatch = """\
        def perform(job, action, request):
            handler = getattr(job, action)
            return handler(request)
        """
    root = _clients_tree(tmp_path, {"app/dispatch.py": dispatch, "app/legacy.py": "import requests\n" + LEGACY}, METHODS)
    findings = {(f["path"], int(str(f["line"]))): f["context"] for f in _timeouts(capsys, root)}
    # `refresh` may be the action; a module's function is no method of a job.
    assert findings[("app/clients.py", 10)] == "unknown"
    assert findings[("app/legacy.py", 5)] == "uncalled"


def test_a_test_modules_helper_nothing_calls_stays_test_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import ast

    from backbone.review.contexts import project_contexts
    from backbone.review.extraction import extract_module_facts
    from backbone.review.project import ProjectIndex

    helper = "import requests\n\n\ndef stub_rates(url):\n    return requests.get(url)\n"
    root = _clients_tree(tmp_path, {"tests/test_rates.py": helper})
    # Test code is not reported; the application's function nothing calls is, at low confidence.
    assert _where(_timeouts(capsys, root)) == [("app/clients.py", 5, "uncalled", "low")]
    index = ProjectIndex.build([
        extract_module_facts(ast.parse(helper), "tests/test_rates.py", "tests.test_rates", False),
        extract_module_facts(ast.parse(CLIENTS), "app/clients.py", "app.clients", False),
    ])
    contexts = project_contexts(index)
    (fact,) = contexts.of_scope("tests.test_rates", "tests/test_rates.py", "stub_rates")
    assert fact.context is ExecutionContext.TEST
    (fact,) = contexts.of_scope("app.clients", "app/clients.py", "fetch_rates")
    assert fact.context is ExecutionContext.UNCALLED
