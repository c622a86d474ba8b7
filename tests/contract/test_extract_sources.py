"""Static extraction against each library's own generator on small projects written for the test.

FastAPI's `app.openapi()` (dependencies declared through `Depends`, route `dependencies=`,
`Annotated` aliases defined in another module, a namespace subpackage), and apispec's
Flask plugin over docstring annotations: the static reading must list the same operations,
the same (location, name, required) parameters and a body exactly where they do.
"""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

from contract_support import imported_from

from backbone.contract.diff import normalized_path
from backbone.contract.extract import extract_spec
from backbone.contract.spec import JSONObject, Resolver, as_list, operations

Shape = tuple[frozenset[tuple[str, str, bool]], bool]


def shapes(spec: JSONObject) -> dict[tuple[str, str], Shape]:
    resolver = Resolver(spec)
    found: dict[tuple[str, str], Shape] = {}
    for op in operations(spec):
        parameters: set[tuple[str, str, bool]] = set()
        body = "requestBody" in op.body
        for raw in (*op.path_parameters, *as_list(op.body.get("parameters"))):
            parameter, _ = resolver.deref(raw)
            if parameter.get("in") in ("body", "formData"):
                body = True
            else:
                parameters.add((str(parameter["in"]), str(parameter["name"]).lower(), bool(parameter.get("required", False))))
        found[(op.method, normalized_path(op.path))] = (frozenset(parameters), body)
    return found


def write(root: Path, files: dict[str, str]) -> None:
    (root / "backbone.toml").write_text("")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))


FASTAPI_PROJECT = {
    "svc/__init__.py": "",
    "svc/deps.py": """
        from typing import Annotated

        from fastapi import Depends, Header, Query


        def paging(page: int = Query(1, gt=0), items_per_page: int = Query(5, alias="itemsPerPage"), q: str | None = None):
            return {"page": page, "items_per_page": items_per_page, "q": q}


        Paging = Annotated[dict, Depends(paging)]


        class Session:
            pass


        def get_db():
            yield Session()


        DbSession = Annotated[Session, Depends(get_db)]


        class User:
            pass


        def current_user(authorization: Annotated[str, Header()], db: DbSession) -> User:
            return User()


        CurrentUser = Annotated[User, Depends(current_user)]


        def tenant(x_tenant: str = Header(...)):
            return x_tenant
        """,
    "svc/models.py": """
        from pydantic import BaseModel


        class OrderIn(BaseModel):
            sku: str
            quantity: int
        """,
    # No __init__.py: a namespace subpackage of svc, as FastAPI projects often have.
    "svc/orders/views.py": """
        from fastapi import APIRouter, Depends

        from svc.deps import CurrentUser, DbSession, Paging, tenant
        from svc.models import OrderIn

        router = APIRouter()


        @router.get("")
        def list_orders(common: Paging, db: DbSession):
            return []


        @router.post("", dependencies=[Depends(tenant)])
        def create_order(order: OrderIn, db: DbSession, user: CurrentUser):
            return {}


        @router.put("/{order_id}/close")
        def close_order(order_id: int, user: CurrentUser, db: DbSession):
            return {}
        """,
    "svc/refunds/views.py": """
        from fastapi import APIRouter

        from svc.deps import CurrentUser

        router = APIRouter()


        @router.get("/{refund_id}")
        def get_refund(refund_id: int, user: CurrentUser):
            return {}
        """,
    "svc/main.py": """
        from fastapi import FastAPI

        from svc.orders.views import router as orders_router
        from svc.refunds.views import router as refunds_router

        app = FastAPI()
        app.include_router(orders_router, prefix="/api/orders")
        app.include_router(refunds_router, prefix="/api/refunds")
        """,
}


def test_fastapi_dependencies_statically_agree_with_app_openapi(tmp_path: Path) -> None:
    write(tmp_path, FASTAPI_PROJECT)
    with imported_from(tmp_path, "svc"):
        sys.path.insert(0, str(tmp_path))
        from svc.main import app  # type: ignore[import-not-found]

        generated = app.openapi()
    static = extract_spec(str(tmp_path)).spec
    expected = shapes(generated)
    assert expected[("GET", "/api/orders")][0] >= {("query", "itemsperpage", False), ("query", "page", False)}
    assert expected[("PUT", "/api/orders/{}/close")] == (
        frozenset({("path", "order_id", True), ("header", "authorization", True)}), False)
    assert shapes(static) == expected


APISPEC_VIEWS = '''
    from flask import Flask

    app = Flask(__name__)


    @app.route("/workflows/<workflow_id>/logs", methods=["GET"])
    def get_logs(workflow_id):
        r"""Get workflow logs.

        ---
        get:
          operationId: get_logs
          parameters:
            - name: workflow_id
              in: path
              required: true
              type: string
            - name: page
              in: query
              type: integer
            - name: X-Token
              in: header
              required: true
              type: string
          responses:
            200:
              description: The logs.
              schema:
                type: object
            404:
              description: No such workflow.
        """
        return {}


    @app.route("/workflows", methods=["POST"])
    def create_workflow():
        """Create a workflow.

        ---
        post:
          operationId: create_workflow
          parameters:
            - name: workflow_name
              in: query
              required: true
              type: string
            - name: spec
              in: body
              required: true
              schema:
                type: object
          responses:
            201:
              description: Created.
        """
        return {}, 201
    '''


def test_flask_apispec_docstrings_statically_agree_with_apispec(tmp_path: Path) -> None:
    from apispec import APISpec
    from apispec_webframeworks.flask import FlaskPlugin

    write(tmp_path, {"flows/__init__.py": "", "flows/app.py": APISPEC_VIEWS})
    with imported_from(tmp_path, "flows"):
        sys.path.insert(0, str(tmp_path))
        from flows.app import app  # type: ignore[import-not-found]

        spec = APISpec(title="flows", version="1", openapi_version="2.0", plugins=(FlaskPlugin(),))
        with app.test_request_context():
            for name, view in app.view_functions.items():
                if name != "static":
                    spec.path(view=view)
        generated = spec.to_dict()
    static = extract_spec(str(tmp_path)).spec
    assert shapes(static) == shapes(generated)
    logs = static["paths"]["/workflows/{workflow_id}/logs"]["get"]  # type: ignore[index]
    assert logs["operationId"] == "get_logs"
    assert logs["responses"]["404"] == {"description": "No such workflow."}
    assert logs["responses"]["200"]["content"]["application/json"]["schema"] == {"type": "object"}
    assert logs["x-backbone-source"] == "flows/app.py:8"
