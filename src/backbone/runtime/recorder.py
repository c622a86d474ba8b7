"""Where middlewares put finished requests.

A `Recorder` keeps the records of a run; with a `sink`, it hands them over in
batches (the profile driver's analyzer folds them into per-route aggregates) so
that a long run does not keep every query of every request in memory.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from backbone.runtime.events import LoopStall, RequestRecord


class Recorder:
    def __init__(self, sink: Callable[[Sequence[RequestRecord]], None] | None = None, *, batch: int = 500) -> None:
        self._lock = threading.Lock()
        self._records: list[RequestRecord] = []
        self._sink = sink
        self._batch = batch
        self.unattributed_stalls: list[LoopStall] = []
        # Times the event loop ran late with no application code on it (not stalls: see stalls.py).
        self.loop_lags: list[float] = []

    def add(self, record: RequestRecord) -> None:
        with self._lock:
            self._records.append(record)
            if self._sink is None or len(self._records) < self._batch:
                return
            pending, self._records = self._records, []
        # Outside the lock: other requests keep recording while this batch is folded.
        self._sink(pending)

    def flush(self) -> None:
        """Hand the pending records to the sink now."""
        if self._sink is None:
            return
        with self._lock:
            pending, self._records = self._records, []
        if pending:
            self._sink(pending)

    def records(self) -> list[RequestRecord]:
        """The records not yet handed to a sink (all of them when there is none)."""
        return list(self._records)

    def clear(self) -> None:
        with self._lock:
            self._records = []
        self.unattributed_stalls = []
        self.loop_lags = []
