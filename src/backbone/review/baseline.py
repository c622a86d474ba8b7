"""Baselines: the findings a project already has, so that only new ones are shown.

A finding is keyed on its code, its path, a digest of the normalised reported statement
and the qualified name of its enclosing function, never on its line: code that moves
stays baselined. Identical keys are counted, so a second copy of a baselined mistake
still shows. The file holds digests only, so no secret ends up in it.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from backbone.findings import Finding

BASELINE_VERSION = 1


class BaselineError(Exception):
    pass


def finding_key(finding: Finding) -> str:
    basis = "\0".join((finding.code, finding.path, finding.scope, finding.statement_digest))
    return hashlib.blake2b(basis.encode(), digest_size=16).hexdigest()


def write_baseline(path: Path, findings: Iterable[Finding]) -> int:
    entries = [
        {"code": finding.code, "path": finding.path, "line": finding.line, "key": finding_key(finding)}
        for finding in sorted(findings, key=Finding.sort_key)
    ]
    document = {"version": BASELINE_VERSION, "tool": "backbone", "findings": entries}
    try:
        path.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    except OSError as error:
        raise BaselineError(f"cannot write the baseline {path}: {error.strerror}") from None
    return len(entries)


def read_baseline(path: Path) -> Counter[str]:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise BaselineError(f"cannot read the baseline {path}: {error.strerror}") from None
    except ValueError as error:  # not JSON, not UTF-8, or a number too long to convert
        message = " ".join(str(error).split())
        raise BaselineError(f"the baseline {path} is not valid JSON: {message[:200]}") from None
    except RecursionError:
        raise BaselineError(f"the baseline {path} is not valid JSON: values nested too deeply") from None
    if not isinstance(document, dict) or document.get("version") != BASELINE_VERSION:
        raise BaselineError(f"the baseline {path} is not a backbone baseline (version {BASELINE_VERSION})")
    entries = document.get("findings")
    if not isinstance(entries, list) or not all(isinstance(e, dict) and isinstance(e.get("key"), str) for e in entries):
        raise BaselineError(f"the baseline {path} has a malformed 'findings' list")
    return Counter(entry["key"] for entry in entries)


def apply_baseline(findings: list[Finding], baseline: Counter[str]) -> tuple[list[Finding], int]:
    """The findings that are not in the baseline, and how many were hidden."""
    remaining = Counter(baseline)
    shown: list[Finding] = []
    hidden = 0
    for finding in sorted(findings, key=Finding.sort_key):
        key = finding_key(finding)
        if remaining[key] > 0:
            remaining[key] -= 1
            hidden += 1
        else:
            shown.append(finding)
    return shown, hidden
