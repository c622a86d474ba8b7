"""BB101 beyond its own examples: confidence, exact messages, and the knowledge it asks."""

from __future__ import annotations

import ast
import textwrap

import pytest

from backbone.findings import Confidence, Finding, Severity
from backbone.review.checker import check_source
from backbone.review.knowledge.errors import (
    ExceptionKind,
    InfrastructureArea,
    classify_exception,
    describe_exception,
    guess_exception_kind,
    is_error_response,
)
from backbone.review.knowledge.logging import (
    LoggerBindings,
    Reporting,
    names_reporting,
    reporting_of_call,
)
from backbone.review.names import NameResolver, collect_imports, top_level_symbols


def findings(snippet: str) -> list[Finding]:
    return check_source(textwrap.dedent(snippet), ("BB101",))


def only(snippet: str) -> Finding:
    found = findings(snippet)
    assert len(found) == 1, [(f.line, f.message) for f in found]
    return found[0]


# --- what the finding says ------------------------------------------------------------


def test_broad_catch_message_fix_severity_and_location() -> None:
    finding = only(
        """
        def refresh(cache):
            try:
                cache.reload()
            except Exception:
                pass
        """
    )
    assert (finding.line, finding.location.column) == (5, 5)
    assert finding.severity is Severity.WARNING
    assert finding.rule_confidence is Confidence.HIGH
    assert finding.message == (
        "This `except Exception` swallows every error: the body only passes, so failures vanish without a trace."
    )
    assert finding.fix is not None
    assert finding.fix.message.startswith("Log the error with `logger.exception(...)`")


def test_infrastructure_message_names_the_area() -> None:
    finding = only(
        """
        import requests

        def rates():
            try:
                return requests.get("https://rates.example.com", timeout=5).json()
            except requests.exceptions.ConnectionError:
                return {}
        """
    )
    assert finding.message == (
        "This `except requests.exceptions.ConnectionError` swallows HTTP client errors: "
        "the body only returns `{}`, so failures vanish without a trace."
    )
    assert finding.fix is not None and "HTTP client failure is visible" in finding.fix.message


def test_suppress_is_reported_at_the_call_not_the_with() -> None:
    finding = only(
        """
        import contextlib

        def notify(mailer):
            with open("log") as handle, contextlib.suppress(BaseException):
                mailer.send(handle.read())
        """
    )
    assert (finding.line, finding.location.column) == (5, 33)
    assert finding.message.startswith("This `contextlib.suppress(BaseException)` swallows every error raised")


def test_except_star_is_named_as_such() -> None:
    assert "`except* Exception`" in only(
        """
        def run(group):
            try:
                group.run()
            except* Exception:
                pass
        """
    ).message


def test_printing_is_described_as_not_logging() -> None:
    assert "the body only prints, and print is not logging" in only(
        """
        def charge(gateway):
            try:
                gateway.charge()
            except Exception:
                print("charge failed")
        """
    ).message


# --- confidence -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("snippet", "confidence"),
    [
        pytest.param(
            """
            def count(connection):
                try:
                    return connection.count()
                except connection.OperationalError:
                    return 0
            """,
            Confidence.LOW,
            id="unresolved-name-guessed-by-its-last-segment",
        ),
        pytest.param(
            """
            from sqlalchemy.exc import *

            def count(session):
                try:
                    return session.count()
                except OperationalError:
                    return 0
            """,
            Confidence.MEDIUM,
            id="resolved-through-a-star-import",
        ),
        pytest.param(
            """
            from django.db import IntegrityError

            def tag(item, name):
                try:
                    item.tags.create(name=name)
                except IntegrityError:
                    pass
            """,
            Confidence.MEDIUM,
            id="constraint-violation-often-ignored-on-purpose",
        ),
        pytest.param(
            """
            def sync(client):
                try:
                    client.push()
                except Exception:
                    cleanup_temporary_files()
            """,
            Confidence.MEDIUM,
            id="body-calls-code-backbone-cannot-see",
        ),
        pytest.param(
            """
            def save(client):
                try:
                    client.push()
                    return True
                except Exception:
                    return False
            """,
            Confidence.MEDIUM,
            id="failure-turned-into-a-false-answer",
        ),
        pytest.param(
            """
            import requests

            def fetch(url):
                try:
                    return requests.get(url, timeout=1)
                except requests.Timeout:
                    return None
            """,
            Confidence.HIGH,
            id="resolved-import-and-a-plain-default",
        ),
    ],
)
def test_confidence(snippet: str, confidence: Confidence) -> None:
    assert only(snippet).rule_confidence is confidence


# --- tricky negatives -----------------------------------------------------------------


