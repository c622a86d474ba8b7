"""Spike detection: an injected spike is found and named, flat data stays quiet."""

from __future__ import annotations

import random
from datetime import timedelta
from pathlib import Path

from debug_log_factory import T0, traffic, write

from backbone.logs import DebugOptions, SpikeMetric, analyze
from backbone.logs.spikes import (
    choose_bucket_seconds,
    error_rate_spikes,
    latency_spikes,
)


def test_latency_spike_found_in_a_series() -> None:
    rng = random.Random(3)
    p95 = [rng.gauss(100, 8) for _ in range(60)]
    p95[30:34] = [450.0, 520.0, 480.0, 500.0]
    (run,) = latency_spikes(p95, [50] * 60)
    assert (run.first, run.last) == (30, 33)
    assert run.peak == 520.0 and 85 < run.baseline < 115


def test_no_spike_in_flat_noisy_series() -> None:
    rng = random.Random(4)
    for _ in range(20):
        p95 = [rng.lognormvariate(4.6, 0.25) for _ in range(200)]
        assert latency_spikes(p95, [30] * 200) == []
        requests = [rng.randint(80, 120) for _ in range(200)]
        errors = [sum(rng.random() < 0.01 for _ in range(count)) for count in requests]
        assert error_rate_spikes(requests, errors) == []


def test_constant_series_and_too_few_buckets() -> None:
    assert latency_spikes([50.0] * 100, [10] * 100) == []
    assert error_rate_spikes([100] * 100, [0] * 100) == []
    assert latency_spikes([50.0, 50.0, 900.0, 50.0], [10] * 4) == []


def test_buckets_with_few_requests_do_not_spike() -> None:
    p95 = [100.0] * 40
    p95[20] = 5000.0
    assert latency_spikes(p95, [2] * 40) == []


def test_error_burst_found_from_zero_baseline() -> None:
    requests = [200] * 60
    errors = [0] * 60
    errors[40:43] = [25, 30, 20]
    (run,) = error_rate_spikes(requests, errors)
    assert (run.first, run.last, run.baseline) == (40, 42, 0.0)


def test_a_long_incident_is_one_spike() -> None:
    p95 = [80.0 + (index % 3) for index in range(200)]
    p95[100:130] = [900.0 + (index % 5) * 10 for index in range(30)]  # longer than the window on each side
    runs = latency_spikes(p95, [40] * 200)
    assert [(run.first, run.last) for run in runs] == [(100, 129)]


def test_bucket_width_follows_the_time_span() -> None:
    assert choose_bucket_seconds(600) == 5
    assert choose_bucket_seconds(3600) == 30
    assert choose_bucket_seconds(86400) == 600
    assert choose_bucket_seconds(10 * 365 * 86400) == 86400


def test_injected_spike_and_burst_found_in_an_access_log_and_routes_named(tmp_path: Path) -> None:
    log = write(tmp_path / "access.log", traffic(minutes=90, spike=(40, 44), burst=(70, 72)))
    report = analyze([log], DebugOptions(bucket_seconds=60))
    latency = [spike for spike in report.spikes if spike.metric is SpikeMetric.LATENCY]
    errors = [spike for spike in report.spikes if spike.metric is SpikeMetric.ERROR_RATE]
    assert [(s.start, s.end) for s in latency] == [(T0 + timedelta(minutes=40), T0 + timedelta(minutes=44))]
    assert latency[0].routes == ("GET /orders",)
    assert [(s.start, s.end) for s in errors] == [(T0 + timedelta(minutes=70), T0 + timedelta(minutes=72))]
    assert errors[0].routes == ("POST /orders",)


def test_flat_access_log_has_no_spike(tmp_path: Path) -> None:
    report = analyze([write(tmp_path / "access.log", traffic(minutes=120, seed=9))])
    assert report.spikes == ()
    assert report.causes == () and report.unexplained == ()
