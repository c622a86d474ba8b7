"""Where the test apps' marked lines are: `# rt: NAME` comments name the lines findings must point at."""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def marked_line(relative: str, name: str) -> tuple[str, int]:
    """(absolute path, line) of the line marked `# rt: name` in `relative` (next to this file)."""
    path = HERE / relative
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.rstrip().endswith(f"# rt: {name}"):
            return str(path), number
    raise LookupError(f"no line marked '# rt: {name}' in {path}")
