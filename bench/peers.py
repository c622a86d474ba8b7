"""Peers, side by side: backbone, ruff, bandit and semgrep scored per catalog code.

Runs each tool over the fixture mini-projects (tests/fixtures/projects/*) and the example
service (examples/shop), maps each tool's rule ids to backbone's catalog codes with the
explicit tables below, and compares the findings with the marked expectations:

- fixture projects: every `# expect: BB201` / `# expect: BB201, BB203` trailing comment
  marks (path, line, code);
- examples/shop: the EXPECTED list of tests/test_example_service.py, read with `ast`
  (the test module is not imported).

A finding is a true positive when its (project, path, line, mapped code) equals an
expectation exactly; a secondary score allows the line to be off by one. For each catalog
code the script prints the expected count and, per tool, TP/FP/FN, precision and recall
("n/a" when the tool has no rule for the code, "not implemented" for a code backbone does
not register yet), then totals. `--json FILE` writes every figure.

Tools run as subprocesses: backbone, ruff and bandit from the repository's .venv; semgrep
from .venv if it is there, else from bench/.work/semgrep-venv (see bench/README.md: its
pinned dependencies clash with the dev environment), with only the local rules of
bench/semgrep/ and metrics off, so it needs no network.
Exit status: 0 the comparison ran, 2 it could not run (a tool missing or failing; the
reason is printed).
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
VENV_BIN = REPO / ".venv" / "bin"
SEMGREP_RULES = REPO / "bench" / "semgrep"
SEMGREP_VENV_BIN = REPO / "bench" / ".work" / "semgrep-venv" / "bin"
FIXTURE_PROJECTS = REPO / "tests" / "fixtures" / "projects"
EXAMPLE_SERVICE = REPO / "examples" / "shop"
EXAMPLE_TEST = REPO / "tests" / "test_example_service.py"
TOOLS = ("backbone", "ruff", "bandit", "semgrep")

# The catalog (RULES.md): codes are a public contract, listed here so that a code with no
# rule in any tool still gets its row.
CATALOG: dict[str, str] = {
    "BB101": "silent-except",
    "BB102": "call-without-timeout",
    "BB103": "error-with-success-status",
    "BB104": "error-layer-mismatch",
    "BB201": "query-in-loop",
    "BB202": "write-in-loop",
    "BB203": "lazy-relation-in-loop",
    "BB204": "sql-string-formatting",
    "BB205": "unbounded-query",
    "BB206": "read-modify-write-race",
    "BB301": "orm-object-in-response",
    "BB302": "sensitive-field-exposed",
    "BB303": "missing-idempotency",
    "BB304": "unsafe-get",
    "BB401": "blocking-call-in-async",
    "BB402": "slow-work-in-request",
    "BB501": "hardcoded-secret",
    "BB502": "debug-enabled",
    "BB601": "god-module",
    "BB602": "mutable-global-state",
}

# ruff rule -> catalog code. Only rules whose concern is the catalog code's concern are
# mapped; every other S/BLE/ASYNC rule (assert, random, pickle, subprocess shell, ...) is
# outside the catalog and its findings are counted apart, never as false positives.
RUFF_MAP: dict[str, str] = {
    "BLE001": "BB101",  # blind-except (no re-raise, no logging.exception)
    "S110": "BB101",  # try-except-pass
    "S112": "BB101",  # try-except-continue
    "S113": "BB102",  # request-without-timeout
    "S608": "BB204",  # hardcoded-sql-expression (SQL built from strings)
    "S610": "BB204",  # django-extra
    "S611": "BB204",  # django-raw-sql (RawSQL)
    "ASYNC210": "BB401",  # blocking-http-call-in-async-function
    "ASYNC212": "BB401",  # blocking-http-call-httpx-in-async-function
    "ASYNC220": "BB401",  # create-subprocess-in-async-function
    "ASYNC221": "BB401",  # run-process-in-async-function
    "ASYNC222": "BB401",  # wait-for-process-in-async-function
    "ASYNC230": "BB401",  # blocking-open-call-in-async-function
    "ASYNC240": "BB401",  # blocking-path-method-in-async-function (pathlib I/O)
    "ASYNC250": "BB401",  # blocking-input-in-async-function
    "ASYNC251": "BB401",  # blocking-sleep-in-async-function
    "S105": "BB501",  # hardcoded-password-string
    "S106": "BB501",  # hardcoded-password-func-arg
    "S107": "BB501",  # hardcoded-password-default
    "S201": "BB502",  # flask-debug-true
}

# bandit test id -> catalog code, same principle.
BANDIT_MAP: dict[str, str] = {
    "B110": "BB101",  # try_except_pass
    "B112": "BB101",  # try_except_continue
    "B113": "BB102",  # request_without_timeout
    "B608": "BB204",  # hardcoded_sql_expressions
    "B610": "BB204",  # django_extra_used
    "B611": "BB204",  # django_rawsql_used
    "B105": "BB501",  # hardcoded_password_string
    "B106": "BB501",  # hardcoded_password_funcarg
    "B107": "BB501",  # hardcoded_password_default
    "B201": "BB502",  # flask_debug_true
}

RUFF_SELECT = "S,BLE,ASYNC"

# Directories no tool's findings are scored in: backbone's default exclusions (the same
# set every reviewer skips), plus hidden directories.
EXCLUDED_DIRS = frozenset(
    {
        "__pycache__",
        "venv",
        "node_modules",
        "site-packages",
        "build",
        "dist",
        "_build",
        "buck-out",
    }
)

# The fixtures' marker, the same expression tests/test_fixture_projects.py reads.
EXPECT_MARK = re.compile(r"#\s*expect:\s*(?P<codes>[A-Z]+[0-9]+(?:\s*,\s*[A-Z]+[0-9]+)*)")
SEMGREP_CATALOG_KEY = re.compile(r"^\s*catalog:\s*(BB\d{3})\s*$", re.MULTILINE)


class ToolUnavailable(Exception):
    """A tool is not installed, or failed in a way that leaves nothing to score."""


@dataclass(frozen=True, slots=True, order=True)
class Mark:
    """One (project, path, line, code): an expectation or a finding mapped to the catalog."""

    project: str
    path: str
    line: int
    code: str


@dataclass(frozen=True, slots=True)
class Project:
    name: str  # the project's directory relative to the repository, e.g. examples/shop
    root: Path
    files: frozenset[str]  # the scored .py files, relative to root
    expected: frozenset[Mark]
    source_of_expectations: str


@dataclass(slots=True)
class ToolRun:
    """What one tool reported over every project, already mapped to catalog codes."""

    name: str
    version: str
    commands: list[list[str]] = field(default_factory=list)
    covered: frozenset[str] = frozenset()
    findings: set[Mark] = field(default_factory=set)
    rule_of: dict[Mark, set[str]] = field(default_factory=dict)  # which tool rules said it
    unmapped: Counter[str] = field(default_factory=Counter)  # tool rule id -> findings
    outside: int = 0  # findings in files that are not scored (outside the project's .py files)
    seconds: float = 0.0

    def add(self, project: Project, path: str, line: int, code: str | None, rule: str) -> None:
        if path not in project.files:
            self.outside += 1
            return
        if code is None or code not in CATALOG:
            self.unmapped[rule] += 1
            return
        mark = Mark(project.name, path, line, code)
        self.findings.add(mark)
        self.rule_of.setdefault(mark, set()).add(rule)


@dataclass(frozen=True, slots=True)
class Score:
    tp: int
    fp: int
    fn: int

    @property
    def precision(self) -> float | None:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else None

    @property
    def recall(self) -> float | None:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else None


# --- expectations -------------------------------------------------------------------------


def scored_files(root: Path) -> frozenset[str]:
    files = set()
    for path in root.rglob("*.py"):
        parts = path.relative_to(root).parts
        if any(part in EXCLUDED_DIRS or part.startswith(".") or part.endswith(".egg-info") for part in parts[:-1]):
            continue
        files.add(path.relative_to(root).as_posix())
    return frozenset(files)


def marked_expectations(name: str, root: Path, files: Iterable[str]) -> set[Mark]:
    expected = set()
    for relative in sorted(files):
        text = (root / relative).read_text(encoding="utf-8", errors="replace")
        for number, line in enumerate(text.splitlines(), start=1):
            match = EXPECT_MARK.search(line)
            if match:
                for code in re.split(r"\s*,\s*", match.group("codes")):
                    expected.add(Mark(name, relative, number, code))
    return expected


def example_service_expectations(name: str, test_module: Path) -> set[Mark]:
    """The EXPECTED rows of the example service's test, (code, path, line), read with ast."""
    tree = ast.parse(test_module.read_text(encoding="utf-8"), filename=str(test_module))
    for node in tree.body:
        target: ast.expr
        if isinstance(node, ast.AnnAssign) and node.value is not None:
            target, value = node.target, node.value
        elif isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        else:
            continue
        if isinstance(target, ast.Name) and target.id == "EXPECTED":
            rows = ast.literal_eval(value)
            return {Mark(name, str(path), int(line), str(code)) for code, path, line in rows}
    raise SystemExit(f"peers: no EXPECTED list found in {test_module}")


