"""Review speed: `backbone review` against bandit, with ruff as a reference point.

Downloads the sdist of a real open-source backend from PyPI (django-oscar by default),
unpacks it, and times on that same tree, in the same run:

- backbone cold: `backbone review TREE --format json --exit-zero` with no result cache,
- backbone warm: the same command again with the cache of the cold run in place,
- bandit:        `bandit -r TREE -q -f json`, its default run,
- ruff:          `ruff check TREE --isolated --no-cache --exit-zero --select ALL`.

Each is timed --repeat times (wall clock, subprocess + time.perf_counter) and the median
is reported, with the two targets: cold no slower than bandit, warm under a tenth of cold.
Exit status: 0 both targets met, 1 a target missed, 2 the benchmark could not run.
See bench/README.md.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
import warnings
import zipfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_PACKAGE = "django-oscar"
DEFAULT_WORKDIR = Path(__file__).resolve().parent / ".work"
MIN_PYTHON_LINES = 30_000
DEFAULT_RUFF_SELECT = "ALL"
# The targets: backbone cold / bandit <= COLD_TARGET, backbone warm / backbone cold < WARM_TARGET.
COLD_TARGET = 1.0
# How many times a warm run that missed the cache (backbone's sources edited meanwhile) is run again.
WARM_RETRIES = 2
WARM_TARGET = 0.1
# The first line of the backbone.toml this script writes, so that it knows the file is its own.
CONFIG_MARKER = "# Written by bench/review_speed.py"
CACHE_DIRECTORY = ".backbone_cache"
ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".zip")
# The executables of the environment running this script: `make bench` runs .venv/bin/python.
BIN = Path(sys.executable).parent

# The tools run as a user runs them: with bytecode caching. A sandbox or CI that sets
# PYTHONDONTWRITEBYTECODE would leave an editable backbone recompiling its sources on
# every run (bandit's and ruff's installed files were compiled by pip), which is not
# what anyone installing backbone gets; the untimed warm-up round writes the .pyc files.
TOOL_ENVIRONMENT = {name: value for name, value in os.environ.items() if name != "PYTHONDONTWRITEBYTECODE"}

EXIT_TARGETS_MET = 0
EXIT_TARGET_MISSED = 1
EXIT_CANNOT_RUN = 2


class BenchError(Exception):
    """The benchmark cannot run; the message says why and what to do."""


# --- the tree under test -------------------------------------------------------------------


def _normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "_", name).lower()


def _split_requirement(requirement: str) -> tuple[str, str | None]:
    """`django-oscar` -> ("django-oscar", None); `django-oscar==4.2.1` -> ("django-oscar", "4.2.1")."""
    name, _, version = requirement.partition("==")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name.strip()):
        raise BenchError(f"--package {requirement!r}: expected NAME or NAME==VERSION")
    return name.strip(), version.strip() or None


def _archive_stem(path: Path) -> str | None:
    for suffix in ARCHIVE_SUFFIXES:
        if path.name.endswith(suffix):
            return path.name[: -len(suffix)]
    return None


def _cached_sdist(workdir: Path, name: str, version: str | None) -> Path | None:
    """The newest sdist of `name` (at `version`, if given) already in `workdir`."""
    if not workdir.is_dir():
        return None
    found: list[Path] = []
    for path in workdir.iterdir():
        stem = _archive_stem(path)
        if stem is None or not path.is_file() or "-" not in stem:
            continue
        archive_name, archive_version = stem.rsplit("-", 1)
        if _normalized(archive_name) == _normalized(name) and version in (None, archive_version):
            found.append(path)
    return max(found, key=lambda path: path.stat().st_mtime) if found else None


def download_sdist(requirement: str, workdir: Path) -> tuple[Path, bool]:
    """The sdist of `requirement` in `workdir`, downloaded unless already there; (path, downloaded)."""
    name, version = _split_requirement(requirement)
    cached = _cached_sdist(workdir, name, version)
    if cached is not None:
        return cached, False
    workdir.mkdir(parents=True, exist_ok=True)
    command = [
        sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
        "--disable-pip-version-check", requirement, "-d", str(workdir),
    ]
    print(f"downloading the sdist of {requirement} from PyPI into {_shown(workdir)} ...", flush=True)
    try:
        completed = subprocess.run(command, capture_output=True, text=True, check=False)
    except OSError as error:
        raise BenchError(f"cannot run pip ({error.strerror}): {' '.join(command)}") from None
    if completed.returncode != 0:
        tail = "\n".join(f"    {line}" for line in completed.stderr.strip().splitlines()[-6:])
        raise BenchError(
            f"pip could not download the sdist of {requirement} (exit code {completed.returncode}).\n"
            f"  Is there network access to PyPI, and does the package publish an sdist?\n"
            f"  pip said:\n{tail}\n"
            f"  To run offline, put the sdist in {_shown(workdir)} (it is then used as is) or pass --sdist FILE."
        )
    downloaded = _cached_sdist(workdir, name, version)
    if downloaded is None:
        raise BenchError(f"pip reported success but no sdist of {name} is in {_shown(workdir)}: {completed.stdout.strip()}")
    return downloaded, True


def unpack(archive: Path, workdir: Path) -> Path:
    """The directory holding the unpacked sdist; unpacked once, reused afterwards."""
    stem = _archive_stem(archive)
    if stem is None:
        raise BenchError(f"{archive}: not an sdist archive (expected one of {', '.join(ARCHIVE_SUFFIXES)})")
    tree = workdir / stem
    if tree.is_dir():
        return tree
    partial = workdir / f".{stem}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        if archive.name.endswith(".zip"):
            with zipfile.ZipFile(archive) as bundle:
                bundle.extractall(partial)
        else:
            with tarfile.open(archive) as bundle:
                if hasattr(tarfile, "data_filter"):
                    bundle.extractall(partial, filter="data")
                else:  # pragma: no cover - Python without the extraction filters (< 3.10.12)
                    bundle.extractall(partial)
    except (OSError, tarfile.TarError, zipfile.BadZipFile) as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise BenchError(f"cannot unpack {archive}: {error}; delete it and run again to download it afresh") from None
    entries = list(partial.iterdir())
    # An sdist holds one top-level NAME-VERSION/ directory; anything else is used as unpacked.
    source = entries[0] if len(entries) == 1 and entries[0].is_dir() else partial
    source.rename(tree)
    shutil.rmtree(partial, ignore_errors=True)
    return tree


@dataclass(frozen=True, slots=True)
class PythonSize:
    files: int
    lines: int
    code_lines: int  # neither blank nor only a comment


def python_size(tree: Path) -> PythonSize:
    files = lines = code_lines = 0
    for directory, subdirectories, names in os.walk(tree):
        subdirectories[:] = [name for name in subdirectories if name not in (CACHE_DIRECTORY, "__pycache__")]
        for name in names:
            if not name.endswith(".py"):
                continue
            text = Path(directory, name).read_bytes().decode("utf-8", errors="replace")
            files += 1
            for line in text.splitlines():
                lines += 1
                stripped = line.strip()
                if stripped and not stripped.startswith("#"):
                    code_lines += 1
    return PythonSize(files, lines, code_lines)


def parse_floor(tree: Path) -> float:
    """Seconds CPython takes just to read and ast.parse every file, in this one process."""
    paths = [
        Path(directory, name)
        for directory, subdirectories, names in os.walk(tree)
        if CACHE_DIRECTORY not in Path(directory).parts
        for name in names
        if name.endswith(".py")
    ]
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid escape sequences in old code are not our business
        for path in paths:
            try:
                ast.parse(path.read_bytes(), filename=str(path))
            except (SyntaxError, ValueError):
                continue
    return time.perf_counter() - start


def backbone_config(tree: Path) -> tuple[Path, str]:
    """The configuration backbone will use for `tree`, written when the tree has none; (file, note).

    The configuration's directory is the reviewed root, and the cache is root/.backbone_cache.
    Without a configuration inside the tree, backbone would look upwards and take the enclosing
    repository's: bench/.work/ sits in this repository, whose pyproject.toml excludes bench/ and
    whose .gitignore ignores bench/.work/, and the review would see no file at all. An unpacked
    sdist is a project of its own, so it gets a configuration of its own.
    """
    dedicated = tree / "backbone.toml"
    if dedicated.is_file():
        text = dedicated.read_text(encoding="utf-8", errors="replace")
        if not text.startswith(CONFIG_MARKER):
            return dedicated, "the project's own backbone.toml"
    else:
        pyproject = tree / "pyproject.toml"
        if pyproject.is_file() and "[tool.backbone" in pyproject.read_text(encoding="utf-8", errors="replace"):
            return pyproject, "the project's own [tool.backbone] in pyproject.toml"
    dedicated.write_text(
        f"{CONFIG_MARKER}: this unpacked sdist is a project of its own, so the enclosing\n"
        "# repository's configuration and .gitignore (which ignores bench/.work/) must not apply.\n"
        "respect-gitignore = false\n",
        encoding="utf-8",
    )
    return dedicated, "backbone.toml written by the benchmark (defaults, respect-gitignore = false)"


# --- running and timing the tools ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Counts:
    files: int | None = None
    findings: int | None = None
    from_cache: int | None = None

    def fully_cached(self) -> bool:
        """True unless the output says some file was checked afresh (or nothing says either way)."""
        return self.from_cache is None or self.files is None or self.from_cache >= self.files


@dataclass(slots=True)
class Tool:
    key: str
    label: str
    command: list[str]
    ok_exit_codes: tuple[int, ...]
    count: Callable[[str], Counts]
    # Runs untimed right before each timed run (deleting the cache for a cold run).
    prepare: Callable[[], None] | None = None
    seconds: list[float] = field(default_factory=list)
    counts: Counts = Counts()
    # The counts of every timed run, to tell a warm run that missed the cache.
    run_counts: list[Counts] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)


def executable(name: str) -> str:
    path = BIN / name
    if not path.is_file():
        raise BenchError(
            f"{name} is not installed next to {sys.executable}; run `make bench` "
            f"(or `{BIN / 'python'} -m pip install -e '.[bench]'`) first"
        )
    return str(path)


def run_once(tool: Tool, cwd: Path) -> float:
    if tool.prepare is not None:
        tool.prepare()
    start = time.perf_counter()
    try:
        completed = subprocess.run(tool.command, cwd=cwd, env=TOOL_ENVIRONMENT, capture_output=True, check=False)
    except OSError as error:
        raise BenchError(f"cannot run {tool.command[0]}: {error.strerror}") from None
    elapsed = time.perf_counter() - start
    if completed.returncode not in tool.ok_exit_codes:
        stderr = completed.stderr.decode("utf-8", errors="replace").strip().splitlines()
        tail = "\n".join(f"    {line}" for line in stderr[-12:]) or "    (nothing on stderr)"
        raise BenchError(
            f"{tool.label} failed with exit code {completed.returncode}:\n"
            f"  command: {' '.join(tool.command)}\n  stderr:\n{tail}"
        )
    try:
        tool.counts = tool.count(completed.stdout.decode("utf-8", errors="replace"))
    except (ValueError, KeyError, TypeError) as error:
        head = completed.stdout[:300].decode("utf-8", errors="replace")
        raise BenchError(f"{tool.label}: cannot read its JSON output ({error}); it began with: {head!r}") from None
    return elapsed


def count_backbone(stdout: str) -> Counts:
    document = json.loads(stdout)
    summary = document.get("summary") or {}
    files = next((summary[key] for key in ("files_reviewed", "files") if isinstance(summary.get(key), int)), None)
    from_cache = summary.get("files_from_cache") if isinstance(summary.get("files_from_cache"), int) else None
    return Counts(files=files, findings=len(document["findings"]), from_cache=from_cache)


def count_bandit(stdout: str) -> Counts:
    document = json.loads(stdout)
    # bandit's metrics hold one entry per scanned file, plus "_totals".
    files = sum(1 for key in document["metrics"] if key != "_totals")
    return Counts(files=files, findings=len(document["results"]))


def count_ruff(stdout: str) -> Counts:
    return Counts(findings=len(json.loads(stdout)))


def ruff_files(ruff: str, tree: Path) -> int:
    """ruff's JSON does not say how many files it checked; `--show-files` lists them (untimed)."""
    completed = subprocess.run(
        [ruff, "check", str(tree), "--isolated", "--show-files"], env=TOOL_ENVIRONMENT, capture_output=True, text=True,
        check=False,
    )
    return sum(1 for line in completed.stdout.splitlines() if line.strip().endswith((".py", ".pyi", ".ipynb")))


