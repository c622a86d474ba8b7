"""Draw a precision sample of BB207 findings from a run of the real-world N+1 benchmark.

    python bench/n1_realworld/sample.py [--json bench/.work/n1_realworld.json] \
        [--exclude bb207_labels.tsv bb207_labels-2.tsv] [--per-repo 4] [--seed 7] --out sample.tsv

Reads the result file of `run.py` (its `trees` hold every tree's N+1-family findings), keeps the
distinct BB207 findings (one per repository, path and line), leaves out the repositories named by
--skip (indico by default: it is in the held-out precision set) and every finding already listed
in an --exclude label file, and draws up to --per-repo findings per repository at random (fixed
--seed). The output has the columns of the label files, `label` and `reason` empty, for readers to
fill: `repo commit root path line message label reason`. Precision = true / (true + false).
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_JSON = HERE.parent / ".work" / "n1_realworld.json"
HEADER = ["repo", "commit", "root", "path", "line", "message", "label", "reason"]


def relative_path(path: str, repo: str, parent: str, root: str) -> str:
    """The finding's path relative to the reviewed root (run.py reviews an exported tree)."""
    marker = f"{repo.replace('/', '+')}-{parent[:12]}/"
    if marker in path:
        path = path.split(marker, 1)[1]
        if root and path.startswith(root.rstrip("/") + "/"):
            path = path[len(root.rstrip("/")) + 1:]
    return path


def labelled(paths: list[Path]) -> set[tuple[str, str, str]]:
    seen: set[tuple[str, str, str]] = set()
    for path in paths:
        with path.open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                seen.add((row["repo"], row["path"], str(row["line"])))
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--json", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--exclude", type=Path, nargs="*",
                        default=[HERE / "bb207_labels.tsv", HERE / "bb207_labels-2.tsv"])
    parser.add_argument("--skip", nargs="*", default=["indico/indico"])
    parser.add_argument("--per-repo", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", type=Path, required=True)
    arguments = parser.parse_args(argv)
    try:
        payload = json.loads(arguments.json.read_text(encoding="utf-8"))
        seen = labelled([path for path in arguments.exclude if path.exists()])
    except (OSError, ValueError, KeyError) as error:
        print(f"sample: cannot read the inputs: {error}", file=sys.stderr)
        return 2
    pools: dict[str, dict[tuple[str, str], list[str]]] = {}
    for tree in payload.get("trees", []):
        repo, parent, root = tree["repo"], tree["parent"], tree["root"]
        if repo in arguments.skip:
            continue
        for finding in tree["findings"]:
            if finding["code"] != "BB207":
                continue
            path = relative_path(str(finding["path"]), repo, parent, root)
            line = str(finding["line"])
            if (repo, path, line) in seen:
                continue
            row = [repo, parent[:12], root, path, line, " ".join(str(finding["message"]).split()), "", ""]
            pools.setdefault(repo, {}).setdefault((path, line), row)
    chooser = random.Random(arguments.seed)
    rows: list[list[str]] = []
    for repo in sorted(pools):
        candidates = [pools[repo][key] for key in sorted(pools[repo])]
        rows.extend(chooser.sample(candidates, min(arguments.per_repo, len(candidates))))
    with arguments.out.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, delimiter="\t", lineterminator="\n")
        writer.writerow(HEADER)
        writer.writerows(rows)
    print(f"{len(rows)} findings from {len(pools)} repositories -> {arguments.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