def load_projects(selected: Sequence[str]) -> list[Project]:
    roots: list[Path] = []
    if selected:
        roots = [(REPO / entry).resolve() if not Path(entry).is_absolute() else Path(entry) for entry in selected]
    else:
        if FIXTURE_PROJECTS.is_dir():
            roots.extend(
                sorted(path for path in FIXTURE_PROJECTS.iterdir() if path.is_dir() and any(path.rglob("*.py")))
            )
        roots.append(EXAMPLE_SERVICE)
    projects = []
    for root in roots:
        if not root.is_dir():
            raise SystemExit(f"peers: no such project directory: {root}")
        name = root.relative_to(REPO).as_posix() if root.is_relative_to(REPO) else str(root)
        files = scored_files(root)
        if root == EXAMPLE_SERVICE.resolve():
            expected = example_service_expectations(name, EXAMPLE_TEST)
            source = f"EXPECTED in {EXAMPLE_TEST.relative_to(REPO)}"
        else:
            expected = marked_expectations(name, root, files)
            source = "# expect: markers"
        projects.append(Project(name, root, files, frozenset(expected), source))
    return projects


# --- running the tools --------------------------------------------------------------------


def tool_env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["SEMGREP_SEND_METRICS"] = "off"
    env["SEMGREP_ENABLE_VERSION_CHECK"] = "0"
    env.setdefault("NO_COLOR", "1")
    return env


