"""Latency percentiles: exact for small samples, within the sketch's relative error for large ones."""

from __future__ import annotations

import random

import pytest

from backbone.runtime.stats import LatencyDigest


def exact_quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def test_small_samples_give_exact_interpolated_percentiles() -> None:
    digest = LatencyDigest()
    for value_ms in (10, 20, 30, 40, 50, 60, 70, 80, 90, 100):
        digest.add(value_ms / 1000)
    assert digest.exact
    p50, p95, p99 = digest.percentiles_ms()
    assert p50 == pytest.approx(55.0)
    assert p95 == pytest.approx(95.5)
    assert p99 == pytest.approx(99.1)
    assert digest.quantile(0) == pytest.approx(0.010) and digest.quantile(1) == pytest.approx(0.100)


def test_large_runs_fold_into_a_histogram_within_its_relative_error() -> None:
    generator = random.Random(7)
    values = [generator.lognormvariate(-4, 0.8) for _ in range(30_000)]
    digest = LatencyDigest(exact_limit=1_000, relative_error=0.01)
    for value in values:
        digest.add(value)
    assert not digest.exact and digest.count == len(values)
    for q in (0.5, 0.95, 0.99):
        assert digest.quantile(q) == pytest.approx(exact_quantile(values, q), rel=0.03)


def test_digests_merge_exactly_while_small_and_as_histograms_when_large() -> None:
    generator = random.Random(11)
    first_values = [generator.uniform(0.001, 0.2) for _ in range(400)]
    second_values = [generator.uniform(0.05, 0.5) for _ in range(400)]

    small_first, small_second = LatencyDigest(), LatencyDigest()
    for value in first_values:
        small_first.add(value)
    for value in second_values:
        small_second.add(value)
    small_first.merge(small_second)
    assert small_first.exact
    assert small_first.quantile(0.95) == pytest.approx(exact_quantile(first_values + second_values, 0.95))

    large_first, large_second = LatencyDigest(exact_limit=300), LatencyDigest(exact_limit=300)
    for value in first_values:
        large_first.add(value)
    for value in second_values:
        large_second.add(value)
    large_first.merge(large_second)
    assert not large_first.exact and large_first.count == 800
    assert large_first.quantile(0.5) == pytest.approx(exact_quantile(first_values + second_values, 0.5), rel=0.03)
    assert large_first.max_s == max(second_values)


def test_histogram_counts_every_sample() -> None:
    digest = LatencyDigest(exact_limit=50)
    for number in range(1, 201):
        digest.add(number / 1000)
    bins = digest.histogram(bins=10)
    assert len(bins) == 10 and sum(item.count for item in bins) == 200
    assert bins[0].low_s == pytest.approx(0.001) and bins[-1].high_s == pytest.approx(0.2)


def test_empty_digest() -> None:
    digest = LatencyDigest()
    assert digest.percentiles_ms() == (0.0, 0.0, 0.0) and digest.histogram() == ()
