"""Tracebacks: parsed, chained, grouped like Sentry, culprit in the application."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from debug_log_factory import SITE, T0, app_errors, app_record, traceback_text, write

from backbone.logs import analyze
from backbone.logs.tracebacks import is_in_app, parse_traceback_text


def test_culprit_is_the_innermost_application_frame_not_site_packages() -> None:
    parsed = parse_traceback_text(traceback_text("ValueError", "bad total", app_line=42))
    assert parsed is not None
    assert parsed.final.exception == "ValueError" and parsed.final.message == "bad total"
    culprit = parsed.culprit()
    assert culprit is not None
    assert (culprit.path, culprit.line, culprit.function) == ("/srv/app/shop/services/orders.py", 42, "create_order")
    assert [frame.in_app for frame in parsed.final.frames] == [False, True, True, False]


def test_in_app_paths() -> None:
    assert is_in_app("/srv/app/shop/orders.py")
    assert is_in_app("shop/orders.py")
    assert not is_in_app(f"{SITE}/fastapi/routing.py")
    assert not is_in_app("/usr/lib/python3.12/asyncio/base_events.py")
    assert not is_in_app("/usr/lib/python3/dist-packages/requests/api.py")
    assert not is_in_app("<frozen importlib._bootstrap>")


def test_grouping_ignores_line_numbers_and_messages() -> None:
    first = parse_traceback_text(traceback_text("ValueError", "order 1 is bad", app_line=42))
    moved = parse_traceback_text(traceback_text("ValueError", "order 2 is bad", app_line=57))
    other_type = parse_traceback_text(traceback_text("KeyError", "'sku'", app_line=42))
    other_function = parse_traceback_text(traceback_text("ValueError", "bad", function="cancel_order"))
    assert first is not None and moved is not None and other_type is not None and other_function is not None
    assert first.fingerprint() == moved.fingerprint()
    assert first.fingerprint() != other_type.fingerprint()
    assert first.fingerprint() != other_function.fingerprint()


def test_library_frames_do_not_split_groups() -> None:
    text = traceback_text("ValueError", "bad")
    upgraded = text.replace("sqlalchemy/orm/session.py\", line 2028, in commit",
                            "sqlalchemy/orm/session.py\", line 2101, in _commit_impl")
    first, second = parse_traceback_text(text), parse_traceback_text(upgraded)
    assert first is not None and second is not None
    assert first.fingerprint() == second.fingerprint()


def test_chained_exceptions_direct_cause() -> None:
    parsed = parse_traceback_text(traceback_text(
        "sqlalchemy.exc.IntegrityError", "duplicate key value violates unique constraint",
        chained_from="psycopg2.errors.UniqueViolation"))
    assert parsed is not None
    assert parsed.chain == ("psycopg2.errors.UniqueViolation", "sqlalchemy.exc.IntegrityError")
    culprit = parsed.culprit()
    # The root cause has no application frame; the culprit comes from the next exception.
    assert culprit is not None and culprit.line == 42


def test_chained_exceptions_during_handling_in_a_log(tmp_path: Path) -> None:
    lines = [
        app_record(T0, "ERROR", "request failed"),
        "Traceback (most recent call last):",
        '  File "/srv/app/shop/cart.py", line 10, in total',
        "    return prices[sku]",
        "           ~~~~~~^^^^^",
        "KeyError: 'sku-1'",
        "",
        "During handling of the above exception, another exception occurred:",
        "",
        "Traceback (most recent call last):",
        '  File "/srv/app/shop/cart.py", line 12, in total',
        "    raise PricingError(sku)",
        "shop.errors.PricingError: no price for sku-1",
        app_record(T0 + timedelta(seconds=1), "INFO", "next record"),
    ]
    report = analyze([write(tmp_path / "app.log", lines)])
    (group,) = report.errors
    assert group.chain == ("KeyError", "shop.errors.PricingError")
    assert group.exception == "shop.errors.PricingError" and group.message == "no price for sku-1"
    assert group.culprit is not None and (group.culprit.line, group.culprit.function) == (10, "total")
    assert group.example.line == 2 and report.lines.malformed == 0


def test_groups_count_first_and_last_seen(tmp_path: Path) -> None:
    moments = [T0 + timedelta(minutes=minute) for minute in range(5)]
    lines = app_errors(moments, "ValueError", "bad total")
    lines += app_errors([T0 + timedelta(minutes=10)], "ValueError", "bad total", app_line=99)
    lines += app_errors([T0 + timedelta(minutes=3)], "KeyError", "'x'")
    report = analyze([write(tmp_path / "app.log", lines)])
    first, second = report.errors
    assert (first.exception, first.count) == ("ValueError", 6)
    assert first.first_seen == T0 and first.last_seen == T0 + timedelta(minutes=10)
    assert (second.exception, second.count) == ("KeyError", 1)


def test_multiline_exception_message_and_stderr_traceback(tmp_path: Path) -> None:
    lines = [
        *traceback_text("sqlalchemy.exc.OperationalError", "(psycopg2.OperationalError) server closed").splitlines(),
        "[SQL: SELECT 1]",
        "(Background on this error at: https://sqlalche.me/e/20/e3q8)",
        app_record(T0, "INFO", "recovered"),
    ]
    report = analyze([write(tmp_path / "app.log", lines)])
    (group,) = report.errors
    assert group.message.startswith("(psycopg2.OperationalError) server closed")
    assert "[SQL: SELECT 1]" in group.message and report.lines.malformed == 0


def test_traceback_inside_a_json_record(tmp_path: Path) -> None:
    record = {"timestamp": "2024-05-01T12:00:00Z", "level": "error", "event": "unhandled",
              "exception": traceback_text("ValueError", "bad total")}
    report = analyze([write(tmp_path / "app.jsonl", [json.dumps(record)] * 3)])
    (group,) = report.errors
    assert group.count == 3 and group.culprit is not None and group.culprit.line == 42
    assert group.first_seen == T0
