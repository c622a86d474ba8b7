"""Precision of `backbone review` on real projects nobody tuned on.

    python bench/precision/run.py fetch   [--set heldout|heldout2] # download, verify sha256, unpack
    python bench/precision/run.py review  [--set heldout]       # review each project, keep the JSON
    python bench/precision/run.py sample  --set heldout --out labels.tsv [--per-rule 5 --total 100]
    python bench/precision/run.py score   labels.tsv             # precision per rule, family, severity
    python bench/precision/run.py evidence                        # current evidence of every labelled finding
    python bench/precision/run.py calibrate                       # rewrite the review's calibration table

`projects.toml` beside this file lists the projects and splits them into a working set
(where false-positive classes may be studied) and a held-out set (reviewed only after a
change, to measure it). `sample` draws a stratified sample: every rule gets at least
`--per-rule` findings where it has that many, the rest of `--total` is filled in
proportion to each rule's share, so rare rules are not drowned by frequent ones. The
sample is written as a TSV with empty `label` and `reason` columns for a reader to fill:
`true` (the finding is right and worth acting on), `false` (it is wrong), `unclear`.
`score` reads the filled file; unclear labels count in neither the numerator nor the
denominator and are shown apart.

`evidence` reads the current reviews of the calibration sets' projects (review them first)
and writes `evidence-current.tsv`: for each labelled finding, the confidence the current rules'
evidence gives the same finding (same rule, file and line), or `gone`. `calibrate` turns the
labels of the calibration sets (CALIBRATION_SETS) into
`src/backbone/review/calibration_data.py`: per rule, and per rule and the confidence its
current evidence gives, how many labelled findings were true; findings the rules no longer
report are left out. Labels keep what readers said; the evidence moves with the rules. The review reports each finding at the
confidence that measured precision earns (see `backbone.review.calibration`). A set used
to calibrate is no longer held out: the next measurement needs a set listed after it.

Work files go under ~/.cache/backbone-bench/precision (or $BACKBONE_PRECISION_WORK), outside
the repository, whose .gitignore and settings would exclude trees under bench/.
"""

from __future__ import annotations

import argparse
import csv
import functools
import hashlib
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

import tomllib

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
# Outside the repository: its .gitignore and settings would exclude a tree under bench/.
WORK = Path(os.environ.get("BACKBONE_PRECISION_WORK", Path.home() / ".cache" / "backbone-bench" / "precision"))
BACKBONE = REPO / ".venv" / "bin" / "backbone"
# The labelled sets the review's confidence is calibrated on: the four measured last, each
# after the changes before it; older sets measured versions of the rules since rewritten.
CALIBRATION_SETS = (
    "heldout7", "heldout8", "heldout9", "heldout10", "heldout11", "heldout12", "heldout13", "heldout14", "heldout15",
)
# The evidence the current rules give each labelled finding of the calibration sets (`evidence`).
EVIDENCE = HERE / "evidence-current.tsv"
EVIDENCE_COLUMNS = ["set", "row", "project", "code", "path", "line", "evidence"]
GONE = "gone"
# Findings are calibrated on the confidence their rule's evidence gave them: the column
# `rule_confidence` of labels files written after calibration, `confidence` before it.
COLUMNS = ["project", "code", "severity", "confidence", "rule_confidence", "path", "line", "message", "label", "reason"]


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


@functools.cache
def _listed() -> tuple[Project, ...]:
    """projects.toml, read once."""
    data = tomllib.loads((HERE / "projects.toml").read_text())
    return tuple(Project(**entry) for entry in data["project"])


def load_projects(which: str) -> list[Project]:
    return [p for p in _listed() if which == "all" or p.set == which]


def project_sets() -> list[str]:
    """The sets projects.toml names, in the order they were listed."""
    return list(dict.fromkeys(project.set for project in _listed()))


def _download(project: Project, downloads: Path) -> None:
    """`pip download` the pinned archive; pip 24.1 and later refuse some old archives' metadata
    (shuup 3.1.0: a dependency specifier that is not standard), so a failed download is retried
    with pip 24.0, installed once into the work folder."""
    command = ["-m", "pip", "download", "--no-deps", "-q", "-d", str(downloads), f"{project.name}=={project.version}"]
    if subprocess.run([sys.executable, *command]).returncode == 0:
        return
    old_pip = WORK / "pip-24.0"
    if not (old_pip / "pip").exists():
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "pip==24.0", "--target", str(old_pip)], check=True)
    subprocess.run([sys.executable, *command], check=True, env={**os.environ, "PYTHONPATH": str(old_pip)})


def fetch(projects: list[Project]) -> None:
    downloads = WORK / "dl"
    downloads.mkdir(parents=True, exist_ok=True)
    for project in projects:
        archive = downloads / project.archive
        if not archive.exists():
            _download(project, downloads)
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
            # Every confidence: `sample --confidence` picks the default report's part or the rest.
            [str(BACKBONE), "review", str(project.tree), "--format", "json", "--no-cache", "--exit-zero",
             "--min-confidence", "low", "--output", str(project.report)],
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
           codes: tuple[str, ...] = (), confidences: tuple[str, ...] = ()) -> None:
    """`codes`: code prefixes to sample ("BB2", "BB101"); every rule when empty. `confidences`:
    the confidence levels to sample (high: the default report); every level when empty."""
    rng = random.Random(seed)
    by_code: dict[str, list[dict[str, object]]] = defaultdict(list)
    for project in projects:
        for finding in json.loads(project.report.read_text())["findings"]:
            if finding["code"] in {"BB000", "BB001"}:
                continue
            if codes and not str(finding["code"]).startswith(codes):
                continue
            if confidences and finding["confidence"] not in confidences:
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
    for level in ("high", "medium", "low"):
        group = [r for r in rows if r["confidence"] == level]
        if group:
            print(line(f"confidence {level}", group))
    print(line("all", rows))
    return 0