def run(command: list[str], *, ok: Sequence[int] = (0,), what: str) -> str:
    try:
        completed = subprocess.run(command, cwd=REPO, capture_output=True, text=True, env=tool_env(), check=False)
    except OSError as error:
        raise ToolUnavailable(f"{what}: could not start {command[0]}: {error.strerror or error}") from None
    if completed.returncode not in ok:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
        raise ToolUnavailable(f"{what}: `{' '.join(command)}` exited with {completed.returncode}\n{tail}")
    return completed.stdout


def parse_json(text: str, what: str) -> Any:  # a tool's JSON report, read field by field
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ToolUnavailable(f"{what}: the output is not JSON ({error}): {text[:300]!r}") from None


def require(executable: Path, hint: str) -> str:
    if not (executable.is_file() and os.access(executable, os.X_OK)):
        raise ToolUnavailable(f"{executable.name} is not installed ({executable} is missing); {hint}")
    return str(executable)


def relative_to_project(project: Project, reported: str) -> str:
    path = Path(reported)
    if not path.is_absolute():
        # backbone reports relative to the project root; bandit and semgrep relative to the cwd
        path = project.root / path if (project.root / path).is_file() else REPO / path
    try:
        return path.resolve().relative_to(project.root.resolve()).as_posix()
    except ValueError:
        return "<outside>/" + reported


