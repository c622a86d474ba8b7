"""Real-world N+1 benchmark: which fixed N+1 bugs of public projects does `backbone review` find?

bugs.toml (next to this script) lists N+1 bugs that public Python projects fixed, each pinned at
the parent of its fix commit. For every bug this script:

1. finds the project's git directory under --clones (bare or normal; see `clone_candidates`);
2. exports the tree at the bug's `parent` commit with `git archive` into a temporary directory
   (blob by blob, skipping and naming the blobs the clone lacks, when `git archive` cannot)
   (only the bug's `root` subfolder when it has one, e.g. `netbox/` or `server/`: the Python
   project, reviewed whole so that facts across files, models, serializers and views, are seen);
3. writes `backbone.toml` at that root (defaults: every rule, `respect-gitignore = false`) and runs
   `backbone review ROOT --config ROOT/backbone.toml --format json --no-cache --exit-zero`
   with the backbone installed beside the running Python (`make bench` runs .venv/bin/python),
   under a time limit (--timeout, per tree);
4. decides found or missed.

Matching, precisely. A bug has `file` (path in the repository), `line` (a line the fix changed,
numbered at the parent commit: the query it changed, or the first line of the hunk that fixed it)
and `scope`: the dotted name of the function, method or class enclosing that line at the parent
(`get_checks`, `Check.channels_str`, `PrefixViewSet` for a class-level `queryset =`). The bug is
FOUND when the review reports a finding whose code is in the N+1 family (BB201 query-in-loop,
BB203 lazy-relation-in-loop, BB207 lazy-relation-in-serialization) in the same file, at a line
that is either
  - inside the scope's span at the parent (its first decorator to its last line), or
  - within LINE_SLACK (2) lines of `line` (the query the fix touched).
A bug may name further places in `also` (a list of {file, scope, line}): the other end of the
same N+1 (the query whose rows a method reads per row, when the fix went into the method); a
finding at any of them counts the same way. Any other finding, or a finding of another family,
does not count. The per-bug line shows the family findings elsewhere in the same files, which
helps to tell a miss from a near miss.

Output: one line per bug (FOUND / missed / error), the total found and its percentage against
the target (80%), the same per shape, and a JSON file (--json) with every bug, its verdict,
the findings that matched, the family findings in its files, and the review time.
Exit status: 0 target met, 1 target missed, 2 the benchmark could not run at all.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import tomllib
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_BUGS = HERE / "bugs.toml"
DEFAULT_JSON = HERE.parent / ".work" / "n1_realworld.json"
FAMILY = frozenset({"BB201", "BB203", "BB207"})
LINE_SLACK = 2
TARGET = 0.80
DEFAULT_TIMEOUT = 900.0
BIN = Path(sys.executable).parent
CONFIG_TEXT = (
    "# Written by bench/n1_realworld/run.py: every rule, defaults, and no .gitignore (the tree is an export).\n"
    "respect-gitignore = false\n"
)

EXIT_TARGET_MET = 0
EXIT_TARGET_MISSED = 1
EXIT_CANNOT_RUN = 2


class BenchError(Exception):
    """The benchmark cannot run; the message says why."""


@dataclass(frozen=True)
class Place:
    file: str
    scope: str
    line: int


@dataclass(frozen=True)
class Bug:
    id: str
    repo: str
    fix: str
    parent: str
    place: Place
    shape: str
    framework: str
    relation: str
    description: str
    root: str
    also: tuple[Place, ...]

    @property
    def link(self) -> str:
        return f"https://github.com/{self.repo}/commit/{self.fix}"

    @property
    def places(self) -> tuple[Place, ...]:
        return (self.place, *self.also)


@dataclass
class Finding:
    code: str
    path: str
    line: int
    message: str


@dataclass
class Verdict:
    id: str
    repo: str
    parent: str
    shape: str
    status: str  # "found", "missed" or "error"
    matched: list[Finding] = field(default_factory=list)
    nearby: list[Finding] = field(default_factory=list)
    error: str = ""
    seconds: float = 0.0


# --- the bug list ----------------------------------------------------------------------------


def _place(entry: dict[str, object], where: str) -> Place:
    try:
        file, scope, line = entry["file"], entry["scope"], entry["line"]
    except KeyError as missing:
        raise BenchError(f"{where}: no {missing}") from None
    if not isinstance(file, str) or not isinstance(scope, str) or not isinstance(line, int):
        raise BenchError(f"{where}: file and scope must be strings, line an integer")
    return Place(file, scope, line)


def load_bugs(path: Path) -> list[Bug]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise BenchError(f"cannot read the bug list {path}: {error}") from None
    bugs: list[Bug] = []
    seen: set[str] = set()
    for index, entry in enumerate(data.get("bug", [])):
        where = f"{path.name}, bug #{index + 1}"
        try:
            bug = Bug(
                id=str(entry["id"]),
                repo=str(entry["repo"]),
                fix=str(entry["fix"]),
                parent=str(entry["parent"]),
                place=_place(entry, where),
                shape=str(entry["shape"]),
                framework=str(entry["framework"]),
                relation=str(entry.get("relation", "")),
                description=str(entry["description"]),
                root=str(entry.get("root", "")),
                also=tuple(_place(extra, f"{where}, also") for extra in entry.get("also", [])),
            )
        except KeyError as missing:
            raise BenchError(f"{where}: no {missing}") from None
        if bug.id in seen:
            raise BenchError(f"{where}: the id {bug.id} is used twice")
        seen.add(bug.id)
        bugs.append(bug)
    if not bugs:
        raise BenchError(f"{path} lists no [[bug]]")
    return bugs


# --- the clones ------------------------------------------------------------------------------


def clone_candidates(clones: Path, repo: str) -> list[Path]:
    """Where a clone of OWNER/NAME may be: OWNER+NAME/repo (what the mirror tool writes),
    OWNER+NAME, OWNER/NAME, NAME, each as a bare git directory or a work tree with .git."""
    owner, name = repo.split("/", 1)
    bases = [clones / f"{owner}+{name}" / "repo", clones / f"{owner}+{name}", clones / owner / name, clones / name]
    found: list[Path] = []
    for base in bases:
        for candidate in (base, base.with_name(base.name + ".git"), base / ".git"):
            if (candidate / "HEAD").is_file() and (candidate / "objects").is_dir():
                found.append(candidate)
    return found


def git_dir_for(clones: Path, bug: Bug) -> Path:
    candidates = clone_candidates(clones, bug.repo)
    if not candidates:
        raise BenchError(f"no clone of {bug.repo} under {clones} (looked for {bug.repo.replace('/', '+')}/repo, "
                         f"{bug.repo.replace('/', '+')}, {bug.repo}, {bug.repo.split('/')[1]}, bare or not)")
    for candidate in candidates:
        probe = subprocess.run(
            ["git", f"--git-dir={candidate}", "cat-file", "-e", f"{bug.parent}^{{commit}}"],
            capture_output=True,
        )
        if probe.returncode == 0:
            return candidate
    raise BenchError(f"the clone of {bug.repo} at {candidates[0]} does not have the commit {bug.parent}")


def export(git_dir: Path, commit: str, root: str, destination: Path) -> list[str]:
    """Export the commit (only `root` when set) into destination; the paths skipped (blobs absent).

    `git archive` first, refusing unsafe members. A clone may lack some blobs (a partial clone,
    or a snapshot without its largest files), and `git archive` then fails as a whole: the tree is
    then written blob by blob from `git ls-tree` and `git cat-file --batch`, skipping the blobs
    the clone does not have, and the skipped paths are returned so that the report can name them.
    """
    command = ["git", f"--git-dir={git_dir}", "archive", "--format=tar", commit]
    if root:
        command.append(root)
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL) as process:
        assert process.stdout is not None
        try:
            with tarfile.open(fileobj=process.stdout, mode="r|") as archive:
                archive.extractall(destination, filter="data")
            complete = True
        except (tarfile.TarError, OSError):
            process.kill()
            complete = False
    if complete and process.returncode == 0:
        return []
    shutil.rmtree(destination, ignore_errors=True)
    destination.mkdir(parents=True)
    return export_blobs(git_dir, commit, root, destination)


def export_blobs(git_dir: Path, commit: str, root: str, destination: Path) -> list[str]:
    listing = subprocess.run(
        ["git", f"--git-dir={git_dir}", "ls-tree", "-r", "-z", commit, "--", *([root] if root else [])],
        capture_output=True,
    )
    if listing.returncode != 0:
        raise BenchError(f"cannot list {commit} of {git_dir}: {listing.stderr.decode(errors='replace').strip()}")
    files: list[tuple[str, str]] = []
    for record in listing.stdout.split(b"\0"):
        if not record:
            continue
        meta, _, raw_path = record.partition(b"\t")
        mode, kind, sha = meta.decode().split()
        path = raw_path.decode(errors="replace")
        parts = Path(path).parts
        if kind != "blob" or mode not in ("100644", "100755") or Path(path).is_absolute() or ".." in parts:
            continue
        files.append((sha, path))
    skipped: list[str] = []
    with subprocess.Popen(["git", f"--git-dir={git_dir}", "cat-file", "--batch"], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE) as batch:
        assert batch.stdin is not None and batch.stdout is not None
        for sha, path in files:
            batch.stdin.write(f"{sha}\n".encode())
            batch.stdin.flush()
            header = batch.stdout.readline().decode().split()
            if len(header) != 3:
                skipped.append(path)
                continue
            content = batch.stdout.read(int(header[2]))
            batch.stdout.read(1)
            target = destination / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        batch.stdin.close()
    return skipped


# --- reviewing and matching ------------------------------------------------------------------


def review(root: Path, timeout: float, jobs: int | None, min_confidence: str | None = None) -> tuple[list[Finding], float]:
    config = root / "backbone.toml"
    config.write_text(CONFIG_TEXT, encoding="utf-8")
    backbone = BIN / "backbone"
    if not backbone.exists():
        found = shutil.which("backbone")
        if found is None:
            raise BenchError("no backbone executable beside this Python or on PATH: run `make bench` or pip install -e .")
        backbone = Path(found)
    command = [str(backbone), "review", str(root), "--config", str(config), "--format", "json", "--no-cache",
               "--exit-zero", "--color", "never"]
    if jobs:
        command += ["--jobs", str(jobs)]
    if min_confidence:
        command += ["--min-confidence", min_confidence]
    start = time.perf_counter()
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=root)
    except subprocess.TimeoutExpired:
        raise BenchError(f"the review took longer than {timeout:.0f} s") from None
    seconds = time.perf_counter() - start
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
        raise BenchError(f"backbone exited {result.returncode} without a JSON report: {' / '.join(tail)}") from None
    findings: list[Finding] = []
    for item in report.get("findings", []):
        if isinstance(item, dict) and item.get("code") in FAMILY:
            findings.append(Finding(str(item["code"]), str(item.get("path", "")), int(item.get("line", 0)),
                                    str(item.get("message", ""))))
    return findings, seconds


def scope_span(source: str, scope: str) -> tuple[int, int] | None:
    """Lines (first decorator .. last line) of the function or class named by the dotted scope."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return None
    body: list[ast.stmt] = tree.body
    node: ast.stmt | None = None
    for name in scope.split("."):
        for candidate in body:
            if isinstance(candidate, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and candidate.name == name:
                node = candidate
                body = candidate.body
                break
        else:
            return None
    if node is None:
        return None
    decorators = getattr(node, "decorator_list", [])
    first = min([node.lineno, *(decorator.lineno for decorator in decorators)])
    return first, node.end_lineno or node.lineno


def finding_file(finding: Finding, root: Path) -> Path:
    return (root / finding.path).resolve()


def judge(bug: Bug, tree: Path, root: Path, findings: list[Finding]) -> tuple[list[Finding], list[Finding], str]:
    """(matched findings, family findings elsewhere in the bug's files, a note when a scope is unknown)."""
    matched: list[Finding] = []
    nearby: list[Finding] = []
    notes: list[str] = []
    for place in bug.places:
        path = (tree / place.file).resolve()
        try:
            span = scope_span(path.read_text(encoding="utf-8", errors="replace"), place.scope)
        except OSError:
            span = None
        if span is None:
            notes.append(f"scope {place.scope} not found in {place.file}; only the line counts")
        for finding in findings:
            if finding_file(finding, root) != path:
                continue
            inside = span is not None and span[0] <= finding.line <= span[1]
            if inside or abs(finding.line - place.line) <= LINE_SLACK:
                if finding not in matched:
                    matched.append(finding)
            elif finding not in nearby:
                nearby.append(finding)
    nearby = [finding for finding in nearby if finding not in matched]
    return matched, nearby, "; ".join(notes)


# --- the run ---------------------------------------------------------------------------------


def run(bugs: Sequence[Bug], clones: Path, timeout: float, jobs: int | None, keep: Path | None,
        trees: list[dict[str, object]] | None = None, min_confidence: str | None = None) -> list[Verdict]:
    """Review each tree and judge its bugs; `trees`, when given, receives every tree's N+1-family
    findings (repo, parent, root, findings), which is what a precision sample is drawn from."""
    verdicts: list[Verdict] = []
    groups: dict[tuple[str, str, str], list[Bug]] = {}
    for bug in bugs:
        groups.setdefault((bug.repo, bug.parent, bug.root), []).append(bug)
    work = keep if keep is not None else Path(tempfile.mkdtemp(prefix="backbone-n1-"))
    try:
        for (repo, parent, root_name), members in groups.items():
            tree = work / f"{repo.replace('/', '+')}-{parent[:12]}"
            root = tree / root_name if root_name else tree
            try:
                git_dir = git_dir_for(clones, members[0])
                if tree.exists():
                    shutil.rmtree(tree)
                tree.mkdir(parents=True)
                skipped = export(git_dir, parent, root_name, tree)
                if not root.is_dir():
                    raise BenchError(f"{root_name} is not a folder at {parent}")
                findings, seconds = review(root, timeout, jobs, min_confidence)
                if trees is not None:
                    trees.append({"repo": repo, "parent": parent, "root": root_name,
                                  "findings": [asdict(finding) for finding in findings]})
            except BenchError as error:
                for bug in members:
                    verdicts.append(Verdict(bug.id, bug.repo, bug.parent, bug.shape, "error", error=str(error)))
                    print_verdict(verdicts[-1], bug)
                if keep is None:
                    shutil.rmtree(tree, ignore_errors=True)
                continue
            for bug in members:
                matched, nearby, note = judge(bug, tree, root, findings)
                if skipped:
                    note = "; ".join(filter(None, [note, f"{len(skipped)} file(s) absent from the clone, not reviewed: "
                                                          + ", ".join(skipped[:5])]))
                verdict = Verdict(bug.id, bug.repo, bug.parent, bug.shape, "found" if matched else "missed",
                                  matched, nearby, note, seconds)
                verdicts.append(verdict)
                print_verdict(verdict, bug)
            if keep is None:
                shutil.rmtree(tree, ignore_errors=True)
    finally:
        if keep is None:
            shutil.rmtree(work, ignore_errors=True)
    return verdicts


def _short(finding: Finding, root_hint: str) -> str:
    return f"{finding.code} {root_hint}{finding.path}:{finding.line}"


def print_verdict(verdict: Verdict, bug: Bug) -> None:
    label = {"found": "FOUND ", "missed": "missed", "error": "ERROR "}[verdict.status]
    where = f"{bug.place.file}:{bug.place.line} {bug.place.scope}"
    print(f"{label} {bug.id:<28} {bug.shape:<13} {where}", flush=True)
    if verdict.error:
        print(f"         {verdict.error}", flush=True)
    if verdict.status == "error":
        return
    for finding in verdict.matched:
        print(f"         matched {_short(finding, '')}", flush=True)
    for finding in verdict.nearby[:3]:
        print(f"         elsewhere in the file: {_short(finding, '')}", flush=True)


def summarize(verdicts: Sequence[Verdict], min_confidence: str | None = None) -> dict[str, object]:
    """The figures of a run. The target is for the default report (what a user sees): a run at a
    lower `min_confidence` reports its ratio and no verdict (`target_met` None)."""
    total = len(verdicts)
    found = sum(verdict.status == "found" for verdict in verdicts)
    errors = sum(verdict.status == "error" for verdict in verdicts)
    shapes: dict[str, list[int]] = {}
    for verdict in verdicts:
        tally = shapes.setdefault(verdict.shape, [0, 0])
        tally[0] += verdict.status == "found"
        tally[1] += 1
    return {
        "bugs": total,
        "found": found,
        "errors": errors,
        "found_ratio": found / total if total else 0.0,
        "target": TARGET,
        "target_met": total > 0 and found / total >= TARGET if min_confidence in (None, "high") else None,
        "min_confidence": min_confidence or "high",
        "by_shape": {shape: {"found": tally[0], "bugs": tally[1]} for shape, tally in sorted(shapes.items())},
    }


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0] if __doc__ else None)
    parser.add_argument("--clones", type=Path, default=Path(os.environ.get("BACKBONE_N1_CLONES", "/work/.mirror")),
                        help="folder holding the git clones (default $BACKBONE_N1_CLONES or /work/.mirror)")
    parser.add_argument("--bugs", type=Path, default=DEFAULT_BUGS, help="the bug list (default: bugs.toml here)")
    parser.add_argument("--only", nargs="*", default=[], help="bug ids (or repository names) to run")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="seconds per review (default 900)")
    parser.add_argument("--jobs", type=int, default=None, help="passed to backbone review --jobs")
    parser.add_argument("--min-confidence", choices=("high", "medium", "low"), default=None,
                        help="passed to backbone review --min-confidence (default: the default report, high)")
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON, help=f"result file (default {DEFAULT_JSON})")
    parser.add_argument("--keep", type=Path, default=None, help="export the trees here and keep them")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        bugs = load_bugs(arguments.bugs)
        if arguments.only:
            wanted = set(arguments.only)
            bugs = [bug for bug in bugs if bug.id in wanted or bug.repo in wanted or bug.repo.split("/")[1] in wanted]
            if not bugs:
                raise BenchError(f"no bug matches --only {' '.join(arguments.only)}")
        if not arguments.clones.is_dir():
            raise BenchError(f"--clones {arguments.clones} is not a folder")
    except BenchError as error:
        print(f"n1_realworld: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    print(f"{len(bugs)} bugs; clones in {arguments.clones}; family {', '.join(sorted(FAMILY))}", flush=True)
    trees: list[dict[str, object]] = []
    verdicts = run(bugs, arguments.clones, arguments.timeout, arguments.jobs, arguments.keep, trees,
                   min_confidence=arguments.min_confidence)
    summary = summarize(verdicts, arguments.min_confidence)
    print()
    for shape, tally in summary["by_shape"].items():  # type: ignore[attr-defined]
        print(f"  {shape:<13} {tally['found']}/{tally['bugs']}")
    ratio = float(summary["found_ratio"])  # type: ignore[arg-type]
    verdict = {True: "met", False: "missed", None: "applies to the default report only"}[summary["target_met"]]  # type: ignore[index]
    print(f"found {summary['found']}/{summary['bugs']} = {ratio:.0%} at confidence {summary['min_confidence']} and above "
          f"(target {TARGET:.0%}: {verdict}); errors {summary['errors']}")
    arguments.json.parent.mkdir(parents=True, exist_ok=True)
    by_id = {bug.id: bug for bug in bugs}
    payload = {
        "summary": summary,
        "matching": {"family": sorted(FAMILY), "line_slack": LINE_SLACK, "min_confidence": arguments.min_confidence or "high"},
        "bugs": [
            {**asdict(verdict), "link": by_id[verdict.id].link, "file": by_id[verdict.id].place.file,
             "line": by_id[verdict.id].place.line, "scope": by_id[verdict.id].place.scope}
            for verdict in verdicts
        ],
        "trees": trees,
    }
    arguments.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    print(f"results: {arguments.json}")
    return EXIT_TARGET_MET if summary["target_met"] is True else EXIT_TARGET_MISSED


if __name__ == "__main__":
    sys.exit(main())
