"""Incremental review: how long `backbone review` takes after editing one file.

On a copy of a real project (django-oscar's sdist by default, fetched and unpacked as
bench/review_speed.py does; or --tree DIR), times `backbone review TREE --format json
--exit-zero` as a subprocess:

- cold:            no cache;
- warm, unchanged: the cold run's cache in place, nothing edited;
- warm after one edit of one file, for each edit kind:
    body       a statement added at the start of a function body (lines below it move),
    docstring  a docstring added on top of the file (every line of it moves),
    import     `import json` added after the file's last top-level import.

Before each timed edit the file is restored and the cache brought up to date with an
untimed run, so that every timed run starts from a warm cache of the unedited tree. In the
first round each edited tree is also reviewed with --no-cache: the warm findings must be
exactly the cold ones (else the benchmark fails, whatever the times).

Prints the median times and their ratios to the cold run; the target is a ratio of at
most 0.2 after one edit. Exit status: 0 target met and findings equal, 1 otherwise,
2 the benchmark could not run. See bench/README.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from review_speed import (  # noqa: E402  (the bench folder is no package)
    CACHE_DIRECTORY,
    DEFAULT_WORKDIR,
    TOOL_ENVIRONMENT,
    BenchError,
    backbone_config,
    download_sdist,
    executable,
    unpack,
)

TARGET = 0.2
DEFAULT_PACKAGE = "django-oscar==4.2.1"
# Files of django-oscar edited by default: a models module many others read, and a views module.
OSCAR_FILES = ("src/oscar/apps/catalogue/abstract_models.py", "src/oscar/apps/basket/views.py")


def _top_level_imports_end(tree: ast.Module) -> int:
    """The last line of the file's leading run of imports (and docstring), 0 if none."""
    end = 0
    for statement in tree.body:
        if isinstance(statement, (ast.Import, ast.ImportFrom)) or (
            isinstance(statement, ast.Expr) and isinstance(statement.value, ast.Constant) and end == 0
        ):
            end = statement.end_lineno or statement.lineno
        else:
            break
    return end


def edit_body(text: str) -> str:
    tree = ast.parse(text)
    functions = [
        node for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.body[0].lineno > node.lineno
    ]
    if not functions:
        raise BenchError("the edited file has no function with a body on its own lines")
    first = functions[len(functions) // 2].body[0]
    lines = text.splitlines(keepends=True)
    lines.insert(first.lineno - 1, " " * first.col_offset + "edited_by_bench = 1\n")
    return "".join(lines)


def edit_docstring(text: str) -> str:
    return '"""Edited by bench/incremental_review.py."""\n' + text


def edit_import(text: str) -> str:
    lines = text.splitlines(keepends=True)
    lines.insert(_top_level_imports_end(ast.parse(text)), "import json\n")
    return "".join(lines)


EDITS: dict[str, Callable[[str], str]] = {"body": edit_body, "docstring": edit_docstring, "import": edit_import}


@dataclass(slots=True)
class Timings:
    label: str
    runs: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.runs)


def review(command: list[str], cwd: Path) -> tuple[float, dict[str, object]]:
    start = time.perf_counter()
    completed = subprocess.run(command, cwd=cwd, env=TOOL_ENVIRONMENT, capture_output=True, check=False)
    elapsed = time.perf_counter() - start
    if completed.returncode != 0:
        tail = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()[-8:]
        raise BenchError(f"{' '.join(command)} failed with exit code {completed.returncode}: " + " | ".join(tail))
    try:
        report = json.loads(completed.stdout)
    except ValueError as error:
        raise BenchError(f"cannot read backbone's JSON output: {error}") from None
    if not isinstance(report, dict):
        raise BenchError("backbone's JSON output is not an object")
    return elapsed, report


def default_files(tree: Path) -> list[str]:
    present = [name for name in OSCAR_FILES if (tree / name).is_file()]
    if present:
        return present
    largest = max(
        (path for path in tree.rglob("*.py") if CACHE_DIRECTORY not in path.parts),
        key=lambda path: path.stat().st_size,
        default=None,
    )
    if largest is None:
        raise BenchError(f"{tree}: no Python file to edit")
    return [largest.relative_to(tree).as_posix()]


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tree", type=Path, help="an unpacked project to copy and edit (default: the sdist of --package)")
    parser.add_argument("--package", default=DEFAULT_PACKAGE, help=f"sdist to fetch when no --tree (default {DEFAULT_PACKAGE})")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR, help="where sdists are kept and unpacked")
    parser.add_argument("--file", action="append", dest="files", help="a file to edit, relative to the tree (repeatable)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs of each measurement (default 3)")
    parser.add_argument("--jobs", type=int, default=0, help="pass --jobs N to backbone (default: its own choice)")
    parser.add_argument("--json", type=Path, help="write every figure to this file")
    return parser.parse_args(argv)


