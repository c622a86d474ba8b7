"""BB101 silent-except: a broad or infrastructure error caught and dropped without a trace."""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from backbone.findings import Confidence, Severity
from backbone.records import Record
from backbone.review.context_kinds import ExecutionContext
from backbone.review.knowledge.blocking import blocking_function
from backbone.review.knowledge.errors import (
    CURRENT_EXCEPTION_CALLS,
    NON_RETURNING_CALLS,
    NON_RETURNING_METHODS,
    SIGNAL_METHODS,
    ExceptionClass,
    ExceptionKind,
    InfrastructureArea,
    describe_exception,
    guess_exception,
    is_error_response,
    is_error_status,
    is_teardown_call,
    is_teardown_function,
    module_constants,
    raises_on_every_path,
)
from backbone.review.knowledge.logging import (
    LOG_LEVEL_METHODS,
    LOGGING_COMPONENT_BASES,
    LOGGING_COMPONENT_METHODS,
    LoggerBindings,
    Reporting,
    reporting_of_call,
)
from backbone.review.names import BUILTIN_NAMES, dotted_name, last_name
from backbone.review.rules.base import OptionValue, Rule, RuleDoc
from backbone.review.rules.failure import _absence as absence
from backbone.review.rules.failure import _handled as handled
from backbone.review.rules.failure import _hooks as hooks
from backbone.review.semantic import NESTED_SCOPES, block_nodes

if TYPE_CHECKING:
    from backbone.review.context import FileContext

_SUPPRESS_CALLS = frozenset({"contextlib.suppress", "contextlib2.suppress"})
_LONGEST_SHOWN = 48
# Writing to the console of a command someone runs by hand: the person who ran it reads it.
_CONSOLE_WRITES = frozenset({"print", "click.echo", "click.secho", "typer.echo", "typer.secho", "rich.print"})
_SLEEPS = frozenset({"time.sleep", "asyncio.sleep", "anyio.sleep", "trio.sleep", "gevent.sleep", "eventlet.sleep"})
# Listing a directory, and reading what the file system says about one of its entries.
_DIRECTORY_LISTINGS = frozenset({"os.scandir", "os.listdir", "glob.glob", "glob.iglob"})
_ENTRY_METADATA_READS = frozenset(
    {"os.stat", "os.lstat", "os.path.getmtime", "os.path.getctime", "os.path.getatime", "os.path.getsize"}
)
_ENTRY_METADATA_METHODS = frozenset({"stat", "lstat", "is_dir", "is_file", "is_symlink"})
_RUN_BY_HAND = frozenset({ExecutionContext.CLI, ExecutionContext.SCRIPT})
_CONSEQUENCE = "so failures vanish without a trace"
# Functions whose whole job is a yes/no answer: `has_jpeg_support`, `is_reachable`, `redis_available`.
_PREDICATE_NAME = re.compile(
    r"^_*(is|has|can|supports?|should|check|probe|ping|healthy?)(_|$)"
    r"|_(available|supported|installed|exists|works|reachable|enabled|healthy|ok)$"
)
# Functions whose name promises a default on failure: `try_read_version`, `get_user_or_none`.
_BEST_EFFORT_NAME = re.compile(r"^_*(try|safe|safely|maybe)_|_(or_none|or_default|safe|safely|quietly|silently)$")
_FAILURE_WORDS = frozenset(
    {"error", "errors", "err", "message", "msg", "reason", "warning", "warnings", "failure", "failures", "failed"}
)
_COLLECTING_METHODS = frozenset({"append", "add", "extend", "update", "insert", "put", "setdefault"})
_WORD = re.compile(r"[A-Z]?[a-z0-9]+|[A-Z]+(?![a-z])")
_CONTAINER_METHODS = frozenset(
    {"append", "add", "extend", "update", "insert", "setdefault", "get", "pop", "items", "keys", "values", "copy"}
    | {"format", "join", "split", "strip", "replace", "lower", "upper"}
)


class _Caught(Record, frozen=True):
    """What makes a caught type reportable, and how sure backbone is of it."""

    exception: ExceptionClass
    # The member of the caught type that is broad or infrastructure ("Exception" in
    # `(KeyError, Exception)`); "" for a bare `except:`.
    culprit: str
    confidence: Confidence