def run_backbone(projects: Sequence[Project]) -> ToolRun:
    backbone = require(VENV_BIN / "backbone", "install the package: .venv/bin/pip install -e '.[dev]'")
    version = run([backbone, "--version"], what="backbone").strip()
    rules = parse_json(run([backbone, "rules", "--format", "json"], what="backbone rules"), "backbone rules")
    registered = {str(rule["code"]) for rule in rules if isinstance(rule, dict)}
    result = ToolRun("backbone", version, covered=frozenset(registered & set(CATALOG)))
    for project in projects:
        command = [backbone, "review", str(project.root), "--format", "json", "--no-cache", "--exit-zero"]
        result.commands.append(command)
        report = parse_json(run(command, what="backbone review"), "backbone review")
        for finding in report.get("findings", []):
            code = str(finding["code"])
            path = relative_to_project(project, str(finding["path"]))
            result.add(project, path, int(finding["line"]), code, code)
    return result


def run_ruff(projects: Sequence[Project], preview: bool) -> ToolRun:
    ruff = require(VENV_BIN / "ruff", "install the bench extra: .venv/bin/pip install -e '.[bench]'")
    version = run([ruff, "--version"], what="ruff").strip()
    result = ToolRun("ruff", version + (" (preview rules on)" if preview else ""), covered=frozenset(RUFF_MAP.values()))
    for project in projects:
        command = [
            ruff,
            "check",
            str(project.root),
            "--isolated",
            "--no-cache",
            "--exit-zero",
            "--select",
            RUFF_SELECT,
            "--output-format",
            "json",
        ]
        if preview:
            command.append("--preview")
        result.commands.append(command)
        for finding in parse_json(run(command, what="ruff"), "ruff"):
            rule = str(finding["code"])
            path = relative_to_project(project, str(finding["filename"]))
            result.add(project, path, int(finding["location"]["row"]), RUFF_MAP.get(rule), rule)
    return result


def run_bandit(projects: Sequence[Project]) -> ToolRun:
    bandit = require(VENV_BIN / "bandit", "install the bench extra: .venv/bin/pip install -e '.[bench]'")
    version = run([bandit, "--version"], what="bandit").splitlines()[0].strip()
    result = ToolRun("bandit", version, covered=frozenset(BANDIT_MAP.values()))
    for project in projects:
        # bandit's default run: every plugin, every severity and confidence.
        command = [bandit, "-r", str(project.root), "-f", "json", "-q"]
        result.commands.append(command)
        report = parse_json(run(command, ok=(0, 1), what="bandit"), "bandit")
        for error in report.get("errors", []):
            print(f"peers: bandit could not scan {error.get('filename')}: {error.get('reason')}", file=sys.stderr)
        for finding in report.get("results", []):
            rule = str(finding["test_id"])
            path = relative_to_project(project, str(finding["filename"]))
            result.add(project, path, int(finding["line_number"]), BANDIT_MAP.get(rule), rule)
    return result


def semgrep_executable(explicit: str | None) -> str:
    if explicit:
        return require(Path(explicit), "pass the path of a semgrep executable")
    for candidate in (VENV_BIN / "semgrep", SEMGREP_VENV_BIN / "semgrep"):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise ToolUnavailable(
        "semgrep is not installed (neither .venv/bin/semgrep nor bench/.work/semgrep-venv/bin/semgrep); "
        "install it in its own environment: python3 -m venv bench/.work/semgrep-venv && "
        "bench/.work/semgrep-venv/bin/pip install semgrep"
    )


def semgrep_codes() -> frozenset[str]:
    """The catalog codes bench/semgrep/*.yaml has rules for (their `metadata.catalog`)."""
    codes = set()
    for path in sorted(SEMGREP_RULES.glob("*.yaml")):
        codes.update(SEMGREP_CATALOG_KEY.findall(path.read_text(encoding="utf-8")))
    return frozenset(codes)


