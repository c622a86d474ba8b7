"""Small OpenAPI documents for the contract tests, built from the part under test.

Not a conftest: tests import what they use (`from contract_support import ...`).
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from backbone.contract.diff import diff_specs

PROJECTS = Path(__file__).resolve().parent.parent / "fixtures" / "projects"
Spec = dict[str, object]


def api(path: str = "/orders", method: str = "get", operation: dict[str, object] | None = None, **top: object) -> Spec:
    body = operation if operation is not None else {"responses": {"200": {"description": "ok"}}}
    spec: Spec = {"openapi": "3.1.0", "info": {"title": "shop", "version": "1"}, "paths": {path: {method: body}}}
    spec.update(top)
    return copy.deepcopy(spec)


def with_parameter(schema: dict[str, object] | None = None, **parameter: object) -> Spec:
    declared: dict[str, object] = {"name": "q", "in": "query", "schema": schema or {"type": "string"}}
    declared.update(parameter)
    return api(operation={"parameters": [declared], "responses": {"200": {"description": "ok"}}})


def with_body(schema: dict[str, object], required: bool = True, media: str = "application/json") -> Spec:
    body = {"required": required, "content": {media: {"schema": schema}}}
    return api(method="post", operation={"requestBody": body, "responses": {"200": {"description": "ok"}}})


def with_response(schema: dict[str, object], status: str = "200", media: str = "application/json") -> Spec:
    response = {"description": "ok", "content": {media: {"schema": schema}}}
    return api(operation={"responses": {status: response}})


def check_ids(base: Spec, head: Spec) -> list[str]:
    return [change.check.id for change in diff_specs(base, head)]


@contextmanager
def imported_from(directory: Path, *packages: str) -> Iterator[None]:
    """Import a fixture project's modules in-process and forget them afterwards."""
    def forget() -> None:
        for name in [name for name in sys.modules if name.split(".")[0] in packages]:
            del sys.modules[name]

    forget()
    try:
        yield
    finally:
        forget()
        if str(directory) in sys.path:
            sys.path.remove(str(directory))