class SilentExcept(Rule):
    code = "BB101"
    name = "silent-except"
    summary = (
        "An except clause (or contextlib.suppress) catches a broad or infrastructure error and "
        "neither re-raises, logs, uses the exception nor answers with an error response."
    )
    # A warning, not an error: swallowing is sometimes a deliberate choice (a best-effort
    # cache write) and the code keeps running; backbone keeps `error` for findings that are
    # wrong whatever the intent (a leaked secret, SQL built from input).
    severity = Severity.WARNING
    contexts = {ExecutionContext.CLI: Severity.INFO, ExecutionContext.SCRIPT: Severity.INFO, ExecutionContext.STARTUP: Severity.INFO}
    subscribes = (ast.ExceptHandler, ast.With, ast.AsyncWith, ast.FunctionDef, ast.AsyncFunctionDef)
    doc = RuleDoc(
        what_it_does=(
            "Finds `except` clauses (including `except*` and `contextlib.suppress(...)`) that catch "
            "everything (a bare `except:`, `Exception`, `BaseException`, or a tuple holding one) or an "
            "infrastructure error (database driver and ORM errors, HTTP client errors, SMTP errors, "
            "`OSError`/`ConnectionError`/`TimeoutError`, cloud and payment SDK errors), and whose body "
            "neither re-raises (any `raise`, `abort(...)`, `pytest.fail`, `sys.exit`), logs (the "
            "`logging` module or a logger, structlog (its async `await logger.aexception(...)` too), loguru, Sentry and other error trackers, "
            "`warnings.warn`, `traceback.print_exc`), uses the caught exception, tells the user (Django "
            "messages, Flask `flash`) nor answers with an error response (a 4xx/5xx response object, "
            "`return body, 500`).\n\n"
            "Narrow, expected exceptions (`KeyError`, `ValueError`, `ImportError`, `StopIteration`, "
            "`FileNotFoundError`, `DoesNotExist`, a cloud SDK's `Conflict`/`AlreadyExists` answering a create of what "
            "exists, paramiko's `PasswordRequiredException` for an encrypted key, ...) are not flagged: catching them is a decision. "
            "Neither are handlers that lose nothing:\n\n"
            "- a `try` whose body only imports (probing for an optional dependency, and recording what it "
            "provides: `versions[\"ml\"] = {\"version\": ml.__version__}`) or only releases a "
            "resource (`conn.close()`, `os.remove(tmp)`, `proc.kill()`, `result = close()` then "
            "`if asyncio.iscoroutine(result): await result`), or, in a function that stops or closes "
            "something (`stop_forwarding`, `shutdown`, `__aexit__`), sends it a non-blocking signal "
            "(`queue.put_nowait(SENTINEL)`, `event.set()`);\n"
            "- a `try` whose body only reads the installed distribution's metadata into names "
            "(`VERSION = importlib.metadata.version(__name__)`, `pkg_resources.get_distribution(...).version`) "
            "and whose handler only sets those names to a constant (`VERSION = \"unknown\"`): the read fails "
            "when the package runs uninstalled, and the fallback value says so wherever it is shown;\n"
            "- a retry, or the same operation done another way (`decode(\"utf-8\")` then "
            "`decode(\"latin-1\")`), or another request to the same service object "
            "(`self.client.indices.create(...)` then `self.client.indices.put_mapping(...)`): if the second "
            "attempt fails, its error propagates;\n"
            "- a handler that passes when the statement right after the `try` asks the same object for the same "
            "thing another way, and returns either answer (`return store.get_table(name)`, then "
            "`return store.get_view(name)`): the last "
            "attempt is what the caller sees, and it is reviewed on its own;\n"
            "- a fallback inside another handler that itself re-raises or logs;\n"
            "- a handler that records the failure (`errors.append(row)`, `error_message = \"...\"`, or an HTTP "
            "error status in a place that holds a status, `worker_status = 500`, `response.status_code = 503`, "
            "which the page or response that reads it shows);\n"
            "- a function whose name promises the answer: a predicate (`is_port_open`, "
            "`has_jpeg_support`) returning False, a best-effort helper (`try_read_version`, "
            "`load_or_none`) returning its default;\n"
            "- a failure handed to the caller as a value: `return {\"error\": \"connection failed\"}`, "
            "`Result(ok=False, error_message=...)`, `{\"sent\": False}`, a message that says what failed "
            "(\"Couldn't reach the API.\", `(\"Permission denied: malformed path\", True)`), or a value built by a helper of the "
            "function or module handed the failure in a parameter named for it (`return unmarked(\"render_error\")` where "
            "`def unmarked(reason): ...`); an `abort(400, ...)` of the project's own, or a helper named "
            "for an error status (`bad_request(...)`, `precondition_required(...)`);\n"
            "- an optional local file: the guarded block only reads files (`open(path)` or `path.open(\"r\")` for reading, "
            "`path.stat()`, `os.path.getmtime(...)`) or lists a directory (`path.iterdir()`, `entry.is_dir()`, "
            "`os.listdir(...)`) or the process's surroundings (`inspect.getfile(module)`, `shutil.get_terminal_size()`, "
            "`resource.getrlimit(...)`, which fail when there is none), and parses what it read (`data = json.load(f)` then `data.get(\"version\")`), "
            "so its failure means the file is missing, unreadable or not in that format (a file whose content becomes "
            "an object's state, `self.manifest = ...`, is one the object needs, and is still reported; its metadata "
            "kept as a stamp, `self._mtime = path.stat().st_mtime`, stays as it was and is read again next time);\n"
            "- an optional setting looked up: the block only imports an optional module and reads attributes that "
            "may be missing (`getattr(store.config, \"tracing\", None)`, `metrics.enabled and getattr(view, "
            "\"track\", False)`) to set a flag, which the handler leaves at a constant: the feature is off when its "
            "setting can't be read;\n"
            "- a parse that falls back to a default (or a `contextlib.suppress` around one): the guarded block "
            "only converts values (`json.loads`, `json.dumps`, `yaml.safe_load`, `bytes.fromhex`, `int(...)`, `dateutil.parser.parse`, "
            "`text.encode(...)`/`.decode(...)`/`.split(...)`) or matches text against a pattern (`re.findall(...)`), "
            "possibly of a setting it reads from the environment "
            "(`int(os.environ.get(\"TIMEOUT\", \"\"))`) or of the process's clock (`int(time.time() - time.monotonic())`), "
            "so its failure means the input is not in that format; adding what it parsed to a list the function "
            "builds (`tokens = []`, then `tokens.extend(shlex.split(part))`, falling back to `tokens.append(part)`) "
            "is part of the parse (a list held elsewhere, `self.tokens`, is still reported);\n"
            "- the body of a response whose status the code already read (`if response.status_code >= 400: "
            "raise ...` then `try: return response.json()`) that falls back to its raw text: the response "
            "arrived and is not JSON (an awaited `await response.json()` still reads from the network);\n"
            "- a lookup of the surroundings (a call with no arguments: `request = current_request()`) whose "
            "handler gives the answer the code right after gives when there is none (`if request is None: "
            "return None`): the failure means there is none (a lookup by an argument, `db.get(user_id)`, can "
            "fail for other reasons and is still reported);\n"
            "- a call of a hook the code looked up as optional (`schedule = getattr(trainer, \"rate_schedule\", None)` "
            "then `return schedule(step)`) whose handler answers the default it chose for a missing one "
            "(`return None`);\n"
            "- a call of a hook of the class's own (`url = self._console_url()`) whose definition there only answers "
            "a constant for subclasses to override (`return None`), when the handler gives that constant "
            "(`url = None`): a failing override is answered as if there were none;\n"
            "- a cache that is down, where the block only reads or fills a cache (`cache.get`, `cache.set`): "
            "a miss, computed again from the source (a failed `cache.delete(...)` leaves a stale value and is "
            "still reported);\n"
            "- an exception the guarded block raises itself (`raise IntegrityError()` to abort a transaction);\n"
            "- a timeout the code chose itself (`asyncio.wait_for(..., timeout=30)`, `queue.get(timeout=1)`): "
            "the expiry is the outcome asked for, a poll interval or a bounded wait;\n"
            "- a unique-constraint violation recovered on purpose: the handler rolls back or the code "
            "reads the row again (a get-or-create race);\n"
            "- a handler that only leaves a name empty (`modality = \"\"`) when the statement right after the "
            "`try` checks for that (`if ...: ... elif not modality:`) and reports it there (records the failure, "
            "`error_message += \"Can't determine the modality\"`, logs, raises or answers an error);\n"
            "- a `contextlib.suppress` whose block returns when it works, followed by a log call or a "
            "`raise`: the code after the block runs only on the failure, and reports it;\n"
            "- in a command run by hand (CLI commands, management commands, scripts, the `if __name__ == "
            "\"__main__\":` block, and the top level of a file that reads its command line there: "
            "`args = argparse.ArgumentParser(...).parse_args()` or `sys.argv`), a handler that "
            "prints to the console (`print`, `click.echo`, `self.stdout.write`): the person who ran it "
            "reads what failed;\n"
            "- a loop over candidates (`for port in ports: try: serve(port); break / except OSError: "
            "continue`) whose `else:` logs or raises when every candidate failed, or after which a check that "
            "nothing was found (`if lib is None: raise LibraryNotFound()`) does;\n"
            "- a retry or poll loop (`for attempt in range(3):`, `while time.time() < deadline:`) whose handler "
            "only waits or moves on (`time.sleep(delay)`, `await asyncio.sleep(...)`, `continue`, `delay *= 2`), "
            "whose guarded block leaves the loop when an attempt works (`return`, or `break` with an `else:`), "
            "and where what runs once every attempt failed raises or logs (`raise NetworkError(...)` after the "
            "loop): one attempt failing is expected, running out of them is reported (a loop that then "
            "returns quietly is still reported);\n"
            "- an entry of a directory listed just before (`for entry in path.iterdir():`, `os.scandir(...)`, "
            "`os.listdir(...)`, `glob.glob(...)`) whose metadata the block reads (`entry.stat()`, "
            "`os.stat(entry.path)`) and collects (`found.append(...)`) or removes with errors ignored "
            "(`shutil.rmtree(entry.path, ignore_errors=True)`), when the handler of an `OSError` skips it "
            "(`pass`, `continue`): the entry went away between the listing and the read (a catch-all, or a "
            "block that moves or writes the entry, is still reported);\n"
            "- a handler that calls a function of the same module that raises on every path, given what it "
            "is passed (`_check(LIBRARY_NOT_FOUND)` where `_check` raises for any code but success): that is a "
            "`raise`;\n"
            "- an ignore the author explained, in a comment or a string in the handler, or a comment right "
            "after its last statement (three words or more; linter directives such as `# noqa` and "
            "`# TODO` are no explanation), when it catches a named error: a catch-all (`except "
            "Exception:`) swallows more than any explanation covers and is still reported, unless what it "
            "falls back to is a path the code takes anyway: one of the function's own answers given where "
            "nothing failed, when that answer is a call run again (`return view(*args, **kwargs)` in a caching "
            "wrapper whose uncached path returns the same) or nothing (`return None` where the function also "
            "answers `None` and answers values elsewhere; in a procedure `return` abandons the work; returning the success value, `return value`, turns the failure into a success), or a value left as it was "
            "when rewriting it from itself failed (`frame[col] = frame[col].apply(fmt)`), or set back to the "
            "constant the statement right before the `try` gave it (`empty = False`, then `except Exception: "
            "empty = False`), "
            "or a block that only imports and calls functions whose names say they may do nothing "
            "(`maybe_warn_agent(...)`, `try_prefetch(...)`);\n"
            "- a block that only logs (`with suppress(Exception): logger.info(...)` in a `finally`): a failing "
            "report cannot itself be reported, and it must not replace the exception on its way out;\n"
            "- a block that only prints text to the console (`print(f\"server started on {address}\")`, maybe under "
            "a condition that calls nothing): only the output can fail (a print of what a call computes, "
            "`print(server.describe())`, is still reported);\n"
            "- a conversion of the function's own argument that, when it fails, returns the argument as it came "
            "(`try: url = make_url(text) / except Exception: return text`), in a function that also returns it "
            "unchanged where there is nothing to convert: the value goes on as the caller gave it (a block that "
            "awaits or does I/O, `requests.head(link)`, is still reported);\n"
            "- a task the code cancelled right before and then awaits (`task.cancel()` then `with "
            "suppress(CancelledError, Exception): await task`): the cancellation asked for is the expected outcome;\n"
            "- a failure counted or named in a variable (`failed += 1`, `reason = \"render_error\"`) that a log "
            "call after the `try` reports (`logger.info(\"closed\", extra={\"failed\": failed})`): the count "
            "reaches the log (a count nobody logs is still reported);\n"
            "- in a best-effort helper (`_safe_error_text`), a handler that passes on to the default returned "
            "right after the `try`;\n"
            "- a handler where no error can go anywhere: in a finalizer (`__del__`), which the garbage collector "
            "calls at a time no caller chose, or in the `filter`/`emit`/`format` of a `logging.Filter`, `Handler` "
            "or `Formatter` subclass, which cannot log its own failure without re-entering the logging pipeline;\n"
            "- the same operation asked of another implementation with the same inputs "
            "(`RSAKey.from_private_key(buf, password=p)` then `Ed25519Key.from_private_key(buf, password=p)`): "
            "the last attempt's error propagates;\n"
            "- a model parsed from text (`Entry.model_validate_json(line)`, `adapter.validate_json(raw)`) that "
            "falls back to another reading of it.\n\n"
            "It also finds framework error hooks that take every exception away from the framework "
            "(which would log it) and answer with a response without logging it: Flask "
            "`@app.errorhandler(Exception)` and `register_error_handler(Exception, ...)`, Django "
            "middleware `process_exception` returning a response, and DRF exception handlers (a "
            "function of `(exc, context)` calling DRF's `exception_handler`) that answer what DRF's own "
            "handler leaves unhandled (a handler that returns DRF's own answer, `return exception_handler(exc, "
            "context)`, leaves the unexpected ones to DRF). Reported at the hook's `def` line. Handlers of one status "
            "(`errorhandler(404)`, `errorhandler(500)`, which Flask calls after logging) are not hooks "
            "for every exception.\n\n"
            "Tests that fail loudly (`self.fail(...)`, `pytest.fail(...)`) re-raise, as far as this rule "
            "is concerned.\n\n"
            "Confidence is lowered when the caught name can't be resolved and is taken as an "
            "infrastructure error by its name alone (`except conn.OperationalError`), when the body calls "
            "code backbone can't see into (which might report), when the failure becomes a `False` "
            "answer, and for unique-constraint violations (`IntegrityError`), which callers sometimes "
            "ignore on purpose."
        ),
        why_is_this_bad=(
            "A swallowed error turns an outage into wrong data. The request succeeds with an empty list, "
            "the email is never sent, the payment is never recorded, and nothing in the logs, the error "
            "tracker or the response says so: the first report comes from a user, days later, with no "
            "traceback to start from. A broad catch also hides bugs (a `TypeError` in your own code looks "
            "exactly like a network blip), and a bare `except:` even swallows `KeyboardInterrupt` and "
            "`SystemExit`."
        ),
        example=(
            "import requests\n"
            "from fastapi import APIRouter\n\n"
            "router = APIRouter()\n\n\n"
            '@router.get("/rates")\n'
            "def rates():\n"
            "    try:\n"
            "        return requests.get(RATES_URL, timeout=5).json()\n"
            "    except requests.RequestException:\n"
            "        return {}\n"
        ),
        use_instead=(
            "import logging\n\n"
            "import requests\n"
            "from fastapi import APIRouter, HTTPException\n\n"
            "logger = logging.getLogger(__name__)\n"
            "router = APIRouter()\n\n\n"
            '@router.get("/rates")\n'
            "def rates():\n"
            "    try:\n"
            "        return requests.get(RATES_URL, timeout=5).json()\n"
            "    except requests.RequestException:\n"
            '        logger.exception("rates provider unavailable")\n'
            '        raise HTTPException(status_code=503, detail="Rates are unavailable")\n'
        ),
    )

    VALID = (
        # A setting read from the environment that falls back to its default when it is not a number,
        # and a refusal handed to the caller as a message.
        """
        import os
        from pathlib import Path

        DEFAULT_TIMEOUT = 300
        try:
            CLIENT_TIMEOUT = int(os.environ.get("CLIENT_TIMEOUT", ""))
        except Exception:
            CLIENT_TIMEOUT = DEFAULT_TIMEOUT

        def check_path(raw_path, cwd):
            try:
                relative = Path(raw_path).resolve().relative_to(cwd)
            except (ValueError, OSError, TypeError):
                return f"Permission denied: malformed path {raw_path!r}", True
            return str(relative), False
        """,
        # structlog's async API logs; an optional dependency's version read; a best-effort close
        # whose result may be awaited; a shutdown sentinel put on a queue while stopping.
        """
        import asyncio
        import contextlib

        import structlog

        logger = structlog.get_logger()

        async def import_variables(session, resolve):
            try:
                providers = await resolve(session)
            except Exception:
                await logger.aexception("Could not resolve providers")
                return
            return providers

        def versions():
            result = {}
            try:
                import ml_backend

                result["ml"] = {"version": ml_backend.__version__}
            except Exception:
                pass
            return result

        async def close_pubsub(pubsub, on_reconnect):
            deregister = getattr(pubsub.connection, "deregister_connect_callback", None)
            if deregister is not None:
                with contextlib.suppress(Exception):
                    deregister(on_reconnect)
            close = getattr(pubsub, "aclose", None) or getattr(pubsub, "close", None)
            with contextlib.suppress(Exception):
                result = close()
                if asyncio.iscoroutine(result):
                    await result

        def stop_forwarding(queue, thread):
            try:
                queue.put_nowait(None)
            except (ValueError, OSError):
                pass
            thread.join(timeout=5)
        """,
        # Logged through a module logger.
        """
        import logging

        logger = logging.getLogger(__name__)

        def sync_inventory(client):
            try:
                client.push()
            except Exception:
                logger.exception("inventory sync failed")
        """,
        # Re-raised as a domain error, chained.
        """
        class AppError(Exception):
            pass

        def load(repository, key):
            try:
                return repository.fetch(key)
            except Exception as exc:
                raise AppError(f"cannot load {key}") from exc
        """,
        # Sent to the error tracker.
        """
        import sentry_sdk

        def send_receipt(mailer, order):
            try:
                mailer.send(order.email)
            except Exception:
                sentry_sdk.capture_exception()
        """,
        # FastAPI: answers with a 500.
        """
        from fastapi import APIRouter
        from fastapi.responses import JSONResponse

        router = APIRouter()

        @router.get("/report")
        def report():
            try:
                return build_report()
            except Exception:
                return JSONResponse({"error": "report unavailable"}, status_code=500)
        """,
        # Only one errno is expected; everything else is re-raised.
        """
        import errno
        import os

        def remove_pidfile(path):
            try:
                os.remove(path)
                os.sync()
            except OSError as error:
                if error.errno != errno.ENOENT:
                    raise
        """,
        # Cleanup, then re-raise.
        """
        def write_atomically(path, data, tmp):
            try:
                tmp.write(data)
                tmp.rename(path)
            except Exception:
                tmp.unlink()
                raise
        """,
        # A test that fails loudly.
        """
        import unittest

        class ClientTest(unittest.TestCase):
            def test_ping(self):
                try:
                    self.client.ping()
                except Exception:
                    self.fail("ping raised")
        """,
        # Narrow, expected exceptions.
        """
        try:
            import yaml
        except ImportError:
            yaml = None

        def price(prices, sku):
            try:
                return int(prices[sku])
            except (KeyError, ValueError):
                return None
        """,
        # A create of what already exists (idempotent); an encrypted key given without its passphrase.
        """
        import google.api_core.exceptions
        import paramiko

        def ensure_firewall_rule(client, rule):
            try:
                client.insert(firewall_resource=rule).result()
            except google.api_core.exceptions.Conflict:
                pass

        def load_key(path):
            try:
                return paramiko.RSAKey.from_private_key_file(path)
            except paramiko.PasswordRequiredException:
                return None
        """,
        # Flask: answers with a 503 tuple.
        """
        from flask import Flask, jsonify
        from sqlalchemy.exc import OperationalError

        app = Flask(__name__)

        @app.route("/orders")
        def orders():
            try:
                return jsonify(load_orders())
            except OperationalError:
                return jsonify(error="database unavailable"), 503
        """,
        # Django: an error response, and a message shown to the user.
        """
        from django.contrib import messages
        from django.db import DatabaseError
        from django.http import HttpResponseServerError
        from django.shortcuts import redirect

        def export(request):
            try:
                return build_export(request.user)
            except DatabaseError:
                return HttpResponseServerError("export failed")

        def save_profile(request):
            try:
                request.user.profile.save()
            except DatabaseError:
                messages.error(request, "Your profile could not be saved.")
            return redirect("profile")
        """,
        # The exception is used in the answer.
        """
        def check(service):
            try:
                service.ping()
            except Exception as e:
                return {"ok": False, "error": str(e)}
            return {"ok": True}
        """,
        # Probing for an optional dependency, and releasing a resource.
        """
        try:
            import ujson as json
        except Exception:
            import json

        def close_quietly(connection):
            try:
                connection.close()
            except Exception:
                pass
        """,
        # structlog, loguru, warnings and traceback all report.
        """
        import traceback
        import warnings

        import structlog
        from loguru import logger

        log = structlog.get_logger()

        def a(job):
            try:
                job.run()
            except Exception:
                log.warning("job failed", job=job.id)

        def b(job):
            try:
                job.run()
            except Exception:
                logger.error("job failed")

        def c(job):
            try:
                job.run()
            except Exception:
                warnings.warn("job failed")

        def d(job):
            try:
                job.run()
            except Exception:
                traceback.print_exc()
        """,
        # Flask abort and a FastAPI HTTPException both leave the handler with an error.
        """
        import requests
        from fastapi import HTTPException
        from flask import abort

        def flask_view():
            try:
                return requests.get("https://api.example.com", timeout=3).json()
            except requests.RequestException:
                abort(502)

        async def fastapi_route():
            try:
                return requests.get("https://api.example.com", timeout=3).json()
            except requests.RequestException:
                raise HTTPException(status_code=502)
        """,
        # Fallbacks that lose nothing: a predicate answering False, a second attempt another
        # way, a secondary failure while a reported one is handled, a Flask-AppBuilder 500.
        """
        import socket

        from sqlalchemy.exc import OperationalError

        def is_port_open(host, port):
            for family, _, _, _, address in socket.getaddrinfo(host, port):
                try:
                    socket.create_connection(address, timeout=2).close()
                    return True
                except OSError:
                    continue
            return False

        def text_of(payload: bytes) -> str:
            try:
                return payload.decode("utf-8")
            except Exception:
                return payload.decode("latin-1")

        def upload(reader, path):
            try:
                return reader.load(path)
            except ValueError as error:
                try:
                    detail = reader.describe(error)
                except Exception:
                    detail = "unreadable file"
                raise UploadFailed(detail) from error

        class DatabaseApi(BaseApi):
            def schemas(self, pk):
                try:
                    return self.response(200, result=list_schemas(pk))
                except OperationalError:
                    return self.response(500, message="Cannot connect to the database")
        """,
        # Handled another way: the failure handed to the caller as a value, answered with the
        # project's own abort(400) or a helper named for an error status.
        """
        import requests

        def status_page(client):
            try:
                client.ping()
            except Exception:
                return {"error": "connection failed"}
            return {"ok": True}

        def notify(websocket, item):
            try:
                websocket.send(item)
                return {"sent": True}
            except Exception:
                return {"sent": False}

        def lookup(url):
            try:
                requests.get(url, timeout=5).raise_for_status()
            except requests.HTTPError:
                return "Couldn't reach the Safe Browsing API."

        def edit(request, base):
            try:
                form = parse_form(request.form)
            except Exception:
                base.abort(400, "Integrity Error")
            return form

        def rename(session, group, name):
            try:
                group.name = name
                session.commit()
            except Exception:
                return precondition_required("The connection to the server was lost.")
        """,
        # A parse that falls back to a default: the input is not in that format.
        """
        import json
        import time

        import yaml

        def arguments(instance):
            try:
                return yaml.safe_load(instance.arguments or "{}")
            except Exception:
                return {}

        def hex_to_bytes(text):
            try:
                return bytes.fromhex(text)
            except Exception:
                return b""

        def escape(text):
            try:
                text = text.encode("ascii", "xmlcharrefreplace").decode("utf-8")
            except Exception:
                pass
            return text

        def boot_marker():
            try:
                boot = str(int(time.time() - time.monotonic()))
            except Exception:
                boot = "unknown"
            return boot

        def report_content(story):
            try:
                content = json.loads(story.content)
            except Exception:
                content = {}
            return content
        """,
        # A deadline the code chose itself: the timeout is the poll interval.
        """
        import asyncio

        async def watch(client, is_active):
            while is_active():
                try:
                    await asyncio.wait_for(client.closed.wait(), timeout=30)
                    break
                except asyncio.TimeoutError:
                    pass
        """,
        # A get-or-create race recovered: the row another request created is read again.
        """
        from sqlalchemy.exc import IntegrityError

        def group_for(db_session, name):
            try:
                db_session.add(Group(name=name))
                db_session.commit()
            except IntegrityError:
                db_session.rollback()
            return Group.query.filter_by(name=name).first()
        """,
        # An ignore the author explained, in a comment or a string.
        """
        import subprocess

        from django.db import OperationalError, ProgrammingError
        from sqlalchemy.exc import SQLAlchemyError

        def version():
            try:
                return subprocess.run(["git", "describe"], capture_output=True, check=False).stdout
            except OSError:
                # Not a git repo or git is not installed.
                pass

        def refresh_permissions(StoredPermission):
            try:
                StoredPermission.objects.exists()
            except (OperationalError, ProgrammingError):
                '''The table does not exist before the first migration; nothing to refresh.'''

        def save_history(db):
            try:
                db.session.commit()
            except SQLAlchemyError:
                db.session.rollback()
                # do not affect query execution if history saving fails
        """,
        # A best-effort cache (down means a miss), and an exception the block raises itself to abort.
        """
        import contextlib

        import redis
        from django.core.cache import cache
        from django.db import IntegrityError, transaction

        def change_logged_models(key):
            models = None
            with contextlib.suppress(redis.exceptions.ConnectionError):
                models = cache.get(key)
            if models is None:
                models = compute_models()
                with contextlib.suppress(redis.exceptions.ConnectionError):
                    cache.set(key, models, timeout=None)
            return models

        def bulk_create(forms):
            try:
                with transaction.atomic():
                    for form in forms:
                        if not form.is_valid():
                            raise IntegrityError("abort the transaction; the form shows the errors")
                        form.save()
            except IntegrityError:
                pass
        """,
        # Error hooks that log, answer one status, or hand unexpected errors back to the framework.
        """
        import logging

        from flask import Flask, jsonify
        from rest_framework.response import Response
        from rest_framework.views import exception_handler

        app = Flask(__name__)
        logger = logging.getLogger(__name__)

        @app.errorhandler(Exception)
        def handle_error(error):
            logger.exception("unhandled error")
            return jsonify(error="internal error"), 500

        @app.errorhandler(404)
        def not_found(error):
            return jsonify(error="not found"), 404

        class TimingMiddleware:
            def process_exception(self, request, exception):
                return None

        def api_exception_handler(exc, context):
            response = exception_handler(exc, context)
            if response is not None:
                response.data["status_code"] = response.status_code
            return response

        def converting_exception_handler(exc, context):
            if isinstance(exc, KeyError):
                exc = ValueError(str(exc))
            return exception_handler(exc, context)
        """,
        # The index exists already: the same service is asked to update it instead.
        """
        import elasticsearch

        class SearchBackend:
            def prepare(self, name, mappings):
                try:
                    self.client.indices.create(index=name, mappings=mappings)
                except elasticsearch.exceptions.RequestError:
                    self.client.indices.put_mapping(index=name, properties=mappings)
        """,
        # An optional local file: missing, unreadable or not JSON, the code starts without it; a directory
        # not created yet holds no attempts; no terminal, or a builtin module without a source file.
        """
        import inspect
        import json
        import shutil
        from pathlib import Path

        def numbered_subdirs(path: Path) -> list[Path]:
            try:
                entries = [entry for entry in path.iterdir() if entry.is_dir() and entry.name.isdigit()]
            except OSError:
                return []
            return sorted(entries, key=lambda entry: int(entry.name))

        def terminal_width():
            try:
                return shutil.get_terminal_size().columns
            except (AttributeError, OSError):
                return None

        def source_file(module):
            try:
                return inspect.getfile(module)
            except (TypeError, OSError):
                return None

        def product_version(path):
            try:
                with open(path, "r", encoding="utf-8") as f:
                    data = json.load(f)
                    return data.get("version")
            except (OSError, json.JSONDecodeError):
                return None

        def pending_invoices(state_path):
            try:
                with open(state_path) as f:
                    return json.load(f)
            except Exception:
                return []

        def as_text(value):
            try:
                return json.dumps(value, sort_keys=True)
            except Exception:
                return str(value)

        def api_key(path):
            try:
                with open(path) as f:
                    key = f.read(1025).strip()
                    return key if key and all(c.isascii() and c.isprintable() for c in key) else None
            except OSError:
                return None

        def file_mode(path):
            try:
                mode = path.stat().st_mode & 0o777
            except OSError:
                mode = None
            return mode
        """,
        # A CLI command tells the person who ran it.
        """
        import click
        import redis

        @click.command()
        def queue_status(url):
            try:
                client = redis.from_url(url)
                click.echo(client.llen("jobs"))
            except redis.exceptions.ConnectionError:
                print("Could not connect to Redis.")
        """,
        # The code after a suppress that returns runs only on the failure, and reports it;
        # running out of candidates is reported by the loop's else.
        """
        import contextlib
        import logging

        from django.db import OperationalError

        logger = logging.getLogger(__name__)

        def setting(config, name):
            with contextlib.suppress(OperationalError):
                return getattr(config, name)
            logger.warning("setting %s could not be read from the database", name)
            return None

        def traced_setting(config, name, tracer):
            with tracer.start_as_current_span("setting"):
                with contextlib.suppress(OperationalError):
                    return getattr(config, name)
            logger.warning("setting %s could not be read from the database", name)
            return None

        def serve_metrics(ports, start_http_server):
            for port in ports:
                try:
                    start_http_server(port)
                    break
                except OSError:
                    continue
            else:
                logger.warning("no free port for the metrics server")
        """,
        # A log emit that must not replace the exception on its way out: a failing report can't be
        # reported. An explained catch-all whose fallback is one of the function's own answers, or
        # leaves a value as it was; a best-effort helper passing on to the default it returns.
        """
        import contextlib
        import logging
        import time

        logger = logging.getLogger(__name__)

        async def access_log(app, scope, receive, send):
            start = time.monotonic()
            try:
                await app(scope, receive, send)
            finally:
                with contextlib.suppress(Exception):
                    logger.info("request finished", extra={"path": scope["path"], "took": time.monotonic() - start})

        def cached(view, check_access, cache):
            def wrapper(*args, **kwargs):
                try:
                    check_access(*args, **kwargs)
                except Exception:
                    # Without access, bypass the cache and let the view answer the request.
                    return view(*args, **kwargs)
                if cache is None:
                    return view(*args, **kwargs)
                return cache.get_or_set(repr(args), lambda: view(*args, **kwargs))
            return wrapper

        def where_latest_partition(engine, table, query):
            try:
                names, values = engine.latest_partition(table)
            except Exception:
                # the table is not partitioned
                return None
            if values is not None:
                return query.where(names[0] == values[0])
            return None

        def apply_formats(frame, column_config):
            for column, config in column_config.items():
                if "number_format" in config:
                    pattern = "{:" + config["number_format"] + "}"
                    try:
                        frame[column] = frame[column].apply(pattern.format)
                    except Exception:
                        # if the format does not apply to this column, send it as is
                        pass
            return frame

        def finish(span):
            span.end()
            try:
                from app.hints import maybe_warn_agent

                if span.inputs is None:
                    maybe_warn_agent("span-missing-inputs", f"span {span.name!r} has no inputs")
            except Exception:
                # Hints are advisory and must never prevent finishing the span.
                pass

        def _safe_error_text(response):
            try:
                error = response.json()["error"]
                return error.get("message", response.text)
            except Exception:
                pass
            return response.text
        """,
        # contextlib.suppress of a narrow type, or around a cleanup.
        """
        import contextlib
        import os

        def forget(cache, key, path):
            with contextlib.suppress(KeyError):
                del cache[key]
            with contextlib.suppress(OSError):
                os.remove(path)
        """,
        # A finalizer and a logging filter, where no error can go anywhere; the same operation asked of
        # another implementation; a model parsed from JSON text that falls back to plain text.
        """
        import asyncio
        import io
        import logging

        import paramiko
        from pydantic import BaseModel

        from app.steps import current_step

        class Client:
            def __del__(self):
                try:
                    asyncio.get_running_loop().create_task(self.aclose())
                except Exception:
                    pass

        class StepFilter(logging.Filter):
            def filter(self, record):
                try:
                    record.step = current_step().name
                except Exception:
                    pass
                return True

        def load_key(text, passphrase):
            key_file = io.StringIO(text)
            try:
                return paramiko.RSAKey.from_private_key(key_file, password=passphrase)
            except paramiko.ssh_exception.SSHException:
                key_file.seek(0)
                return paramiko.Ed25519Key.from_private_key(key_file, password=passphrase)

        class Entry(BaseModel):
            message: str

        def parse_line(line):
            try:
                return Entry.model_validate_json(line)
            except Exception:
                pass
            return Entry(message=line)
        """,
    )

    INVALID = (
        # A file opened for appending is written, not read: a lost line is lost work.
        """
        from pathlib import Path

        def append(log_path: Path, line: str) -> None:
            try:
                with log_path.open("a") as f:
                    f.write(line)
            except OSError:  # expect: BB101
                pass
        """,
        # A logging filter's helper is an ordinary method; a close scheduled outside a finalizer is lost.
        """
        import asyncio
        import logging

        from app.steps import current_step

        class StepFilter(logging.Filter):
            def step_of(self, record):
                try:
                    record.step = current_step().name
                except Exception:  # expect: BB101
                    pass

        def schedule_close(client):
            try:
                asyncio.get_running_loop().create_task(client.aclose())
            except Exception:  # expect: BB101
                pass
        """,
        # Outside a teardown, a message that can't be queued is lost; an import probe that also calls
        # the dependency hides its failures.
        """
        def publish(queue, event):
            try:
                queue.put_nowait(event)
            except (ValueError, OSError):  # expect: BB101
                pass

        def versions(result):
            try:
                import ml_backend

                result["ml"] = ml_backend.connect().server_version()
            except Exception:  # expect: BB101
                pass
        """,
        # A plain function that passes.
        """
        def refresh(cache, source):
            try:
                cache.update(source.read())
            except Exception:  # expect: BB101
                pass
        """,
        # A bare except that skips to the next item.
        """
        def import_rows(rows, save):
            for row in rows:
                try:
                    save(row)
                except:  # expect: BB101
                    continue
        """,
        # FastAPI: an HTTP client error answered with 200 and nothing.
        """
        import requests
        from fastapi import FastAPI

        app = FastAPI()

        @app.get("/weather")
        def weather(city: str):
            try:
                return requests.get(f"https://weather.example.com/{city}", timeout=5).json()
            except requests.RequestException:  # expect: BB101
                return None
        """,
        # Flask: an aliased SQLAlchemy error answered with an empty list.
        """
        from flask import Flask, jsonify
        from sqlalchemy.exc import OperationalError as DBError

        app = Flask(__name__)

        @app.route("/items")
        def items():
            try:
                rows = load_items()
            except DBError:  # expect: BB101
                rows = []
            return jsonify(rows)
        """,
        # Django: a database error rendered as an empty page.
        """
        from django.db import DatabaseError
        from django.shortcuts import render

        def order_list(request):
            try:
                orders = list(request.user.orders.all())
            except DatabaseError:  # expect: BB101
                orders = []
            return render(request, "orders.html", {"orders": orders})
        """,
        # A tuple that holds Exception is as broad as Exception.
        """
        def available_quantity(inventory, sku):
            try:
                return inventory[sku].quantity
            except (KeyError, Exception):  # expect: BB101
                return 0
        """,
        # contextlib.suppress, however it was imported.
        """
        import contextlib
        from contextlib import suppress

        def welcome(user, mailer):
            with contextlib.suppress(Exception):  # expect: BB101
                mailer.send_welcome(user)
            with suppress(ConnectionError):  # expect: BB101
                mailer.notify_sales(user)
        """,
        # except* and a bound exception that is never used.
        """
        def run_all(group):
            try:
                group.run()
            except* OSError:  # expect: BB101
                pass

        def total(values):
            try:
                return sum(values)
            except Exception as exc:  # expect: BB101
                result = None
            return result
        """,
        # SMTP and cloud SDK errors.
        """
        import smtplib

        from botocore.exceptions import ClientError

        def notify(server, message):
            try:
                server.send_message(message)
            except smtplib.SMTPException:  # expect: BB101
                pass

        def upload(s3, body):
            try:
                s3.put_object(Bucket="reports", Key="latest", Body=body)
            except ClientError:  # expect: BB101
                return {}
        """,
        # Printing is not logging.
        """
        import sys

        def charge(gateway, order):
            try:
                gateway.charge(order.total)
            except Exception:  # expect: BB101
                print("charge failed", file=sys.stderr)
        """,
        # A module alias, a tuple constant, and a project subclass of an HTTP error.
        """
        import redis as cache_backend
        import requests

        NETWORK_ERRORS = (requests.Timeout, requests.ConnectionError)

        class UpstreamError(requests.RequestException):
            pass

        def cached(client, key):
            try:
                return client.get(key)
            except cache_backend.exceptions.ConnectionError:  # expect: BB101
                return None

        def fetch(session, url):
            try:
                return session.get(url, timeout=2)
            except NETWORK_ERRORS:  # expect: BB101
                return None

        def call(api):
            try:
                return api.call()
            except UpstreamError:  # expect: BB101
                return None
        """,
        # Framework error hooks that turn every exception into a response and log nothing.
        """
        from django.http import JsonResponse
        from flask import Flask, jsonify
        from rest_framework.response import Response
        from rest_framework.views import exception_handler

        app = Flask(__name__)

        @app.errorhandler(Exception)
        def handle_error(error):  # expect: BB101
            return jsonify(error="internal error"), 500

        class ErrorMiddleware:
            def process_exception(self, request, exception):  # expect: BB101
                return JsonResponse({"error": "internal error"}, status=500)

        def api_exception_handler(exc, context):  # expect: BB101
            response = exception_handler(exc, context)
            if response is None:
                return Response({"detail": "Internal error"}, status=500)
            return response
        """,
        # A failed cache invalidation leaves the stale value in place.
        """
        import contextlib

        import redis
        from django.core.cache import cache

        def invalidate_choices(key):
            with contextlib.suppress(redis.exceptions.ConnectionError):  # expect: BB101
                cache.delete(key)
        """,
        # A catch-all around the block's own raise also swallows the HTTP errors before it.
        """
        async def invoice_status(client, checking_id):
            try:
                response = await client.post("/getreceivedinfo", data={"paymentHash": checking_id})
                data = response.json()
                if "error" in data:
                    raise Exception("error in the node's response")
                return data["status"]
            except Exception:  # expect: BB101
                return "pending"
        """,
        # A catch-all swallows more than its explanation covers.
        """
        def cancel_authorization(client, payment):
            try:
                client.post(f"/payment_intents/{payment.provider_id}/cancel").raise_for_status()
            except Exception:  # expect: BB101
                # Uncaptured authorizations lapse on their own after seven days.
                pass
        """,
        # Writing a file is not reading an optional one.
        """
        import json

        def save_state(state_path, invoices):
            try:
                with open(state_path, "w") as f:
                    json.dump(invoices, f)
            except OSError:  # expect: BB101
                pass
        """,
        # After the suppress nothing reports the failure; no else reports the last candidate failing.
        """
        import contextlib

        from django.db import OperationalError

        def setting(config, name):
            with contextlib.suppress(OperationalError):  # expect: BB101
                return getattr(config, name)
            return None

        def serve_metrics(ports, start_http_server):
            for port in ports:
                try:
                    start_http_server(port)
                    break
                except OSError:  # expect: BB101
                    continue
        """,
        # An explained catch-all whose fallback is an answer the function never gives otherwise, or
        # a value fetched again from elsewhere; a suppress around a log call and a write.
        """
        import contextlib
        import logging

        logger = logging.getLogger(__name__)

        def cancel_query(cursor, query_id):
            try:
                cursor.execute("CALL kill_query(%s)", [query_id])
            except Exception:  # expect: BB101
                # the query may have finished already
                return False
            return True

        def export(tracer, trace):
            if trace is None:
                return
            try:
                data = tracer.post_process(trace)
            except Exception:  # expect: BB101
                return  # the finally block still runs
            finally:
                trace.close()
            tracer.upload(data)

        def validate_participant(value, resolver, domain):
            try:
                if resolver.resolve(domain):
                    return value
            except Exception:  # expect: BB101
                # the directory is down, let the user proceed
                return value
            raise ValueError("unknown participant")

        def refresh_profile(user, directory):
            try:
                user.profile = directory.fetch_profile(user.id)
            except Exception:  # expect: BB101
                # the directory is optional, keep what we have
                pass
            return user

        def record(job, store):
            with contextlib.suppress(Exception):  # expect: BB101
                logger.info("job finished", extra={"job": job.id})
                store.save(job)
        """,
        # A name that can't be resolved, taken as a database error by its name.
        """
        def count(connection):
            try:
                return connection.execute("select count(*) from jobs").fetchone()[0]
            except connection.OperationalError:  # expect: BB101
                return 0
        """,
    )

    def __init__(self, context: FileContext, settings: Mapping[str, OptionValue]) -> None:
        super().__init__(context, settings)
        self._registered: frozenset[str] | None = None
        self._constants: dict[str, object] | None = None

    # --- dispatch ---------------------------------------------------------------------

    def visit(self, node: ast.AST) -> None:
        if isinstance(node, ast.ExceptHandler):
            self._check_handler(node)
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            self._check_suppress(node)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            self._check_error_hook(node)

    def _check_error_hook(self, function: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        """A framework error hook that answers every exception with a response and never logs it."""
        if self._registered is None:
            self._registered = hooks.broadly_registered(self.context.nodes_of(ast.Call), self.context.qualified_name)
        in_class = isinstance(self.context.parent(function), ast.ClassDef)
        drf = "rest_framework" in self.context.facts.imported_packages
        hook = hooks.error_hook(function, self.context.qualified_name, self._registered, in_class, drf)
        if hook is None:
            return
        nodes = list(self.context.semantic.own_nodes(function))
        defaults = {
            target.id
            for node in nodes
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call)
            and self.context.call_name(node.value) == hooks.DRF_DEFAULT_HANDLER
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        # `return response` of DRF's own handler is None for an unexpected error: DRF re-raises it.
        answers = [
            answer for answer in hooks.answers(self.context.semantic.returns(function))
            if not (isinstance(answer.value, ast.Name) and answer.value.id in defaults)
            and not (isinstance(answer.value, ast.Call)
                     and self.context.call_name(answer.value) == hooks.DRF_DEFAULT_HANDLER)
        ]
        if not answers:
            return
        for node in nodes:
            if isinstance(node, ast.Raise):
                return
            if isinstance(node, ast.Call) and self.context.call_name(node) != hooks.DRF_DEFAULT_HANDLER and (
                self.context.call_name(node) in NON_RETURNING_CALLS
                or reporting_of_call(node, self.context.qualified_name, self._logger_bindings()).reports
            ):
                return
        unseen = any(isinstance(node, ast.Call) and not self._is_library_call(node) for node in nodes)
        self.report(
            function,
            f"The {hook.kind} `{function.name}()` answers every unexpected exception with a response and never logs it, "
            f"so crashes reach clients as errors with no traceback anywhere.",
            fix=(
                "Log the exception in the hook (`logger.exception(...)` or your error tracker) before answering, "
                "or let the framework handle what the hook does not expect."
            ),
            confidence=Confidence.MEDIUM if unseen else Confidence.HIGH,
        )

    def _check_handler(self, handler: ast.ExceptHandler) -> None:
        caught = self._caught(handler.type)
        if caught is None:
            return
        guarded_body, star = _guarded_block(self.context.parent(handler))
        if _nobody_needs_to_know(guarded_body, self._in_teardown(handler)) or self._only_reports(guarded_body):
            return
        if _falls_back_from_package_metadata(guarded_body, handler.body, self.context.qualified_name):
            return
        if handled.reaps_a_cancelled_task(guarded_body, self._preceding_statement(self.context.parent(handler))):
            return
        if self._only_prints(guarded_body):
            return
        if self._recorded_then_logged(handler):
            return
        if absence.only_looks_up_optional_settings(guarded_body, handler.body):
            return
        if self._nobody_can_be_told(handler):
            return
        if self._answers(handler.body, handler.name) or self._handled_another_way(handler, caught, guarded_body):
            return
        if _retries(guarded_body, handler.body) or self._inside_answered_failure(handler):
            return
        if self._tries_the_next_candidate(handler, guarded_body) or self._retried_until_given_up(handler, guarded_body):
            return
        if self._tells_the_operator(handler) or self._reported_as_missing_after(handler):
            return
        scope = self.context.enclosing_function(handler)
        if scope is not None and (
            _promised_by_name(scope, handler.body) or self._passes_to_a_promised_default(scope, handler)
        ):
            return
        boolean_answer = _answers_with_boolean(handler.body, scope)
        keyword = "except*" if star else "except"
        written = _clip(f"{keyword} {self._shown(handler.type)}") if handler.type is not None else "except:"
        subject = (
            "This bare `except:` swallows every error, even KeyboardInterrupt and SystemExit"
            if handler.type is None
            else f"This `{written}` swallows {_what(caught, handler.type)}"
        )
        message = f"{subject}: {_describe_body(handler.body, self.context.segment)}, {_CONSEQUENCE}."
        self.report(
            handler,
            message,
            fix=_fix(caught),
            confidence=caught.confidence.at_most(
                Confidence.MEDIUM if boolean_answer else self._body_confidence(handler.body, caught)
            ),
        )

    def _check_suppress(self, node: ast.With | ast.AsyncWith) -> None:
        for item in node.items:
            call = item.context_expr
            if not isinstance(call, ast.Call) or self.context.call_name(call) not in _SUPPRESS_CALLS:
                continue
            caught = self._worst(call.args)
            if caught is None or _nobody_needs_to_know(node.body, self._in_teardown(node)) or self._only_reports(node.body):
                continue
            if self._nobody_can_be_told(node):
                continue
            if handled.reaps_a_cancelled_task(node.body, self._preceding_statement(node)):
                continue
            if caught.exception.area is InfrastructureArea.CACHE and handled.only_uses_cache(node.body):
                continue
            if handled.only_parses(node.body, self.context.qualified_name):
                continue
            if self._falls_through_to_a_report(node):
                continue
            shown = f"{self._shown(call.func)}({', '.join(self._shown(arg) for arg in call.args)})"
            what = "every error" if caught.exception.kind is ExceptionKind.BROAD else _area_errors(caught)
            self.report(
                call,
                f"This `{_clip(shown)}` swallows {what} raised in its block, {_CONSEQUENCE}.",
                fix=(
                    "Replace the suppress with a `try`/`except` that logs the error (`logger.exception(...)`), "
                    "or suppress only the specific exception you expect."
                ),
                confidence=caught.confidence.at_most(
                    Confidence.MEDIUM if caught.exception.constraint_violation else Confidence.HIGH
                ),
            )

    # --- what was caught ----------------------------------------------------------------

    def _caught(self, caught_type: ast.expr | None) -> _Caught | None:
        if caught_type is None:
            return _Caught(describe_exception("BaseException"), "", Confidence.HIGH)
        members = caught_type.elts if isinstance(caught_type, ast.Tuple) else [caught_type]
        return self._worst(members)

    def _worst(self, members: list[ast.expr]) -> _Caught | None:
        """The broadest reportable member: BROAD before INFRASTRUCTURE, then the most certain."""
        found: list[_Caught] = []
        for member in members:
            found.extend(self._classify(member, depth=0))
        reportable = [c for c in found if c.exception.kind in (ExceptionKind.BROAD, ExceptionKind.INFRASTRUCTURE)]
        if not reportable:
            return None
        return max(
            reportable,
            key=lambda c: (c.exception.kind is ExceptionKind.BROAD, c.confidence.rank),
        )

    def _classify(self, node: ast.expr, depth: int) -> list[_Caught]:
        if isinstance(node, ast.Tuple):
            return [found for element in node.elts for found in self._classify(element, depth)]
        culprit = self._shown(node)
        qualified = self.context.qualified_name(node)
        if qualified is not None:
            exception = describe_exception(qualified)
            if exception.kind is not ExceptionKind.UNKNOWN:
                return [_Caught(exception, culprit, Confidence.HIGH)]
            local = self._local_symbol(qualified)
            if local is not None and depth < 4:
                defined = self._classify_local(local, culprit, depth + 1)
                if defined is not None:
                    return defined
        if isinstance(node, ast.Name) and node.id not in self.context.facts.imports and node.id not in self.context.facts.symbols:
            # A name brought by `from module import *` (the resolver names it as this module's).
            for module in self.context.facts.star_imports:
                exception = describe_exception(f"{module}.{node.id}")
                if exception.kind is not ExceptionKind.UNKNOWN:
                    return [_Caught(exception, culprit, Confidence.MEDIUM)]
        last = last_name(node)
        if last is None:
            return []
        guessed = guess_exception(last)
        return [_Caught(guessed, culprit, Confidence.LOW)] if guessed.kind is not ExceptionKind.UNKNOWN else []

    def _local_symbol(self, qualified: str) -> str | None:
        """`Name` when `qualified` is `<this module>.Name`, a top-level name of this file."""
        module = self.context.module
        prefix = f"{module}." if module else ""
        name = qualified[len(prefix) :] if qualified.startswith(prefix) else None
        return name if name is not None and name in self.context.facts.symbols else None

    def _classify_local(self, name: str, culprit: str, depth: int) -> list[_Caught] | None:
        """A class or constant defined in this file: what its bases or its value catch."""
        for statement in self.context.tree.body:
            if isinstance(statement, ast.ClassDef) and statement.name == name:
                for base in statement.bases:
                    for found in self._classify(base, depth):
                        if found.exception.kind is ExceptionKind.INFRASTRUCTURE:
                            return [_Caught(found.exception, culprit, found.confidence)]
                # A project's own exception type (even one derived from Exception) is specific.
                return []
            if isinstance(statement, ast.Assign) and any(
                isinstance(target, ast.Name) and target.id == name for target in statement.targets
            ):
                return self._classify(statement.value, depth)
        return None

    # --- what the body does ----------------------------------------------------------------

    def _answers(self, body: list[ast.stmt], bound_name: str | None) -> bool:
        """True when the body re-raises, logs, uses the exception or answers with an error."""
        for node in block_nodes(body):
            if isinstance(node, ast.Raise):
                return True
            if isinstance(node, ast.Assert) and isinstance(node.test, ast.Constant) and not node.test.value:
                return True
            if isinstance(node, ast.Name) and node.id == bound_name and isinstance(node.ctx, ast.Load):
                return True
            if isinstance(node, ast.Call) and self._call_answers(node):
                return True
            if isinstance(node, ast.Return) and node.value is not None and (
                self._is_error_response(node.value) or handled.carries_failure(node.value)
                or self._returns_a_failure_built_by_a_helper(node.value)
            ):
                return True
            if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                if self._is_error_response(node.value) or handled.carries_failure(node.value):
                    return True
                if any(_names_failure(target) for target in targets) and not _is_empty_default(node.value):
                    return True
                if any(_names_status(target) for target in targets) and is_error_status(node.value):
                    return True
        return False

    def _returns_a_failure_built_by_a_helper(self, value: ast.expr) -> bool:
        """`return unmarked("render_error")` where the function (or the module) defines `def
        unmarked(reason): return Render(status="unmarked", reason=reason)`: the failure is named in
        the value handed back."""
        if not isinstance(value, ast.Call) or not isinstance(value.func, ast.Name):
            return False
        name = value.func.id
        scope = self.context.enclosing_function(value)
        candidates: list[ast.AST] = [
            *(self.context.semantic.own_nodes(scope) if scope is not None else []),
            *self.context.tree.body,
        ]
        definitions = [
            node for node in candidates
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name
        ]
        return len(definitions) == 1 and handled.passes_failure(value, definitions[0])

    def _handled_another_way(self, handler: ast.ExceptHandler, caught: _Caught, guarded: list[ast.stmt]) -> bool:
        """The error is dealt with, just not by raising or logging it (see `_handled`)."""
        # An explanation covers the error it names; a catch-all swallows more than any comment covers,
        # unless what it falls back to is a path the code takes anyway: one of the function's own
        # answers, or the value left as it was when rewriting it failed.
        if handled.explained(handler, self.context.lines):
            if caught.exception.kind is not ExceptionKind.BROAD:
                return True
            function = self.context.enclosing_function(handler)
            if handled.falls_back_to_a_normal_path(handler, function, self._in_a_handler) or (
                handled.leaves_the_value_as_it_was(guarded, handler.body)
            ):
                return True
            if absence.restores_the_value_before(handler.body, self._preceding_statement(self.context.parent(handler))):
                return True
            if _only_calls_best_effort(guarded):
                return True
        if handled.only_parses(guarded, self.context.qualified_name, self._local_lists(handler)):
            return True
        if self._passes_the_input_on_unchanged(handler, guarded):
            return True
        if guarded and handled.only_parses_a_received_response(guarded, self._before(guarded[0])):
            return True
        function = self.context.enclosing_function(handler)
        owner = self.context.parent(function) if function is not None else None
        if absence.answers_like_the_default_hook(handler, guarded, owner if isinstance(owner, ast.ClassDef) else None):
            return True
        if function is not None and absence.calls_an_optional_hook(
            handler, guarded, self.context.semantic.bindings(function)
        ):
            return True
        statement = self.context.parent(handler)
        if isinstance(statement, ast.Try) and not statement.orelse and not statement.finalbody and absence.asks_again_after(
            guarded, handler.body, handled.statements_after(statement, self.context.parent(statement))
        ):
            return True
        if isinstance(statement, ast.Try) and not statement.orelse and absence.answers_like_absence(
            handler, guarded, handled.statements_after(statement, self.context.parent(statement))
        ):
            return True
        if caught.exception.kind is ExceptionKind.BROAD or caught.exception.area is InfrastructureArea.OPERATING_SYSTEM:
            if handled.only_reads_local_files(guarded, self.context.qualified_name):
                return True
        if (
            caught.exception.kind is not ExceptionKind.BROAD
            and caught.exception.area is InfrastructureArea.OPERATING_SYSTEM
            and self._stats_a_listed_entry(handler, guarded)
        ):
            return True
        # A catch-all catches far more than the block's own `raise Exception(...)`.
        broad = caught.exception.kind is ExceptionKind.BROAD
        if not broad and handled.raised_by_itself(guarded, handler.type, self.context.qualified_name):
            return True
        if caught.exception.area is InfrastructureArea.CACHE and handled.only_uses_cache(guarded):
            return True
        timeout = caught.exception.area is InfrastructureArea.NETWORK and "timeout" in caught.culprit.lower()
        if timeout and handled.waits_with_own_deadline(
            guarded, self.context.qualified_name
        ):
            return True
        if caught.exception.constraint_violation:
            statement = self.context.parent(handler)
            if isinstance(statement, ast.stmt) and handled.recovers(
                handler, handled.statements_after(statement, self.context.parent(statement))
            ):
                return True
        return False

    def _reports(self, statement: ast.stmt) -> bool:
        """The statement raises, or is a call that logs or reports."""
        if isinstance(statement, ast.Raise):
            return True
        return isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call) and self._call_answers(
            statement.value
        )

    def _tells_the_operator(self, handler: ast.ExceptHandler) -> bool:
        """In a command run by hand (CLI, script, the top level of a file that reads its command line or
        its `__main__` block), printing says what failed to the person who ran it."""
        printed = any(
            isinstance(node, ast.Call) and self.context.call_name(node) in _CONSOLE_WRITES
            or isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "write"
            and last_name(node.func.value) in ("stdout", "stderr")
            for node in block_nodes(handler.body)
        )
        if not printed:
            return False
        if self.context.runs_as_program(handler):
            return True
        contexts = {fact.context for fact in self.context.execution_contexts(handler)}
        return bool(contexts) and contexts <= _RUN_BY_HAND

    def _reported_as_missing_after(self, handler: ast.ExceptHandler) -> bool:
        """`except: modality = ""`, then right after the `try` `if modality in ALLOWED: ... elif not modality:
        error_message += "Can't determine the modality"`: the handler leaves the name empty, and the code
        that follows checks for that and reports it (records the failure, logs, raises, answers an error)."""
        answer = _meaningful(handler.body)
        if len(answer) != 1 or not isinstance(answer[0], ast.Assign) or not _is_empty_default(answer[0].value):
            return False
        names = {target.id for target in answer[0].targets if isinstance(target, ast.Name)}
        statement = self.context.parent(handler)
        if not names or not isinstance(statement, ast.Try) or statement.orelse or statement.finalbody:
            return False
        following = handled.statements_after(statement, self.context.parent(statement))
        check = following[0] if following else None
        while isinstance(check, ast.If):
            if absence.tests_absence(check.test, names):
                return self._answers(check.body, None)
            check = check.orelse[0] if len(check.orelse) == 1 else None
        return False

    def _falls_through_to_a_report(self, node: ast.With | ast.AsyncWith) -> bool:
        """`with suppress(...): return read()` then `logger.warning(...)`: the block leaves the
        function when it works, so the code after it runs only on the failure, and reports it."""
        if not node.body or not isinstance(node.body[-1], ast.Return):
            return False
        statement: ast.stmt = node
        following = handled.statements_after(statement, self.context.parent(statement))
        # Out of the `with` blocks it ends (`with traced_span(...): with suppress(...): return ...`).
        while not following:
            parent = self.context.parent(statement)
            if not isinstance(parent, (ast.With, ast.AsyncWith)) or parent.body[-1] is not statement:
                return False
            statement = parent
            following = handled.statements_after(statement, self.context.parent(statement))
        return self._reports(following[0])

    def _tries_the_next_candidate(self, handler: ast.ExceptHandler, guarded: list[ast.stmt]) -> bool:
        """`for port in ports: try: serve(port); break / except OSError: continue / else: log`:
        each failure moves on to the next candidate, and running out of them is reported, in the
        loop's `else:` or by a check after the loop that what the block produced is still missing
        (`for path in paths: try: lib = load(path) / except OSError: continue / break` then
        `if lib is None: raise LibraryNotFound()`)."""
        if not handler.body or not all(isinstance(statement, ast.Continue) for statement in handler.body):
            return False
        statement = self.context.parent(handler)
        loop = self.context.parent(statement) if statement is not None else None
        if not isinstance(loop, (ast.For, ast.AsyncFor, ast.While)) or statement not in loop.body:
            return False
        if (
            loop.orelse
            and any(isinstance(node, ast.Break) for node in block_nodes(guarded))
            and any(self._reports(item) for item in loop.orelse)
        ):
            return True
        produced = {
            target.id
            for node in guarded
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        return bool(produced) and self._absence_reported_after(loop, produced)

    def _retried_until_given_up(self, handler: ast.ExceptHandler, guarded: list[ast.stmt]) -> bool:
        """`for attempt in range(3): try: return probe() / except OSError: time.sleep(1)` then
        `raise NetworkError(...)` (or `while time.time() < deadline:` ... then `raise`): the handler only
        waits or moves on to the next attempt, the guarded block leaves the loop when an attempt works,
        and the code the loop falls through to when every attempt failed reports it. One attempt's
        failure is expected; running out of attempts is not, and is raised."""
        if not handler.body or not all(self._waits_or_moves_on(statement) for statement in handler.body):
            return False
        statement = self.context.parent(handler)
        loop = self.context.parent(statement) if statement is not None else None
        if not isinstance(loop, (ast.For, ast.AsyncFor, ast.While)) or statement not in loop.body:
            return False
        leaves = [node for node in block_nodes(guarded) if isinstance(node, (ast.Return, ast.Break))]
        if not leaves:
            return False
        if all(isinstance(node, ast.Break) for node in leaves):
            # `break` on success: only the loop's `else:` runs when every attempt failed.
            return bool(loop.orelse) and any(self._reports(item) for item in loop.orelse)
        if any(isinstance(node, ast.Break) for node in leaves):
            return False
        # `return` on success leaves every loop around it: what follows the outermost one runs only
        # when every attempt failed.
        node: ast.stmt = loop
        while True:
            if isinstance(node, (ast.For, ast.AsyncFor, ast.While)) and node.orelse:
                return any(self._reports(item) for item in node.orelse)
            parent = self.context.parent(node)
            following = handled.statements_after(node, parent)
            for item in following:
                if self._reports(item):
                    return True
                if isinstance(item, (ast.Return, ast.Break, ast.Continue)):
                    return False
            if isinstance(parent, (ast.For, ast.AsyncFor, ast.While)) and node in parent.body:
                node = parent
                continue
            return False

    def _stats_a_listed_entry(self, handler: ast.ExceptHandler, guarded: list[ast.stmt]) -> bool:
        """`for entry in directory.iterdir(): try: found.append((entry.name, entry.stat().st_mtime)) /
        except OSError: pass`: the block only reads the metadata of an entry of a directory listed just
        before (and collects it, or removes it with errors ignored), and the handler skips it. An
        `OSError` there means the entry went away between the listing and the read, which is expected
        of a directory others write to; skipping it is the answer."""
        if not all(isinstance(statement, (ast.Pass, ast.Continue)) for statement in handler.body):
            return False
        entries: set[str] = set()
        for ancestor in self.context.ancestors(handler):
            if isinstance(ancestor, NESTED_SCOPES):
                break
            if isinstance(ancestor, ast.For) and isinstance(ancestor.target, ast.Name) and self._lists_a_directory(
                ancestor.iter
            ):
                entries.add(ancestor.target.id)
        if not entries:
            return False
        reads = False
        for call in (node for node in block_nodes(guarded) if isinstance(node, ast.Call)):
            qualified = self.context.call_name(call) or ""
            # The entry is what is asked (`entry.stat()`) or what is passed (`os.stat(entry.path)`).
            asked = [call.func.value] if isinstance(call.func, ast.Attribute) else []
            on_entry = any(
                isinstance(node, ast.Name) and node.id in entries
                for part in [*asked, *call.args]
                for node in ast.walk(part)
            )
            if on_entry and (qualified in _ENTRY_METADATA_READS or (
                isinstance(call.func, ast.Attribute) and call.func.attr in _ENTRY_METADATA_METHODS
            )):
                reads = True
            elif qualified.startswith("stat.S_IS"):
                continue
            elif qualified == "shutil.rmtree" and any(
                keyword.arg == "ignore_errors" and isinstance(keyword.value, ast.Constant) and keyword.value.value is True
                for keyword in call.keywords
            ):
                continue
            elif isinstance(call.func, ast.Attribute) and call.func.attr in ("append", "add") and isinstance(
                call.func.value, ast.Name
            ):
                continue
            else:
                return False
        return reads

    def _lists_a_directory(self, node: ast.expr) -> bool:
        """`path.iterdir()`, `os.scandir(path)`, `os.listdir(path)`, `glob.glob(pattern)`, `path.glob(...)`."""
        if not isinstance(node, ast.Call):
            return False
        qualified = self.context.call_name(node) or ""
        if qualified in _DIRECTORY_LISTINGS:
            return True
        return isinstance(node.func, ast.Attribute) and node.func.attr in ("iterdir", "glob", "rglob") and not node.keywords

    def _local_lists(self, node: ast.AST) -> frozenset[str]:
        """Names the enclosing function binds to a list it builds (`tokens = []`, `tokens: list[str] = []`)."""
        function = self.context.enclosing_function(node)
        if function is None:
            return frozenset()
        names: set[str] = set()
        for statement in block_nodes(function.body):
            if isinstance(statement, ast.Assign) and isinstance(statement.value, (ast.List, ast.ListComp)):
                names.update(target.id for target in statement.targets if isinstance(target, ast.Name))
            elif isinstance(statement, ast.AnnAssign) and isinstance(statement.value, (ast.List, ast.ListComp)) and (
                isinstance(statement.target, ast.Name)
            ):
                names.add(statement.target.id)
        return frozenset(names)

    def _waits_or_moves_on(self, statement: ast.stmt) -> bool:
        """`continue`, `pass`, `time.sleep(delay)` / `await asyncio.sleep(delay)`, `delay *= 2`."""
        if isinstance(statement, (ast.Continue, ast.Pass)):
            return True
        if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name):
            return not any(isinstance(node, ast.Call) for node in ast.walk(statement.value))
        if isinstance(statement, ast.Expr):
            call = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
            return isinstance(call, ast.Call) and self.context.call_name(call) in _SLEEPS
        return False

    def _absence_reported_after(self, loop: ast.stmt, names: set[str]) -> bool:
        """After the loop (or the blocks around it, up to the function), an `if name is None:` (or
        `if not name:`) on what the loop produced raises or logs."""
        node: ast.AST = loop
        while isinstance(node, ast.stmt):
            parent = self.context.parent(node)
            for following in handled.statements_after(node, parent):
                if isinstance(following, ast.If) and absence.tests_absence(following.test, names) and any(
                    self._reports(item) for item in following.body
                ):
                    return True
            if not isinstance(parent, (ast.If, ast.Try, ast.With, ast.AsyncWith)):
                return False
            node = parent
        return False

    def _only_reports(self, block: list[ast.stmt]) -> bool:
        """The block only logs (`logger.info("request finished", ...)`): a report that fails cannot be
        reported, and in a `finally` its error would replace the one on its way out."""
        statements = _meaningful(block)
        return bool(statements) and all(
            isinstance(statement, ast.Expr)
            and isinstance(call := statement.value.value if isinstance(statement.value, ast.Await) else statement.value, ast.Call)
            and self._logs(call)
            for statement in statements
        )

    def _passes_the_input_on_unchanged(self, handler: ast.ExceptHandler, guarded: list[ast.stmt]) -> bool:
        """`try: url = make_url(text) / except Exception: return text`, in a function that also returns
        `text` as it came where there is nothing to change: a conversion of the function's own argument
        that, when the argument can't be converted, hands it on as it was, one of the function's normal
        answers; whoever uses it next meets the same value. The block must only convert that argument
        (one statement, no `await`, no call that does I/O)."""
        statements = _meaningful(handler.body)
        if len(statements) != 1 or not isinstance(statements[0], ast.Return):
            return False
        answer = statements[0].value
        function = self.context.enclosing_function(handler)
        if function is None or not isinstance(answer, ast.Name):
            return False
        arguments = function.args
        parameters = {a.arg for a in [*arguments.posonlyargs, *arguments.args, *arguments.kwonlyargs]}
        if answer.id not in parameters or self.context.semantic.bindings(function).get(answer.id) != [None]:
            return False
        block = _meaningful(guarded)
        if len(block) != 1 or not isinstance(block[0], (ast.Assign, ast.Return)) or block[0].value is None:
            return False
        calls = [node for node in ast.walk(block[0].value) if isinstance(node, ast.Call)]
        if any(isinstance(node, ast.Await) for node in ast.walk(block[0])) or not calls:
            return False
        for call in calls:
            qualified = self.context.call_name(call)
            if qualified is None or blocking_function(qualified) is not None:
                return False
            if not any(isinstance(node, ast.Name) and node.id == answer.id for node in ast.walk(call)):
                return False
        return any(
            isinstance(node, ast.Return) and node is not statements[0] and not self._in_a_handler(node)
            and isinstance(node.value, ast.Name) and node.value.id == answer.id
            for node in self.context.semantic.own_nodes(function)
        )

    def _only_prints(self, block: list[ast.stmt]) -> bool:
        """The block only writes text to the console (`print(f"server started on {address}")`), maybe
        under a condition that calls nothing: the output is all that can fail (a closed or unencodable
        stdout), and a failing message about the program is no failure of the program."""
        statements = _meaningful(block)
        if not statements:
            return False
        for statement in statements:
            if isinstance(statement, ast.If):
                if any(isinstance(node, ast.Call) for node in ast.walk(statement.test)):
                    return False
                if not self._only_prints(statement.body) or (statement.orelse and not self._only_prints(statement.orelse)):
                    return False
                continue
            call = statement.value if isinstance(statement, ast.Expr) else None
            if not isinstance(call, ast.Call) or self.context.call_name(call) not in _CONSOLE_WRITES:
                return False
            arguments = [*call.args, *(keyword.value for keyword in call.keywords)]
            if any(isinstance(node, ast.Call) for argument in arguments for node in ast.walk(argument)):
                return False
        return True

    def _logs(self, call: ast.Call) -> bool:
        """A logging call: a logger's level method or a logging function, not a project function
        merely named for reporting (`notify_admins` may send mail)."""
        reporting = reporting_of_call(call, self.context.qualified_name, self._logger_bindings())
        if reporting is Reporting.LOGGED:
            return True
        return reporting is Reporting.LOGGED_BY_NAME and isinstance(call.func, ast.Attribute) and (
            call.func.attr in LOG_LEVEL_METHODS
        )

    def _passes_to_a_promised_default(
        self, function: ast.FunctionDef | ast.AsyncFunctionDef, handler: ast.ExceptHandler
    ) -> bool:
        """`def _safe_parse_error(resp): try: ... except Exception: pass` then `return resp.text`: a
        best-effort helper's handler passes on to the default its name promises, returned right after."""
        if not _BEST_EFFORT_NAME.search(function.name) or _meaningful(handler.body):
            return False
        statement = self.context.parent(handler)
        if not isinstance(statement, ast.Try) or statement.orelse or statement.finalbody:
            return False
        following = handled.statements_after(statement, self.context.parent(statement))
        return bool(following) and isinstance(following[0], ast.Return)

    def _in_a_handler(self, node: ast.AST) -> bool:
        for ancestor in self.context.ancestors(node):
            if isinstance(ancestor, NESTED_SCOPES):
                return False
            if isinstance(ancestor, ast.ExceptHandler):
                return True
        return False

    def _inside_answered_failure(self, handler: ast.ExceptHandler) -> bool:
        """A fallback while handling another failure that is itself re-raised or logged.

        `except Exception: message = generic` inside `except UploadError as ex: ...; raise ... from ex`
        loses nothing: the failure that matters still leaves the outer handler.
        """
        for ancestor in self.context.ancestors(handler):
            if isinstance(ancestor, NESTED_SCOPES):
                return False
            if isinstance(ancestor, ast.ExceptHandler):
                return self._answers(ancestor.body, ancestor.name)
        return False

    def _call_answers(self, call: ast.Call) -> bool:
        callee = self.context.call_name(call)
        if callee in NON_RETURNING_CALLS or callee in CURRENT_EXCEPTION_CALLS:
            return True
        # A project's own `abort(400, ...)` (a wrapper of the framework's) answers with an error too.
        if last_name(call.func) == "abort" and call.args and is_error_status(call.args[0]):
            return True
        if handled.answers_with_error_status(call):
            return True
        if self._always_raises(call):
            return True
        func = call.func
        # `failed_rows.append(row)`, `errors.add(name)`: the failure is recorded for someone.
        if isinstance(func, ast.Attribute) and func.attr in _COLLECTING_METHODS and _names_failure(func.value):
            return True
        if (
            isinstance(func, ast.Attribute)
            and func.attr in NON_RETURNING_METHODS
            and isinstance(func.value, ast.Name)
            and func.value.id in ("self", "cls")
        ):
            return True
        return reporting_of_call(call, self.context.qualified_name, self._logger_bindings()).reports

    def _preceding_statement(self, statement: ast.AST | None) -> ast.stmt | None:
        """The statement right before `statement`, in the same block."""
        if not isinstance(statement, ast.stmt):
            return None
        parent = self.context.parent(statement)
        for field in ("body", "orelse", "finalbody"):
            block = getattr(parent, field, None)
            if isinstance(block, list) and statement in block:
                index = block.index(statement)
                return block[index - 1] if index > 0 else None
        return None

    def _recorded_then_logged(self, handler: ast.ExceptHandler) -> bool:
        """`except Exception: failed += 1` (or `reason = "render_error"`), then, after the `try`, a log
        call of the same function reports that variable (`logger.info("closed", failed=failed)`): the
        failure is counted or named, and what was recorded reaches the log."""
        statements = _meaningful(handler.body)
        if not statements:
            return False
        recorded: set[str] = set()
        for statement in statements:
            if isinstance(statement, ast.AugAssign) and isinstance(statement.target, ast.Name) and _is_inert(
                statement.value
            ):
                recorded.add(statement.target.id)
            elif (
                isinstance(statement, ast.Assign)
                and len(statement.targets) == 1
                and isinstance(statement.targets[0], ast.Name)
                and isinstance(statement.value, ast.Constant)
                and statement.value.value not in (None, "")
            ):
                recorded.add(statement.targets[0].id)
            else:
                return False
        scope = self.context.enclosing_function(handler)
        if scope is None:
            return False
        attempt = self.context.parent(handler)
        end = (getattr(attempt, "end_lineno", None) or handler.lineno, getattr(attempt, "end_col_offset", None) or 0)
        for node in self.context.semantic.own_nodes(scope):
            if not isinstance(node, ast.Call) or (node.lineno, node.col_offset) <= end or not self._logs(node):
                continue
            arguments = [*node.args, *(keyword.value for keyword in node.keywords)]
            if any(
                isinstance(name, ast.Name) and name.id in recorded and isinstance(name.ctx, ast.Load)
                for argument in arguments
                for name in ast.walk(argument)
            ):
                return True
        return False

    def _before(self, statement: ast.stmt) -> list[ast.AST]:
        """The nodes of the enclosing function (or module) that come before `statement` in the source."""
        scope = self.context.enclosing_function(statement)
        nodes = self.context.semantic.own_nodes(scope) if scope is not None else self.context.nodes
        return [
            node for node in nodes
            if isinstance(node, ast.expr) and (node.lineno, node.col_offset) < (statement.lineno, statement.col_offset)
        ]

    def _always_raises(self, call: ast.Call) -> bool:
        """A call to a function of this module that raises on every path, given what it is passed
        (`_check_return(LIBRARY_NOT_FOUND)` where `_check_return` raises for any code but success)."""
        callee = self.context.call_name(call)
        name = self._local_symbol(callee) if callee is not None and isinstance(call.func, ast.Name) else None
        if name is None:
            return False
        for statement in self.context.tree.body:
            if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef)) and statement.name == name:
                if self._constants is None:
                    self._constants = module_constants(self.context.tree)
                return raises_on_every_path(statement, call, self._constants)
        return False

    def _is_error_response(self, value: ast.expr) -> bool:
        return is_error_response(value, self.context.qualified_name)

    def _body_confidence(self, body: list[ast.stmt], caught: _Caught) -> Confidence:
        """MEDIUM when the body calls code backbone can't see into, or for constraint violations."""
        if caught.exception.constraint_violation:
            return Confidence.MEDIUM
        for node in block_nodes(body):
            if isinstance(node, ast.Call) and not self._is_library_call(node):
                return Confidence.MEDIUM
        return Confidence.HIGH

    def _is_library_call(self, call: ast.Call) -> bool:
        callee = self.context.call_name(call)
        return callee is not None and self._local_symbol(callee) is None

    def _nobody_can_be_told(self, node: ast.AST) -> bool:
        """The handler runs where no error can go anywhere: a finalizer (`__del__`), which the garbage
        collector calls at a time no caller chose, or a component of the logging pipeline (the
        `filter`/`emit`/`format` of a `logging.Filter`, `Handler` or `Formatter` subclass), which cannot
        log its own failure without re-entering the pipeline it is part of."""
        function = self.context.enclosing_function(node)
        if function is None:
            return False
        if function.name == "__del__":
            return True
        owner = self.context.parent(function)
        if not isinstance(owner, ast.ClassDef) or function.name not in LOGGING_COMPONENT_METHODS:
            return False
        return any(self.context.qualified_name(base) in LOGGING_COMPONENT_BASES for base in owner.bases)

    def _in_teardown(self, node: ast.AST) -> bool:
        function = self.context.enclosing_function(node)
        return function is not None and is_teardown_function(function.name)

    def _logger_bindings(self) -> LoggerBindings:
        return self.context.logger_bindings()

    def _shown(self, node: ast.expr) -> str:
        return " ".join(self.context.segment(node).split())


