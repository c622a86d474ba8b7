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
        """
    ) == [28]
