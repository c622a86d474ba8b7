"""Small, deterministic log writers for the `backbone debug` tests."""

from __future__ import annotations

import gzip
import json
import random
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path

T0 = datetime(2024, 5, 1, 12, 0, 0)
SITE = "/srv/app/.venv/lib/python3.12/site-packages"


def combined(moment: datetime, method: str, path: str, status: int, seconds: float | None = 0.05,
             agent: str = "Mozilla/5.0 (X11; Linux x86_64)") -> str:
    tail = f" {seconds:.3f}" if seconds is not None else ""
    return (f'10.0.0.1 - - [{moment:%d/%b/%Y:%H:%M:%S} +0000] "{method} {path} HTTP/1.1" {status} 512 '
            f'"https://example.com/" "{agent}"{tail}')


def common(moment: datetime, method: str, path: str, status: int, microseconds: int | None = None) -> str:
    tail = f" {microseconds}" if microseconds is not None else ""
    return f'127.0.0.1 - frank [{moment:%d/%b/%Y:%H:%M:%S} -0700] "{method} {path} HTTP/1.0" {status} 2326{tail}'


def write(path: Path, lines: Iterable[str], *, compress: bool = False) -> Path:
    text = "".join(line + "\n" for line in lines)
    if compress:
        with gzip.open(path, "wt", encoding="utf-8") as stream:
            stream.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def traffic(minutes: int = 60, per_minute: int = 60, *, seed: int = 1,
            spike: tuple[int, int] | None = None, burst: tuple[int, int] | None = None,
            gateway_timeouts: tuple[int, int] | None = None, slow_route: str = "/orders") -> list[str]:
    """Flat traffic (lognormal latencies around 40 ms, 0.2% 5xx) with optional incidents,
    given as (first minute, last minute exclusive)."""
    rng = random.Random(seed)
    lines = []
    routes = (("GET", "/products/{}"), ("GET", "/orders"), ("POST", "/orders"), ("GET", "/health"))
    for minute in range(minutes):
        for index in range(per_minute):
            moment = T0 + timedelta(minutes=minute, seconds=index * 60 / per_minute)
            method, template = routes[index % len(routes)]
            path = template.format(rng.randint(1, 9999))
            seconds = rng.lognormvariate(-3.2, 0.3)
            status = 500 if rng.random() < 0.002 else 200
            if spike and spike[0] <= minute < spike[1] and path == slow_route and method == "GET":
                seconds = 1.5 + rng.random()
            if burst and burst[0] <= minute < burst[1] and method == "POST":
                status = 500
            if gateway_timeouts and gateway_timeouts[0] <= minute < gateway_timeouts[1] and index % 10 == 0:
                status, seconds = 504, 30.0
            lines.append(combined(moment, method, path, status, seconds))
    return lines


def app_record(moment: datetime, level: str, message: str) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S},{moment.microsecond // 1000:03d} {level} [app] {message}"


def traceback_text(exception: str, message: str, *, app_line: int = 42, function: str = "create_order",
                   app_path: str = "/srv/app/shop/services/orders.py", chained_from: str | None = None) -> str:
    frames = (f'  File "{SITE}/starlette/routing.py", line 73, in app\n'
              "    response = await f(request)\n"
              f'  File "/srv/app/shop/routers/orders.py", line 29, in {function}_route\n'
              f"    return {function}(payload)\n"
              f'  File "{app_path}", line {app_line}, in {function}\n'
              "    db.commit()\n"
              f'  File "{SITE}/sqlalchemy/orm/session.py", line 2028, in commit\n'
              "    trans.commit(_to_root=True)\n")
    text = f"Traceback (most recent call last):\n{frames}{exception}: {message}"
    if chained_from is not None:
        root = (f"Traceback (most recent call last):\n"
                f'  File "{SITE}/sqlalchemy/engine/default.py", line 924, in do_execute\n'
                "    cursor.execute(statement, parameters)\n"
                f"{chained_from}: {message}\n\n"
                "The above exception was the direct cause of the following exception:\n\n")
        text = root + text
    return text


def app_errors(moments: Iterable[datetime], exception: str, message: str, **kwargs: object) -> list[str]:
    lines: list[str] = []
    for moment in moments:
        lines.append(app_record(moment, "ERROR", "Exception in ASGI application"))
        lines.extend(traceback_text(exception, message, **kwargs).splitlines())  # type: ignore[arg-type]
    return lines


def pg_duration(moment: datetime, milliseconds: float, statement: str, pid: int = 4321) -> str:
    return (f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d} UTC [{pid}] LOG:  "
            f"duration: {milliseconds:.3f} ms  statement: {statement}")


def pg_error(moment: datetime, message: str, severity: str = "ERROR", pid: int = 4321) -> str:
    return f"{moment:%Y-%m-%d %H:%M:%S}.000 UTC [{pid}] {severity}:  {message}"


def pg_csv(moment: datetime, severity: str, message: str) -> str:
    fields = [f"{moment:%Y-%m-%d %H:%M:%S}.123 UTC", "shop", "shop", "4321", "127.0.0.1:5000", "6650a1.10e1", "3",
              "SELECT", f"{moment:%Y-%m-%d %H:%M:%S} UTC", "3/42", "0", severity, "00000", message, "", "", "", "",
              "", "", "", "", "psql", "client backend", "", "0"]
    return ",".join('"' + field.replace('"', '""') + '"' if field else "" for field in fields)


def json_access(moment: datetime, method: str, path: str, status: int, duration_ms: float) -> str:
    return json.dumps({"timestamp": moment.isoformat() + "Z", "level": "info", "event": "request",
                       "http": {"method": method, "path": path, "status_code": status}, "duration_ms": duration_ms})
