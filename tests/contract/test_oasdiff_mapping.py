"""docs/contract-oasdiff-checks.md: every backbone check it names is the check with that code."""

from __future__ import annotations

import re
from pathlib import Path

from backbone.contract.checks import CHECKS

DOC = Path(__file__).resolve().parents[2] / "docs" / "contract-oasdiff-checks.md"
_ROW = re.compile(r"^\| `(?P<oasdiff>[a-z0-9-]+)` \| [^|]+ \| [^|]+ \| [^|]+ \| [^|]+ \| (?P<ours>[^|]+) \|$")
_OURS = re.compile(r"(?P<code>CT\d{4}) `(?P<id>[a-z0-9-]+)`")


def test_every_backbone_check_named_in_the_oasdiff_mapping_exists() -> None:
    by_code = {check.code: check for check in CHECKS.values()}
    rows = [match for line in DOC.read_text().splitlines() if (match := _ROW.match(line))]
    assert len(rows) > 400  # oasdiff's published list, one row per check
    paired = 0
    for row in rows:
        ours = row.group("ours").strip()
        if ours == "not checked":
            continue
        named = _OURS.fullmatch(ours)
        assert named is not None, row.group(0)
        assert by_code[named.group("code")].id == named.group("id"), row.group(0)
        paired += 1
    summary = re.search(r"backbone covers (\d+) of oasdiff's (\d+) checks", DOC.read_text())
    assert summary is not None and (int(summary.group(1)), int(summary.group(2))) == (paired, len(rows))
