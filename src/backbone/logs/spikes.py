"""Spike detection over time buckets with robust statistics.

For each bucket the baseline is the median of its neighbours (up to WINDOW buckets on each
side, the bucket itself left out); the spread is the MAD of the neighbours or of all
buckets, whichever is larger, so that a calm stretch does not make noise look like a
spike. When the neighbours' median is above the median of all buckets, the neighbourhood
may hold a long incident, and baseline and spread come from all buckets instead, so that
the incident does not become its own baseline. A bucket spikes when it exceeds the baseline by Z_THRESHOLD robust standard
deviations and by a ratio that matters to a person; consecutive spiking buckets make one
spike (a gap of MAX_GAP calm buckets inside it is allowed). Flat data, however noisy,
stays under both bars.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from statistics import median

from backbone.logs.model import SpikeMetric
from backbone.records import Record

# The smallest scale a baseline may have, and the test a value must pass beyond Z_THRESHOLD.
_ScaleFloor = Callable[[int, float], float]
_SpikeTest = Callable[[float, float], bool]

BUCKET_CHOICES = (1, 5, 10, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400)
MAX_BUCKETS = 240
WINDOW = 15
MIN_NEIGHBOURS = 6
Z_THRESHOLD = 6.0
MAD_TO_SIGMA = 1.4826
# Latency: the bucket's p95 must reach 1.5x the baseline, from at least this many requests.
LATENCY_MIN_RATIO = 1.5
LATENCY_MIN_REQUESTS = 5
LATENCY_SCALE_FLOOR_MS = 1.0
LATENCY_SCALE_FLOOR_SHARE = 0.05
# Error rate: at least this many 5xx in the bucket, twice the baseline rate and a point above
# it; the spread is at least the binomial one of the bucket's request count (with a rate of at
# least one error per bucket), so that a few errors in a quiet bucket are not a spike.
ERROR_MIN_COUNT = 3
ERROR_MIN_RATIO = 2.0
ERROR_MIN_INCREASE = 0.01
# Spiking buckets at most this many buckets apart make one spike.
MAX_GAP = 1


def choose_bucket_seconds(span_seconds: float) -> int:
    for choice in BUCKET_CHOICES:
        if span_seconds / choice <= MAX_BUCKETS:
            return choice
    return BUCKET_CHOICES[-1]


class SpikeRun(Record, frozen=True):
    metric: SpikeMetric
    first: int  # index of the first spiking bucket
    last: int  # index of the last spiking bucket
    peak: float
    baseline: float


def latency_spikes(p95_ms: Sequence[float | None], requests: Sequence[int]) -> list[SpikeRun]:
    eligible = [count >= LATENCY_MIN_REQUESTS for count in requests]
    flagged = _outliers(
        p95_ms, eligible,
        floor=lambda index, baseline: max(LATENCY_SCALE_FLOOR_MS, LATENCY_SCALE_FLOOR_SHARE * baseline),
        is_spike=lambda value, baseline: value >= LATENCY_MIN_RATIO * baseline,
    )
    return _runs(SpikeMetric.LATENCY, p95_ms, flagged)


def error_rate_spikes(requests: Sequence[int], server_errors: Sequence[int]) -> list[SpikeRun]:
    rates: list[float | None] = [errors / count if count else None for count, errors in zip(requests, server_errors)]
    eligible = [errors >= ERROR_MIN_COUNT for errors in server_errors]
    flagged = _outliers(
        rates, eligible,
        floor=lambda index, baseline: _binomial_spread(baseline, requests[index]),
        is_spike=lambda value, baseline: value >= ERROR_MIN_RATIO * baseline and value >= baseline + ERROR_MIN_INCREASE,
    )
    return _runs(SpikeMetric.ERROR_RATE, rates, flagged)


def _binomial_spread(rate: float, requests: int) -> float:
    if requests <= 0:
        return 1.0
    rate = max(rate, 1 / requests)
    return math.sqrt(rate * (1 - rate) / requests)


def _outliers(values: Sequence[float | None], eligible: Sequence[bool], *,
              floor: _ScaleFloor, is_spike: _SpikeTest) -> dict[int, float]:
    """Index -> baseline of every spiking bucket."""
    known = [value for value in values if value is not None]
    if len(known) < MIN_NEIGHBOURS + 1:
        return {}
    overall = median(known)
    overall_spread = median(abs(value - overall) for value in known) * MAD_TO_SIGMA
    flagged: dict[int, float] = {}
    for index, value in enumerate(values):
        if value is None or not eligible[index]:
            continue
        neighbours = [
            other for position, other in enumerate(values[max(0, index - WINDOW): index + WINDOW + 1],
                                                   start=max(0, index - WINDOW))
            if position != index and other is not None
        ]
        if len(neighbours) < MIN_NEIGHBOURS:
            continue
        local = median(neighbours)
        spread = median(abs(other - local) for other in neighbours) * MAD_TO_SIGMA
        # A neighbourhood above the whole series may hold a long incident: its median and
        # spread are inflated by it, so the whole series gives both.
        baseline, scale = (local, max(spread, overall_spread)) if local <= overall else (overall, overall_spread)
        scale = max(scale, floor(index, baseline))
        if value > baseline + Z_THRESHOLD * scale and is_spike(value, baseline):
            flagged[index] = baseline
    return flagged


def _runs(metric: SpikeMetric, values: Sequence[float | None], flagged: dict[int, float]) -> list[SpikeRun]:
    runs: list[SpikeRun] = []
    indexes = sorted(flagged)
    start = 0
    while start < len(indexes):
        end = start
        while end + 1 < len(indexes) and indexes[end + 1] <= indexes[end] + 1 + MAX_GAP:
            end += 1
        members = indexes[start:end + 1]
        peak = max(value for value in (values[i] for i in members) if value is not None)
        runs.append(SpikeRun(metric, members[0], members[-1], peak, median(flagged[i] for i in members)))
        start = end + 1
    return runs