def backbone_rule_count(backbone: str) -> int | None:
    """How many rules backbone has: every figure depends on it while the catalog grows."""
    completed = subprocess.run(
        [backbone, "rules", "--format", "json"], env=TOOL_ENVIRONMENT, capture_output=True, text=True, check=False
    )
    try:
        rows = json.loads(completed.stdout)
    except ValueError:
        return None
    # The engine's own codes (unreadable file, unused suppression) are listed with severity "engine".
    return sum(1 for row in rows if isinstance(row, dict) and row.get("severity") != "engine")


def startup_seconds(command: list[str], cwd: Path, repeat: int) -> float:
    """Median wall time of a command that has nothing to review: the fixed cost of a run."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=TOOL_ENVIRONMENT, capture_output=True, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# --- the report ----------------------------------------------------------------------------


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) or "."
    except ValueError:
        return str(path)


def _number(value: int | None) -> str:
    return "?" if value is None else f"{value:,}"


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    ratio_name: str
    ratio: float
    limit: float
    inclusive: bool

    @property
    def passed(self) -> bool:
        return self.ratio <= self.limit if self.inclusive else self.ratio < self.limit

    def line(self) -> str:
        sign = "<=" if self.inclusive else "<"
        verdict = "PASS" if self.passed else "FAIL"
        return f"  {verdict}  {self.name}: {self.ratio_name} = {self.ratio:.3f} (target {sign} {self.limit})"


def print_table(tools: Sequence[Tool], bandit_median: float) -> None:
    width = max(len(tool.label) for tool in tools)
    print(f"  {'tool':<{width}}  {'median s':>9}  {'vs bandit':>9}  {'files':>7}  {'cached':>7}  {'findings':>8}  runs (s)")
    for tool in tools:
        runs = " ".join(f"{seconds:.3f}" for seconds in tool.seconds)
        print(
            f"  {tool.label:<{width}}  {tool.median:>9.3f}  {tool.median / bandit_median:>8.2f}x"
            f"  {_number(tool.counts.files):>7}  {_number(tool.counts.from_cache) if tool.counts.from_cache is not None else '-':>7}"
            f"  {_number(tool.counts.findings):>8}  {runs}"
        )


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Time `backbone review` (cold and warm cache) against bandit and ruff on a real backend from PyPI."
    )
    parser.add_argument("--package", default=DEFAULT_PACKAGE,
                        help=f"PyPI project to review, NAME or NAME==VERSION (default: {DEFAULT_PACKAGE})")
    parser.add_argument("--sdist", type=Path, help="use this sdist archive instead of downloading one")
    parser.add_argument("--workdir", type=Path, default=DEFAULT_WORKDIR,
                        help="where the sdist is cached and unpacked (default: bench/.work)")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per tool; the median counts (default: 3)")
    parser.add_argument("--warmup", type=int, default=1,
                        help="untimed rounds first, so that disk caches and .pyc files are warm (default: 1)")
    parser.add_argument("--ruff-select", default=DEFAULT_RUFF_SELECT,
                        help=f"ruff's --select (default: {DEFAULT_RUFF_SELECT}, every stable rule)")
    parser.add_argument("--jobs", type=int, help="pass --jobs N to backbone (default: backbone's own, one per core)")
    parser.add_argument("--json", type=Path, dest="json_file", help="also write the figures to this JSON file")
    arguments = parser.parse_args(argv)
    if arguments.repeat < 1 or arguments.warmup < 0:
        parser.error("--repeat must be at least 1 and --warmup at least 0")
    return arguments


def benchmark(arguments: argparse.Namespace) -> int:
    backbone, bandit, ruff = executable("backbone"), executable("bandit"), executable("ruff")
    workdir: Path = arguments.workdir.absolute()
    if arguments.sdist is not None:
        if not arguments.sdist.is_file():
            raise BenchError(f"--sdist {arguments.sdist}: no such file")
        archive, downloaded = arguments.sdist.absolute(), False
    else:
        archive, downloaded = download_sdist(arguments.package, workdir)
    tree = unpack(archive, workdir)
    size = python_size(tree)
    config_file, config_note = backbone_config(tree)
    root = config_file.parent
    cache = root / CACHE_DIRECTORY

    empty = workdir / "empty-project"
    empty.mkdir(parents=True, exist_ok=True)
    (empty / "backbone.toml").write_text(f"{CONFIG_MARKER}: a project with nothing to review.\n", encoding="utf-8")

    jobs = ["--jobs", str(arguments.jobs)] if arguments.jobs else []
    review = [backbone, "review", str(tree), "--format", "json", "--exit-zero", *jobs]
    tools = [
        Tool("backbone-cold", "backbone review (cold cache)", review, (0,), count_backbone,
             prepare=lambda: shutil.rmtree(cache, ignore_errors=True)),
        Tool("backbone-warm", "backbone review (warm cache)", review, (0,), count_backbone),
        # bandit exits 1 when it has findings, which is a normal run.
        Tool("bandit", "bandit -r (default run)", [bandit, "-r", str(tree), "-q", "-f", "json"], (0, 1), count_bandit),
        Tool("ruff", f"ruff check --select {arguments.ruff_select} (Rust)",
             [ruff, "check", str(tree), "--isolated", "--no-cache", "--exit-zero", "--select", arguments.ruff_select,
              "--output-format", "json"], (0,), count_ruff),
    ]
    by_key = {tool.key: tool for tool in tools}

    print(f"review speed: {arguments.package if arguments.sdist is None else archive.name}")
    print(f"  sdist:   {_shown(archive)} ({'downloaded now' if downloaded else 'already present'})")
    print(f"  tree:    {_shown(tree)}: {size.files:,} Python files, {size.lines:,} lines ({size.code_lines:,} of code)")
    rules = backbone_rule_count(backbone)
    print(f"  backbone: {_number(rules)} rules; configuration {_shown(config_file)}, {config_note}")
    print(f"            cache {_shown(cache)}")
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print(f"  machine: {cpus} CPUs, {platform.python_implementation()} {platform.python_version()}, {platform.machine()}")
    if size.lines < MIN_PYTHON_LINES:
        print(f"  note: fewer than {MIN_PYTHON_LINES:,} lines of Python; the figures say little about a large service")
    print(f"  timing: {arguments.warmup} untimed round(s), then median of {arguments.repeat} run(s), rounds interleaved",
          flush=True)

    # Rounds interleave the tools, so that a change in machine load hits them all alike;
    # within a round the warm run comes right after the cold run that filled the cache.
    invalidated: list[int] = []  # rounds (0 and below: warm-up) whose warm run missed the cache
    for round_number in range(arguments.warmup + arguments.repeat):
        timed = round_number >= arguments.warmup
        for tool in tools:
            seconds = run_once(tool, tree)
            for _ in range(WARM_RETRIES):
                if tool.key != "backbone-warm" or tool.counts.fully_cached():
                    break
                # The cache is keyed on backbone's own sources: an edit under src/backbone/ since
                # the cold run made this run cold; the run after it, on the new key, is warm.
                invalidated.append(round_number - arguments.warmup + 1)
                seconds = run_once(tool, tree)
            if timed:
                tool.seconds.append(seconds)
                tool.run_counts.append(tool.counts)
            if tool.key == "backbone-cold" and not cache.is_dir():
                raise BenchError(
                    f"the cold review wrote no cache at {cache}: the warm figure would not measure a warm cache "
                    "(does backbone take another root for this tree?)"
                )
    cold, warm, bandit_tool = by_key["backbone-cold"], by_key["backbone-warm"], by_key["bandit"]
    if not cold.counts.files and cold.counts.files is not None:
        raise BenchError(f"backbone reviewed no file of {tree}; check its configuration {config_file}")
    by_key["ruff"].counts = Counts(files=ruff_files(ruff, tree), findings=by_key["ruff"].counts.findings)

    python_start = startup_seconds([sys.executable, "-c", "pass"], empty, arguments.repeat)
    backbone_start = startup_seconds(
        [backbone, "review", str(empty), "--format", "json", "--exit-zero", "--no-cache"], empty, arguments.repeat
    )
    bandit_start = startup_seconds([bandit, "-r", str(empty), "-q", "-f", "json"], empty, arguments.repeat)
    floor = parse_floor(tree)

    print()
    print_table(tools, bandit_tool.median)
    print()
    print("  fixed cost of a run (a project with nothing to review; median):")
    print(f"    python -c pass            {python_start:.3f} s")
    print(f"    backbone review           {backbone_start:.3f} s  (imports, rule loading, configuration;"
          f" {backbone_start / cold.median:.0%} of the cold review)")
    print(f"    bandit -r                 {bandit_start:.3f} s")
    print(f"  reading and ast.parse of every file, one process: {floor:.3f} s")
    print()
    targets = [
        Target("cold review no slower than bandit's default run", "backbone cold / bandit",
               cold.median / bandit_tool.median, COLD_TARGET, inclusive=True),
        Target("warm review under a tenth of the cold one", "backbone warm / backbone cold",
               warm.median / cold.median, WARM_TARGET, inclusive=False),
    ]
    print("  targets:")
    for target in targets:
        print(target.line())
    # The warm run cannot beat the fixed cost of a run; this says how much of the rest the cache saves.
    if cold.median > backbone_start:
        net = max(warm.median - backbone_start, 0.0) / (cold.median - backbone_start)
        print(f"        (without the fixed cost of a run, warm / cold = {net:.3f}; the fixed cost alone is"
              f" {backbone_start / cold.median:.3f} of the cold review)")
    if invalidated:
        print(
            f"  note: {len(invalidated)} warm run(s) found the cache invalidated and were run again: the cache is"
            " keyed on backbone's own sources, which changed during the benchmark (benchmark a quiet tree)"
        )
    for number, counts in enumerate(warm.run_counts, start=1):
        if not counts.fully_cached():
            print(
                f"  note: warm run {number} took only {_number(counts.from_cache)} of {_number(counts.files)} files"
                " from the cache, so the warm figure is not a warm review"
            )

    if arguments.json_file is not None:
        figures = {
            "package": arguments.package if arguments.sdist is None else None,
            "sdist": archive.name,
            "tree": str(tree),
            "python_files": size.files,
            "python_lines": size.lines,
            "python_code_lines": size.code_lines,
            "cpus": cpus,
            "python": platform.python_version(),
            "repeat": arguments.repeat,
            "warmup": arguments.warmup,
            "ruff_select": arguments.ruff_select,
            "backbone_config": str(config_file),
            "backbone_rules": rules,
            "tools": {
                tool.key: {
                    "command": tool.command,
                    "median_seconds": tool.median,
                    "runs_seconds": tool.seconds,
                    "ratio_vs_bandit": tool.median / bandit_tool.median,
                    "files": tool.counts.files,
                    "files_from_cache": tool.counts.from_cache,
                    "runs_files_from_cache": [counts.from_cache for counts in tool.run_counts],
                    "findings": tool.counts.findings,
                }
                for tool in tools
            },
            "startup_seconds": {"python": python_start, "backbone": backbone_start, "bandit": bandit_start},
            "parse_floor_seconds": floor,
            "warm_runs_invalidated": len(invalidated),
            "targets": [
                {"name": t.name, "ratio": t.ratio, "limit": t.limit, "passed": t.passed} for t in targets
            ],
        }
        try:
            arguments.json_file.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        except OSError as error:
            raise BenchError(f"cannot write {arguments.json_file}: {error.strerror}") from None
        print(f"\n  figures written to {arguments.json_file}")
    return EXIT_TARGETS_MET if all(target.passed for target in targets) else EXIT_TARGET_MISSED


def main(argv: Sequence[str] | None = None) -> int:
    arguments = parse_arguments(argv)
    try:
        return benchmark(arguments)
    except BenchError as error:
        print(f"review_speed: {error}", file=sys.stderr)
        return EXIT_CANNOT_RUN
    except KeyboardInterrupt:
        print("review_speed: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