def current_evidence(sets: tuple[str, ...] = CALIBRATION_SETS) -> list[dict[str, str]]:
    """For each labelled finding of `sets`, the evidence (rule confidence) the current review of
    its project gives the same finding (same rule, file and line), or `gone` when the current
    rules no longer report it. The projects must have been reviewed with the current code
    (`run.py review --set ...`)."""
    projects = {project.name: project for project in load_projects("all")}
    reports: dict[str, dict[tuple[str, str, int], str]] = {}
    rows: list[dict[str, str]] = []
    rank = {"low": 0, "medium": 1, "high": 2}
    for name in sets:
        with (HERE / f"labels-{name}.tsv").open(newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle, delimiter="\t")):
                project = projects[row["project"]]
                if project.name not in reports:
                    found: dict[tuple[str, str, int], str] = {}
                    for finding in json.loads(project.report.read_text())["findings"]:
                        key = (str(finding["code"]), str(finding["path"]), int(finding["line"]))
                        level = str(finding.get("rule_confidence") or finding["confidence"])
                        if key not in found or rank[level] > rank[found[key]]:
                            found[key] = level
                    reports[project.name] = found
                evidence = reports[project.name].get((row["code"], row["path"], int(row["line"])), GONE)
                rows.append({"set": name, "row": str(number), "project": row["project"], "code": row["code"],
                             "path": row["path"], "line": row["line"], "evidence": evidence})
    return rows


def write_evidence(sets: tuple[str, ...] = CALIBRATION_SETS) -> None:
    rows = current_evidence(sets)
    with EVIDENCE.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, EVIDENCE_COLUMNS, delimiter="\t")
        writer.writeheader()
        writer.writerows(rows)
    gone = sum(row["evidence"] == GONE for row in rows)
    print(f"wrote {EVIDENCE.relative_to(REPO)}: {len(rows)} labelled findings, {gone} no longer reported")


def calibration_table(sets: tuple[str, ...] = CALIBRATION_SETS) -> str:
    """The text of `calibration_data.py` from the labels of `sets`, each labelled finding counted
    at the evidence the current rules give it (`evidence-current.tsv`); a finding the current
    rules no longer report says nothing of them and is left out."""
    rules: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    cells: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    with EVIDENCE.open(newline="") as handle:
        evidence_of = {(row["set"], int(row["row"])): row for row in csv.DictReader(handle, delimiter="\t")}
    for name in sets:
        with (HERE / f"labels-{name}.tsv").open(newline="") as handle:
            for number, row in enumerate(csv.DictReader(handle, delimiter="\t")):
                current = evidence_of.get((name, number))
                if current is None or (current["code"], current["path"], current["line"]) != (row["code"], row["path"], row["line"]):
                    raise SystemExit(f"{EVIDENCE.name} does not match labels-{name}.tsv row {number}: run `run.py evidence`")
                if row["label"] not in {"true", "false"} or current["evidence"] == GONE:
                    continue
                evidence = current["evidence"]
                for counts in (rules[row["code"]], cells[(row["code"], evidence)]):
                    counts[0] += row["label"] == "true"
                    counts[1] += 1
    lines = [
        '"""Measured precision of the review\'s rules: generated by `python bench/precision/run.py',
        "calibrate` from the labels of the held-out sets below; do not edit.",
        "",
        "Each entry is (true, labelled): how many of the findings readers labelled were right.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "SETS: tuple[str, ...] = (" + ", ".join(f'"{name}"' for name in sets) + ")",
        "",
        "# Per rule, every finding labelled.",
        "RULES: dict[str, tuple[int, int]] = {",
        *(f'    "{code}": ({t}, {n}),' for code, (t, n) in sorted(rules.items())),
        "}",
        "",
        "# Per rule and the confidence the rule's evidence gave the finding.",
        "EVIDENCE: dict[tuple[str, str], tuple[int, int]] = {",
        *(f'    ("{code}", "{level}"): ({t}, {n}),' for (code, level), (t, n) in sorted(cells.items())),
        "}",
        "",
    ]
    return "\n".join(lines)


CALIBRATION_DATA = REPO / "src" / "backbone" / "review" / "calibration_data.py"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["fetch", "review", "sample", "score", "evidence", "calibrate"])
    parser.add_argument("labels", nargs="?", type=Path)
    parser.add_argument("--set", default="heldout", choices=[*project_sets(), "all"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--per-rule", type=int, default=5)
    parser.add_argument("--total", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--confidence", default="",
                        help="sample only findings at these confidences, comma-separated (high: the default report)")
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
        levels = tuple(level.strip() for level in args.confidence.split(",") if level.strip())
        sample(projects, args.out, args.per_rule, args.total, args.seed, codes, levels)
    elif args.command == "evidence":
        write_evidence()
    elif args.command == "calibrate":
        CALIBRATION_DATA.write_text(calibration_table())
        print(f"wrote {CALIBRATION_DATA.relative_to(REPO)} from {', '.join(CALIBRATION_SETS)}")
    else:
        if args.labels is None:
            parser.error("score needs the labels file")
        return score(args.labels)
    return 0


if __name__ == "__main__":
    sys.exit(main())