def _names_failure(target: ast.expr) -> bool:
    """`error`, `error_message`, `self.last_failure`, `failed_rows`: a place that records a failure."""
    name = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else None
    if name is None:
        return False
    return bool({word.lower() for word in _WORD.findall(name)} & _FAILURE_WORDS)


def _names_status(target: ast.expr) -> bool:
    """`response.status_code`, `self.status`, `flower_status`: a place that holds an HTTP status, which
    a 4xx/5xx set there carries to whoever reads it (the response, the page that shows it)."""
    name = target.attr if isinstance(target, ast.Attribute) else target.id if isinstance(target, ast.Name) else None
    if name is None:
        return False
    words = [word.lower() for word in _WORD.findall(name)]
    return bool(words) and (words[-1] == "status" or words[-2:] == ["status", "code"])


def _is_empty_default(value: ast.expr) -> bool:
    if isinstance(value, ast.Constant):
        return value.value is None or value.value is False or value.value == ""
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return not value.elts
    return isinstance(value, ast.Dict) and not value.keys


def _retries(guarded: list[ast.stmt], body: list[ast.stmt]) -> bool:
    """The handler calls what the guarded block called: a retry, or the same thing another way.

    `obj.decode("utf-8")` then `obj.decode("utf-16")`; a ping with, then without, a timeout.
    If the second attempt fails, that error propagates.
    """
    tried = {_attempted(node) for node in block_nodes(guarded) if isinstance(node, ast.Call)}
    tried.discard(None)
    # The same service asked another way (`indices.create(...)` then `indices.put_mapping(...)`).
    services = {_service(name) for name in tried if name is not None} - {None}
    # The same operation asked of another implementation, with the same inputs
    # (`RSAKey.from_private_key(buf, password=p)` then `Ed25519Key.from_private_key(buf, password=p)`).
    asked = {_operation(node) for node in block_nodes(guarded) if isinstance(node, ast.Call)} - {None}
    for node in block_nodes(body):
        if not isinstance(node, ast.Call) or is_teardown_call(node):
            continue
        attempted = _attempted(node)
        if attempted is not None and (attempted in tried or _service(attempted) in services):
            return True
        if _operation(node) in asked:
            return True
    return False


