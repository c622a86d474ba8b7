"""Precision of `backbone review` on real projects nobody tuned on.

    python bench/precision/run.py fetch   [--set heldout|heldout2] # download, verify sha256, unpack
    python bench/precision/run.py review  [--set heldout]       # review each project, keep the JSON
    python bench/precision/run.py sample  --set heldout --out labels.tsv [--per-rule 5 --total 100]
    python bench/precision/run.py score   labels.tsv             # precision per rule, family, severity

`projects.toml` beside this file lists the projects and splits them into a working set
(where false-positive classes may be studied) and a held-out set (reviewed only after a
change, to measure it). `sample` draws a stratified sample: every rule gets at least
`--per-rule` findings where it has that many, the rest of `--total` is filled in
proportion to each rule's share, so rare rules are not drowned by frequent ones. The
sample is written as a TSV with empty `label` and `reason` columns for a reader to fill:
`true` (the finding is right and worth acting on), `false` (it is wrong), `unclear`.
`score` reads the filled file; unclear labels count in neither the numerator nor the
denominator and are shown apart.

Work files go under ~/.cache/backbone-bench/precision (or $BACKBONE_PRECISION_WORK), outside
the repository, whose .gitignore and settings would exclude trees under bench/.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import os
import json
import random
import subprocess
import sys
import tarfile
import tempfile
import tomllib
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# Outside the repository: its .gitignore and settings would exclude a tree under bench/.
WORK = Path(os.environ.get("BACKBONE_PRECISION_WORK", Path.home() / ".cache" / "backbone-bench" / "precision"))
BACKBONE = REPO / ".venv" / "bin" / "backbone"
COLUMNS = ["project", "code", "severity", "confidence", "path", "line", "message", "label", "reason"]


@dataclass(frozen=True)
class Project:
    name: str
    version: str
    set: str
    stack: str
    archive: str
    sha256: str

    @property
    def tree(self) -> Path:
        return WORK / "src" / f"{self.name}-{self.version}"

    @property
    def report(self) -> Path:
        return WORK / "reports" / f"{self.name}-{self.version}.json"


def load_projects(which: str) -> list[Project]:
    data = tomllib.loads((HERE / "projects.toml").read_text())
    projects = [Project(**entry) for entry in data["project"]]
    return [p for p in projects if which == "all" or p.set == which]


def fetch(projects: list[Project]) -> None:
    downloads = WORK / "dl"
    downloads.mkdir(parents=True, exist_ok=True)
    for project in projects:
        archive = downloads / project.archive
        if not archive.exists():
            subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(downloads),
                 f"{project.name}=={project.version}"],
                check=True,
            )
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != project.sha256:
            raise SystemExit(f"{archive.name}: sha256 {digest} is not the pinned {project.sha256}")
        if project.tree.exists():
            continue
        staging = Path(tempfile.mkdtemp(dir=WORK))
        if archive.suffix == ".whl":
            with zipfile.ZipFile(archive) as wheel:
                wheel.extractall(staging)
        else:
            with tarfile.open(archive) as sdist:
                sdist.extractall(staging, filter="data")
        project.tree.parent.mkdir(parents=True, exist_ok=True)
        staging.rename(project.tree)
        print(f"{project.name} {project.version}: unpacked into {project.tree}")


def review(projects: list[Project]) -> bool:
    failed = False
    for project in projects:
        project.report.parent.mkdir(parents=True, exist_ok=True)
        # An empty backbone.toml makes the tree its own root with the default settings.
        (project.tree / "backbone.toml").touch()
        completed = subprocess.run(
            [str(BACKBONE), "review", str(project.tree), "--format", "json", "--no-cache", "--exit-zero",
             "--output", str(project.report)],
            capture_output=True, text=True,
        )
        if completed.returncode != 0:
            # Exit 2 with a report: a file backbone failed on is a BB000, the rest is complete.
            print(f"{project.name}: backbone review exited {completed.returncode}: "
                  f"{completed.stderr.strip().splitlines()[-1:] or ''}", file=sys.stderr)
            failed = True
            if not project.report.exists():
                continue
        findings = json.loads(project.report.read_text())["findings"]
        counts = Counter(f["code"] for f in findings)
        print(f"{project.name}: {len(findings)} findings " + " ".join(f"{c}={n}" for c, n in sorted(counts.items())))
    return not failed


def sample(projects: list[Project], out: Path, per_rule: int, total: int, seed: int,
           codes: tuple[str, ...] = ()) -> None:
    """`codes`: code prefixes to sample ("BB2", "BB101"); every rule when empty."""
    rng = random.Random(seed)
    by_code: dict[str, list[dict[str, object]]] = defaultdict(list)
    for project in projects:
        for finding in json.loads(project.report.read_text())["findings"]:
            if finding["code"] in {"BB000", "BB001"}:
                continue
            if codes and not str(finding["code"]).startswith(codes):
                continue
            by_code[str(finding["code"])].append({"project": project.name, **finding})
    chosen: dict[str, list[dict[str, object]]] = {}
    for code, findings in by_code.items():
        rng.shuffle(findings)
        chosen[code] = findings[:per_rule]
    remaining = total - sum(len(v) for v in chosen.values())
    pool = sum(len(v) for v in by_code.values())
    for code, findings in by_code.items():
        if remaining <= 0 or pool == 0:
            break
        extra = round(remaining * len(findings) / pool)
        chosen[code] = findings[: len(chosen[code]) + extra]
    rows = [row for code in sorted(chosen) for row in chosen[code]]
    with out.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, COLUMNS, delimiter="\t", extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "message": str(row["message"]).replace("\t", " ").replace("\n", " "),
                             "label": "", "reason": ""})
    print(f"{len(rows)} findings sampled from {pool} into {out}")


def score(labels: Path) -> int:
    with labels.open(newline="") as handle:
        rows = list(csv.DictReader(handle, delimiter="\t"))
    unlabeled = [r for r in rows if r["label"] not in {"true", "false", "unclear"}]
    if unlabeled:
        print(f"{len(unlabeled)} rows have no label (true, false or unclear)", file=sys.stderr)
        return 2

    def line(name: str, group: list[dict[str, str]]) -> str:
        counts = Counter(r["label"] for r in group)
        judged = counts["true"] + counts["false"]
        precision = f"{counts['true'] / judged:.2f}" if judged else "   -"
        return f"{name:<22} {counts['true']:>4} {counts['false']:>5} {counts['unclear']:>7}  {precision}"

    print(f"{'':<22} {'true':>4} {'false':>5} {'unclear':>7}  precision")
    for code in sorted({r["code"] for r in rows}):
        print(line(code, [r for r in rows if r["code"] == code]))
    print()
    for family in sorted({r["code"][:3] for r in rows}):
        print(line(f"family {family}", [r for r in rows if r["code"].startswith(family)]))
    print()
    for severity in ("error", "warning", "info"):
        group = [r for r in rows if r["severity"] == severity]
        if group:
            print(line(f"severity {severity}", group))
    print(line("all", rows))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["fetch", "review", "sample", "score"])
    parser.add_argument("labels", nargs="?", type=Path)
    parser.add_argument("--set", default="heldout", choices=["working", "heldout", "heldout2", "heldout3", "heldout4", "heldout5", "heldout6", "heldout7", "heldout8", "heldout9", "heldout10", "all"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--per-rule", type=int, default=5)
    parser.add_argument("--total", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--codes", default="", help="sample only these code prefixes, comma-separated (BB1,BB4)")
    args = parser.parse_args(argv)
    projects = load_projects(args.set)
    if args.command == "fetch":
        fetch(projects)
    elif args.command == "review":
        return 0 if review(projects) else 1
    elif args.command == "sample":
        if args.out is None:
            parser.error("sample needs --out")
        codes = tuple(code.strip() for code in args.codes.split(",") if code.strip())
        sample(projects, args.out, args.per_rule, args.total, args.seed, codes)
    else:
        if args.labels is None:
            parser.error("score needs the labels file")
        return score(args.labels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
