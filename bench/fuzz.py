"""Fuzzing backbone for a fixed time: every log parser, format detection, time parsing, the
whole `backbone debug` pipeline and `backbone review` on generated and mutated inputs.

The strategies and checks are those of the property tests (tests/fuzz/fuzz_cases.py);
here they run with fresh random seeds until the time budget is spent, cycling through the
targets, and a failing case does not stop the run: it is counted, named by its signature
(exception type + innermost backbone frame), saved with a reproducer, and, the first time
a signature is seen, shrunk (files dropped, then lines) while it keeps that signature.

    .venv/bin/python bench/fuzz.py                      # one hour
    .venv/bin/python bench/fuzz.py --minutes 15 --seed 7
    .venv/bin/python bench/fuzz.py --minutes 5 --targets review,debug-cli

Writes bench/.work/fuzz/summary.json (updated after every round, so an interrupted run
keeps its figures) and bench/.work/fuzz/crashes/<signature>/ (the inputs, the shrunk
inputs, the traceback). Exit status: 0 no crash, 1 at least one crash, 2 could not run.
Target: zero crashes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "fuzz"))

from hypothesis import HealthCheck, Phase, given, seed, settings  # noqa: E402

import fuzz_cases  # noqa: E402

WORKDIR = ROOT / "bench" / ".work" / "fuzz"
# Shrinking one new signature stops after this many tries or this many seconds.
SHRINK_TRIES = 300
SHRINK_SECONDS = 60.0


class SliceOver(BaseException):
    """The target's slice of time is spent. A BaseException: hypothesis lets it through at once."""


class CaseTimeout(Exception):
    """A case ran longer than --case-timeout: a hang is a crash too."""


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    raise CaseTimeout("case took longer than the per-case time limit")


@dataclass
class Signature:
    name: str
    count: int = 0
    targets: dict[str, int] = field(default_factory=dict)
    first_seconds: float = 0.0
    traceback: str = ""
    reproducer: str = ""
    shrunk: str = ""


@dataclass
class Run:
    started: float
    deadline: float
    case_timeout: int
    crash_dir: Path
    scratch: Path
    cases: dict[str, int] = field(default_factory=dict)
    crashes: int = 0
    signatures: dict[str, Signature] = field(default_factory=dict)

    def run_case(self, target: fuzz_cases.Target, value: object) -> str | None:
        """Run one case; the signature of its failure, or None."""
        signal.alarm(self.case_timeout)
        try:
            target.check(self.scratch, value)
        except Exception as error:  # every failure of a case is what the run counts
            signal.alarm(0)
            return self._record(target, value, error)
        finally:
            signal.alarm(0)
        return None

    def _record(self, target: fuzz_cases.Target, value: object, error: BaseException) -> str:
        name = fuzz_cases.signature(error)
        self.crashes += 1
        known = self.signatures.get(name)
        if known is None:
            known = self.signatures[name] = Signature(name, first_seconds=round(time.monotonic() - self.started, 1))
            known.traceback = fuzz_cases.traceback_tail(error)
            directory = self.crash_dir / _slug(name)
            known.reproducer = str(_save(directory / "input", value))
            (directory / "traceback.txt").write_text(known.traceback + "\n", encoding="utf-8")
            print(f"\n[{known.first_seconds:7.1f}s] NEW {name} (target {target.name})\n{known.traceback}\n"
                  f"  input: {known.reproducer}", flush=True)
            shrunk = _shrink(target, value, name, self.scratch)
            if shrunk is not None:
                known.shrunk = str(_save(directory / "shrunk", shrunk))
                print(f"  shrunk: {known.shrunk}", flush=True)
        known.count += 1
        known.targets[target.name] = known.targets.get(target.name, 0) + 1
        return name

    def summary(self, seed_value: int, minutes: float, done: bool) -> dict[str, object]:
        return {
            "tool": "bench/fuzz.py",
            "finished": done,
            "budget_minutes": minutes,
            "seconds": round(time.monotonic() - self.started, 1),
            "seed": seed_value,
            "python": platform.python_version(),
            "commit": _commit(),
            "cases": sum(self.cases.values()),
            "cases_per_target": dict(sorted(self.cases.items())),
            "crashes": self.crashes,
            "distinct_signatures": len(self.signatures),
            "signatures": [vars(item) for item in sorted(self.signatures.values(), key=lambda item: -item.count)],
        }


def _slug(name: str) -> str:
    readable = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-")[:80]
    return f"{readable}-{hashlib.sha1(name.encode()).hexdigest()[:8]}"


def _save(path: Path, value: object) -> Path:
    """Write a case's input so that it can be replayed: a directory of files, or one file."""
    if path.exists():
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(value, dict):
        path.mkdir()
        for name, data in value.items():
            target = path / name.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data if isinstance(data, bytes) else str(data).encode("utf-8", "surrogateescape"))
        return path
    if isinstance(value, bytes):
        path.write_bytes(value)
    elif isinstance(value, str):
        path.write_bytes(value.encode("utf-8", "surrogateescape"))
    else:
        path.write_text(repr(value) + "\n", encoding="utf-8")
    return path


