"""Contract agreement: backbone's static extraction against each project's own OpenAPI generator.

For three open-source projects, one per framework, the script takes the project's code at a
pinned commit from a git mirror (`git archive` into $TMPDIR/backbone-bench-agreement/, outside
the repository), runs `backbone contract extract PATH` on it (static: nothing is imported), and
compares the operations with the spec the project's own generator produces:

- FastAPI (Netflix/dispatch): `get_openapi()` of the `dispatch.main.api` app, as the project's
  docs/scripts/generate_api_schema.py writes it to docs/scripts/openapi.yaml, read at the same
  commit (the generator's dependencies are not installed here); that app is mounted at
  /api/v1, which backbone's paths include and the sub-app's spec does not;
- DRF (TandoorRecipes/recipes): drf-spectacular, run for real (`manage.py spectacular`) in a
  virtual environment made from the project's requirements (`--venv DIR`; the first run
  installs it, which takes minutes);
- Flask (reanahub/reana-server): apispec with the Flask plugin over the views' docstrings, as
  the project's scripts/generate_openapi_spec.py writes docs/openapi.json, read at the same
  commit.

Agreement, per operation the generator lists: backbone lists the operation (method and path,
path parameter names set aside), and its parameters agree: the same (location, name,
required) set for path, query and header parameters, and a request body on both sides or on
neither. The figures are the share of the generator's operations that agree on
operations, and on operations and parameters; then, where both sides give an object schema
for the JSON request body (or the first 2xx response), whether they declare the same property
names. The disagreements are printed one per line.
Nothing of the projects is kept in the repository: only their names and commits below.

    .venv/bin/python bench/contract_agreement.py [--mirrors /work/.mirror] [--project dispatch]

Exit status: 0 every project at or above 95% on operations and parameters, 1 one below, 2 the
benchmark could not run (a mirror or commit missing: the reason is printed).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from backbone.contract.diff import normalized_path  # noqa: E402
from backbone.contract.spec import JSONObject, Resolver, as_list, as_object, operations  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORK = Path(tempfile.gettempdir()) / "backbone-bench-agreement"
BACKBONE = [sys.executable, "-m", "backbone"]
TARGET = 0.95
# --python NAME=INTERPRETER: the interpreter a project's generator environment is made with.
PYTHONS: dict[str, str] = {}


@dataclass(frozen=True)
class Project:
    name: str
    framework: str
    repository: str  # owner/name, the mirror's folder is owner+name
    commit: str
    # What of the tree to unpack (large unrelated files left out).
    members: tuple[str, ...]
    # The directory backbone reads, under the unpacked tree.
    source: str
    generator: str
    # Where the app the generator describes is mounted in the served URL space (a sub-app).
    mount: str = ""
    # The Python version the project is written for (its syntax): the generator's environment and
    # backbone itself run on it (`--python NAME=INTERPRETER`), else on this interpreter.
    python: str = ""


PROJECTS = (
    Project("dispatch", "fastapi", "Netflix/dispatch", "4a86b9b4c98db0b707f64545709fa302f18ef614",
            ("src", "docs/scripts"), "src", "committed:docs/scripts/openapi.yaml", mount="/api/v1"),
    Project("tandoor", "drf", "TandoorRecipes/recipes", "d206eddbd32bd3c40feff70ad780b0f91f325eaa",
            ("cookbook", "recipes", "manage.py", "requirements.txt", "version.py", "plugin.py"), ".", "spectacular",
            python="3.12"),
    Project("reana-server", "flask", "reanahub/reana-server", "33402245c6c0e2ca268278d53633cf9a24182bb3",
            ("reana_server", "docs/openapi.json", "scripts"), "reana_server", "committed:docs/openapi.json"),
)


class BenchError(Exception):
    pass


def unpack(project: Project, mirrors: Path) -> Path:
    git_dir = mirrors / project.repository.replace("/", "+") / "repo"
    if not git_dir.is_dir():
        raise BenchError(f"{project.name}: no mirror at {git_dir} (a bare clone of github.com/{project.repository})")
    tree = WORK / project.name
    if (tree / ".unpacked").read_text() == project.commit if (tree / ".unpacked").exists() else False:
        return tree
    done = subprocess.run(["git", "--git-dir", str(git_dir), "archive", project.commit, "--", *project.members],
                          capture_output=True, timeout=600, check=False)
    if done.returncode != 0:
        raise BenchError(f"{project.name}: git archive failed: {done.stderr.decode(errors='replace').strip()}")
    tree.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        archive.extractall(tree, filter="data")
    (tree / project.source / "backbone.toml").write_text("")  # its own root
    (tree / ".unpacked").write_text(project.commit)
    return tree


def spectacular(project: Project, tree: Path, venv: Path) -> JSONObject:
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([PYTHONS.get(project.name) or sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
        wanted = [line for line in (tree / "requirements.txt").read_text().splitlines()
                  if line.strip() and not line.startswith("#") and not line.lower().startswith(("python-ldap", "django-auth-ldap", "pytest"))]
        (venv / "requirements.txt").write_text("\n".join(wanted) + "\n")
        print(f"{project.name}: installing its requirements into {venv} ...", file=sys.stderr)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-r", str(venv / "requirements.txt")], check=True, timeout=3600)
    output = WORK / f"{project.name}.generator.json"
    environment = {**os.environ, "SECRET_KEY": "bench-only-not-secret", "DB_ENGINE": "django.db.backends.sqlite3",
                   "POSTGRES_DB": str(WORK / f"{project.name}.sqlite3")}
    done = subprocess.run([str(python), "manage.py", "spectacular", "--format", "openapi-json", "--file", str(output)],
                          cwd=tree, env=environment, capture_output=True, text=True, timeout=900, check=False)
    if done.returncode != 0 or not output.exists():
        raise BenchError(f"{project.name}: manage.py spectacular failed:\n{done.stderr[-3000:]}")
    return as_object(json.loads(output.read_text()))


def generator_spec(project: Project, tree: Path, venv_root: Path) -> JSONObject:
    if project.generator.startswith("committed:"):
        path = tree / project.generator.split(":", 1)[1]
        return as_object(yaml.safe_load(path.read_text()))
    return spectacular(project, tree, venv_root / f"venv-{project.name}")


@dataclass
class Shape:
    parameters: frozenset[tuple[str, str, bool]]
    body: bool
    # Property names of the JSON request body and of the first 2xx JSON response (None: no object schema).
    request: frozenset[str] | None = None
    response: frozenset[str] | None = None


def _properties(resolver: Resolver, schema: object, depth: int = 0) -> frozenset[str] | None:
    """The property names an object schema declares ($ref, allOf followed; an array's items, a page's results)."""
    node, _ = resolver.deref(schema)
    if depth > 8:
        return None
    names: set[str] = set()
    found = False
    for part in as_list(node.get("allOf")):
        inner = _properties(resolver, part, depth + 1)
        if inner is not None:
            names |= inner
            found = True
    properties = as_object(node.get("properties"))
    if properties:
        if set(properties) >= {"count", "results"} or set(properties) >= {"items", "total"}:  # a page: its rows
            rows = "results" if "results" in properties else "items"
            return _properties(resolver, as_object(resolver.deref(properties[rows])[0]).get("items"), depth + 1)
        names |= set(properties)
        found = True
    if node.get("type") == "array" and "items" in node:
        return _properties(resolver, node["items"], depth + 1)
    return frozenset(names) if found else None


def _json_schema(container: object) -> object:
    content = as_object(as_object(container).get("content"))
    for media, body in content.items():
        if "json" in media:
            return as_object(body).get("schema")
    return None


def shapes(spec: JSONObject, mount: str = "") -> dict[tuple[str, str], Shape]:
    """(method, normalized path) -> parameters and body presence; Swagger 2 and OpenAPI 3 alike."""
    resolver = Resolver(spec)
    base = mount + (str(spec.get("basePath", "")).rstrip("/") if "swagger" in spec else "")
    found: dict[tuple[str, str], Shape] = {}
    for operation in operations(spec):
        parameters: set[tuple[str, str, bool]] = set()
        body = "requestBody" in operation.body
        for raw in (*operation.path_parameters, *as_list(operation.body.get("parameters"))):
            parameter, _ = resolver.deref(raw)
            where, name = str(parameter.get("in", "")), str(parameter.get("name", ""))
            if where in ("body", "formData"):
                body = True
                continue
            if where == "cookie":
                continue
            parameters.add((where, name.lower() if where == "header" else name, bool(parameter.get("required", False))))
        request = response = None
        if "requestBody" in operation.body:
            request = _properties(resolver, _json_schema(resolver.deref(operation.body["requestBody"])[0]))
        else:
            body_parameter = next((resolver.deref(raw)[0] for raw in as_list(operation.body.get("parameters"))
                                   if resolver.deref(raw)[0].get("in") == "body"), None)
            if body_parameter is not None:
                request = _properties(resolver, body_parameter.get("schema"))
        for status, raw in sorted(as_object(operation.body.get("responses")).items()):
            if str(status).startswith("2"):
                answer = resolver.deref(raw)[0]
                response = _properties(resolver, _json_schema(answer) if "content" in answer else answer.get("schema"))
                break
        found[(operation.method, normalized_path(base + operation.path))] = Shape(frozenset(parameters), body, request, response)
    return found


@dataclass
class Result:
    project: Project
    generator_operations: int
    static_operations: int
    operations_agree: int
    parameters_agree: int
    disagreements: list[str]
    seconds: float
    # (compared, agreeing) request bodies and success responses: both sides declare object properties.
    requests: tuple[int, int] = (0, 0)
    responses: tuple[int, int] = (0, 0)


def compare(project: Project, generated: JSONObject, extracted: JSONObject, seconds: float) -> Result:
    theirs, ours = shapes(generated, project.mount), shapes(extracted)
    disagreements: list[str] = []
    operations_agree = parameters_agree = 0
    schemas = {"request": [0, 0], "response": [0, 0]}
    for key in sorted(theirs, key=lambda k: (k[1], k[0])):
        method, path = key
        shape = ours.get(key)
        if shape is None:
            disagreements.append(f"missing   {method} {path}")
            continue
        operations_agree += 1
        expected = theirs[key]
        for side in ("request", "response"):
            mine, other = getattr(shape, side), getattr(expected, side)
            if mine is not None and other is not None:
                schemas[side][0] += 1
                if mine == other:
                    schemas[side][1] += 1
                else:
                    disagreements.append(f"{side:9} {method} {path}: -{sorted(other - mine)} +{sorted(mine - other)}")
        problems = []
        for where, name, required in sorted(expected.parameters - shape.parameters):
            problems.append(f"-{where}:{name}{'*' if required else ''}")
        for where, name, required in sorted(shape.parameters - expected.parameters):
            problems.append(f"+{where}:{name}{'*' if required else ''}")
        if expected.body != shape.body:
            problems.append("-body" if expected.body else "+body")
        if problems:
            disagreements.append(f"params    {method} {path}: {' '.join(problems)}")
        else:
            parameters_agree += 1
    for key in sorted(set(ours) - set(theirs), key=lambda k: (k[1], k[0])):
        disagreements.append(f"extra     {key[0]} {key[1]}")
    return Result(project, len(theirs), len(ours), operations_agree, parameters_agree, disagreements, seconds,
                  (schemas["request"][0], schemas["request"][1]), (schemas["response"][0], schemas["response"][1]))


def backbone_command(project: Project) -> list[str]:
    """backbone reads a project with Python's own parser: one as new as the project's syntax needs."""
    interpreter = PYTHONS.get(project.name)
    if not project.python or not interpreter:
        return BACKBONE
    venv = WORK / f"venv-backbone-{project.python}"
    python = venv / "bin" / "python"
    if not python.exists():
        subprocess.run([interpreter, "-m", "venv", str(venv)], check=True, timeout=300)
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "-e", str(ROOT)], check=True, timeout=1800)
    return [str(python), "-m", "backbone"]


def run(project: Project, mirrors: Path, venv_root: Path) -> Result:
    tree = unpack(project, mirrors)
    generated = generator_spec(project, tree, venv_root)
    output = WORK / f"{project.name}.backbone.json"
    started = time.monotonic()
    done = subprocess.run([*backbone_command(project), "contract", "extract", str(tree / project.source), "-o", str(output)],
                          capture_output=True, text=True, timeout=900, check=False)
    seconds = time.monotonic() - started
    if done.returncode != 0:
        raise BenchError(f"{project.name}: backbone contract extract failed:\n{done.stderr[-3000:]}")
    return compare(project, generated, as_object(json.loads(output.read_text())), seconds)


def percent(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"), help="folder of bare git mirrors (owner+name/repo)")
    parser.add_argument("--venvs", type=Path, default=WORK, help="where the generators' virtual environments are made")
    parser.add_argument("--project", action="append", choices=[p.name for p in PROJECTS], help="only these projects")
    parser.add_argument("--python", action="append", default=[], metavar="PROJECT=PATH",
                        help="interpreter for a project's generator environment (tandoor needs Python 3.12)")
    parser.add_argument("--json", type=Path, help="write the figures and disagreements to this file")
    parser.add_argument("--quiet", action="store_true", help="figures only, no disagreement lines")
    options = parser.parse_args()
    PYTHONS.update(item.split("=", 1) for item in options.python if "=" in item)
    WORK.mkdir(parents=True, exist_ok=True)
    chosen = [p for p in PROJECTS if not options.project or p.name in options.project]
    results: list[Result] = []
    try:
        for project in chosen:
            results.append(run(project, options.mirrors, options.venvs))
    except (BenchError, subprocess.SubprocessError, OSError, ValueError) as error:
        print(f"contract_agreement: {error}", file=sys.stderr)
        return 2
    met = True
    report: list[dict[str, object]] = []
    for result in results:
        p = result.project
        print(f"{p.name} ({p.framework}, {p.repository}@{p.commit[:10]}, generator {p.generator}): "
              f"generator {result.generator_operations} operations, backbone {result.static_operations} "
              f"in {result.seconds:.1f} s; operations agree {result.operations_agree} "
              f"({percent(result.operations_agree, result.generator_operations)}), operations and parameters "
              f"{result.parameters_agree} ({percent(result.parameters_agree, result.generator_operations)}); "
              f"request body properties agree {result.requests[1]} of {result.requests[0]} compared, "
              f"success response properties {result.responses[1]} of {result.responses[0]}")
        if not options.quiet:
            for line in result.disagreements:
                print(f"    {line}")
        met = met and result.generator_operations > 0 and result.parameters_agree / result.generator_operations >= TARGET
        report.append({"project": p.name, "repository": p.repository, "commit": p.commit, "framework": p.framework,
                       "generator_operations": result.generator_operations, "backbone_operations": result.static_operations,
                       "operations_agree": result.operations_agree, "parameters_agree": result.parameters_agree,
                       "requests_compared_agree": result.requests, "responses_compared_agree": result.responses,
                       "disagreements": result.disagreements})
    if options.json:
        options.json.write_text(json.dumps(report, indent=2) + "\n")
    print("target met (>= 95% of operations agree with parameters)" if met else "a project is below 95%")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
