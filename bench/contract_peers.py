"""Contract peers, side by side: backbone's lint and diff against Spectral, Redocly and optic.

The peers are installed from npm into a scratch folder (`--peers DIR`, default
$TMPDIR/backbone-bench-peers; the first run does `npm install` of the pinned versions below).
They run on the same specs as backbone:

- lint (`backbone contract lint`, `spectral lint` with the `spectral:oas` ruleset, `redocly
  lint` with its recommended ruleset) on the real projects' specs that
  bench/contract_agreement.py leaves in $TMPDIR/backbone-bench-agreement/ (backbone's static
  extraction and each project's own generated spec), and on the specs of
  bench/contract_speed.py ($TMPDIR/backbone-bench-contract/: the 300-operation extraction and
  the 1 MB base spec). Run those two benchmarks first; specs that are not there are skipped.
- diff (`backbone contract diff`, `optic diff --check`; Spectral and Redocly have no diff):
  contract_speed's 1 MB base and head specs (345 injected breaks), and the real projects'
  own generated specs at two commits from their history (from the git mirrors).

Each tool's rules are put in shared categories (the table CATEGORIES below; a rule with no
shared category keeps its own name), and for each spec the script prints, per category, how
many problems each tool reports, marking the categories only one tool reports ("only
spectral"). For diffs: the breaking changes each tool reports per check, and the operations
one tool flags as broken that the other does not. Timing is wall clock and CPU time (user +
system) of each tool's process, start-up included; optic's wall time includes its attempts to
reach its cloud service, which this machine cannot reach (telemetry is turned off).

    .venv/bin/python bench/contract_peers.py [--json FILE]

Exit status: 0 the comparison ran, 2 it could not (npm or a tool failing: the reason is printed).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TMP = Path(tempfile.gettempdir())
AGREEMENT = TMP / "backbone-bench-agreement"
SPEED = TMP / "backbone-bench-contract"
BACKBONE = [sys.executable, "-m", "backbone"]
PEERS = {"@stoplight/spectral-cli": "6.16.3", "@redocly/cli": "1.34.20", "@useoptic/optic": "1.0.9"}

# Shared categories: the OpenAPI rules the tools have in common (Spectral `oas`, Redocly
# `recommended`, backbone contract lint), so "what one finds that the others miss" is read per category.
CATEGORIES = {
    "spectral": {
        "operation-operationId-unique": "operation-id-unique", "operation-operationId": "operation-id-present",
        "path-params": "path-parameters", "oas3-unused-component": "component-unused", "oas2-unused-definition": "component-unused",
        "operation-description": "operation-description", "operation-tags": "operation-tags",
        "oas3-valid-media-example": "example-invalid", "oas3-valid-schema-example": "example-invalid",
        "oas2-valid-media-example": "example-invalid", "oas2-valid-schema-example": "example-invalid",
        "oas3-schema": "document-structure", "oas2-schema": "document-structure", "invalid-ref": "ref-unresolved",
        "oas3-api-servers": "servers", "oas2-api-host": "servers", "info-contact": "info", "info-description": "info",
        "info-license": "info", "license-url": "info", "operation-success-response": "success-response",
        "oas3-operation-security-defined": "security-defined", "oas2-operation-security-defined": "security-defined",
        "operation-tag-defined": "tag-defined", "openapi-tags": "tag-defined", "operation-parameters": "parameter-duplicate",
        "path-keys-no-trailing-slash": "path-trailing-slash", "no-$ref-siblings": "ref-siblings",
        "duplicated-entry-in-enum": "enum-duplicate", "typed-enum": "enum-type",
    },
    "redocly": {
        "operation-operationId-unique": "operation-id-unique", "operation-operationId": "operation-id-present",
        "path-parameters-defined": "path-parameters", "no-identical-paths": "path-parameters",
        "no-unused-components": "component-unused", "operation-summary": "operation-description",
        "operation-description": "operation-description", "operation-tag-defined": "tag-defined",
        "no-invalid-media-type-examples": "example-invalid", "no-invalid-schema-examples": "example-invalid",
        "struct": "document-structure", "spec": "document-structure", "no-unresolved-refs": "ref-unresolved",
        "no-empty-servers": "servers", "no-server-example.com": "servers", "info-license": "info",
        "info-license-url": "info", "info-contact": "info", "operation-2xx-response": "success-response",
        "operation-4xx-response": "error-responses-documented", "security-defined": "security-defined",
        "operation-parameters-unique": "parameter-duplicate", "no-path-trailing-slash": "path-trailing-slash",
        "no-enum-type-mismatch": "enum-type", "tag-description": "tag-description", "no-ambiguous-paths": "path-ambiguous",
    },
    "backbone": {
        "operation-id-unique": "operation-id-unique", "operation-id-present": "operation-id-present",
        "path-parameter-declared": "path-parameters", "path-parameter-in-path": "path-parameters",
        "ref-resolves": "ref-unresolved", "component-used": "component-unused",
        "operation-description": "operation-description", "operation-tags": "operation-tags",
        "error-responses-documented": "error-responses-documented", "example-valid": "example-invalid",
        "document-structure": "document-structure", "success-response": "success-response", "info-description": "info",
        "info-contact": "info", "info-license": "info", "servers-present": "servers", "server-url-valid": "servers",
        "operation-tag-defined": "tag-defined", "path-identical": "path-parameters", "path-ambiguous": "path-ambiguous",
        "operation-security": "security-defined", "security-scheme-defined": "security-defined",
    },
}


class BenchError(Exception):
    pass


@dataclass
class Run:
    tool: str
    wall: float
    cpu: float
    # category -> count
    found: Counter[str] = field(default_factory=Counter)
    # for diffs: operation label -> the checks that broke it
    broken: dict[str, set[str]] = field(default_factory=dict)
    error: str = ""


def timed(arguments: list[str], cwd: Path | None = None, timeout: int = 900) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    environment = {**os.environ, "OPTIC_TELEMETRY_LEVEL": "off", "NO_COLOR": "1", "REDOCLY_TELEMETRY": "off",
                   "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"}
    try:
        done = subprocess.run(arguments, capture_output=True, text=True, timeout=timeout, check=False, cwd=cwd, env=environment,
                              stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as error:  # the tool's failure is this run's result, not the benchmark's end
        done = subprocess.CompletedProcess(arguments, 2, "", f"{type(error).__name__}: {error}")
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), done


def install(peers: Path) -> Path:
    binaries = peers / "node_modules" / ".bin"
    if all((binaries / name).exists() for name in ("spectral", "redocly", "optic")):
        return binaries
    peers.mkdir(parents=True, exist_ok=True)
    wanted = [f"{name}@{version}" for name, version in PEERS.items()]
    print(f"installing {' '.join(wanted)} into {peers} ...", file=sys.stderr)
    done = subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--prefix", str(peers), *wanted],
                          capture_output=True, text=True, timeout=1800, check=False)
    if done.returncode != 0:
        raise BenchError(f"npm install failed:\n{done.stderr[-2000:]}")
    return binaries


def category(tool: str, rule: str) -> str:
    return CATEGORIES[tool].get(rule, f"{tool}:{rule}")


def lint_backbone(spec: Path) -> Run:
    wall, cpu, done = timed([*BACKBONE, "contract", "lint", str(spec), "--format", "json"])
    run = Run("backbone", wall, cpu)
    try:
        for finding in json.loads(done.stdout)["findings"]:
            run.found[category("backbone", str(finding.get("name")))] += 1
    except (ValueError, KeyError, TypeError):
        run.error = (done.stderr or done.stdout)[-500:]
    return run


def lint_spectral(binaries: Path, spec: Path, work: Path) -> Run:
    ruleset = work / "spectral.yaml"
    ruleset.write_text('extends: ["spectral:oas"]\n')
    wall, cpu, done = timed([str(binaries / "spectral"), "lint", str(spec), "-r", str(ruleset), "-f", "json", "-q"])
    run = Run("spectral", wall, cpu)
    try:
        for problem in json.loads(done.stdout or "[]"):
            run.found[category("spectral", str(problem.get("code")))] += 1
    except (ValueError, TypeError):
        run.error = (done.stderr or done.stdout)[-500:]
    return run


def lint_redocly(binaries: Path, spec: Path) -> Run:
    wall, cpu, done = timed([str(binaries / "redocly"), "lint", str(spec), "--format", "json", "--max-problems", "1000000"])
    run = Run("redocly", wall, cpu)
    try:
        for problem in json.loads(done.stdout)["problems"]:
            run.found[category("redocly", str(problem.get("ruleId")))] += 1
    except (ValueError, KeyError, TypeError):
        run.error = (done.stderr or done.stdout)[-500:]
    return run


_OPTIC_OPERATION = re.compile(r"^[x✔] (?P<label>[A-Z]+ \S+):")
_OPTIC_FAILURE = re.compile(r"^\s+x \[(?P<rule>[^\]]+)\]")


def diff_backbone(base: Path, head: Path) -> Run:
    wall, cpu, done = timed([*BACKBONE, "contract", "diff", str(base), str(head), "--format", "json"])
    run = Run("backbone", wall, cpu)
    try:
        for finding in json.loads(done.stdout)["findings"]:
            if finding.get("severity") != "error":
                continue
            name = str(finding.get("name"))
            # "breaking: GET /orders/{id}: new required query parameter 'tenant'"
            parts = str(finding.get("message", "")).split(": ")
            label = parts[1] if len(parts) > 2 else parts[0]
            run.found[name] += 1
            run.broken.setdefault(_normal(label), set()).add(name)
    except (ValueError, KeyError, TypeError):
        run.error = (done.stderr or done.stdout)[-500:]
    return run


def diff_optic(binaries: Path, base: Path, head: Path) -> Run:
    wall, cpu, done = timed([str(binaries / "optic"), "diff", str(base), str(head), "--check"])
    run = Run("optic", wall, cpu)
    label = ""
    for line in done.stdout.splitlines():
        operation = _OPTIC_OPERATION.match(line)
        if operation:
            label = operation.group("label")
            continue
        failure = _OPTIC_FAILURE.match(line)
        if failure:
            run.found[failure.group("rule")] += 1
            run.broken.setdefault(_normal(label), set()).add(failure.group("rule"))
    if done.returncode not in (0, 1) and not run.found:
        run.error = (done.stderr or done.stdout)[-500:]
    return run


def _normal(label: str) -> str:
    """`GET /orders/{id}` with path parameter names set aside."""
    return re.sub(r"\{[^}]*\}", "{}", label.strip())


def lint_specs() -> list[Path]:
    found = sorted(AGREEMENT.glob("*.backbone.json")) + sorted(AGREEMENT.glob("*.generator.json"))
    found += [path for path in (AGREEMENT / "dispatch" / "docs" / "scripts" / "openapi.yaml",
                                AGREEMENT / "reana-server" / "docs" / "openapi.json",
                                SPEED / "spec.json", SPEED / "base.json") if path.exists()]
    return found


# The projects' own generated specs at two commits of their history (older, newer).
HISTORY = (
    ("Netflix/dispatch", "docs/scripts/openapi.yaml", "14b758accd11826e098a5f57c7b862c351d90f95", "4a86b9b4c98db0b707f64545709fa302f18ef614"),
    ("reanahub/reana-server", "docs/openapi.json", "bd3d24a5a5768d6ba9ef4aa9b2d31d8c91ce4a9c", "33402245c6c0e2ca268278d53633cf9a24182bb3"),
)


def history_pairs(mirrors: Path, work: Path) -> list[tuple[Path, Path]]:
    pairs: list[tuple[Path, Path]] = []
    for repository, path, older, newer in HISTORY:
        git_dir = mirrors / repository.replace("/", "+") / "repo"
        sides: list[Path] = []
        for commit in (older, newer):
            done = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{commit}:{path}"], capture_output=True,
                                  text=True, timeout=120, check=False)
            if done.returncode != 0:
                break
            target = work / f"{repository.replace('/', '+')}-{commit[:10]}-{Path(path).name}"
            target.write_text(done.stdout)
            sides.append(target)
        if len(sides) == 2:
            pairs.append((sides[0], sides[1]))
    if (SPEED / "base.json").exists() and (SPEED / "head.json").exists():
        pairs.append((SPEED / "base.json", SPEED / "head.json"))
    return pairs


def show_lint(spec: Path, runs: list[Run]) -> dict[str, object]:
    print(f"\nlint {spec}")
    for run in runs:
        note = f"  (failed: {run.error.strip()[:200]})" if run.error else ""
        print(f"  {run.tool:9} {sum(run.found.values()):6} problems  {run.wall:6.2f} s wall  {run.cpu:6.2f} s CPU{note}")
    categories = sorted({name for run in runs for name in run.found})
    print(f"  {'category':40} " + " ".join(f"{run.tool:>9}" for run in runs))
    for name in categories:
        counts = [run.found.get(name, 0) for run in runs]
        reporters = [run.tool for run, count in zip(runs, counts) if count]
        only = f"  only {reporters[0]}" if len(reporters) == 1 and len(runs) > 1 else ""
        print(f"  {name:40} " + " ".join(f"{count:>9}" for count in counts) + only)
    return {"spec": str(spec), "runs": [{"tool": r.tool, "wall": r.wall, "cpu": r.cpu, "found": dict(r.found), "error": r.error}
                                        for r in runs]}


def show_diff(base: Path, head: Path, runs: list[Run]) -> dict[str, object]:
    print(f"\ndiff {base.name} -> {head.name}")
    for run in runs:
        note = f"  (failed: {run.error.strip()[:200]})" if run.error else ""
        print(f"  {run.tool:9} {sum(run.found.values()):6} breaking changes on {len(run.broken)} operations  "
              f"{run.wall:6.2f} s wall  {run.cpu:6.2f} s CPU{note}")
        for name, count in run.found.most_common():
            print(f"      {count:6}  {name}")
    if len(runs) == 2:
        first, second = runs
        for one, other in ((first, second), (second, first)):
            missed = sorted(set(one.broken) - set(other.broken))
            print(f"  operations only {one.tool} flags as broken: {len(missed)}")
            for label in missed[:15]:
                print(f"      {label}: {', '.join(sorted(one.broken[label]))}")
    return {"base": str(base), "head": str(head),
            "runs": [{"tool": r.tool, "wall": r.wall, "cpu": r.cpu, "found": dict(r.found),
                      "operations": len(r.broken), "error": r.error} for r in runs]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peers", type=Path, default=TMP / "backbone-bench-peers", help="scratch folder for the npm tools")
    parser.add_argument("--mirrors", type=Path, default=Path("/work/.mirror"), help="folder of bare git mirrors (owner+name/repo)")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    options = parser.parse_args()
    try:
        binaries = install(options.peers)
    except (BenchError, OSError, subprocess.SubprocessError) as error:
        print(f"contract_peers: {error}", file=sys.stderr)
        return 2
    work = options.peers / "work"
    work.mkdir(parents=True, exist_ok=True)
    report: dict[str, list[dict[str, object]]] = {"lint": [], "diff": []}
    specs = lint_specs()
    if not specs:
        print("contract_peers: no specs; run bench/contract_agreement.py and bench/contract_speed.py first", file=sys.stderr)
        return 2
    for spec in specs:
        runs = [lint_backbone(spec), lint_spectral(binaries, spec, work), lint_redocly(binaries, spec)]
        report["lint"].append(show_lint(spec, runs))
    for base, head in history_pairs(options.mirrors, work):
        runs = [diff_backbone(base, head), diff_optic(binaries, base, head)]
        report["diff"].append(show_diff(base, head, runs))
    if options.json:
        options.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