@pytest.mark.parametrize(
    "snippet",
    [
        pytest.param(
            """
            def load(path):
                try:
                    return open(path).read()
                except FileNotFoundError:
                    return ""
            """,
            id="a-narrow-os-error",
        ),
        pytest.param(
            """
            class Cache:
                def __init__(self):
                    self.log = logging.getLogger("cache")

                def warm(self):
                    try:
                        self.fill()
                    except Exception:
                        self.log.info("warming failed")
            """,
            id="a-logger-on-self-without-the-import",
        ),
        pytest.param(
            """
            import logging

            def warm(cache):
                try:
                    cache.fill()
                except Exception:
                    logging.getLogger(__name__).warning("warming failed")
            """,
            id="a-chained-getlogger",
        ),
        pytest.param(
            """
            import sys
            import traceback

            def run(job):
                try:
                    job()
                except Exception:
                    sys.stderr.write(traceback.format_exc())
            """,
            id="the-traceback-is-read-without-the-name",
        ),
        pytest.param(
            """
            from flask import Response

            def view():
                try:
                    return render_page()
                except Exception:
                    response = Response("unavailable")
                    response.status_code = 503
                    return response
            """,
            id="a-status-set-on-the-response",
        ),
        pytest.param(
            """
            import pytest

            def test_ping(client):
                try:
                    client.ping()
                except Exception:
                    pytest.fail("ping raised")
            """,
            id="pytest-fail",
        ),
        pytest.param(
            """
            import sys

            def main():
                try:
                    run()
                except Exception:
                    sys.exit(1)
            """,
            id="the-process-exits-with-an-error-status",
        ),
        pytest.param(
            """
            def import_rows(rows):
                failed_rows = []
                for row in rows:
                    try:
                        save(row)
                    except Exception:
                        failed_rows.append(row)
                return failed_rows
            """,
            id="the-failure-is-collected",
        ),
        pytest.param(
            """
            def try_read_version(path):
                try:
                    return open(path).read().strip()
                except Exception:
                    return None
            """,
            id="a-best-effort-function-by-name",
        ),
        pytest.param(
            """
            import contextlib

            def stop(process):
                with contextlib.suppress(Exception):
                    process.terminate()
            """,
            id="suppress-around-a-teardown",
        ),
        pytest.param(
            """
            import requests

            def check_network(session, urls):
                timeout = 0.5
                for _ in range(3):
                    for url in urls:
                        try:
                            session.head(url, timeout=timeout)
                            return
                        except requests.exceptions.ConnectionError:
                            continue
                    timeout *= 2
                raise NetworkError("network seems down")
            """,
            id="a-retry-loop-that-raises-when-every-attempt-failed",
        ),
        pytest.param(
            """
            import socket
            import time

            def wait_until_ready(host, port, timeout=30):
                start = time.time()
                while time.time() - start < timeout:
                    try:
                        with socket.create_connection((host, port), timeout=0.5):
                            return
                    except OSError:
                        time.sleep(0.2)
                raise RuntimeError("not ready")
            """,
            id="a-readiness-poll-that-raises-at-its-deadline",
        ),
        pytest.param(
            """
            import asyncio

            async def connect(client):
                for attempt in range(5):
                    try:
                        await client.connect()
                        break
                    except Exception:
                        await asyncio.sleep(2 ** attempt)
                else:
                    raise ConnectionError("gave up")
            """,
            id="a-retry-loop-whose-else-raises",
        ),
        pytest.param(
            """
            def list_blobs(directory):
                found = []
                for entry in directory.iterdir():
                    try:
                        found.append((entry.name, entry.stat().st_mtime))
                    except OSError:
                        pass
                return found
            """,
            id="an-entry-gone-between-the-listing-and-its-stat",
        ),
        pytest.param(
            """
            import os
            import shutil
            import stat

            def prune(directory, cutoff):
                removed = 0
                for entry in os.scandir(directory):
                    try:
                        st = os.stat(entry.path, follow_symlinks=False)
                        if stat.S_ISDIR(st.st_mode) and st.st_mtime < cutoff:
                            shutil.rmtree(entry.path, ignore_errors=True)
                            removed += 1
                    except OSError:
                        pass
                return removed
            """,
            id="a-pruned-entry-gone-between-the-listing-and-its-stat",
        ),
        pytest.param(
            """
            import shlex

            def ssh_tokens(parts):
                tokens = []
                for part in parts:
                    try:
                        tokens.extend(shlex.split(part))
                    except Exception:
                        tokens.append(part)
                return tokens
            """,
            id="a-parse-added-to-a-local-list-falls-back-to-the-raw-text",
        ),
    ],
)
def test_not_reported(snippet: str) -> None:
    assert findings(snippet) == []


@pytest.mark.parametrize(
    "snippet",
    [
        pytest.param(
            """
            def breakdown(session):
                try:
                    return Breakdown(total=session.count())
                except Exception:
                    return Breakdown(total=0)
            """,
            id="building-the-same-type-is-no-retry",
        ),
        pytest.param(
            """
            def describe(column, spec):
                try:
                    column.update({"type": spec.type_of(column)})
                except Exception:
                    column.update({"type": "UNKNOWN"})
            """,
            id="filling-the-same-container-is-no-retry",
        ),
        pytest.param(
            """
            def export(job):
                try:
                    return job.run()
                except Exception:
                    return ExportError("export failed")
            """,
            id="an-error-object-built-but-not-raised",
        ),
        pytest.param(
            """
            def load(client):
                try:
                    return client.fetch()
                except Exception:
                    error = None
                    return error
            """,
            id="an-empty-default-in-a-variable-named-error",
        ),
        pytest.param(
            """
            import time

            def connect(client):
                for attempt in range(5):
                    try:
                        return client.connect()
                    except Exception:
                        time.sleep(1)
                return None
            """,
            id="a-retry-loop-that-gives-up-silently",
        ),
        pytest.param(
            """
            import time

            def connect(client):
                for attempt in range(5):
                    try:
                        client.connect()
                        break
                    except Exception:
                        time.sleep(1)
                raise ConnectionError("always reached")
            """,
            id="a-retry-loop-that-breaks-and-raises-after-is-no-report",
        ),
        pytest.param(
            """
            import time

            def connect(client):
                for attempt in range(5):
                    try:
                        return client.connect()
                    except Exception:
                        client.reset()
                raise ConnectionError("gave up")
            """,
            id="a-handler-that-does-more-than-wait",
        ),
        pytest.param(
            """
            import os

            def archive(directory, target):
                for entry in os.scandir(directory):
                    try:
                        os.rename(entry.path, os.path.join(target, entry.name))
                    except OSError:
                        pass
            """,
            id="a-failed-move-of-a-listed-entry",
        ),
        pytest.param(
            """
            def list_blobs(directory):
                found = []
                for entry in directory.iterdir():
                    try:
                        found.append((entry.name, entry.stat().st_mtime))
                    except Exception:
                        pass
                return found
            """,
            id="a-catch-all-around-the-stat-of-a-listed-entry",
        ),
        pytest.param(
            """
            def sizes(paths):
                found = []
                for path in paths:
                    try:
                        found.append(path.stat().st_size)
                    except OSError:
                        pass
                return found
            """,
            id="a-stat-of-paths-that-were-not-listed",
        ),
        pytest.param(
            """
            import shlex

            def ssh_tokens(self, parts):
                for part in parts:
                    try:
                        self.tokens.extend(shlex.split(part))
                    except Exception:
                        self.tokens.append(part)
            """,
            id="a-parse-added-to-an-object-that-is-no-local-list",
        ),
    ],
)
def test_reported(snippet: str) -> None:
    assert len(findings(snippet)) == 1


