"""Contract speed: static extraction of a 300-operation service, and a diff of two 1 MB specs.

Generates (in $TMPDIR/backbone-bench-contract/, rebuilt each run) a FastAPI service of OPERATIONS
operations over 30 routers, with path and query parameters and raised HTTPExceptions, and
two OpenAPI documents of about 1 MB each (HEAD changes a few hundred things in BASE:
removed properties, narrowed bounds, new required parameters). Then runs, each as a
subprocess timed with the wall clock (start-up included):

- `backbone contract extract SERVICE -o spec.json` (static: nothing is imported);
- `backbone contract diff base.json head.json --format json`.

Targets: extraction under 2 s, diff under 1 s, and the diff finding every injected break.
Exit status: 0 targets met, 1 a target missed, 2 the benchmark could not run.

    .venv/bin/python bench/contract_speed.py
    .venv/bin/python bench/contract_speed.py --operations 1000
"""

from __future__ import annotations

import argparse
import copy
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Outside the repository: its .gitignore and excludes would hide the generated service.
WORK = Path(tempfile.gettempdir()) / "backbone-bench-contract"
BACKBONE = [sys.executable, "-m", "backbone"]


def write_service(root: Path, operations: int) -> None:
    routers = 30
    package = root / "svc"
    (package / "routers").mkdir(parents=True)
    (root / "backbone.toml").write_text("")  # its own root: the repository's excludes (bench/) don't apply
    (package / "__init__.py").write_text("")
    (package / "routers" / "__init__.py").write_text("")
    names = [f"r{index}" for index in range(routers)]
    main = ["from fastapi import FastAPI", f"from svc.routers import {', '.join(names)}", "", "app = FastAPI()"]
    main += [f"app.include_router({name}.router, prefix='/api')" for name in names]
    (package / "main.py").write_text("\n".join(main) + "\n")
    for index, name in enumerate(names):
        lines = ["from fastapi import APIRouter, HTTPException, Query", "", f"router = APIRouter(prefix='/{name}')", ""]
        for number in range(index, operations, routers):
            method = ("get", "post", "put", "delete")[number % 4]
            lines += [
                f"@router.{method}('/items{number}/{{item_id}}')",
                f"async def op{number}(item_id: int, limit: int = Query(50, le=200), q: str | None = None):",
                "    if item_id < 0:",
                "        raise HTTPException(status_code=404, detail='not found')",
                "    return {'id': item_id}",
                "",
            ]
        (package / "routers" / f"{name}.py").write_text("\n".join(lines))


def big_spec(paths: int) -> dict[str, object]:
    schemas: dict[str, object] = {}
    spec_paths: dict[str, object] = {}
    for index in range(paths):
        properties = {f"field{n}": {"type": "string", "maxLength": 100} for n in range(12)}
        properties["status"] = {"type": "string", "enum": ["new", "paid", "shipped"]}
        schemas[f"Model{index}"] = {"type": "object", "required": ["field0", "status"], "properties": properties}
        ref = {"$ref": f"#/components/schemas/Model{index}"}
        spec_paths[f"/things{index}/{{id}}"] = {
            "get": {
                "operationId": f"get{index}",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}},
                    {"name": "limit", "in": "query", "schema": {"type": "integer", "maximum": 100}},
                ],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": ref}}},
                              "404": {"description": "missing"}},
            },
            "post": {
                "operationId": f"post{index}",
                "requestBody": {"required": True, "content": {"application/json": {"schema": ref}}},
                "responses": {"201": {"description": "made"}},
            },
        }
    return {"openapi": "3.1.0", "info": {"title": "big", "version": "1"}, "paths": spec_paths,
            "components": {"schemas": schemas}}


def break_spec(spec: dict[str, object], every: int) -> tuple[dict[str, object], int]:
    head = copy.deepcopy(spec)
    schemas = head["components"]["schemas"]  # type: ignore[index]
    paths = head["paths"]  # type: ignore[index]
    breaks = 0
    for index, (path, item) in enumerate(paths.items()):  # type: ignore[attr-defined]
        if index % every:
            continue
        del schemas[f"Model{index}"]["properties"]["field0"]
        item["get"]["parameters"][1]["schema"]["maximum"] = 50
        item["get"]["parameters"].append({"name": "tenant", "in": "query", "required": True, "schema": {"type": "string"}})
        breaks += 3
    return head, breaks


def timed(arguments: list[str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.monotonic()
    done = subprocess.run(arguments, capture_output=True, text=True, timeout=600, check=False)
    return time.monotonic() - started, done


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=300)
    parser.add_argument("--paths", type=int, default=800, help="paths of each diffed spec (about 1 MB at 800)")
    options = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    write_service(WORK / "service", options.operations)
    spec_file = WORK / "spec.json"
    extract_seconds, done = timed([*BACKBONE, "contract", "extract", str(WORK / "service"), "-o", str(spec_file)])
    if done.returncode != 0:
        print(done.stderr, file=sys.stderr)
        return 2
    extracted = sum(len(item) for item in json.loads(spec_file.read_text())["paths"].values())
    base = big_spec(options.paths)
    head, breaks = break_spec(base, 7)
    (WORK / "base.json").write_text(json.dumps(base))
    (WORK / "head.json").write_text(json.dumps(head))
    size = (WORK / "base.json").stat().st_size
    diff_seconds, done = timed([*BACKBONE, "contract", "diff", str(WORK / "base.json"), str(WORK / "head.json"), "--format", "json"])
    if done.returncode not in (0, 1):
        print(done.stderr, file=sys.stderr)
        return 2
    found = [f for f in json.loads(done.stdout)["findings"] if f["severity"] == "error"]
    print(f"extract: {extracted} of {options.operations} operations in {extract_seconds:.2f} s (target < 2 s)")
    print(f"diff:    two {size / 1e6:.2f} MB specs in {diff_seconds:.2f} s (target < 1 s), {len(found)} of {breaks} breaks found")
    met = extract_seconds < 2 and diff_seconds < 1 and len(found) == breaks and extracted == options.operations
    print("targets met" if met else "a target missed")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
