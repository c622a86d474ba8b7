"""Latency percentiles: exact for small samples, a mergeable log-bucket histogram for large runs.

`LatencyDigest` keeps every sample until it holds `exact_limit` of them; the
percentiles are then exact (linear interpolation between the two nearest ranks,
as numpy's default method). Past the limit it folds the samples into
logarithmic buckets whose width is 2 x `relative_error` of their value
(the DDSketch construction): any percentile is then within `relative_error`
of a sample value of that rank, memory no longer grows with the run, and two
digests (two workers, two runs) merge by adding bucket counts.
"""

from __future__ import annotations

import math

from backbone.records import Record

# Below this a latency is counted in the zero bucket: one microsecond is beneath what matters.
_MIN_TRACKED_S = 1e-6


class HistogramBin(Record, frozen=True):
    low_s: float
    high_s: float
    count: int


class LatencyDigest:
    __slots__ = ("_samples", "_buckets", "_zero", "count", "total_s", "min_s", "max_s", "exact_limit", "_gamma", "_log_gamma")

    def __init__(self, *, exact_limit: int = 10_000, relative_error: float = 0.01) -> None:
        if not 0 < relative_error < 1:
            raise ValueError("relative_error must be between 0 and 1")
        self.exact_limit = exact_limit
        self._gamma = (1 + relative_error) / (1 - relative_error)
        self._log_gamma = math.log(self._gamma)
        self._samples: list[float] | None = []
        self._buckets: dict[int, int] = {}
        self._zero = 0
        self.count = 0
        self.total_s = 0.0
        self.min_s = math.inf
        self.max_s = 0.0

    @property
    def exact(self) -> bool:
        return self._samples is not None

    def add(self, value_s: float) -> None:
        self.count += 1
        self.total_s += value_s
        if value_s < self.min_s:
            self.min_s = value_s
        if value_s > self.max_s:
            self.max_s = value_s
        if self._samples is not None:
            self._samples.append(value_s)
            if len(self._samples) > self.exact_limit:
                self._fold()
        else:
            self._bucket(value_s)

    def _bucket(self, value_s: float, times: int = 1) -> None:
        if value_s < _MIN_TRACKED_S:
            self._zero += times
            return
        index = math.ceil(math.log(value_s) / self._log_gamma)
        self._buckets[index] = self._buckets.get(index, 0) + times

    def _fold(self) -> None:
        samples, self._samples = self._samples or [], None
        for value in samples:
            self._bucket(value)

    def merge(self, other: LatencyDigest) -> None:
        """Add `other`'s samples to this digest (both must use the same relative error to stay exact)."""
        if other.count == 0:
            return
        self.count += other.count
        self.total_s += other.total_s
        self.min_s = min(self.min_s, other.min_s)
        self.max_s = max(self.max_s, other.max_s)
        if self._samples is not None and other._samples is not None and (
            len(self._samples) + len(other._samples) <= self.exact_limit
        ):
            self._samples.extend(other._samples)
            return
        if self._samples is not None:
            self._fold()
        if other._samples is not None:
            for value in other._samples:
                self._bucket(value)
        else:
            if not math.isclose(other._gamma, self._gamma):
                # Re-bucket through the representative values: bounded error, still mergeable.
                for index, times in other._buckets.items():
                    self._bucket(other._bucket_value(index), times)
            else:
                for index, times in other._buckets.items():
                    self._buckets[index] = self._buckets.get(index, 0) + times
            self._zero += other._zero

    def _bucket_value(self, index: int) -> float:
        # The value whose relative distance to both bucket bounds is the same.
        return 2 * self._gamma**index / (self._gamma + 1)

    def quantile(self, q: float) -> float:
        """The q-quantile (0 <= q <= 1) in seconds; 0.0 for an empty digest."""
        if not 0 <= q <= 1:
            raise ValueError("q must be between 0 and 1")
        if self.count == 0:
            return 0.0
        if self._samples is not None:
            return _interpolate(sorted(self._samples), q)
        rank = q * (self.count - 1)
        seen = self._zero
        if rank < seen:
            return max(self.min_s, 0.0)
        for index in sorted(self._buckets):
            seen += self._buckets[index]
            if rank < seen:
                return min(max(self._bucket_value(index), self.min_s), self.max_s)
        return self.max_s

    def percentiles_ms(self) -> tuple[float, float, float]:
        """(p50, p95, p99) in milliseconds."""
        if self.count == 0:
            return (0.0, 0.0, 0.0)
        if self._samples is not None:
            # Sort once for the three.
            ordered = sorted(self._samples)
            return (_interpolate(ordered, 0.5) * 1000, _interpolate(ordered, 0.95) * 1000, _interpolate(ordered, 0.99) * 1000)
        return (self.quantile(0.5) * 1000, self.quantile(0.95) * 1000, self.quantile(0.99) * 1000)

    def histogram(self, bins: int = 24) -> tuple[HistogramBin, ...]:
        """Counts over `bins` ranges from the fastest to the slowest sample (log-spaced when the range is wide)."""
        if self.count == 0:
            return ()
        low, high = self.min_s, self.max_s
        if high <= low:
            return (HistogramBin(low, high, self.count),)
        logarithmic = low > 0 and high / low > 8
        if logarithmic:
            ratio = (high / low) ** (1 / bins)
            edges = [low * ratio**step for step in range(bins + 1)]
        else:
            width = (high - low) / bins
            edges = [low + width * step for step in range(bins + 1)]
        edges[-1] = high
        counts = [0] * bins

        def place(value: float, times: int) -> None:
            if logarithmic:
                slot = int(math.log(max(value, low) / low) / math.log(ratio)) if value > low else 0
            else:
                slot = int((value - low) / width)
            counts[min(max(slot, 0), bins - 1)] += times

        if self._samples is not None:
            for value in self._samples:
                place(value, 1)
        else:
            if self._zero:
                place(low, self._zero)
            for index, times in self._buckets.items():
                place(min(max(self._bucket_value(index), low), high), times)
        return tuple(HistogramBin(edges[i], edges[i + 1], counts[i]) for i in range(bins))


def _interpolate(ordered: list[float], q: float) -> float:
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