# --- the knowledge modules ------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("Exception", ExceptionKind.BROAD),
        ("BaseException", ExceptionKind.BROAD),
        ("builtins.Exception", ExceptionKind.BROAD),
        ("OSError", ExceptionKind.INFRASTRUCTURE),
        ("IOError", ExceptionKind.INFRASTRUCTURE),
        ("ConnectionRefusedError", ExceptionKind.INFRASTRUCTURE),
        ("TimeoutError", ExceptionKind.INFRASTRUCTURE),
        ("socket.timeout", ExceptionKind.INFRASTRUCTURE),
        ("sqlalchemy.exc.OperationalError", ExceptionKind.INFRASTRUCTURE),
        ("django.db.utils.IntegrityError", ExceptionKind.INFRASTRUCTURE),
        ("psycopg2.errors.UniqueViolation", ExceptionKind.INFRASTRUCTURE),
        ("asyncpg.exceptions.PostgresError", ExceptionKind.INFRASTRUCTURE),
        ("sqlite3.OperationalError", ExceptionKind.INFRASTRUCTURE),
        ("redis.exceptions.ConnectionError", ExceptionKind.INFRASTRUCTURE),
        ("requests.RequestException", ExceptionKind.INFRASTRUCTURE),
        ("httpx.ConnectTimeout", ExceptionKind.INFRASTRUCTURE),
        ("aiohttp.ClientError", ExceptionKind.INFRASTRUCTURE),
        ("urllib.error.URLError", ExceptionKind.INFRASTRUCTURE),
        ("smtplib.SMTPException", ExceptionKind.INFRASTRUCTURE),
        ("botocore.exceptions.ClientError", ExceptionKind.INFRASTRUCTURE),
        ("google.api_core.exceptions.GoogleAPIError", ExceptionKind.INFRASTRUCTURE),
        ("stripe.error.StripeError", ExceptionKind.INFRASTRUCTURE),
        ("stripe.error.CardError", ExceptionKind.NARROW),
        ("requests.exceptions.MissingSchema", ExceptionKind.NARROW),
        ("aiohttp.web.HTTPNotFound", ExceptionKind.UNKNOWN),
        ("sqlalchemy.orm.exc.NoResultFound", ExceptionKind.NARROW),
        ("sqlalchemy.exc.StatementError", ExceptionKind.UNKNOWN),
        ("FileNotFoundError", ExceptionKind.NARROW),
        ("KeyError", ExceptionKind.NARROW),
        ("ValueError", ExceptionKind.NARROW),
        ("ImportError", ExceptionKind.NARROW),
        ("StopIteration", ExceptionKind.NARROW),
        ("NotImplementedError", ExceptionKind.NARROW),
        ("myapp.errors.PaymentDeclined", ExceptionKind.UNKNOWN),
    ],
)
def test_classify_exception(name: str, kind: ExceptionKind) -> None:
    assert classify_exception(name) is kind


def test_infrastructure_areas_and_constraint_violations() -> None:
    assert describe_exception("psycopg.errors.UniqueViolation").constraint_violation
    assert not describe_exception("psycopg.OperationalError").constraint_violation
    assert describe_exception("smtplib.SMTPServerDisconnected").area is InfrastructureArea.EMAIL
    assert describe_exception("botocore.exceptions.BotoCoreError").area is InfrastructureArea.CLOUD_SDK


def test_guessing_an_unresolved_name() -> None:
    assert guess_exception_kind("OperationalError") is ExceptionKind.INFRASTRUCTURE
    assert guess_exception_kind("DoesNotExist") is ExceptionKind.NARROW
    assert guess_exception_kind("Error") is ExceptionKind.UNKNOWN


def _resolver(source: str) -> tuple[ast.Module, NameResolver]:
    tree = ast.parse(textwrap.dedent(source))
    imports, _ = collect_imports(tree, "example", is_package=False)
    return tree, NameResolver("example", imports, top_level_symbols(tree))


def _logger_bindings(tree: ast.Module, source: str) -> LoggerBindings:
    """The module's logger names as every rule of the file gets them (`FileContext.logger_bindings`)."""
    from backbone.review.checker import _index_nodes
    from backbone.review.context import FileContext
    from backbone.review.extraction import extract_module_facts
    from backbone.review.semantic import SemanticModel

    parents, nodes = _index_nodes(tree)
    semantic = SemanticModel(nodes, parents)
    facts = extract_module_facts(tree, "example.py", "example", is_package=False, nodes=nodes, semantic=semantic)
    context = FileContext("example.py", source, tree, facts, parents, frozenset(), nodes=nodes, semantic=semantic)
    return context.logger_bindings()


def _last_call(tree: ast.Module) -> ast.Call:
    statement = tree.body[-1]
    assert isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call)
    return statement.value


