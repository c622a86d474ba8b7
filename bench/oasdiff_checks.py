"""oasdiff's published check list against backbone's contract diff checks: docs/contract-oasdiff-checks.md.

Reads the checks oasdiff registers (`GetAllRules()` in checker/rules.go, each with its id
constant, level, direction, area, kind and action; the id strings from the checker's Go
files) from a git mirror of github.com/oasdiff/oasdiff, pairs each with the backbone check
that reports the same change (same id, or the ALIASES below), and writes the table.

    .venv/bin/python bench/oasdiff_checks.py [--mirror /work/.mirror/oasdiff+oasdiff/repo] [--commit REV]
"""

from __future__ import annotations

import argparse
import io
import re
import subprocess
import sys
import tarfile
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
from backbone.contract.checks import CHECKS  # noqa: E402

OUTPUT = ROOT / "docs" / "contract-oasdiff-checks.md"

# oasdiff id -> backbone check id, where the names differ but the change is the same one
# (backbone's checks are per operation: a global security change is reported on each
# operation it applies to; "generalized" is backbone's "widened").
ALIASES = {
    "api-path-removed-without-deprecation": "api-path-removed",
    "api-path-removed-before-sunset": "api-path-removed",
    "api-path-removed-with-deprecation": "api-deprecated-operation-removed",
    "api-removed-without-deprecation": "api-operation-removed",
    "api-removed-before-sunset": "api-operation-removed",
    "api-removed-with-deprecation": "api-deprecated-operation-removed",
    "endpoint-added": "api-operation-added",
    "endpoint-deprecated": "api-operation-deprecated",
    "endpoint-deprecated-with-sunset": "api-operation-deprecated",
    "api-global-security-added": "api-security-added",
    "api-global-security-removed": "api-security-removed",
    "api-global-security-scope-added": "api-security-scope-added",
    "api-global-security-scope-removed": "api-security-scope-removed",
    "request-parameter-default-value-changed": "request-parameter-default-changed",
    "request-property-default-value-changed": "request-property-default-changed",
    "request-parameter-type-generalized": "request-parameter-type-widened",
    "request-property-type-generalized": "request-property-type-widened",
    "request-parameter-list-of-types-widened": "request-parameter-type-widened",
    "request-property-list-of-types-widened": "request-property-type-widened",
    "request-parameter-list-of-types-narrowed": "request-parameter-type-changed",
    "request-property-list-of-types-narrowed": "request-property-type-changed",
    "response-property-list-of-types-widened": "response-property-type-changed",
    "response-property-type-generalized": "response-property-type-changed",
    "required-response-header-removed": "response-required-header-removed",
    "optional-response-header-removed": "response-optional-header-removed",
    "response-optional-property-added": "response-property-added",
    "response-required-property-added": "response-property-added",
    "response-property-max-length-unset": "response-property-max-length-removed",
    "response-property-min-items-unset": "response-property-min-items-removed",
    "request-removed-with-deprecation": "api-deprecated-operation-removed",
}

_RULE = re.compile(r"newBackwardCompatibilityRule\((\w+), (\w+), \w+, (\w+), (\w+), (\w+), (\w+)\)")
_CONSTANT = re.compile(r"(\w+Id)\s*=\s*\"([^\"]+)\"")
_LEVELS = {"ERR": "error (breaking)", "WARN": "warning", "INFO": "info"}


def oasdiff_rules(mirror: Path, commit: str) -> list[dict[str, str]]:
    done = subprocess.run(["git", "--git-dir", str(mirror), "archive", commit, "--", "checker"],
                          capture_output=True, timeout=300, check=True)
    sources: dict[str, str] = {}
    with tarfile.open(fileobj=io.BytesIO(done.stdout)) as archive:
        for member in archive.getmembers():
            if member.isfile() and member.name.endswith(".go") and "/" not in member.name[len("checker/"):]:
                handle = archive.extractfile(member)
                if handle is not None:
                    sources[member.name] = handle.read().decode("utf-8", errors="replace")
    constants = {name: value for text in sources.values() for name, value in _CONSTANT.findall(text)}
    rules_go = sources["checker/rules.go"]
    body = rules_go[rules_go.index("func GetAllRules"):]
    return [
        {"id": constants.get(m.group(1), m.group(1)), "level": m.group(2), "direction": m.group(3)[len("Direction"):].lower(),
         "area": m.group(4)[len("Area"):].lower(), "kind": m.group(5)[len("Kind"):].lower()}
        for m in _RULE.finditer(body)
    ]


