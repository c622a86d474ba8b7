"""The confidence a review finding is reported at: the one its rule's measured precision earns.

A rule's evidence gives each report a confidence (high when the rule saw what it looks for,
lower when it guessed part of it). Those levels are the rule author's estimate; readers
labelling samples of findings on real projects nobody tuned on (`bench/precision/`) show
how often each rule, and each rule at each evidence level, is right. The table of those
counts (`calibration_data`, generated from the labels) decides the confidence reported:

- high: at least 80% of the labelled findings were right;
- medium: at least 60%;
- low: fewer.

A cell (rule and evidence level) with at least `DECIDES` labelled findings decides on its
own, up or down; a smaller cell only lowers the evidence's level to what the rule's findings
at that evidence or stronger earn together, or, when fewer than `MEASURED` of those were
labelled, to what the rule as a whole earns. Where no finding at that evidence or stronger was
ever labelled (the samples rarely draw them: SQL built from request input), weaker evidence,
right less often, says nothing of it: the finding keeps its evidence's level, as every finding
of a rule measured on fewer than `MEASURED` findings does (its documentation says it is not yet
measured). The default `min-confidence`
is high, so the default report holds the findings measured right at least four times in five;
`--min-confidence medium` or `low` shows the rest.
"""

from __future__ import annotations

from backbone.findings import Confidence
from backbone.review.calibration_data import EVIDENCE, RULES, SETS

HIGH_PRECISION = 0.80
MEDIUM_PRECISION = 0.60
# Labelled findings a cell needs to decide on its own, and a rule to count as measured.
DECIDES = 10
MEASURED = 5

__all__ = ["HIGH_PRECISION", "MEDIUM_PRECISION", "SETS", "calibrated", "earned", "highest", "measured"]


def earned(true: int, labelled: int) -> Confidence:
    """The confidence a measured precision of `true` in `labelled` earns."""
    precision = true / labelled
    if precision >= HIGH_PRECISION:
        return Confidence.HIGH
    if precision >= MEDIUM_PRECISION:
        return Confidence.MEDIUM
    return Confidence.LOW


def measured(code: str) -> tuple[int, int] | None:
    """How many of `code`'s labelled findings were right, of how many; None when unmeasured."""
    figure = RULES.get(code)
    return figure if figure is not None and figure[1] >= MEASURED else None


def at_least(code: str, evidence: Confidence) -> tuple[int, int]:
    """How many of `code`'s labelled findings at `evidence` or stronger were right, of how many."""
    cells = [EVIDENCE.get((code, level.value)) for level in Confidence if level.rank >= evidence.rank]
    return sum(cell[0] for cell in cells if cell), sum(cell[1] for cell in cells if cell)


def calibrated(code: str, evidence: Confidence) -> Confidence:
    """The confidence to report a finding of `code` at whose evidence gave it `evidence`."""
    cell = EVIDENCE.get((code, evidence.value))
    if cell is not None and cell[1] >= DECIDES:
        return earned(*cell)
    figure = at_least(code, evidence)
    if figure[1] >= MEASURED:
        return evidence.at_most(earned(*figure))
    if figure[1] == 0:
        # No finding this strong was ever labelled: the rule's weaker findings say nothing of it.
        return evidence
    # A few: too few to decide, the rule as a whole bounds it.
    rule = measured(code)
    return evidence if rule is None else evidence.at_most(earned(*rule))


def highest(code: str, declared: Confidence) -> Confidence:
    """The highest confidence a finding of `code` is reported at, whatever its evidence; for an
    unmeasured rule, the confidence it `declared` (its findings keep their evidence's level)."""
    if measured(code) is None:
        return declared
    return max((calibrated(code, level) for level in Confidence), key=lambda level: level.rank)