@pytest.mark.parametrize(
    ("source", "reporting"),
    [
        ("import logging\nlogger = logging.getLogger(__name__)\nlogger.error('x')", Reporting.LOGGED),
        ("import structlog\nlog = structlog.get_logger()\nlog.bind(a=1).warning('x')", Reporting.LOGGED),
        ("from loguru import logger\nlogger.exception('x')", Reporting.LOGGED),
        ("import sentry_sdk\nsentry_sdk.capture_exception()", Reporting.LOGGED),
        ("import warnings\nwarnings.warn('x')", Reporting.LOGGED),
        ("import traceback\ntraceback.print_exc()", Reporting.LOGGED),
        ("LOGGER.debug('x')", Reporting.LOGGED_BY_NAME),
        ("self._logger.info('x')", Reporting.LOGGED_BY_NAME),
        ("current.app.logger.info('x')", Reporting.LOGGED_BY_NAME),
        ("self.output.exception('x')", Reporting.LOGGED_BY_NAME),
        ("client.captureException()", Reporting.LOGGED_BY_NAME),
        ("report_failure(job)", Reporting.LOGGED_BY_NAME),
        ("from django.contrib import messages\nmessages.error(request, 'x')", Reporting.USER_NOTIFIED),
        ("import sys\nprint('x', file=sys.stderr)", Reporting.NOT_REPORTED),
        ("self.output.info('x')", Reporting.NOT_REPORTED),
        ("import math\nmath.log(2)", Reporting.NOT_REPORTED),
    ],
)
def test_reporting_of_call(source: str, reporting: Reporting) -> None:
    tree, resolver = _resolver(source)
    bindings = _logger_bindings(tree, textwrap.dedent(source))
    assert reporting_of_call(_last_call(tree), resolver.qualified_name, bindings) is reporting


def test_logger_bindings_follow_class_attributes_and_derived_loggers() -> None:
    tree, resolver = _resolver(
        """
        import logging
        import structlog

        base = structlog.get_logger()
        request_log = base.bind(request_id=1)

        class Service:
            logger = logging.getLogger("service")
        """
    )
    names = _logger_bindings(tree, "").names
    assert {"base", "request_log", "logger", "self.logger", "cls.logger"} <= names


def test_names_reporting() -> None:
    assert names_reporting("log_failure")
    assert names_reporting("notifyAdmins")
    assert names_reporting("handle_exception")
    assert not names_reporting("login")
    assert not names_reporting("catalog_items")


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("JSONResponse({'error': 'x'}, status_code=500)", True),
        ("Response(status=status.HTTP_503_SERVICE_UNAVAILABLE)", True),
        ("JsonResponse({'ok': False}, status=HTTPStatus.BAD_GATEWAY)", True),
        ("HttpResponseServerError()", True),
        ("(jsonify(error='x'), 500)", True),
        ("make_response(jsonify(error='x'), 503)", True),
        ("self.response_404()", True),
        ("self.response(500, message='x')", True),
        ("render(request, 'error.html', status=code)", True),
        ("JSONResponse({'items': []})", False),
        ("(jsonify(items=[]), 200)", False),
        ("cache.get(key, 500)", False),
        ("Order.objects.filter(status=state)", False),
    ],
)
def test_is_error_response(expression: str, expected: bool) -> None:
    node = ast.parse(expression, mode="eval").body
    assert is_error_response(node, lambda _: None) is expected


# --- where nobody can be told, and attempts another way -----------------------------------


def test_a_finalizer_swallows_nothing_anyone_could_act_on() -> None:
    assert not findings(
        """
        import asyncio

        import httpx

        class Client(httpx.AsyncClient):
            def __del__(self):
                try:
                    asyncio.get_running_loop().create_task(self.aclose())
                except Exception:
                    pass
        """
    )
    # The same schedule outside a finalizer loses the close.
    assert only(
        """
        import asyncio

        def schedule(client):
            try:
                asyncio.get_running_loop().create_task(client.aclose())
            except Exception:
                pass
        """
    ).line == 7


def test_a_logging_filter_cannot_log_its_own_failure() -> None:
    source = """
        import logging

        from app.steps import current_step

        class {name}({base}):
            def {method}(self, record):
                try:
                    record.step = current_step().name
                except Exception:
                    pass
                return True
        """
    assert not findings(source.format(name="StepFilter", base="logging.Filter", method="filter"))
    assert not findings(source.format(name="StepHandler", base="logging.StreamHandler", method="emit"))
    # Another method of the filter, or a class outside the logging pipeline, is an ordinary function.
    assert only(source.format(name="StepFilter", base="logging.Filter", method="step_of")).line == 10
    assert only(source.format(name="StepEnricher", base="object", method="filter")).line == 10


def test_the_same_operation_asked_of_another_implementation_is_a_second_attempt() -> None:
    assert not findings(
        """
        import io

        import paramiko

        def load_key(text, passphrase):
            key_file = io.StringIO(text)
            try:
                return paramiko.RSAKey.from_private_key(key_file, password=passphrase)
            except paramiko.ssh_exception.SSHException:
                key_file.seek(0)
                try:
                    return paramiko.Ed25519Key.from_private_key(key_file, password=passphrase)
                except paramiko.ssh_exception.SSHException:
                    key_file.seek(0)
                    return paramiko.ECDSAKey.from_private_key(key_file, password=passphrase)
        """
    )
    # Another operation on the same input is no second attempt: a failed save is lost.
    assert only(
        """
        def persist(order, session, backup):
            try:
                session.save(order)
            except Exception:
                backup.remember(order)
        """
    ).line == 5


def test_a_model_validated_from_json_text_is_a_parse() -> None:
    assert not findings(
        """
        from pydantic import BaseModel

        class Entry(BaseModel):
            message: str

        def parse_line(line):
            if line.startswith("{"):
                try:
                    return Entry.model_validate_json(line)
                except Exception:
                    pass
            return Entry(message=line)
        """
    )
    # Validating an object against the store is not a parse.
    assert only(
        """
        def check(user, store):
            try:
                store.validate_user(user)
            except Exception:
                pass
        """
    ).line == 5