def benchmark(arguments: argparse.Namespace) -> int:
    backbone = executable("backbone")
    if arguments.tree is not None:
        source = arguments.tree.absolute()
        if not source.is_dir():
            raise BenchError(f"--tree {arguments.tree}: no such folder")
    else:
        archive, _ = download_sdist(arguments.package, arguments.workdir.absolute())
        source = unpack(archive, arguments.workdir.absolute())
    with tempfile.TemporaryDirectory(prefix="backbone-incremental-") as scratch:
        tree = Path(scratch) / source.name
        shutil.copytree(source, tree, symlinks=True, ignore=shutil.ignore_patterns(CACHE_DIRECTORY))
        return measure(arguments, backbone, tree)


def measure(arguments: argparse.Namespace, backbone: str, tree: Path) -> int:
    config_file, note = backbone_config(tree)
    cache = config_file.parent / CACHE_DIRECTORY
    jobs = ["--jobs", str(arguments.jobs)] if arguments.jobs else []
    command = [backbone, "review", str(tree), "--format", "json", "--exit-zero", *jobs]
    files = arguments.files or default_files(tree)
    originals = {name: (tree / name).read_text(encoding="utf-8") for name in files}
    python_files = sum(1 for path in tree.rglob("*.py") if CACHE_DIRECTORY not in path.parts)
    print(f"incremental review: {tree.name} ({python_files:,} Python files; configuration: {note})")
    print(f"  edited files: {', '.join(files)}; {arguments.repeat} timed run(s) each, median", flush=True)

    review(command, tree)  # untimed: writes the .pyc files of backbone itself
    cold, warm = Timings("cold"), Timings("warm, unchanged")
    edited = {(name, kind): Timings(f"{kind} edit of {name}") for name in files for kind in EDITS}
    mismatches: list[str] = []
    for round_number in range(arguments.repeat):
        shutil.rmtree(cache, ignore_errors=True)
        cold.runs.append(review(command, tree)[0])
        warm.runs.append(review(command, tree)[0])
        for (name, kind), timings in edited.items():
            path = tree / name
            path.write_text(originals[name], encoding="utf-8")
            review(command, tree)  # the cache of the unedited tree
            path.write_text(EDITS[kind](originals[name]), encoding="utf-8")
            elapsed, report = review(command, tree)
            timings.runs.append(elapsed)
            if round_number == 0:
                _, fresh = review([*command, "--no-cache"], tree)
                if report.get("findings") != fresh.get("findings"):
                    mismatches.append(timings.label)
            path.write_text(originals[name], encoding="utf-8")

    print()
    print(f"  {'run':<64} {'median s':>9} {'x cold':>8}")
    for timings in (cold, warm, *edited.values()):
        print(f"  {timings.label:<64} {timings.median:>9.2f} {timings.median / cold.median:>8.2f}")
    worst = max(timings.median for timings in edited.values()) / cold.median
    print()
    met = worst <= TARGET
    print(f"  target: warm review after one edit <= {TARGET} x cold: {'PASS' if met else 'FAIL'} (worst {worst:.2f})")
    print(f"  findings of every warm run equal to a cold run of the edited tree: {'PASS' if not mismatches else 'FAIL'}")
    for label in mismatches:
        print(f"    differs: {label}")
    if arguments.json is not None:
        arguments.json.write_text(json.dumps({
            "tree": tree.name,
            "python_files": python_files,
            "cold": cold.runs,
            "warm_unchanged": warm.runs,
            "edits": {f"{kind}:{name}": timings.runs for (name, kind), timings in edited.items()},
            "ratios": {f"{kind}:{name}": timings.median / cold.median for (name, kind), timings in edited.items()},
            "target": TARGET,
            "mismatches": mismatches,
        }, indent=2), encoding="utf-8")
    return 0 if met and not mismatches else 1


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return benchmark(parse_arguments(argv))
    except BenchError as error:
        print(f"incremental review: cannot run: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