def _operation(call: ast.Call) -> tuple[str, str] | None:
    """A method call with inputs, as the method's name and its arguments: what is asked, whoever is asked."""
    if not isinstance(call.func, ast.Attribute) or not (call.args or call.keywords):
        return None
    if _attempted(call) is None:
        return None
    arguments = ast.dump(ast.Call(func=ast.Name(id="_"), args=call.args, keywords=call.keywords))
    return call.func.attr, arguments


def _service(attempted: str) -> str | None:
    """`self._client.indices` of `self._client.indices.create`: the object a call talks to,
    when it is more than `self`/`cls` or a module-level name."""
    receiver = attempted.rpartition(".")[0]
    return receiver if receiver.count(".") >= 1 and receiver.split(".")[0] in ("self", "cls") or receiver.count(".") >= 2 else None


def _attempted(call: ast.Call) -> str | None:
    """The operation a call attempts, or None for calls that are no attempt at anything.

    Building a value (`Breakdown(total=0)`, `str(x)`) or filling a container
    (`col.update(...)`) on both sides is a coincidence, not a second attempt.
    """
    dotted = dotted_name(call.func)
    if dotted is None or dotted in BUILTIN_NAMES:
        return None
    last = dotted.rpartition(".")[2]
    if last[:1].isupper() or last in _CONTAINER_METHODS:
        return None
    return dotted


