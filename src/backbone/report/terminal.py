"""The one terminal and colour helper of the text reports of review, profile and debug.

`use_color` decides from `--color`, `--output`, NO_COLOR and whether stdout is a terminal;
`text_width` the width of the text report; `console` gives the rich Console every text
renderer (and `backbone rule`'s pages) prints to; `SEVERITY_STYLE` colours a
finding's code and severity the same way in all three reports.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from rich.console import Console

from backbone.findings import Severity

SEVERITY_STYLE: dict[Severity, str] = {
    Severity.ERROR: "bold red",
    Severity.WARNING: "yellow",
    Severity.INFO: "blue",
}


def use_color(choice: str, output: str | None) -> bool:
    """`--color always|never|auto`: auto colours only a terminal, never a file, never under NO_COLOR."""
    if choice == "always":
        return True
    if choice == "never" or output is not None or os.environ.get("NO_COLOR"):
        return False
    return sys.stdout.isatty()


def text_width(output: str | None) -> int:
    """The terminal's width when the report goes to one; 120 columns in files and pipes."""
    if output is None and sys.stdout.isatty():
        import shutil  # its archive support costs more than the rest of this module: only a terminal needs it

        return shutil.get_terminal_size((120, 24)).columns
    return 120


def console(file: TextIO, *, color: bool, width: int, soft_wrap: bool = True) -> Console:
    """A Console that writes to `file`, coloured only when asked (NO_COLOR/FORCE_COLOR cannot override it)."""
    # rich loads here, not at start-up: a JSON or SARIF report never draws a console.
    from rich.console import Console

    return Console(
        file=file,
        force_terminal=color,
        color_system="standard" if color else None,
        no_color=not color,
        width=width,
        legacy_windows=False,
        force_jupyter=False,
        force_interactive=False,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=soft_wrap,
    )
