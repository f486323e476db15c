"""A day's scores summarised, and how far their distribution moved from the day before's.

The shift is the population stability index (PSI) over the same bins, the measure credit-risk and
model-monitoring teams use for score drift: below 0.1 stable, 0.1-0.2 a moderate shift, above 0.2 a
large one. Scores from 0 to 1 (classification) use ten equal bins; other scores use the day before's
bins when there is one (so both days are counted alike), else ten equal bins between the day's
lowest and highest score.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence

from .payloads import ScoreSummary

BINS = 10
UNIT_EDGES = [i / BINS for i in range(BINS + 1)]
_EMPTY_SHARE = 1e-4  # a bin one day has no score in counts as this share: the PSI stays finite


def bin_edges(scores: Sequence[float], previous: ScoreSummary | None) -> list[float]:
    if scores and min(scores) >= 0.0 and max(scores) <= 1.0 and (previous is None or previous["edges"] == UNIT_EDGES):
        return list(UNIT_EDGES)
    if previous is not None:
        return list(previous["edges"])
    low, high = (min(scores), max(scores)) if scores else (0.0, 1.0)
    if high <= low:
        high = low + 1.0
    return [low + (high - low) * i / BINS for i in range(BINS + 1)]


def summarise(scores: Sequence[float], positive_threshold: float | None, previous: ScoreSummary | None) -> ScoreSummary:
    edges = bin_edges(scores, previous)
    counts = [0] * (len(edges) - 1)
    inner = edges[1:-1]
    for score in scores:  # a score outside the edges counts in the first or the last bin
        counts[bisect.bisect_right(inner, score)] += 1
    rows = len(scores)
    return {
        "rows": rows,
        "mean": math.fsum(scores) / rows if rows else 0.0,
        "minimum": min(scores) if rows else 0.0,
        "maximum": max(scores) if rows else 0.0,
        "positive_share": (sum(1 for s in scores if s >= positive_threshold) / rows if rows else 0.0)
        if positive_threshold is not None else None,
        "edges": edges,
        "counts": counts,
    }


def population_stability_index(current: ScoreSummary, previous: ScoreSummary) -> float | None:
    """PSI of `current` against `previous`; None when their bins differ or either has no scores."""
    if current["edges"] != previous["edges"] or not current["rows"] or not previous["rows"]:
        return None
    total = 0.0
    for now, before in zip(current["counts"], previous["counts"], strict=True):
        p = max(now / current["rows"], _EMPTY_SHARE)
        q = max(before / previous["rows"], _EMPTY_SHARE)
        total += (p - q) * math.log(p / q)
    return total