def test_listing_and_reading_local_files_is_an_optional_file() -> None:
    assert not findings(
        """
        import json
        import os
        from pathlib import Path

        def numbered_subdirs(path: Path) -> list[Path]:
            try:
                entries = [entry for entry in path.iterdir() if entry.is_dir() and entry.name.isdigit()]
            except OSError:
                return []
            return sorted(entries, key=lambda entry: int(entry.name))

        def product_version(folders):
            for folder in folders:
                try:
                    with open(os.path.join(folder, "product.json"), "r", encoding="utf-8") as f:
                        data = json.load(f)
                        version = data.get("version")
                        if version:
                            return version
                except (OSError, json.JSONDecodeError):
                    continue
            return None

        def follow(log_path: Path, offset: int) -> str:
            try:
                with log_path.open("r", encoding="utf-8") as f:
                    f.seek(offset)
                    chunk = f.read()
            except OSError:
                chunk = ""
            return chunk
        """
    )
    # Opening for writing is no read, and `.get` of a client is a request, not a read of a value.
    found = findings(
        """
        from pathlib import Path

        def append(log_path: Path, line: str) -> None:
            try:
                with log_path.open("a") as f:
                    f.write(line)
            except OSError:
                pass

        def fetch(client, url):
            try:
                data = client.get(url)
                return data.get("items")
            except OSError:
                return []
        """
    )
    assert [finding.line for finding in found] == [8, 15]


def test_a_file_read_into_an_objects_state_is_not_optional() -> None:
    finding = only(
        """
        import json

        class Manifest:
            def __init__(self, path):
                self.path = path
                self.entries = {}

            def load(self):
                try:
                    with open(self.path) as f:
                        data = json.load(f)
                        self.entries = data.get("entrypoints", {})
                except Exception:
                    pass
        """
    )
    assert finding.line == 14


def test_an_existing_resource_or_an_encrypted_key_is_an_expected_answer() -> None:
    assert classify_exception("google.api_core.exceptions.Conflict") is ExceptionKind.NARROW
    assert classify_exception("google.api_core.exceptions.AlreadyExists") is ExceptionKind.NARROW
    assert classify_exception("paramiko.ssh_exception.PasswordRequiredException") is ExceptionKind.NARROW
    # Their siblings are still failures of the service.
    assert classify_exception("google.api_core.exceptions.ServiceUnavailable") is ExceptionKind.INFRASTRUCTURE
    assert classify_exception("paramiko.ssh_exception.SSHException") is ExceptionKind.INFRASTRUCTURE
    assert not findings(
        """
        from google.api_core.exceptions import Conflict

        def ensure_rule(client, rule):
            try:
                client.insert(firewall_resource=rule).result()
            except Conflict:
                pass
        """
    )


def test_reading_the_process_surroundings_fails_only_when_there_are_none() -> None:
    assert not findings(
        """
        import inspect
        import resource
        import shutil

        def terminal_width():
            try:
                size = shutil.get_terminal_size()
                return size.columns
            except (AttributeError, OSError):
                return None

        def source_kind(module):
            try:
                path = inspect.getfile(module)
            except (TypeError, OSError):
                return "builtin"
            return path

        fd_limit = "N/A"
        try:
            fd_limit, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
        except Exception:
            pass
        """
    )


# --- a call that raises, and a probe loop whose exhaustion is reported ----------------------


def test_a_call_to_a_module_function_that_raises_for_that_argument_re_raises() -> None:
    found = findings(
        """
        SUCCESS = 0
        LIBRARY_NOT_FOUND = 12

        class LibraryError(Exception):
            pass

        def _check(code):
            if code != SUCCESS:
                raise LibraryError(code)
            return code

        def fail(message):
            raise LibraryError(message)

        def load(cdll):
            try:
                return cdll("libexample.so.1")
            except OSError:
                _check(LIBRARY_NOT_FOUND)

        def load_or_fail(cdll):
            try:
                return cdll("libexample.so.1")
            except Exception:
                fail("no library")

        def load_quietly(cdll):
            try:
                return cdll("libexample.so.1")
            except OSError:
                _check(SUCCESS)

        async def finish_later(message):
            raise LibraryError(message)

        def load_unawaited(cdll):
            try:
                return cdll("libexample.so.1")
            except OSError:
                finish_later("no library")
        """
    )
    # `_check(SUCCESS)` returns, and `finish_later(...)` only builds a coroutine: those failures are still swallowed.
    assert [finding.line for finding in found] == [31, 40]


def test_a_probe_loop_whose_exhaustion_is_checked_after_the_loop() -> None:
    found = findings(
        """
        import sys

        class LibraryNotFound(Exception):
            pass

        library = None

        def load(cdll, search_paths):
            global library
            if library is None:
                if sys.platform == "win32":
                    for path in search_paths:
                        try:
                            library = cdll(path)
                        except OSError:
                            continue
                        break
                if library is None:
                    raise LibraryNotFound()
            return library

        def load_first(cdll, search_paths):
            found = None
            for path in search_paths:
                try:
                    found = cdll(path)
                except OSError:
                    continue
                break
            return found
        """
    )
    # Nothing says that every candidate failed in `load_first`.
    assert [finding.line for finding in found] == [28]