def run_semgrep(projects: Sequence[Project], explicit: str | None) -> ToolRun:
    semgrep = semgrep_executable(explicit)
    version = "semgrep " + run([semgrep, "--version"], what="semgrep").strip()
    result = ToolRun("semgrep", version, covered=semgrep_codes())
    for project in projects:
        # --project-root: the project is its own root, so semgrep's default ignores (which
        # skip any `tests/` directory) apply to paths inside it, not to tests/fixtures/.
        command = [
            semgrep,
            "scan",
            "--config",
            str(SEMGREP_RULES),
            "--metrics=off",
            "--disable-version-check",
            "--json",
            "--quiet",
            "--project-root",
            str(project.root),
            str(project.root),
        ]
        result.commands.append(command)
        report = parse_json(run(command, ok=(0, 1), what="semgrep"), "semgrep")
        errors = [error for error in report.get("errors", []) if error.get("level") == "error"]
        if errors:
            raise ToolUnavailable("semgrep: " + "; ".join(str(error.get("message", error))[:500] for error in errors))
        scanned = report.get("paths", {}).get("scanned", [])
        if project.files and not scanned:
            raise ToolUnavailable(f"semgrep scanned no file of {project.name} (check its ignore rules)")
        for finding in report.get("results", []):
            metadata = finding.get("extra", {}).get("metadata", {})
            rule = str(finding["check_id"]).rsplit(".", 1)[-1]
            path = relative_to_project(project, str(finding["path"]))
            result.add(project, path, int(finding["start"]["line"]), metadata.get("catalog"), rule)
    return result


# --- scoring ------------------------------------------------------------------------------


def score_exact(found: set[Mark], expected: set[Mark]) -> Score:
    return Score(len(found & expected), len(found - expected), len(expected - found))


def score_tolerant(found: set[Mark], expected: set[Mark], tolerance: int = 1) -> Score:
    """Each expectation takes at most one finding on the same path and code within
    `tolerance` lines (exact lines first), and each finding serves one expectation."""
    unused = set(found)
    matched = 0
    exact = expected & found
    matched += len(exact)
    unused -= exact
    for mark in sorted(expected - exact):
        candidates = sorted(
            (abs(other.line - mark.line), other)
            for other in unused
            if (other.project, other.path, other.code) == (mark.project, mark.path, mark.code)
            and abs(other.line - mark.line) <= tolerance
        )
        if candidates:
            unused.discard(candidates[0][1])
            matched += 1
    return Score(matched, len(found) - matched, len(expected) - matched)


@dataclass(frozen=True, slots=True)
class Cell:
    covered: bool
    exact: Score
    tolerant: Score
    false_positives: tuple[Mark, ...]
    false_negatives: tuple[Mark, ...]


def score(run_: ToolRun, expected: set[Mark]) -> dict[str, Cell]:
    cells = {}
    for code in CATALOG:
        want = {mark for mark in expected if mark.code == code}
        got = {mark for mark in run_.findings if mark.code == code}
        cells[code] = Cell(
            covered=code in run_.covered,
            exact=score_exact(got, want),
            tolerant=score_tolerant(got, want),
            false_positives=tuple(sorted(got - want)),
            false_negatives=tuple(sorted(want - got)),
        )
    return cells


def total(cells: Mapping[str, Cell], covered_only: bool, tolerant: bool = False) -> Score:
    chosen = [cell for cell in cells.values() if cell.covered or not covered_only]
    scores = [cell.tolerant if tolerant else cell.exact for cell in chosen]
    return Score(sum(s.tp for s in scores), sum(s.fp for s in scores), sum(s.fn for s in scores))


# --- output -------------------------------------------------------------------------------


def ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


CELL_WIDTH = 24


def cell_text(tool: str, cell: Cell, tolerant: bool = False) -> str:
    if not cell.covered:
        if tool == "backbone":
            return "not implemented".center(CELL_WIDTH)
        text = "n/a"
        if cell.exact.fp:  # cannot happen with an explicit mapping; shown if it ever does
            text += f" ({cell.exact.fp} FP)"
        return text.center(CELL_WIDTH)
    s = cell.tolerant if tolerant else cell.exact
    return f"{s.tp:>3} {s.fp:>3} {s.fn:>3} {ratio(s.precision):>5} {ratio(s.recall):>5}".center(CELL_WIDTH)