def _promised_by_name(function: ast.FunctionDef | ast.AsyncFunctionDef, body: list[ast.stmt]) -> bool:
    """The function's name tells callers what failure returns.

    A predicate (`has_jpeg_support`, `is_port_open`, `check_pypi_package`) answering False,
    or moving on to the next candidate; a best-effort helper (`try_read_version`,
    `load_or_none`) returning its default.
    """
    statements = _meaningful(body)
    if len(statements) != 1:
        return False
    only = statements[0]
    if _PREDICATE_NAME.search(function.name):
        if isinstance(only, ast.Return) and _boolean(only.value) is not None:
            return True
        if isinstance(only, ast.Assign) and len(only.targets) == 1 and _boolean(only.value) is not None:
            return isinstance(only.targets[0], ast.Name)
        if isinstance(only, ast.Continue):
            return any(isinstance(node, ast.Return) and _boolean(node.value) is not None for node in block_nodes(function.body))
    if _BEST_EFFORT_NAME.search(function.name) and isinstance(only, ast.Return):
        return only.value is None or isinstance(only.value, (ast.Constant, ast.List, ast.Dict, ast.Tuple, ast.Name))
    return False


def _only_calls_best_effort(guarded: list[ast.stmt]) -> bool:
    """The block only imports and calls functions whose names say they may do nothing
    (`maybe_warn_agent(...)`, `try_prefetch(...)`): an optional extra, not work anyone waits for."""
    calls = [node for node in block_nodes(guarded) if isinstance(node, ast.Call)]
    if not calls:
        return False
    for statement in guarded:
        if isinstance(statement, (ast.Import, ast.ImportFrom, ast.Pass)):
            continue
        if isinstance(statement, ast.If) and _only_calls_best_effort(statement.body) and (
            not statement.orelse or _only_calls_best_effort(statement.orelse)
        ):
            continue
        if isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Call):
            continue
        return False
    return all(
        (name := last_name(call.func)) is not None and _BEST_EFFORT_NAME.search(name)
        for call in calls
        if not isinstance(call.func, ast.Name) or call.func.id not in BUILTIN_NAMES
    )