def test_an_optional_setting_looked_up_turns_a_feature_off() -> None:
    found = findings(
        """
        def should_time(view):
            should_track = False
            try:
                from app.metrics import config as metrics_config

                should_track = metrics_config.enabled and getattr(view, "timed", False)
            except Exception:
                pass
            return should_track

        def tracing_enabled(store):
            enabled = False
            try:
                if store:
                    tracing = getattr(store.config, "tracing", None)
                    if tracing is not None and getattr(tracing, "enabled", False):
                        enabled = True
            except Exception:
                pass
            return enabled

        def tracing_client(store):
            enabled = False
            try:
                tracing = getattr(store.config, "tracing", None)
                enabled = tracing.connect().ping()
            except Exception:
                pass
            return enabled
        """
    )
    # A lookup that also talks to what it found hides that conversation's failures.
    assert [finding.line for finding in found] == [28]


def test_a_files_modification_time_kept_as_a_stamp_is_refreshed_next_time() -> None:
    found = findings(
        """
        class Registry:
            def commit(self):
                if self._path is not None and self._path.exists():
                    try:
                        self._mtime = self._path.stat().st_mtime
                    except OSError:
                        pass

            def load(self):
                try:
                    with self._path.open("r") as f:
                        self.manifest = f.read()
                except OSError:
                    pass
        """
    )
    # What the file holds, kept as the object's state, is still one it needs.
    assert [finding.line for finding in found] == [14]


def test_the_body_of_a_response_whose_status_was_read_is_a_parse() -> None:
    found = findings(
        """
        import requests

        def submit(session, url, payload):
            response = session.post(url, json=payload, timeout=10)
            if response.status_code >= 400:
                raise RuntimeError(f"submission failed ({response.status_code})")
            try:
                return response.json()
            except Exception:
                return {"status": "accepted", "raw": response.text}

        async def fetch(session, url):
            response = await session.get(url)
            response.raise_for_status()
            try:
                return await response.json()
            except Exception:
                return {}

        def unchecked(session, url):
            response = session.get(url, timeout=10)
            try:
                return response.json()
            except Exception:
                return {}
        """
    )
    # An awaited body is still read from the network; the body of a response whose status nobody read
    # may be the error page of a failing server.
    assert [finding.line for finding in found] == [18, 25]


def test_a_lookup_of_the_surroundings_answered_like_their_absence() -> None:
    found = findings(
        """
        def caller_token(current_request, extract):
            try:
                request = current_request()
            except Exception:
                return None
            if request is None:
                return None
            return extract(request)

        def user_name(db, user_id):
            try:
                user = db.get(user_id)
            except Exception:
                return None
            if user is None:
                return None
            return user.name

        def current_request(current_request):
            try:
                request = current_request()
            except Exception:
                return None
            if request is None:
                return "anonymous"
            return request
        """
    )
    # A lookup by an argument can fail for other reasons; a fallback other than the "none" answer.
    assert [finding.line for finding in found] == [14, 23]


def test_calling_a_hook_looked_up_as_optional_answers_its_default() -> None:
    found = findings(
        """
        class MetricsCallback:
            def current_rate(self):
                schedule = getattr(self.trainer, "rate_schedule", None)
                try:
                    return schedule(self.trainer.step)
                except Exception:
                    return None

            def current_rate_or_zero(self):
                schedule = getattr(self.trainer, "rate_schedule", None)
                try:
                    return schedule(self.trainer.step)
                except Exception:
                    return 0

            def current_rate_of(self, client):
                schedule = getattr(self.trainer, "rate_schedule", None)
                try:
                    return schedule(client.fetch_step())
                except Exception:
                    return None
        """
    )
    # A fallback other than the chosen default; a hook given what another call fetched.
    assert [finding.line for finding in found] == [14, 21]


def test_the_same_thing_asked_again_another_way_after_the_try() -> None:
    found = findings(
        """
        def view_named(store, name):
            try:
                return store.get_table(name)
            except Exception:
                pass
            if hasattr(store, "get_view"):
                try:
                    return store.get_view(name)
                except Exception:
                    pass
            return None

        def first_view(store, other, name):
            try:
                return store.get_table(name)
            except Exception:
                pass
            return other.get_view(name)
        """
    )
    # The last attempt swallows its own failure; another object asked is not the same question.
    assert [finding.line for finding in found] == [10, 17]


def test_another_call_with_the_same_arguments_is_no_second_answer() -> None:
    found = findings(
        """
        class Store:
            def delete_note(self, owner_id, note_id):
                overrides = None
                try:
                    overrides = self._load_note(owner_id, note_id).overrides
                except Exception:
                    pass
                path = self._note_path(owner_id, note_id)
                return path, overrides
        """
    )
    assert [finding.line for finding in found] == [7]


def test_an_explained_catch_all_that_restores_the_value_before_the_try() -> None:
    found = findings(
        """
        async def publish_end(broker, stream_key, publish):
            queue_is_empty = False
            try:
                queue_is_empty = (await broker.latest_id(stream_key)) is None
            except Exception:
                # Probe failed; send the closing message anyway so no reader waits forever.
                queue_is_empty = False
            await publish(stream_key, empty=queue_is_empty)

        async def publish_unexplained(broker, stream_key, publish):
            queue_is_empty = False
            try:
                queue_is_empty = (await broker.latest_id(stream_key)) is None
            except Exception:
                queue_is_empty = False
            await publish(stream_key, empty=queue_is_empty)

        async def publish_other(broker, stream_key, publish):
            queue_is_empty = False
            try:
                queue_is_empty = (await broker.latest_id(stream_key)) is None
            except Exception:
                # Probe failed; send the closing message anyway so no reader waits forever.
                queue_is_empty = True
            await publish(stream_key, empty=queue_is_empty)
        """
    )
    # Unexplained, or a value the code never had before: still reported.
    assert [finding.line for finding in found] == [15, 23]