def print_table(
    runs: Sequence[ToolRun], cells: Mapping[str, Mapping[str, Cell]], expected: set[Mark], tolerant: bool, title: str
) -> None:
    tools = [run_.name for run_ in runs]
    head_code = f"{'code':<6}{'name':<26}{'exp':>4} "
    print(title)
    print((head_code + "|".join(name.center(CELL_WIDTH) for name in tools)).rstrip())
    columns = f"{'TP':>3} {'FP':>3} {'FN':>3} {'P':>5} {'R':>5}".center(CELL_WIDTH)
    print((" " * len(head_code) + "|".join(columns for _ in tools)).rstrip())
    print("-" * (len(head_code) + (CELL_WIDTH + 1) * len(tools)))
    for code, name in CATALOG.items():
        count = sum(1 for mark in expected if mark.code == code)
        row = f"{code:<6}{name:<26}{count:>4} "
        print((row + "|".join(cell_text(tool, cells[tool][code], tolerant) for tool in tools)).rstrip())
    print("-" * (len(head_code) + (CELL_WIDTH + 1) * len(tools)))
    for label, covered_only in (("total, whole catalog", False), ("total, codes it has rules for", True)):
        parts = []
        for tool in tools:
            s = total(cells[tool], covered_only, tolerant)
            parts.append(
                f"{s.tp:>3} {s.fp:>3} {s.fn:>3} {ratio(s.precision):>5} {ratio(s.recall):>5}".center(CELL_WIDTH)
            )
        exp = "" if covered_only else str(len(expected))
        print(f"{label:<32}{exp:>4} " + "|".join(parts).rstrip())
    print()


def print_details(runs: Sequence[ToolRun], cells: Mapping[str, Mapping[str, Cell]]) -> None:
    print("Misses and extra findings (exact matching), per tool:")
    for run_ in runs:
        lines = []
        for code, cell in cells[run_.name].items():
            if not cell.covered:
                continue
            for mark in cell.false_negatives:
                lines.append(f"  FN {code} {mark.project}/{mark.path}:{mark.line}")
            for mark in cell.false_positives:
                rules = ",".join(sorted(run_.rule_of.get(mark, ())))
                lines.append(f"  FP {code} {mark.project}/{mark.path}:{mark.line} ({rules})")
        print(f"{run_.name}: {len(lines)}")
        print("\n".join(lines) if lines else "  none")
    print()


