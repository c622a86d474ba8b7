"""Which candidate indexes count as as cheap as each other (`sql.advice._rounded`)."""

from __future__ import annotations

from backbone.sql.advice import _rounded


def test_timings_within_a_step_above_the_cheapest_tie_with_it() -> None:
    # A step is 5% of the cost without an index: 5 for 100.
    assert _rounded(14.9, 100.0, cheapest=10.0) == _rounded(10.0, 100.0, cheapest=10.0) == 0.0
    assert _rounded(15.1, 100.0, cheapest=10.0) > 0.0


def test_planner_costs_tie_within_a_fixed_step() -> None:
    # Costs do not vary from run to run: fixed steps, so 11 and 12 tie and 11 and 13 do not.
    assert _rounded(11.0, 100.0, cheapest=None) == _rounded(12.0, 100.0, cheapest=None)
    assert _rounded(11.0, 100.0, cheapest=None) != _rounded(13.0, 100.0, cheapest=None)