def test_text_matched_against_a_pattern_is_a_parse() -> None:
    found = findings(
        """
        import contextlib
        import re

        def collect_placeholders(nodes):
            for node in nodes:
                with contextlib.suppress(Exception):
                    template = node["data"]["template"]
                    if template["_type"] == "prompt":
                        variables = re.findall(r"\\{(.*?)\\}", template["value"])
                    else:
                        variables = []
                    template["input_variables"] = variables
            return nodes

        def remote_variables(client, nodes):
            for node in nodes:
                try:
                    node["variables"] = re.findall(r"\\{(.*?)\\}", client.fetch(node["id"]))
                except Exception:
                    pass
        """
    )
    # Matching what a client fetched hides the fetch's failures.
    assert [finding.line for finding in found] == [20]


def test_a_failing_override_answered_like_the_default_hook() -> None:
    found = findings(
        """
        class Session:
            def _console_url(self):
                \"\"\"A URL to the provider's UI, for subclasses that have one.\"\"\"
                return None

            def _remote_url(self):
                return self.client.fetch_url()

            def publish(self, log_metadata):
                try:
                    url = self._console_url()
                except Exception:
                    url = None
                log_metadata(url=url)

            def publish_remote(self, log_metadata):
                try:
                    url = self._remote_url()
                except Exception:
                    url = None
                log_metadata(url=url)

            def publish_other(self, log_metadata):
                try:
                    url = self._console_url()
                except Exception:
                    url = "about:blank"
                log_metadata(url=url)
        """
    )
    # A hook that does real work, or a fallback other than the default: still reported.
    assert [finding.line for finding in found] == [20, 27]


def test_a_task_cancelled_then_awaited() -> None:
    found = findings(
        """
        import asyncio
        import contextlib

        async def stop(watcher):
            if watcher is not None and not watcher.done():
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await watcher

        async def stop_own(self):
            self.task.cancel()
            try:
                await self.task
            except Exception:
                pass

        async def wait_for_it(watcher):
            with contextlib.suppress(Exception):
                await watcher

        async def stop_other(self, other):
            self.task.cancel()
            try:
                await other
            except Exception:
                pass
        """
    )
    # A task awaited without being cancelled first, or another task than the one cancelled: reported.
    assert [finding.line for finding in found] == [19, 26]


def test_a_failure_counted_and_the_count_logged() -> None:
    found = findings(
        """
        import logging

        logger = logging.getLogger(__name__)

        async def refresh_all(pages):
            refreshed = 0
            failed = 0
            for page in pages:
                try:
                    await page.refresh()
                    refreshed += 1
                except Exception:
                    failed += 1
            logger.info("refreshed pages", extra={"refreshed": refreshed, "failed": failed})

        def render(template):
            outcome = "rendered"
            try:
                template.render()
            except Exception:
                outcome = "skipped"
            logger.warning("render finished: %s", outcome)

        async def refresh_quietly(pages):
            failed = 0
            for page in pages:
                try:
                    await page.refresh()
                except Exception:
                    failed += 1
            return pages
        """
    )
    # A count nobody reads (or only returns) is still reported.
    assert [finding.line for finding in found] == [30]


def test_a_block_that_only_prints() -> None:
    found = findings(
        """
        import logging

        logger = logging.getLogger(__name__)
        MODE = "production"

        def announce(address):
            logger.info("Starting on %s", address)
            try:
                if MODE not in ["development", "test"]:
                    print(f"server started on {address}")
            except Exception:
                pass

        def announce_details(server):
            try:
                print(server.describe())
            except Exception:
                pass
        """
    )
    # A print of what a call computes hides that call's failure: reported.
    assert [finding.line for finding in found] == [18]


def test_an_argument_that_cannot_be_converted_passed_on_unchanged() -> None:
    found = findings(
        """
        import requests
        from sqlalchemy.engine import make_url

        def strip_options(database_string):
            try:
                url = make_url(database_string)
            except Exception:
                return database_string
            if "options" not in url.query:
                return database_string
            return url.set(query={}).render_as_string()

        def strip_other(database_string, fallback):
            try:
                url = make_url(fallback)
            except Exception:
                return database_string
            if "options" not in url.query:
                return database_string
            return url.render_as_string()

        def resolve(link):
            try:
                response = requests.head(link, timeout=5)
            except Exception:
                return link
            if response.status_code != 301:
                return link
            return response.headers["location"]

        def normalise(text):
            try:
                url = make_url(text)
            except Exception:
                return text
            return url.render_as_string()
        """
    )
    # Another value converted, a request made, or a function that never answers its input as it came:
    # still reported.
    assert [finding.line for finding in found] == [17, 26, 35]


def test_a_failure_named_through_a_helper_that_builds_the_answer() -> None:
    found = findings(
        """
        from dataclasses import dataclass

        @dataclass
        class Render:
            status: str
            reason: str = ""
            text: str = ""

        def render(env, source, data):
            def unmarked(reason):
                return Render(status="unmarked", reason=reason)

            def plain(text):
                return Render(status="plain", text=text)

            try:
                text = env.from_string(source).render(data)
            except Exception:
                return unmarked("render_error")
            try:
                text = env.from_string(source).render(data)
            except Exception:
                return plain(source)
            return Render(status="marked", text=text)
        """
    )
    # A helper handed no failure (`plain(source)`) is still reported.
    assert [finding.line for finding in found] == [23]


def test_a_teardown_function_is_read_by_its_words_whatever_the_case_style() -> None:
    from backbone.review.knowledge.errors import is_teardown_function

    for name in ("_stop_message_forwarding", "shutdown", "__aexit__", "stopServer", "closeConnection2", "aclose"):
        assert is_teardown_function(name), name
    for name in ("stopwatch", "closest_match", "disposition", "upload"):
        assert not is_teardown_function(name), name


