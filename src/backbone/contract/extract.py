"""`backbone contract extract`: the OpenAPI document of a project or an app object."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import yaml  # type: ignore[import-untyped, unused-ignore]

from backbone.contract.spec import JSONObject, SpecError

_APP_TARGET = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$")


class Extraction(msgspec.Struct):
    spec: JSONObject
    # How it was made: "fastapi openapi()", "flask url_map", "static".
    method: str
    # What could not be read, or why the import was given up for static reading.
    notes: list[str] = msgspec.field(default_factory=list)


def is_app_target(target: str) -> bool:
    return bool(_APP_TARGET.match(target)) and not Path(target).exists()


def extract_spec(target: str, app_dir: Path | None = None) -> Extraction:
    """From `module:app` (imported, falling back to reading the source), or a PATH (read statically)."""
    from backbone.contract.static import load_project, static_spec

    if is_app_target(target):
        from backbone.contract.live import import_app

        directory = app_dir or Path.cwd()
        notes: list[str] = []
        try:
            extraction = app_extraction(import_app(target, directory), target, directory)
            if extraction is not None:
                return extraction
            notes.append(f"{target}: not a FastAPI, Starlette or Flask app; read statically instead")
        except SpecError as error:
            notes.append(f"{error}; read statically instead")
        project = load_project(directory)
        notes += project.problems
        return Extraction(static_spec(project, target), "static", notes)
    root = Path(target)
    if not root.exists():
        raise SpecError(f"{target}: no such file or directory (give a PATH or module:app)")
    project = load_project(root)
    return Extraction(static_spec(project, root.resolve().name), "static", list(project.problems))


def app_extraction(app: object, target: str, directory: Path) -> Extraction | None:
    """The spec of an imported app by its own generator, with the source lines read statically; None for no app backbone knows."""
    from backbone.contract.live import live_spec
    from backbone.contract.static import load_project, static_spec

    spec = live_spec(app, directory)
    if spec is None:
        return None
    info = spec.get("info")
    method = str(info.get("x-backbone-extracted", "app")) if isinstance(info, dict) else "app"
    project = load_project(directory)
    merge_sources(spec, static_spec(project, target))
    return Extraction(spec, method, list(project.problems))


def merge_sources(spec: JSONObject, static: JSONObject) -> None:
    """Give each operation of an app's own spec the source line and raised errors read statically.

    Operations are matched by method and path (parameter names set aside); the app's spec
    keeps what it says, and gains the error statuses its handler raises that it does not list.
    """
    from backbone.contract.diff import normalized_path
    from backbone.contract.spec import as_object, operations

    known = {(normalized_path(op.path), op.method): op for op in operations(static)}
    for operation in operations(spec):
        found = known.get((normalized_path(operation.path), operation.method))
        if found is None:
            continue
        for key in ("x-backbone-source", "x-backbone-handler"):
            if key in found.body:
                operation.body.setdefault(key, found.body[key])
        responses = as_object(operation.body.get("responses"))
        for status, response in as_object(found.body.get("responses")).items():
            if status[:1] in ("4", "5"):
                responses.setdefault(status, response)
        operation.body["responses"] = responses


def dump_spec(spec: JSONObject, output_format: str) -> str:
    """The spec as text, with secret-looking values (an API key as a default or example) masked."""
    from backbone.redaction import mask_values

    spec = mask_values(spec)
    if output_format == "yaml":
        return str(yaml.safe_dump(spec, sort_keys=False, allow_unicode=True))
    return json.dumps(spec, indent=2, ensure_ascii=False) + "\n"
