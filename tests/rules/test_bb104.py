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
