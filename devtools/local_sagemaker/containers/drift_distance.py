"""The baseline drift distance of a feature, the number baseline_drift_check compares with its threshold.

AWS documents it as an L-infinity distance ("Schema for Constraints": `comparison_threshold` is
compared with "the maximum absolute difference between the cumulative distribution functions of
two distributions"; `comparison_method` Simple computes linf_simple, Robust computes linf_robust,
"based on the Two-sample Kolmogorov-Smirnov test", for when there are not enough samples), which is
Deequ's Distance (awslabs/deequ, analyzers/Distance.scala): numerical features compare the CDFs of
their KLL sketches, categorical features (`categorical_drift_method` LInfinity) the frequencies of
their categories, and linf_robust = max(0, linf_simple - 1.8 * sqrt((n + m) / (n * m))).
"""

from __future__ import annotations

import bisect
import math

from kll_sketch import KllSketch

ROBUST_C_ALPHA = 1.8  # Deequ's defaultCAlpha (alpha 0.003)


def numerical_distance(baseline: KllSketch, current: KllSketch, method: str) -> float:
    first, second = _rank_map(baseline), _rank_map(current)
    n, m = float(first[1][-1]), float(second[1][-1])
    linf = 0.0
    for key in sorted(set(first[0]) | set(second[0])):
        linf = max(linf, abs(_rank(first, key) / n - _rank(second, key) / m))
    return _select(linf, n, m, method)


def categorical_distance(baseline: dict[str, float], current: dict[str, float], method: str) -> float:
    n, m = float(sum(baseline.values())), float(sum(current.values()))
    linf = 0.0
    for key in set(baseline) | set(current):
        linf = max(linf, abs(baseline.get(key, 0.0) / n - current.get(key, 0.0) / m))
    return _select(linf, n, m, method)


def _select(linf: float, n: float, m: float, method: str) -> float:
    if method == "Simple":
        return linf
    return max(0.0, linf - ROBUST_C_ALPHA * math.sqrt((n + m) / (n * m)))


def _rank_map(sketch: KllSketch) -> tuple[list[float], list[int]]:
    """Each distinct item and the number of rows at or below it (Deequ's getRankMap)."""
    keys: list[float] = []
    ranks: list[int] = []
    running = 0
    for item, weight in sketch.weighted_items():
        running += weight
        if keys and keys[-1] == item:
            ranks[-1] = running
        else:
            keys.append(item)
            ranks.append(running)
    return keys, ranks


def _rank(rank_map: tuple[list[float], list[int]], item: float) -> int:
    keys, ranks = rank_map
    index = bisect.bisect_right(keys, item) - 1
    return ranks[index] if index >= 0 else 0
