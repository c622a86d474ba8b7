"""A progress bar on stderr for long reviews, shown only when stderr is a terminal."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

# Fewer files than this check in a moment: no bar.
MIN_FILES = 200


@contextmanager
def review_progress(stream: TextIO | None = None) -> Iterator[Callable[[int, int], None] | None]:
    """A callback for `ReviewRequest.progress`, or None when `stream` (stderr) is not a terminal."""
    stream = stream if stream is not None else sys.stderr
    if not stream.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TaskID,
        TextColumn,
        TimeElapsedColumn,
    )

    progress = Progress(
        TextColumn("reviewing"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=Console(file=stream),
        transient=True,
    )
    task: list[TaskID] = []

    def update(done: int, total: int) -> None:
        if total < MIN_FILES:
            return
        if not task:
            progress.start()
            task.append(progress.add_task("files", total=total))
        progress.update(task[0], completed=done, total=total)

    try:
        yield update
    finally:
        if task:
            progress.stop()