def as_json(
    projects: Sequence[Project],
    runs: Sequence[ToolRun],
    cells: Mapping[str, Mapping[str, Cell]],
    expected: set[Mark],
    skipped: Mapping[str, str],
    argv: Sequence[str],
) -> dict[str, object]:
    def score_json(s: Score) -> dict[str, object]:
        return {"tp": s.tp, "fp": s.fp, "fn": s.fn, "precision": s.precision, "recall": s.recall}

    def mark_json(mark: Mark) -> dict[str, object]:
        return {"project": mark.project, "path": mark.path, "line": mark.line, "code": mark.code}

    return {
        "command": ["bench/peers.py", *argv],
        "matching": "exact (project, path, line, catalog code); the tolerant score allows the line to differ by 1",
        "projects": [
            {
                "name": p.name,
                "files": len(p.files),
                "expectations": len(p.expected),
                "expectations_from": p.source_of_expectations,
            }
            for p in projects
        ],
        "mappings": {"ruff": RUFF_MAP, "bandit": BANDIT_MAP, "ruff_select": RUFF_SELECT},
        "tools": {
            run_.name: {
                "version": run_.version,
                "commands": run_.commands,
                "seconds": round(run_.seconds, 2),
                "codes_with_rules": sorted(run_.covered),
                "findings_scored": len(run_.findings),
                "findings_of_rules_outside_the_catalog": dict(sorted(run_.unmapped.items())),
                "findings_outside_scored_files": run_.outside,
            }
            for run_ in runs
        },
        "skipped_tools": dict(skipped),
        "codes": {
            code: {
                "name": name,
                "expected": sum(1 for mark in expected if mark.code == code),
                "tools": {
                    run_.name: {
                        "has_rule": cells[run_.name][code].covered,
                        "exact": score_json(cells[run_.name][code].exact),
                        "within_one_line": score_json(cells[run_.name][code].tolerant),
                        "false_positives": [mark_json(m) for m in cells[run_.name][code].false_positives],
                        "false_negatives": [mark_json(m) for m in cells[run_.name][code].false_negatives],
                    }
                    for run_ in runs
                },
            }
            for code, name in CATALOG.items()
        },
        "totals": {
            run_.name: {
                "whole_catalog": score_json(total(cells[run_.name], covered_only=False)),
                "codes_with_rules": score_json(total(cells[run_.name], covered_only=True)),
                "whole_catalog_within_one_line": score_json(total(cells[run_.name], covered_only=False, tolerant=True)),
            }
            for run_ in runs
        },
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="Score backbone, ruff (S, BLE, ASYNC), bandit and semgrep (bench/semgrep/) per catalog code "
        "against the marked expectations of the fixture projects and the example service.",
    )
    parser.add_argument(
        "--tools", default=",".join(TOOLS), help=f"comma-separated subset of {', '.join(TOOLS)} (default: all)"
    )
    parser.add_argument(
        "--project",
        action="append",
        default=[],
        metavar="DIR",
        help="score this project directory only (repeatable; default: every "
        "tests/fixtures/projects/* and examples/shop)",
    )
    parser.add_argument("--semgrep", metavar="PATH", help="the semgrep executable to use")
    parser.add_argument("--ruff-preview", action="store_true", help="also run ruff's preview rules")
    parser.add_argument("--details", action="store_true", help="list every false positive and false negative")
    parser.add_argument("--json", metavar="FILE", help="write every figure to FILE")
    args = parser.parse_args(argv)

    wanted = [name.strip() for name in args.tools.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in TOOLS]
    if unknown:
        parser.error(f"unknown tool(s): {', '.join(unknown)} (choose from {', '.join(TOOLS)})")

    projects = load_projects(args.project)
    expected: set[Mark] = set().union(*(p.expected for p in projects)) if projects else set()
    foreign = sorted({mark.code for mark in expected} - set(CATALOG))
    if foreign:
        print(f"peers: expectations with codes outside the catalog are ignored: {', '.join(foreign)}", file=sys.stderr)
        expected = {mark for mark in expected if mark.code in CATALOG}

    runners = {
        "backbone": lambda: run_backbone(projects),
        "ruff": lambda: run_ruff(projects, args.ruff_preview),
        "bandit": lambda: run_bandit(projects),
        "semgrep": lambda: run_semgrep(projects, args.semgrep),
    }
    runs: list[ToolRun] = []
    skipped: dict[str, str] = {}
    for name in wanted:
        started = time.perf_counter()
        try:
            result = runners[name]()
        except ToolUnavailable as problem:
            skipped[name] = str(problem)
            print(f"peers: {problem}", file=sys.stderr)
            continue
        result.seconds = time.perf_counter() - started
        runs.append(result)

    print("Projects:")
    for project in projects:
        print(
            f"  {project.name}: {len(project.files)} files, {len(project.expected)} expectations ({project.source_of_expectations})"
        )
    print("Tools:")
    for run_ in runs:
        extra = sum(run_.unmapped.values())
        print(
            f"  {run_.name:<9} {run_.version}; {len(run_.findings)} findings on catalog codes, "
            f"{extra} of rules outside the catalog; {run_.seconds:.1f}s"
        )
    for name, reason in skipped.items():
        print(f"  {name:<9} NOT RUN: {reason.splitlines()[0]}")
    print()

    cells = {run_.name: score(run_, expected) for run_ in runs}
    if runs:
        print_table(
            runs,
            cells,
            expected,
            tolerant=False,
            title="Exact match: a finding counts when (path, line, code) equals an expectation.",
        )
        print_table(
            runs,
            cells,
            expected,
            tolerant=True,
            title="Within one line: the same, with the line allowed to differ by 1.",
        )
    if args.details:
        print_details(runs, cells)

    if args.json:
        Path(args.json).write_text(
            json.dumps(as_json(projects, runs, cells, expected, skipped, list(argv or sys.argv[1:])), indent=2) + "\n",
            encoding="utf-8",
        )
        print(f"Figures written to {args.json}")
    return 2 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