def write(rules: list[dict[str, str]], version: str) -> str:
    by_id = {check.id: check for check in CHECKS.values()}
    lines = [
        "# oasdiff's checks and backbone's",
        "",
        f"oasdiff {version} registers {len(rules)} checks (`GetAllRules()` in its checker/rules.go). This table pairs",
        "each with the backbone `contract diff` check that reports the same change, where there is one:",
        "the same id, or a different name for the same change (oasdiff's `-without-deprecation` removals,",
        "`generalized` types, which backbone calls `widened`, and global security, which backbone reports",
        "on each operation it applies to). Written by `bench/oasdiff_checks.py` from oasdiff's source;",
        "tests/contract/test_oasdiff_mapping.py checks that every backbone code named here is the check named.",
        "",
    ]
    covered = [rule for rule in rules if rule["id"] in by_id or rule["id"] in ALIASES]
    lines += ["## Summary", "",
              f"backbone covers {len(covered)} of oasdiff's {len(rules)} checks; "
              f"of its {sum(r['level'] == 'ERR' for r in rules)} error-level (breaking) checks, "
              f"{sum(r['level'] == 'ERR' for r in covered)}.", "",
              "| oasdiff area | kind | checks | covered by backbone | breaking checks | breaking covered |",
              "|---|---|---:|---:|---:|---:|"]
    groups: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for rule in rules:
        groups[(rule["area"], rule["kind"])].append(rule)
    for (area, kind), members in sorted(groups.items()):
        mine = [r for r in members if r in covered]
        lines.append(f"| {area} | {kind} | {len(members)} | {len(mine)} | {sum(r['level'] == 'ERR' for r in members)} | "
                     f"{sum(r['level'] == 'ERR' for r in mine)} |")
    uncovered = Counter(_family(r["id"]) for r in rules if r not in covered)
    lines += ["", "What backbone does not check (families of oasdiff ids, with how many checks each):", ""]
    lines += [", ".join(f"{family} ({count})" for family, count in sorted(uncovered.items())), ""]
    mapped = {ALIASES.get(r["id"], r["id"]) for r in covered}
    own = [check for check in CHECKS.values() if check.id not in mapped]
    lines += [f"backbone checks no oasdiff check above is paired with ({len(own)}; oasdiff may report some of these changes under a broader id): "
              + ", ".join(f"{check.code} `{check.id}`" for check in own) + ".", ""]
    lines += ["## Every oasdiff check", "", "| oasdiff id | level | direction | area | kind | backbone |", "|---|---|---|---|---|---|"]
    for rule in rules:
        target = by_id.get(ALIASES.get(rule["id"], rule["id"]))
        mine = f"{target.code} `{target.id}`" if target else "not checked"
        lines.append(f"| `{rule['id']}` | {_LEVELS.get(rule['level'], rule['level'])} | {rule['direction']} | {rule['area']} | "
                     f"{rule['kind']} | {mine} |")
    return "\n".join(lines) + "\n"


def _family(identifier: str) -> str:
    """`request-body-discriminator-mapping-added` -> `discriminator`: the schema keyword or aspect."""
    for word in ("deprecat", "sunset", "stability", "reactivated", "discriminator", "all-of", "any-of", "one-of",
                 "prefix-items", "-if-", "-then-", "-else-", "const", "x-extensible-enum", "read-only", "write-only",
                 "nullable", "default", "exclusive", "list-of-types", "became-enum", "enum", "pattern", "media-type",
                 "header", "security", "version", "webhook", "schema-removed", "tag", "operation-id", "type", "max", "min",
                 "required", "property", "parameter", "body"):
        if word in f"-{identifier}-":
            return word.strip("-")
    return identifier


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mirror", type=Path, default=Path("/work/.mirror/oasdiff+oasdiff/repo"))
    parser.add_argument("--commit", default="HEAD")
    options = parser.parse_args()
    version = subprocess.run(["git", "--git-dir", str(options.mirror), "describe", "--tags", options.commit],
                             capture_output=True, text=True, timeout=60, check=False).stdout.strip() or options.commit
    rules = oasdiff_rules(options.mirror, options.commit)
    OUTPUT.write_text(write(rules, version))
    print(f"wrote {OUTPUT} ({len(rules)} oasdiff checks)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