def _answers_with_boolean(body: list[ast.stmt], scope: ast.AST | None) -> bool:
    """`except ...: return False` (or `ok = False`) where the success path says True.

    The failure becomes the function's answer, which is what a probe (`has_jpeg_support`,
    `is_reachable`) is for; elsewhere it is still a swallowed error, if a visible one.
    """
    statements = _meaningful(body)
    if len(statements) != 1 or scope is None:
        return False
    only = statements[0]
    # The function's own answers and flags: a function defined in it answers its own callers.
    nodes = block_nodes(scope.body) if isinstance(scope, (ast.FunctionDef, ast.AsyncFunctionDef)) else list(ast.walk(scope))
    if isinstance(only, ast.Return) and _boolean(only.value) is not None:
        opposite = not _boolean(only.value)
        return any(
            isinstance(node, ast.Return) and node is not only and _boolean(node.value) is opposite
            for node in nodes
        )
    if (
        isinstance(only, ast.Assign)
        and len(only.targets) == 1
        and isinstance(only.targets[0], ast.Name)
        and _boolean(only.value) is not None
    ):
        flag, opposite = only.targets[0].id, not _boolean(only.value)
        return any(
            isinstance(node, ast.Assign)
            and node is not only
            and any(isinstance(target, ast.Name) and target.id == flag for target in node.targets)
            and _boolean(node.value) is opposite
            for node in nodes
        )
    return False


