"""BB104 error-layer-mismatch: a failure answered with the status of another layer."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from backbone.findings import Confidence, Severity
from backbone.review.frameworks import Handler, handler_for
from backbone.review.knowledge.answers import (
    Answer,
    aborted_answer,
    error_body,
    is_response_builder,
    raised_answer,
    returned_answer,
)
from backbone.review.knowledge.error_layers import (
    BUSINESS_OPTION,
    DEFAULT_BUSINESS_STATUS,
    DEFAULT_INFRASTRUCTURE_STATUSES,
    DEFAULT_VALIDATION_STATUS,
    INFRASTRUCTURE_OPTION,
    INPUT_PARSER_MODULES,
    INPUT_PARSERS,
    INPUT_PARSING_METHODS,
    INPUT_VALIDATOR_PREFIXES,
    VALIDATION_OPTION,
    CaughtLayer,
    ErrorLayer,
    exception_layer,
)
from backbone.review.knowledge.network import network_types, requested_address
from backbone.review.names import BUILTIN_NAMES, dotted_parts
from backbone.review.orm import classify_call, module_flows
from backbone.review.orm.origins import origin_of
from backbone.review.orm.values import Origin
from backbone.review.project import ProjectIndex, reads_exception_type
from backbone.review.rules.base import Rule, RuleDoc, RuleOption, Scope
from backbone.review.rules.contract._support import sends_bare_data, tuple_style

# Attributes of a caught exception that carry the upstream status: a handler reading them
# maps the dependency's answer (`exc.response.status_code == 404`) on purpose.
_UPSTREAM_STATUS_ATTRIBUTES = frozenset({"response", "status_code", "status", "code", "errno", "pgcode", "sqlstate"})
# Methods that read request input only when called on the request's data (`session.get(url)` fetches).
_INPUT_READERS = frozenset({"get", "getlist", "json"})
# `schema.load(data)` parses what it is given; `store.load()` reads storage (a session store).
_STORE_READERS = frozenset({"load", "loads", "decode"})
# Names that hold what the request sent (`request`, `payload`, `form`...).
_INPUT_HOLDERS = frozenset(
    {"request", "req", "data", "payload", "body", "params", "args", "form", "query", "query_params", "raw", "content", "kwargs", "GET", "POST", "values", "headers", "text"}
)
# Building a response object reads nothing and fails on nothing outside the process.
_RESPONSE_MODULES = ("fastapi.responses.", "starlette.responses.", "django.http.")
# Exceptions a parser raises to say the input is wrong: constructing one is no I/O.
_INPUT_ERRORS = frozenset({"ValueError", "TypeError", "KeyError", "IndexError"})
# How deep `_parses_input` follows the project's own functions.
_PARSER_DEPTH = 3
_OPTION_VALIDATION = VALIDATION_OPTION
_OPTION_BUSINESS = BUSINESS_OPTION
_OPTION_INFRASTRUCTURE = INFRASTRUCTURE_OPTION


class ErrorLayerMismatch(Rule):
    code = "BB104"
    name = "error-layer-mismatch"
    summary = (
        "The 3-layer error rule broken in a handler: bad input answered with 5xx, an infrastructure "
        "failure with 4xx/2xx, a catch-all `except Exception` with 4xx."
    )
    severity = Severity.WARNING
    scope = Scope.PROJECT
    # Every framework the handler registry knows, Quart, Django Ninja and Litestar included.
    frameworks = frozenset()
    subscribes = (ast.FunctionDef, ast.AsyncFunctionDef)
    options = (
        RuleOption(
            _OPTION_VALIDATION,
            DEFAULT_VALIDATION_STATUS,
            "The status bad input is answered with. Set it with `[tool.backbone.errors] validation = 422`.",
        ),
        RuleOption(
            _OPTION_BUSINESS,
            DEFAULT_BUSINESS_STATUS,
            "The status a broken business rule is answered with (named in advice). Set it with "
            "`[tool.backbone.errors] business = 409`.",
        ),
        RuleOption(
            _OPTION_INFRASTRUCTURE,
            tuple(str(status) for status in DEFAULT_INFRASTRUCTURE_STATUSES),
            "The statuses an infrastructure failure may be answered with. Set them with "
            "`[tool.backbone.errors] infrastructure = [500, 502, 503, 504]` (a number or a list).",
        ),
    )
    doc = RuleDoc(
        what_it_does=(
            "Checks the `except` clauses of request handlers against the three layers of failure:\n\n"
            "- **validation** (pydantic, marshmallow, Django and DRF `ValidationError`, "
            "`json.JSONDecodeError`, FastAPI `RequestValidationError`, jsonschema): the client sent bad "
            "input, so the answer is a 4xx. Reported when answered with a 5xx.\n"
            "- **infrastructure** (database, cache, HTTP client, network and timeout, cloud SDK, SMTP, "
            "message-broker errors, as BB101 knows them): a dependency failed, so the answer is a 5xx. "
            "Reported when answered with a 4xx, or with an explicit 2xx.\n"
            "- **catch-all** (`except Exception`, `BaseException`, a bare `except:`): it holds bugs and "
            "outages too, so it must not answer with a 4xx.\n\n"
            "The status is read where it is given: `HTTPException(status_code=...)`, `abort(...)`, "
            "`JSONResponse(..., status_code=...)`, `JsonResponse(..., status=...)`, DRF "
            "`Response(..., status=...)`, Flask's `return body, status`, Django Ninja's "
            "`return status, body`, and exception or response classes that are a status "
            "(`HttpResponseBadRequest`, werkzeug's `NotFound`, DRF's `ValidationError`, `Http404`). The "
            "finding names the layer, the exception and the status used.\n\n"
            "Not flagged: unique and foreign-key violations (`IntegrityError` answered with 409 is "
            "right), OS errors (an unreadable upload is the client's), payment-provider errors (a "
            "declined card is a business answer), handlers that read the upstream status from the "
            "exception (`exc.response.status_code`), statuses computed at run time, redirects, and a "
            "catch-all around code that only parses or validates the request (`json.loads`, `int(...)`, "
            "`schema.load(...)`, `serializer.is_valid()`, the project's own `validate_*`/`parse_*` "
            "functions, and any function of the project whose calls all parse, build a response or "
            "raise `ValueError`) or looks values up in the request's input (`url = request.args[\"url\"]`, "
            "whose only failure is a parameter the client left out), where everything caught is bad input; nor a "
            "catch-all around a request sent to a URL the client gave (`requests.get(form.url)`, `session.get(url=form.url)`: "
            "a connection test) in a `try` that reads no database, where what fails is the address the client chose; "
            "nor a catch-all whose 4xx is "
            "given only under a test that picks one kind of error (`if isinstance(exc, ConflictError): "
            "raise HTTPException(409)`, `if \"No result found\" in str(exc)`, or a predicate asked about the "
            "exception, `if is_expired_token_error(str(exc))`), the others being re-raised "
            "or answered apart; nor a catch-all around calls of callbacks whose failures never reach it: "
            "every call in the `try` runs what the project only ever assigns from a wrapper factory "
            "(`hooks.on_connect = wrap_callback(func)`, then `await hooks.on_connect(...)`), whose "
            "wrapper calls the function inside a `try` with a catch-all clause that raises nothing, or a "
            "project function that contains its callable's failures that way; nor the error protocol of a "
            "remote call: a catch-all whose answer describes the exception by its class (`type(error).__name__`, "
            "or a project function such as `describe_error(error)` that reads it) in a project whose own "
            "client raises an exception of a class it looks up by name (`getattr(module, name)` then "
            "`raise exception(*args)`): the caller gets the original exception back, the status only marks "
            "the channel. Functions that are not handlers (a "
            "serializer's `validate()`, a form's `clean()`, a service) are left to the handler that "
            "answers for them.\n\n"
            "The statuses of each layer are the project's: `[tool.backbone.errors]` sets `validation` "
            "(default 400), `business` (default 422, used in advice) and `infrastructure` (default "
            "500 and 503; a number or a list): they must be 4xx, 4xx and 5xx, and the finding's advice "
            "names them."
        ),
        why_is_this_bad=(
            "Clients, retries and alerts act on the status class. A 4xx says \"your request is wrong, do "
            "not retry\": a database outage answered with 400 makes clients give up on requests that "
            "would succeed a second later, and hides the outage in client-error statistics nobody is "
            "paged for. A 5xx says \"our fault\": bad input answered with 500 pages the on-call engineer "
            "for every typo a client makes and burns the error budget. A catch-all answered with 400 "
            "blames the client for every bug in the handler."
        ),
        example=(
            "from fastapi import APIRouter, HTTPException, Request\n"
            "from pydantic import ValidationError\n"
            "from sqlalchemy.exc import OperationalError\n\n"
            "router = APIRouter()\n\n\n"
            '@router.post("/webhook")\n'
            "async def webhook(request: Request):\n"
            "    try:\n"
            "        event = Event.model_validate_json(await request.body())\n"
            "    except ValidationError:\n"
            '        raise HTTPException(status_code=500, detail="bad event")\n'
            "    try:\n"
            "        record(event)\n"
            "    except OperationalError:\n"
            '        raise HTTPException(status_code=400, detail="could not record")\n'
        ),
        use_instead=(
            "from fastapi import APIRouter, HTTPException, Request\n"
            "from pydantic import ValidationError\n"
            "from sqlalchemy.exc import OperationalError\n\n"
            "router = APIRouter()\n\n\n"
            '@router.post("/webhook")\n'
            "async def webhook(request: Request):\n"
            "    try:\n"
            "        event = Event.model_validate_json(await request.body())\n"
            "    except ValidationError:\n"
            '        raise HTTPException(status_code=400, detail="bad event")\n'
            "    try:\n"
            "        record(event)\n"
            "    except OperationalError:\n"
            '        raise HTTPException(status_code=503, detail="try again shortly")\n'
        ),
    )

    VALID = (
        # A catch-all whose 4xx answers one kind of error only (by type or by message); every
        # other error is re-raised or answered with 500.
        """
        from fastapi import FastAPI, HTTPException

        from .deployments import ConflictError, create_deployment, read_project

        app = FastAPI()

        @app.post("/deployments")
        async def create(payload: dict):
            try:
                return await create_deployment(payload)
            except Exception as exc:
                if isinstance(exc, ConflictError):
                    raise HTTPException(status_code=409, detail=str(exc)) from exc
                raise

        @app.get("/projects/{project_id}")
        async def project(project_id: str):
            try:
                return await read_project(project_id)
            except Exception as e:
                if "No result found" in str(e):
                    raise HTTPException(status_code=404, detail="Project not found") from e
                raise HTTPException(status_code=500, detail="Project read failed") from e
        """,
        # A catch-all around a user callback that the project wraps in a function catching
        # every Exception: the callback's failures never reach the handler's clause.
        """
        import functools
        import logging

        from fastapi import FastAPI
        from fastapi.responses import JSONResponse

        logger = logging.getLogger(__name__)
        app = FastAPI()

        class Hooks:
            on_connect = None
            on_disconnect = None

        hooks = Hooks()

        def wrap_callback(user_function):
            @functools.wraps(user_function)
            async def wrapper(*args):
                try:
                    return await user_function(*args)
                except Exception as error:
                    logger.exception(error)
            return wrapper

        def on_connect(func):
            hooks.on_connect = wrap_callback(func)
            return func

        def on_disconnect(func):
            hooks.on_disconnect = wrap_callback(func)
            return func

        @app.post("/connect")
        async def connect(name: str):
            try:
                await hooks.on_connect(name)
            except Exception as error:
                return JSONResponse(status_code=400, content={"detail": str(error)})
            return {"connected": name}

        @app.post("/disconnect")
        async def disconnect(name: str):
            callback = hooks.on_disconnect
            try:
                if callback:
                    await callback(name)
            except Exception as error:
                return JSONResponse(status_code=400, content={"detail": str(error)})
            return {"disconnected": name}
        """,
        # The error protocol of a remote call: the body names the exception's class, and the
        # project's own client raises that class again.
        """
        import importlib
        import json

        import requests
        from fastapi import FastAPI, Request
        from fastapi.responses import JSONResponse

        app = FastAPI()
        resources = {}

        def describe_error(exception: Exception):
            return {
                "module_name": exception.__class__.__module__,
                "class_name": exception.__class__.__name__,
                "args": json.dumps(exception.args),
            }

        def raise_described(sent):
            module = importlib.import_module(sent["module_name"])
            exception = getattr(module, sent["class_name"])
            args = json.loads(sent["args"])
            raise exception(*args) if args else exception()

        def call_remote(url, payload):
            response = requests.post(url, json=payload, timeout=10)
            if response.status_code == 400:
                raise_described(response.json()["exception"])
            return response.json()

        @app.post("/run")
        async def run(request: Request):
            try:
                data = await request.json()
                return {"result": resources[data["handler"]].run(*data["args"])}
            except Exception as e:
                return JSONResponse({"exception": describe_error(e)}, status_code=400)
        """,
        # A catch-all around the project's own parser (it only converts and raises ValueError)
        # and a redirect built from what it returned.
        """
        import uuid

        from fastapi import FastAPI, HTTPException
        from fastapi.responses import RedirectResponse

        app = FastAPI()

        def to_user_id(text: str) -> uuid.UUID:
            if len(text) < 32:
                raise ValueError("a user id has 128 bits")
            int(text, 16)
            return uuid.UUID(hex=text[:32])

        @app.get("/uuid/{text}")
        def user_link(text: str):
            try:
                user_id = to_user_id(text).hex
                return RedirectResponse(url=f"/wallet?usr={user_id}")
            except Exception as exc:
                raise HTTPException(status_code=400, detail=str(exc)) from exc
        """,
        # FastAPI: each layer with its own status.
        """
        from fastapi import FastAPI, HTTPException
        from pydantic import ValidationError
        from sqlalchemy.exc import IntegrityError, OperationalError

        app = FastAPI()

        @app.post("/events")
        def receive(raw: str):
            try:
                event = Event.model_validate_json(raw)
            except ValidationError as exc:
                raise HTTPException(status_code=400, detail=str(exc)) from exc
            try:
                store(event)
            except IntegrityError:
                raise HTTPException(status_code=409, detail="event already recorded")
            except OperationalError:
                raise HTTPException(status_code=503, detail="try again shortly")
            except Exception:
                raise HTTPException(status_code=500, detail="internal error")
            return {"stored": True}
        """,
        # Flask: a proxy that passes the upstream status through; an OS error from an upload.
        """
        import requests
        from flask import Flask, abort, jsonify

        app = Flask(__name__)

        @app.get("/profiles/<name>")
        def profile(name):
            try:
                response = requests.get(f"https://profiles.example.com/{name}", timeout=5)
                response.raise_for_status()
            except requests.HTTPError as exc:
                if exc.response.status_code == 404:
                    abort(404)
                abort(502)
            return jsonify(response.json())

        @app.post("/avatar")
        def avatar():
            try:
                image = open_image(request_file())
            except OSError:
                return jsonify(error="not an image"), 400
            return jsonify(width=image.width)
        """,
        # Django: a catch-all around input parsing only is bad input; JSON decode errors with 400.
        """
        import json

        from django.http import JsonResponse
        from django.views.decorators.http import require_POST

        @require_POST
        def quote(request):
            try:
                payload = json.loads(request.body)
                quantity = int(payload.get("quantity", 1))
            except Exception:
                return JsonResponse({"error": "malformed request"}, status=400)
            try:
                data = json.loads(request.body)
            except json.JSONDecodeError:
                return JsonResponse({"error": "invalid JSON"}, status=400)
            return JsonResponse({"quantity": quantity, "data": data})
        """,
        # DRF: validation errors with 400, a database outage with 503, both through DRF's types.
        """
        from django.db import OperationalError
        from rest_framework import status
        from rest_framework.exceptions import ValidationError
        from rest_framework.response import Response
        from rest_framework.views import APIView

        class Refunds(APIView):
            def post(self, request):
                try:
                    refund = plan_refund(request.data)
                except ValidationError as exc:
                    return Response(exc.detail, status=status.HTTP_400_BAD_REQUEST)
                try:
                    refund.save()
                except OperationalError:
                    return Response({"detail": "try again"}, status=status.HTTP_503_SERVICE_UNAVAILABLE)
                return Response({"id": refund.id}, status=status.HTTP_201_CREATED)
        """,
        # A status computed at run time, and a redirect after a database error.
        """
        from django.contrib import messages
        from django.db import DatabaseError
        from django.shortcuts import redirect
        from django.views.decorators.http import require_POST
        from fastapi import FastAPI, HTTPException
        import httpx

        app = FastAPI()

        @app.get("/rates")
        async def rates():
            try:
                return await fetch_rates()
            except httpx.HTTPError as exc:
                raise HTTPException(status_code=status_for(exc), detail="rates unavailable")

        @require_POST
        def save_profile(request):
            try:
                request.user.profile.save()
            except DatabaseError:
                messages.error(request, "Your profile could not be saved.")
            return redirect("profile")
        """,
        # Any 5xx answers an infrastructure failure (502 and 504 name a gateway's view of it).
        """
        import requests
        from fastapi import FastAPI, HTTPException

        app = FastAPI()

        @app.get("/carrier")
        def carrier():
            try:
                return requests.get("https://carrier.example.com", timeout=3).json()
            except requests.Timeout:
                raise HTTPException(status_code=504, detail="carrier timed out")
            except requests.ConnectionError:
                raise HTTPException(status_code=502, detail="carrier unreachable")
        """,
    )

    INVALID = (
        # The exception's class in the body, with no client of the project that raises it again.
        """
        from fastapi import FastAPI, HTTPException

        app = FastAPI()

        @app.post("/orders")
        async def create(payload: dict, db):
            try:
                await db.execute("INSERT INTO orders VALUES (:id)", payload)
            except Exception as error:
                raise HTTPException(status_code=400, detail={"type": type(error).__name__})  # expect: BB104
            return {"created": True}
        """,
        # A wrapper that logs and raises again keeps nothing; a call beside the wrapped callback
        # (a database write) still fails into the catch-all.
        """
        import logging

        from fastapi import FastAPI, HTTPException

        logger = logging.getLogger(__name__)
        app = FastAPI()

        class Hooks:
            on_connect = None
            on_save = None

        hooks = Hooks()

        def logged(user_function):
            async def wrapper(*args):
                try:
                    return await user_function(*args)
                except Exception:
                    logger.exception("callback failed")
                    raise
            return wrapper

        def contained(user_function):
            async def wrapper(*args):
                try:
                    return await user_function(*args)
                except Exception:
                    logger.exception("callback failed")
            return wrapper

        def on_connect(func):
            hooks.on_connect = logged(func)
            return func

        def on_save(func):
            hooks.on_save = contained(func)
            return func

        @app.post("/connect")
        async def connect(name: str):
            try:
                await hooks.on_connect(name)
            except Exception as error:
                raise HTTPException(status_code=400, detail=str(error))  # expect: BB104
            return {"connected": name}

        @app.post("/save")
        async def save(name: str, db):
            try:
                await hooks.on_save(name)
                await db.execute("INSERT INTO names VALUES (:name)", {"name": name})
            except Exception as error:
                raise HTTPException(status_code=400, detail=str(error))  # expect: BB104
            return {"saved": name}
        """,
        # A 4xx in the branch that takes every other error is still a catch-all answered with 4xx.
        """
        from fastapi import FastAPI, HTTPException

        from .deployments import ConflictError, create_deployment

        app = FastAPI()

        @app.post("/deployments")
        async def create(payload: dict):
            try:
                return await create_deployment(payload)
            except Exception as exc:
                if isinstance(exc, ConflictError):
                    raise HTTPException(status_code=500, detail="conflict") from exc
                else:
                    raise HTTPException(status_code=400, detail=str(exc)) from exc  # expect: BB104
        """,
        # The project's own helper reads the database: its failures are not the client's.
        """
        from fastapi import FastAPI, HTTPException

        app = FastAPI()

        def to_user_id(session, text: str):
            return session.execute("select id from users where name = :name", {"name": text}).scalar_one()

        @app.get("/users/{text}")
        def user_link(text: str):
            try:
                return {"id": to_user_id(current_session(), text)}
            except Exception as exc:
                raise HTTPException(status_code=400, detail=str(exc)) from exc  # expect: BB104
        """,
        # FastAPI: bad input answered with 500.
        """
        from fastapi import APIRouter, HTTPException, Request
        from pydantic import ValidationError

        router = APIRouter()

        @router.post("/webhook")
        async def webhook(request: Request):
            try:
                event = Event.model_validate_json(await request.body())
            except ValidationError as exc:
                raise HTTPException(status_code=500, detail="could not process the event") from exc  # expect: BB104
            return {"received": event.id}
        """,
        # FastAPI: a database outage answered with 404, a catch-all answered with 400.
        """
        from fastapi import FastAPI, HTTPException, status
        from sqlalchemy.exc import OperationalError

        app = FastAPI()

        @app.get("/orders/{order_id}")
        def get_order(order_id: int):
            try:
                return load_order(order_id)
            except OperationalError:
                raise HTTPException(
                    status_code=status.HTTP_404_NOT_FOUND,  # expect: BB104
                    detail="order not found",
                )
            except Exception as exc:
                raise HTTPException(status_code=400, detail=str(exc))  # expect: BB104
        """,
        # Flask: an HTTP client timeout answered with 400, marshmallow errors with 500.
        """
        import requests
        from flask import Flask, abort, jsonify
        from marshmallow import ValidationError

        app = Flask(__name__)

        @app.post("/shipments")
        def create_shipment():
            try:
                shipment = ShipmentSchema().load(request_json())
            except ValidationError as err:
                return jsonify(errors=err.messages), 500  # expect: BB104
            try:
                label = requests.post(CARRIER_URL, json=shipment, timeout=5)
            except requests.Timeout:
                abort(400)  # expect: BB104
            return jsonify(label=label.json()), 201
        """,
        # Django: JSON decode errors answered with a server error response; a catch-all with 400.
        """
        import json

        from django.http import HttpResponseServerError, JsonResponse
        from django.views.decorators.http import require_POST

        @require_POST
        def import_orders(request):
            try:
                rows = json.loads(request.body)
            except json.JSONDecodeError:
                return HttpResponseServerError("could not import")  # expect: BB104
            try:
                created = create_orders(rows)
            except Exception:
                return JsonResponse({"error": "import failed"}, status=400)  # expect: BB104
            return JsonResponse({"created": created})
        """,
        # DRF: a database error answered with DRF's ValidationError (400), and with an explicit 200.
        """
        from django.db import DatabaseError, OperationalError
        from rest_framework.exceptions import ValidationError
        from rest_framework.response import Response
        from rest_framework.views import APIView

        class Payouts(APIView):
            def post(self, request):
                try:
                    payout = schedule_payout(request.data)
                except OperationalError:
                    raise ValidationError("could not schedule the payout")  # expect: BB104
                try:
                    payout.notify()
                except DatabaseError:
                    return Response({"scheduled": True}, status=200)  # expect: BB104
                return Response({"id": payout.id}, status=201)
        """,
        # Django Ninja's (status, body) tuples and a redis outage; an unresolved driver error.
        """
        from ninja import NinjaAPI
        import redis

        api = NinjaAPI()

        @api.get("/sessions/{key}")
        def session(request, key: str):
            try:
                return 200, load_session(key)
            except redis.ConnectionError:
                return 404, {"detail": "no such session"}  # expect: BB104

        @api.post("/sessions")
        def create_session(request):
            try:
                return 201, store_session(request)
            except conn.OperationalError:
                return 422, {"detail": "could not store"}  # expect: BB104
        """,
    )

    def visit(self, node: ast.AST) -> None:
        assert isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        handler = handler_for(node, self.context)
        if handler is None:
            # A serializer's validate(), a form's clean(), a service: their errors are answered by
            # whoever calls them, with the layer the handler decides.
            return
        bindings = self.context.semantic.bindings(node)
        reported: set[int] = set()
        for clause in [own for own in self.context.semantic.own_nodes(node) if isinstance(own, ast.ExceptHandler)]:
            caught = self._caught(clause)
            if caught is None:
                continue
            if caught.layer is ErrorLayer.INFRASTRUCTURE and _reads_upstream_status(clause):
                continue
            if caught.layer is ErrorLayer.CATCH_ALL and self._parses_input_only(clause):
                continue
            if caught.layer is ErrorLayer.CATCH_ALL and self._requests_the_clients_url(clause, node):
                continue
            if caught.layer is ErrorLayer.CATCH_ALL and self._runs_contained_calls_only(clause, bindings):
                continue
            for answer in self._answers(clause, handler, bindings):
                if answer.status is None or id(answer.status_node or answer.node) in reported:
                    continue
                if caught.layer is ErrorLayer.CATCH_ALL and self._sends_exception_on(clause, answer):
                    # The body names the exception's class for the project's own client, which
                    # raises it again: the status only marks the channel of a remote call.
                    continue
                if caught.layer is ErrorLayer.CATCH_ALL and self._narrowed(clause, answer.node):
                    # `if isinstance(exc, ConflictError): raise HTTPException(409)`: the 4xx answers
                    # one kind of error; the others go on (re-raised, or answered apart).
                    continue
                problem = self._problem(caught, answer, bindings)
                if problem is None:
                    continue
                reported.add(id(answer.status_node or answer.node))
                self.report(
                    answer.status_node or answer.node,
                    problem,
                    fix=self._fix(caught),
                    confidence=caught.confidence,
                )

    def _narrowed(self, clause: ast.ExceptHandler, node: ast.AST) -> bool:
        """`node` runs only under a test that picks one kind of the caught exception:
        `isinstance(exc, SomeError)`, `"No result found" in str(exc)`, `exc.code == ...`."""
        if clause.name is None:
            return False
        names = _derived_from_exception(clause)
        child = node
        for ancestor in self.context.ancestors(node):
            if ancestor is clause:
                return False
            if (
                isinstance(ancestor, ast.If)
                and any(child is statement for statement in ancestor.body)
                and _narrows(ancestor.test, names)
            ):
                return True
            child = ancestor
        return False

    # --- configuration ------------------------------------------------------------------

    def _validation_status(self) -> int:
        value = self.option(_OPTION_VALIDATION)
        return value if isinstance(value, int) else DEFAULT_VALIDATION_STATUS

    def _business_status(self) -> int:
        value = self.option(_OPTION_BUSINESS)
        return value if isinstance(value, int) else DEFAULT_BUSINESS_STATUS

    def _infrastructure_statuses(self) -> tuple[int, ...]:
        value = self.option(_OPTION_INFRASTRUCTURE)
        if isinstance(value, tuple):
            statuses = tuple(int(item) for item in value if item.isdigit())
            if statuses:
                return statuses
        if isinstance(value, int):
            return (value,)
        return DEFAULT_INFRASTRUCTURE_STATUSES

    def _infrastructure_text(self) -> str:
        statuses = [str(status) for status in self._infrastructure_statuses()]
        return statuses[0] if len(statuses) == 1 else f"{', '.join(statuses[:-1])} or {statuses[-1]}"

    # --- what was caught ----------------------------------------------------------------

    def _caught(self, clause: ast.ExceptHandler) -> CaughtLayer | None:
        if clause.type is None:
            return CaughtLayer(ErrorLayer.CATCH_ALL, "a bare except", Confidence.HIGH)
        members = clause.type.elts if isinstance(clause.type, ast.Tuple) else [clause.type]
        layers: list[CaughtLayer | None] = []
        for member in members:
            parts = dotted_parts(member)
            if parts is None:
                return None
            layers.append(exception_layer(self.context.qualified_name(member), parts[-1]))
        found = [layer for layer in layers if layer is not None]
        if not found:
            return None
        for layer in found:
            if layer.layer is ErrorLayer.CATCH_ALL:
                return layer
        kinds = {layer.layer for layer in found}
        if len(kinds) != 1:
            return None
        if ErrorLayer.INFRASTRUCTURE in kinds and len(found) != len(layers):
            # `except (KeyError, OperationalError)`: which of the two the answer is for is unclear.
            return None
        shown = ", ".join(dict.fromkeys(layer.shown for layer in found))
        confidence = min((layer.confidence for layer in found), key=lambda level: level.rank)
        return CaughtLayer(found[0].layer, shown, confidence, found[0].area)

    def _parses_input_only(self, clause: ast.ExceptHandler) -> bool:
        attempt = self.context.parent(clause)
        if not isinstance(attempt, ast.Try) and not (hasattr(ast, "TryStar") and isinstance(attempt, ast.TryStar)):
            return False
        nodes = [node for statement in attempt.body for node in ast.walk(statement)]
        calls = [node for node in nodes if isinstance(node, ast.Call)]
        # `request.args["url"]`: a lookup in the request's input fails only when the client left it out.
        lookups = [node for node in nodes if isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)]
        if not calls and not lookups:
            return False
        return all(self._parses_input(call) for call in calls) and all(
            self._reads_input(lookup) for lookup in lookups
        )

    def _requests_the_clients_url(self, clause: ast.ExceptHandler, function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
        """The `try` sends a request to a URL the client gave (`session.get(url=form.url)`, a
        connection test) and reads no database: what fails there is the address the client chose
        (unreachable, refusing, answering an error), a failure the client fixes by giving another."""
        attempt = self.context.parent(clause)
        if not isinstance(attempt, ast.Try):
            return False
        calls = [node for statement in attempt.body for node in ast.walk(statement) if isinstance(node, ast.Call)]
        if not calls or any(classify_call(self.context, call) is not None for call in calls):
            return False
        flow = module_flows(self.context).flow(function)
        types = network_types(self.context)
        for call in calls:
            address = requested_address(call, types)
            if address is not None and origin_of(address, flow, handler=True).origin is Origin.REQUEST:
                return True
        return False

    def _sends_exception_on(self, clause: ast.ExceptHandler, answer: Answer) -> bool:
        """The answer's body describes the caught exception by its class (`type(error).__name__`,
        or a project function that does, `describe_error(error)`), and a project function
        raises an exception of a class it looks up by name: the error protocol of a remote call."""
        project = self.context.project
        name = clause.name
        if project is None or name is None or not project.reraises_sent_exceptions():
            return False
        if reads_exception_type(answer.node, {name}):
            return True
        for call in ast.walk(answer.node):
            if not isinstance(call, ast.Call):
                continue
            qualified = self.context.call_name(call)
            facts = project.function(qualified) if qualified is not None else None
            if facts is None:
                continue
            passed = [
                argument for position, argument in enumerate(call.args) if position in facts.describes_exception_type
            ]
            if any(isinstance(argument, ast.Name) and argument.id == name for argument in passed):
                return True
        return False

    def _runs_contained_calls_only(self, clause: ast.ExceptHandler, bindings: dict[str, list[ast.expr | None]]) -> bool:
        """Every call the `try` makes runs a function whose failures are kept where it runs:
        `await config.on_connect(...)` where the project only ever assigns `on_connect` what a
        wrapper factory returns (`wrap_callback(func)`), whose wrapper catches every Exception
        of the function and raises nothing. The catch-all never sees those failures."""
        project = self.context.project
        attempt = self.context.parent(clause)
        if project is None or not isinstance(attempt, ast.Try):
            return False
        calls = [node for statement in attempt.body for node in ast.walk(statement) if isinstance(node, ast.Call)]
        return bool(calls) and all(self._contained_call(call, bindings, project) for call in calls)

    def _contained_call(self, call: ast.Call, bindings: dict[str, list[ast.expr | None]], project: ProjectIndex) -> bool:
        func = call.func
        if isinstance(func, ast.Name) and len(bindings.get(func.id, [])) == 1:
            # `callback = config.on_disconnect` then `await callback(...)`.
            bound = bindings[func.id][0]
            func = bound if isinstance(bound, ast.Attribute) else func
        if isinstance(func, ast.Attribute):
            sources = project.attribute_sources(func.attr)
            return bool(sources) and all(
                source and project.contains_failures_of_call(project.resolve(source)) for source in sources
            )
        qualified = self.context.call_name(call)
        return qualified is not None and project.contains_failures_of_call(project.resolve(qualified))

    def _reads_input(self, lookup: ast.Subscript) -> bool:
        """`request.args["url"]`, `request.form["title"]`, `payload["id"]`: a lookup in what the client sent."""
        holder = lookup.value
        if isinstance(holder, ast.Call):
            # `request.get_json()["name"]`: a lookup in what was parsed.
            return self._parses_input(holder)
        if isinstance(holder, ast.Subscript):
            return self._reads_input(holder)
        return bool(set(dotted_parts(holder) or []) & _INPUT_HOLDERS)

    def _parses_input(self, call: ast.Call) -> bool:
        qualified = self.context.call_name(call)
        if qualified is not None and (
            qualified in INPUT_PARSERS or qualified.startswith(INPUT_PARSER_MODULES) or self._pure(qualified, 0)
        ):
            return True
        parts = dotted_parts(call.func) or []
        if parts and parts[-1].lstrip("_").startswith(INPUT_VALIDATOR_PREFIXES) and classify_call(self.context, call) is None:
            # `validate_password(...)`, `parse_range(...)`: the project's own checks of the input.
            return True
        func = call.func
        if not isinstance(func, ast.Attribute) or func.attr not in INPUT_PARSING_METHODS:
            return False
        if classify_call(self.context, call) is not None:
            return False
        if func.attr in _INPUT_READERS or (func.attr in _STORE_READERS and not call.args):
            holder = dotted_parts(func.value) or []
            if isinstance(func.value, ast.Call):
                # `json.loads(x).get(...)`, `request.get_json().get(...)`: reading what was parsed.
                return self._parses_input(func.value)
            return bool(set(holder) & _INPUT_HOLDERS)
        return True

    def _pure(self, qualified: str, depth: int) -> bool:
        """A response built, an input error raised, or a project function whose own calls all
        parse (`to_valid_user_id(text)`: `int(text, 16)`, `uuid.UUID(...)`, `raise ValueError`)."""
        if is_response_builder(qualified) or qualified.startswith(_RESPONSE_MODULES) or qualified in _INPUT_ERRORS:
            return True
        if qualified in INPUT_PARSERS or qualified.startswith(INPUT_PARSER_MODULES):
            return True
        project = self.context.project
        facts = project.functions.get(project.resolve(qualified)) if project is not None else None
        if project is None or facts is None or facts.is_async or depth >= _PARSER_DEPTH or not facts.calls:
            return False
        return all(self._pure(project.resolve(site.callee), depth + 1) for site in facts.calls)

    # --- how it was answered -------------------------------------------------------------

    def _answers(self, clause: ast.ExceptHandler, handler: Handler, bindings: dict[str, list[ast.expr | None]]) -> Iterator[Answer]:
        resolve = self.context.qualified_name
        for node in _clause_nodes(clause):
            if isinstance(node, ast.Raise) and node.exc is not None:
                answer = raised_answer(node.exc, resolve)
                if answer is not None:
                    yield answer
            elif isinstance(node, ast.Call):
                aborted = aborted_answer(node, resolve)
                if aborted is not None:
                    yield aborted
            elif isinstance(node, ast.Return) and node.value is not None:
                returned = returned_answer(
                    node.value,
                    resolve,
                    bare_data=sends_bare_data(handler),
                    tuples=tuple_style(handler),
                    bindings=bindings,
                )
                if returned is not None:
                    yield returned

    def _problem(self, caught: CaughtLayer, answer: Answer, bindings: dict[str, list[ast.expr | None]]) -> str | None:
        status = answer.status
        assert status is not None
        infrastructure = self._infrastructure_statuses()
        validation = self._validation_status()
        if caught.layer is ErrorLayer.VALIDATION:
            if status >= 500 or (status in infrastructure and status != validation):
                return (
                    f"The validation error `{caught.shown}` (bad input) is answered with {status}, a server "
                    f"error: every malformed request pages the on-call engineer and counts against the error "
                    f"budget, and the client is not told to fix it."
                )
            return None
        if caught.layer is ErrorLayer.INFRASTRUCTURE:
            if status >= 500 or status in infrastructure or 300 <= status < 400:
                return None
            if status < 300:
                if answer.status_node is None or error_body(answer, bindings) is not None:
                    # The framework's default 200, or an error body (BB103's finding).
                    return None
                return (
                    f"The infrastructure error `{caught.shown}` ({caught.area} failure) is answered with "
                    f"{status}, a success: the client believes the work was done and monitoring sees no error."
                )
            return (
                f"The infrastructure error `{caught.shown}` ({caught.area} failure) is answered with "
                f"{status}, a client error: clients stop retrying a request that would succeed later, and "
                f"the outage hides in client-error statistics."
            )
        if caught.layer is ErrorLayer.CATCH_ALL and 400 <= status < 500 and status not in infrastructure:
            shown = "bare `except:`" if caught.shown == "a bare except" else f"`except {caught.shown}`"
            return (
                f"The catch-all {shown} is answered with {status}, a client error: bugs and outages caught "
                f"there are blamed on the client, who stops retrying and can't fix them."
            )
        return None

    def _fix(self, caught: CaughtLayer) -> str:
        if caught.layer is ErrorLayer.VALIDATION:
            return f"Answer bad input with {self._validation_status()} and say what is wrong with it."
        if caught.layer is ErrorLayer.INFRASTRUCTURE:
            return (
                f"Answer infrastructure failures ({caught.area}) with {self._infrastructure_text()} and log "
                f"them, so clients retry and monitoring counts them."
            )
        return (
            f"Catch the errors you expect and answer each with its layer's status (bad input "
            f"{self._validation_status()}, a broken business rule {self._business_status()}); let anything "
            f"else reach the framework's 500 handler, or answer it with {self._infrastructure_text()}."
        )


def _derived_from_exception(clause: ast.ExceptHandler) -> set[str]:
    """The caught exception's name, and the clause's variables computed from it (`raw = str(exc)`)."""
    names = {clause.name} if clause.name is not None else set()
    for statement in clause.body:
        if (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
            and any(isinstance(node, ast.Name) and node.id in names for node in ast.walk(statement.value))
        ):
            names.add(statement.targets[0].id)
    return names


def _narrows(test: ast.expr, names: set[str]) -> bool:
    """The test reads the caught exception (or what the clause computed from it, in `names`): its
    type (`isinstance`), its message or an attribute, or asks a function to classify it
    (`is_expired_token_error(str(exc))`)."""
    if isinstance(test, ast.BoolOp):
        return isinstance(test.op, ast.And) and any(_narrows(value, names) for value in test.values)
    if isinstance(test, ast.Call) and isinstance(test.func, ast.Name) and test.func.id == "isinstance":
        return bool(test.args) and isinstance(test.args[0], ast.Name) and test.args[0].id in names
    if isinstance(test, ast.Call) and not (isinstance(test.func, ast.Name) and test.func.id in BUILTIN_NAMES):
        # A predicate of the exception: the only thing it is asked about is what was caught
        # (a builtin, `str(exc)` or `bool(exc)`, asks nothing of its kind).
        arguments = [*test.args, *(keyword.value for keyword in test.keywords)]
        return bool(arguments) and all(
            any(isinstance(node, ast.Name) and node.id in names for node in ast.walk(argument)) for argument in arguments
        )
    if isinstance(test, ast.Compare):
        return any(
            isinstance(node, ast.Name) and node.id in names
            for operand in (test.left, *test.comparators)
            for node in ast.walk(operand)
        )
    return False


def _clause_nodes(clause: ast.ExceptHandler) -> Iterator[ast.AST]:
    """The nodes of an except clause's body, without nested scopes or nested except clauses."""
    stack: list[ast.AST] = list(reversed(clause.body))
    while stack:
        node = stack.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef, ast.ExceptHandler)):
            continue
        yield node
        stack.extend(reversed(list(ast.iter_child_nodes(node))))


def _reads_upstream_status(clause: ast.ExceptHandler) -> bool:
    if clause.name is None:
        return False
    for node in _clause_nodes(clause):
        if (
            isinstance(node, ast.Attribute)
            and node.attr in _UPSTREAM_STATUS_ATTRIBUTES
            and isinstance(node.value, ast.Name)
            and node.value.id == clause.name
        ):
            return True
    return False
