from __future__ import annotations

import textwrap

from backbone.review.checker import check_source


def lines(snippet: str) -> list[int]:
    return [f.line for f in check_source(textwrap.dedent(snippet), ("BB104",), path="svc/views.py", module="svc.views")]


def test_a_catch_all_around_lookups_in_the_request_input_answers_a_client_error() -> None:
    """`request.args["url"]` fails only when the client left the parameter out: 400 is right."""
    assert lines(
        """
        from flask import Flask, jsonify, request

        from svc.store import load_alert

        app = Flask(__name__)


        @app.route("/oembed")
        def oembed():
            try:
                url = request.args["url"]
                title = request.args["title"]
            except Exception:
                return jsonify(status="error", message="Client Error"), 400
            return jsonify(url=url, title=title)


        @app.route("/alert")
        def alert():
            try:
                alert = load_alert(request.args["id"])
                first = alert.notes[0]
            except Exception:
                return jsonify(status="error"), 400
            return jsonify(first=first)
        """
    ) == [25]


def test_a_client_error_given_only_for_errors_a_predicate_picks() -> None:
    """`if is_expired_token_error(str(exc)): 400`: the 4xx answers one kind of error, picked by a
    function asked about the exception; the others are answered apart."""
    assert lines(
        """
        from fastapi import FastAPI, HTTPException

        from svc.vault import is_expired_token_error, list_items, upstream_status

        app = FastAPI()


        @app.get("/items")
        async def items():
            try:
                return await list_items()
            except Exception as exc:
                raw = str(exc)
                if is_expired_token_error(raw):
                    raise HTTPException(status_code=400, detail="Update your token") from exc
                if upstream_status(raw) is not None:
                    raise HTTPException(status_code=502, detail="Vault unavailable") from exc
                raise HTTPException(status_code=500, detail="Failed") from exc


        @app.get("/other-items")
        async def other_items(strict: bool):
            try:
                return await list_items()
            except Exception as exc:
                if is_expired_token_error(strict):
                    raise HTTPException(status_code=400, detail="Update your token") from exc
                raise HTTPException(status_code=500, detail="Failed") from exc


        @app.get("/any-items")
        async def any_items():
            try:
                return await list_items()
            except Exception as exc:
                if str(exc):
                    raise HTTPException(status_code=400, detail="Failed") from exc
                raise HTTPException(status_code=500, detail="Failed") from exc
        """
    ) == [28, 38]


def test_a_connection_test_of_the_url_the_client_gave() -> None:
    """The `try` only sends a request to the address the client sent: an unreachable address is
    the client's to fix, and 400 says so. An address of the service's own, or a `try` that also
    reads the database, is still reported."""
    assert lines(
        """
        import requests
        from fastapi import FastAPI, HTTPException
        from pydantic import BaseModel
        from sqlalchemy.orm import Session

        app = FastAPI()
        TERMINAL_URL = "http://terminal.internal"


        class Connection(BaseModel):
            url: str


        @app.post("/verify")
        def verify(form: Connection):
            url = form.url.rstrip("/")
            try:
                response = requests.get(f"{url}/options", timeout=5)
                response.raise_for_status()
                return {"ok": True}
            except Exception:
                raise HTTPException(status_code=400, detail="Could not reach the URL")


        @app.post("/verify-keyword")
        async def verify_keyword(form: Connection, session):
            try:
                async with session.get(url=form.url, timeout=5) as response:
                    response.raise_for_status()
                    return {"ok": True}
            except Exception:
                raise HTTPException(status_code=400, detail="Could not reach the URL")


        @app.post("/terminal")
        def terminal(form: Connection):
            try:
                return requests.get(TERMINAL_URL, timeout=5).json()
            except Exception:
                raise HTTPException(status_code=400, detail="Terminal failed")


        @app.post("/verify-and-save")
        def verify_and_save(form: Connection, db: Session):
            try:
                requests.get(form.url, timeout=5).raise_for_status()
                db.query(Connection).filter_by(url=form.url).first()
            except Exception:
                raise HTTPException(status_code=400, detail="Could not save")
        """
    ) == [41, 50]


def test_a_connection_test_of_a_url_nested_in_the_client_input() -> None:
    """`request.config.api_base_url` of a body model the handler is given is the client's input,
    though a field on the way is called `config`."""
    assert lines(
        """
        import requests
        from fastapi import FastAPI, HTTPException
        from pydantic import BaseModel

        app = FastAPI()


        class ServiceConfig(BaseModel):
            api_base_url: str


        class ConfigRequest(BaseModel):
            config: ServiceConfig


        @app.post("/test-connection")
        def test_connection(request: ConfigRequest):
            api_base_url = request.config.api_base_url
            try:
                requests.get(api_base_url, timeout=10).raise_for_status()
                return {"success": True}
            except Exception:
                raise HTTPException(status_code=400, detail="Could not reach the URL")
        """
    ) == []


def test_only_an_http_request_to_the_clients_url_is_a_connection_test() -> None:
    assert lines(
        """
        import requests
        from fastapi import FastAPI, HTTPException
        from pydantic import BaseModel

        from app.hooks import register_webhook

        app = FastAPI()


        class Connection(BaseModel):
            url: str


        @app.post("/verify-session")
        def verify_session(form: Connection):
            session = requests.Session()
            try:
                session.get(form.url, timeout=5).raise_for_status()
                return {"ok": True}
            except Exception:
                raise HTTPException(status_code=400, detail="Could not reach the URL")


        @app.post("/hooks")
        def add_hook(form: Connection):
            try:
                register_webhook(url=form.url)
                return {"ok": True}
            except Exception:
                raise HTTPException(status_code=400, detail="Could not register")
        """
    ) == [31]