def _shrink(target: fuzz_cases.Target, value: object, name: str, scratch: Path) -> object | None:
    """A smaller input with the same signature: whole files dropped, then lines (ddmin-like)."""
    started = time.monotonic()
    tries = [0]

    def same(candidate: object) -> bool:
        if tries[0] >= SHRINK_TRIES or time.monotonic() - started > SHRINK_SECONDS:
            return False
        tries[0] += 1
        try:
            target.check(scratch, candidate)
        except Exception as error:
            return fuzz_cases.signature(error) == name
        return False

    if isinstance(value, dict):
        files = dict(value)
        for key in sorted(files):
            if len(files) > 1 and same({k: v for k, v in files.items() if k != key}):
                del files[key]
        for key in sorted(files):
            if isinstance(files[key], bytes):
                files[key] = _shrink_lines(files[key], lambda data, key=key: same({**files, key: data}))
        return files
    if isinstance(value, (str, bytes)):
        return _shrink_lines(value, same)
    return None


def _shrink_lines(data: str | bytes, same: Callable[[object], bool]) -> str | bytes:
    newline = b"\n" if isinstance(data, bytes) else "\n"
    lines = data.split(newline)  # type: ignore[arg-type]
    chunk = max(1, len(lines) // 2)
    while chunk >= 1 and len(lines) > 1:
        index, changed = 0, False
        while index < len(lines):
            candidate = lines[:index] + lines[index + chunk:]
            if candidate and same(newline.join(candidate)):  # type: ignore[arg-type]
                lines, changed = candidate, True
            else:
                index += chunk
        if not changed:
            chunk //= 2
    return newline.join(lines)  # type: ignore[arg-type]


def _commit() -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=10, check=False)
    except OSError:
        return None
    return done.stdout.strip() or None


def run_round(run: Run, target: fuzz_cases.Target, round_seed: int, slice_end: float) -> None:
    """Up to target.round_size cases of one target, stopping at `slice_end`."""

    @settings(max_examples=target.round_size, database=None, deadline=None, derandomize=False,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck), print_blob=False)
    @seed(round_seed)
    @given(target.strategy)
    def case(value: object) -> None:
        if time.monotonic() >= slice_end:
            raise SliceOver
        run.cases[target.name] = run.cases.get(target.name, 0) + 1
        run.run_case(target, value)

    try:
        case()
    except SliceOver:
        pass


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=60.0, help="time budget (default 60)")
    parser.add_argument("--seed", type=int, default=None, help="seed of the run (default: from the clock)")
    parser.add_argument("--targets", default=None, help="comma-separated target names (default: all)")
    parser.add_argument("--case-timeout", type=int, default=60, help="seconds before a case counts as a hang")
    parser.add_argument("--json", type=Path, default=WORKDIR / "summary.json", help="summary file")
    parser.add_argument("--crash-dir", type=Path, default=WORKDIR / "crashes", help="where reproducers go")
    args = parser.parse_args()

    targets = fuzz_cases.long_run_targets()
    if args.targets:
        wanted = set(args.targets.split(","))
        unknown = wanted - {target.name for target in targets}
        if unknown:
            print(f"unknown targets: {', '.join(sorted(unknown))}; known: "
                  f"{', '.join(target.name for target in targets)}", file=sys.stderr)
            return 2
        targets = [target for target in targets if target.name in wanted]
    seed_value = args.seed if args.seed is not None else int(time.time()) % 1_000_000
    sys.setrecursionlimit(max(sys.getrecursionlimit(), 1000))
    signal.signal(signal.SIGALRM, _on_alarm)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    if args.crash_dir.exists():
        shutil.rmtree(args.crash_dir)
    args.crash_dir.mkdir(parents=True)

    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="backbone-fuzz-") as scratch:
        run = Run(started, started + args.minutes * 60, args.case_timeout, args.crash_dir, Path(scratch))
        print(f"fuzzing {len(targets)} targets for {args.minutes:g} minutes, seed {seed_value}", flush=True)
        # Each round gives every target the same slice of time, whatever its cases cost.
        slice_seconds = 30.0
        round_number = 0
        try:
            while time.monotonic() < run.deadline:
                for target in targets:
                    now = time.monotonic()
                    if now >= run.deadline:
                        break
                    run_round(run, target, seed_value * 100_003 + round_number, min(now + slice_seconds, run.deadline))
                    round_number += 1
                args.json.write_text(json.dumps(run.summary(seed_value, args.minutes, False), indent=2) + "\n",
                                     encoding="utf-8")
                print(f"[{time.monotonic() - started:7.1f}s] cases {sum(run.cases.values())}, crashes "
                      f"{run.crashes}, distinct signatures {len(run.signatures)}", flush=True)
        except KeyboardInterrupt:
            print("interrupted: the summary covers the cases run so far", file=sys.stderr)
        summary = run.summary(seed_value, args.minutes, True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")

    print(f"\ncases {summary['cases']}, crashes {summary['crashes']}, "
          f"distinct signatures {summary['distinct_signatures']} (target: 0)")
    for name, count in sorted(run.cases.items()):
        print(f"  {name:<22} {count:>8} cases")
    for item in sorted(run.signatures.values(), key=lambda item: -item.count):
        print(f"  {item.count:>6} x {item.name}  ({', '.join(sorted(item.targets))}) -> {item.shrunk or item.reproducer}")
    print(f"summary: {args.json}")
    return 1 if run.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