def _boolean(node: ast.expr | None) -> bool | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, bool):
        return node.value
    return None


def _meaningful(body: list[ast.stmt]) -> list[ast.stmt]:
    """The statements of a block, without `pass` and bare string literals (comments in disguise)."""
    return [
        statement
        for statement in body
        if not isinstance(statement, ast.Pass)
        and not (
            isinstance(statement, ast.Expr)
            and isinstance(statement.value, ast.Constant)
            and isinstance(statement.value.value, str)
        )
    ]


def _guarded_block(parent: ast.AST | None) -> tuple[list[ast.stmt], bool]:
    """The statements a handler guards, and whether it is an `except*` group handler."""
    if isinstance(parent, ast.Try):
        return parent.body, False
    if sys.version_info >= (3, 11) and isinstance(parent, ast.TryStar):
        return parent.body, True
    return [], False


def _nobody_needs_to_know(guarded: list[ast.stmt], in_teardown: bool = False) -> bool:
    """A guarded block that only imports (optional dependency) or only releases resources.

    An optional dependency may also record what it provides (`versions["ml"] = ml.__version__`); a
    release may keep what `close()` returns and await it (`result = close(); if iscoroutine(result):
    await result`); in a teardown function, a non-blocking signal to what it stops
    (`queue.put_nowait(SHUTDOWN)`) is a release too.
    """
    meaningful = [statement for statement in guarded if not isinstance(statement, ast.Pass)]
    if not meaningful:
        return False
    if all(isinstance(statement, (ast.Import, ast.ImportFrom)) for statement in meaningful[:1]) and all(
        isinstance(statement, (ast.Import, ast.ImportFrom)) or _is_constant_assignment(statement)
        for statement in meaningful
    ):
        return True
    released: set[str] = set()
    return all(_is_teardown_statement(statement, released, in_teardown) for statement in meaningful)