def test_a_nested_functions_return_is_not_one_of_the_outer_functions_answers() -> None:
    found = findings(
        """
        def render(template, context):
            def on_missing(name):
                return None
            try:
                return template.render(context, on_missing)
            except Exception:  # the template may be broken: show nothing
                return None
        """
    )
    # `render` never answers None on a path where nothing failed: `on_missing` answers the
    # template, not render's caller, so the catch-all's None is no normal answer.
    assert [finding.line for finding in found] == [7]


def test_a_yield_in_a_nested_scope_does_not_make_a_raising_function_a_generator() -> None:
    from backbone.review.knowledge.errors import raises_on_every_path

    tree = ast.parse("def fail(message):\n    hook = lambda: (yield)\n    raise LookupError(message)\nfail('x')\n")
    function, call = tree.body[0], tree.body[1]
    assert isinstance(function, ast.FunctionDef) and isinstance(call, ast.Expr) and isinstance(call.value, ast.Call)
    assert raises_on_every_path(function, call.value, {})


def test_a_nested_functions_true_is_not_the_success_answer_of_the_function_around_it() -> None:
    found = findings(
        """
        def sync_all(client):
            def on_done():
                return True
            try:
                client.sync(on_done)
            except Exception:
                return False
            return None

        def sync_flag(client):
            def on_done():
                synced = True
                return synced
            synced = None
            try:
                client.sync(on_done)
            except Exception:
                synced = False
            return synced
        """
    )
    # Neither function says True on success (only its callback does): False is no probe's answer.
    assert [(finding.line, finding.rule_confidence) for finding in found] == [(7, Confidence.HIGH), (18, Confidence.HIGH)]


def test_a_fallback_for_missing_package_metadata_is_not_reported() -> None:
    """`VERSION = "unknown"` when the distribution is not installed: the value says what failed."""
    assert findings(
        """
        try:
            from importlib.metadata import version
            VERSION = version(__name__)
        except Exception as e:
            VERSION = "unknown"

        import pkg_resources

        try:
            RELEASE = pkg_resources.get_distribution("service").version.split("+")[0]
        except Exception:
            RELEASE = None
        """
    ) == []


def test_a_metadata_read_next_to_other_work_is_still_reported() -> None:
    snippet = """
        import requests
        from importlib.metadata import version

        try:
            VERSION = version(__name__)
            LATEST = requests.get("https://pypi.org/pypi/service/json", timeout=5).json()["info"]["version"]
        except Exception:
            VERSION = LATEST = "unknown"

        try:
            VERSION = version(__name__)
        except Exception:
            register_plugin("service")
        """
    assert [finding.line for finding in findings(snippet)] == [8, 13]


def test_printing_the_failure_in_a_program_run_by_hand_is_its_report() -> None:
    """The top level of a file that parses its command line, and a `__main__` block, run in a console."""
    assert findings(
        """
        import argparse

        from service.dicom import send, read

        parser = argparse.ArgumentParser(description="send files")
        parser.add_argument("file", nargs="+")
        args = parser.parse_args()

        for name in args.file:
            try:
                send(read(name))
            except:
                print("problem", name)
        """
    ) == []
    assert findings(
        """
        from service.dicom import send

        if __name__ == "__main__":
            try:
                send("sample.dcm")
            except Exception:
                print("could not send")
        """
    ) == []


def test_printing_in_an_imported_module_is_still_reported() -> None:
    snippet = """
        import argparse

        from service.dicom import send

        def main():
            parser = argparse.ArgumentParser()
            return parser.parse_args()

        def push(name):
            try:
                send(name)
            except Exception:
                print("problem", name)

        try:
            send("boot.dcm")
        except Exception:
            print("problem")
        """
    assert [finding.line for finding in findings(snippet)] == [13, 18]


def test_an_error_status_recorded_for_the_page_answers_the_failure() -> None:
    """`flower_status = 500` in a view that renders it: the page says the service is down."""
    assert findings(
        """
        import requests
        from django.shortcuts import render

        def service_status(request):
            try:
                worker = requests.get("http://localhost:5555/api/tasks", timeout=5)
                worker_status = 200 if worker.status_code == 200 else 401
            except requests.ConnectionError:
                worker_status = 500
            return render(request, "status.html", {"worker_status": worker_status})
        """
    ) == []


def test_a_success_status_or_another_name_set_on_failure_is_still_reported() -> None:
    snippet = """
        import requests
        from django.shortcuts import render

        def service_status(request):
            try:
                worker = requests.get("http://localhost:5555/api/tasks", timeout=5)
                worker_status = worker.status_code
            except requests.ConnectionError:
                worker_status = 200
            try:
                queues = requests.get("http://localhost:15672/api/queues", timeout=5).json()
            except requests.ConnectionError:
                queue_count = 500
            return render(request, "status.html", {"worker_status": worker_status})
        """
    assert [finding.line for finding in findings(snippet)] == [9, 13]


def test_an_empty_fallback_that_the_next_check_reports_is_not_reported() -> None:
    """`except: modality = ""`, then `elif not modality:` adds a message for the user."""
    assert findings(
        """
        from django.contrib import messages

        def change_modality(request, studies, pk):
            error_message = ""
            try:
                modality = studies.filter(pk=pk)[0].modality_type
            except:
                modality = ""
            if modality in {"DX", "CR"}:
                studies.filter(pk=pk).update(modality_type="RF")
            elif not modality:
                error_message = error_message + "Can't determine the modality type."
            if error_message:
                messages.error(request, error_message)
        """
    ) == []


def test_an_empty_fallback_nobody_reports_is_still_reported() -> None:
    snippet = """
        def change_modality(studies, pk):
            try:
                modality = studies.filter(pk=pk)[0].modality_type
            except Exception:
                modality = ""
            if modality in {"DX", "CR"}:
                studies.filter(pk=pk).update(modality_type="RF")
            elif not modality:
                modality = "DX"
            return modality
        """
    assert [finding.line for finding in findings(snippet)] == [5]