# Reads of an installed distribution's metadata (its version, its manifest): they fail when the
# distribution is not installed, as when the code runs from a source checkout.
_PACKAGE_METADATA_READS = frozenset(
    {
        "importlib.metadata.version",
        "importlib.metadata.metadata",
        "importlib.metadata.distribution",
        "importlib_metadata.version",
        "importlib_metadata.metadata",
        "importlib_metadata.distribution",
        "pkg_resources.get_distribution",
        "pkg_resources.require",
    }
)


def _falls_back_from_package_metadata(
    guarded: list[ast.stmt], body: list[ast.stmt], qualified_name: Callable[[ast.expr], str | None]
) -> bool:
    """`try: VERSION = version(__name__) except Exception: VERSION = "unknown"`: the block only reads the
    installed distribution's metadata into names, and the handler only sets those names to constants.

    The value it falls back to is the report: a version shown as "unknown" says the metadata was missing,
    and nothing else in the block could fail.
    """
    targets: set[str] = set()
    for statement in guarded:
        if isinstance(statement, (ast.Import, ast.ImportFrom)):
            continue
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and _reads_package_metadata(statement.value, qualified_name)
        ):
            return False
        targets.add(statement.targets[0].id)
    meaningful = [statement for statement in body if not isinstance(statement, ast.Pass)]
    return (
        bool(targets)
        and bool(meaningful)
        and all(
            _is_constant_assignment(statement)
            and isinstance(statement, ast.Assign)
            and all(isinstance(target, ast.Name) and target.id in targets for target in statement.targets)
            for statement in meaningful
        )
    )


def _reads_package_metadata(value: ast.expr, qualified_name: Callable[[ast.expr], str | None]) -> bool:
    """`version(__name__)`, `get_distribution("x").version`, `version("x").split(".")`: every call reads
    package metadata or is a method of what such a read returned."""
    calls = [node for node in ast.walk(value) if isinstance(node, ast.Call)]
    reads = [call for call in calls if qualified_name(call.func) in _PACKAGE_METADATA_READS]
    return bool(reads) and all(
        call in reads
        or (isinstance(call.func, ast.Attribute) and any(read in reads for read in ast.walk(call.func.value)))
        for call in calls
    )


def _is_constant_assignment(statement: ast.stmt) -> bool:
    return isinstance(statement, ast.Assign) and _is_inert(statement.value)


def _is_inert(value: ast.expr) -> bool:
    """Constants, names and attributes, and literals built of them: nothing runs that could fail."""
    if isinstance(value, (ast.Constant, ast.Name, ast.Attribute)):
        return True
    if isinstance(value, (ast.List, ast.Tuple, ast.Set)):
        return all(_is_inert(element) for element in value.elts)
    if isinstance(value, ast.Dict):
        return all(key is None or _is_inert(key) for key in value.keys) and all(_is_inert(item) for item in value.values)
    return False


# Checks on what a release returned: `if asyncio.iscoroutine(result): await result`.
_AWAITABLE_CHECKS = frozenset({"iscoroutine", "isawaitable", "isinstance", "callable", "hasattr"})


def _is_teardown_statement(statement: ast.stmt, released: set[str], in_teardown: bool = False) -> bool:
    if isinstance(statement, ast.Assign) and len(statement.targets) == 1 and isinstance(statement.targets[0], ast.Name):
        value = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
        if isinstance(value, ast.Call) and _is_release(value, in_teardown):
            released.add(statement.targets[0].id)
            return True
        return False
    if isinstance(statement, ast.If):
        checks = all(
            last_name(node.func) in _AWAITABLE_CHECKS for node in ast.walk(statement.test) if isinstance(node, ast.Call)
        )
        return checks and all(
            _is_teardown_statement(inner, released, in_teardown) for inner in [*statement.body, *statement.orelse]
        )
    if not isinstance(statement, ast.Expr):
        return False
    if isinstance(statement.value, ast.Await) and isinstance(statement.value.value, ast.Name):
        return statement.value.value.id in released
    value = statement.value.value if isinstance(statement.value, ast.Await) else statement.value
    return isinstance(value, ast.Call) and _is_release(value, in_teardown)


def _is_release(call: ast.Call, in_teardown: bool) -> bool:
    if is_teardown_call(call):
        return True
    return in_teardown and isinstance(call.func, ast.Attribute) and call.func.attr in SIGNAL_METHODS


def _describe_body(body: list[ast.stmt], show: Callable[[ast.AST], str]) -> str:
    """What a silent body does, in words: "the body only passes"."""
    statements = _meaningful(body)
    if not statements:
        return "the body only passes"
    if len(statements) == 1:
        only = statements[0]
        if isinstance(only, ast.Expr) and isinstance(only.value, ast.Constant) and only.value.value is Ellipsis:
            return "the body is only `...`"
        if isinstance(only, ast.Continue):
            return "the body only skips to the next iteration"
        if isinstance(only, ast.Break):
            return "the body only breaks out of the loop"
        if isinstance(only, ast.Return):
            if only.value is None or (isinstance(only.value, ast.Constant) and only.value.value is None):
                return "the body only returns `None`"
            text = " ".join(show(only.value).split())
            return f"the body only returns `{text}`" if text and len(text) <= 30 else "the body only returns a default"
    if all(
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Name)
        and statement.value.func.id == "print"
        for statement in statements
    ):
        return "the body only prints, and print is not logging"
    if all(isinstance(statement, (ast.Assign, ast.AnnAssign, ast.AugAssign)) for statement in statements):
        if len(statements) == 1:
            text = " ".join(show(statements[0]).split())
            if len(text) <= 40:
                return f"the body only assigns `{text}`"
        return "the body only assigns defaults"
    return "the body neither re-raises, logs, uses the exception nor returns an error response"


def _what(caught: _Caught, caught_type: ast.expr) -> str:
    if caught.exception.kind is ExceptionKind.BROAD:
        if isinstance(caught_type, ast.Tuple):
            return f"every error (it catches `{caught.culprit}`)"
        return "every error"
    errors = _area_errors(caught)
    if isinstance(caught_type, ast.Tuple):
        return f"{errors} (it catches `{caught.culprit}`)"
    return errors


def _area_errors(caught: _Caught) -> str:
    area = caught.exception.area.value if caught.exception.area is not None else "infrastructure"
    if caught.confidence is Confidence.LOW:
        return f"what looks like {area} errors (backbone could not resolve `{caught.culprit}`)"
    return f"{area} errors"


def _fix(caught: _Caught) -> str:
    if caught.exception.kind is ExceptionKind.BROAD:
        return (
            "Log the error with `logger.exception(...)` and re-raise it or return an error response, "
            "or catch only the specific exception you expect."
        )
    area = caught.exception.area.value if caught.exception.area is not None else "infrastructure"
    return (
        "Log the error with `logger.exception(...)` and re-raise it or answer with a 5xx "
        f"(503 when the dependency is down), so the {area} failure is visible."
    )


def _clip(text: str) -> str:
    return text if len(text) <= _LONGEST_SHOWN else text[: _LONGEST_SHOWN - 3] + "..."
