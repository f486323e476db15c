"""The search strategies: which hyperparameters the next trial gets.

- Random: independent draws on each range's scale, no set drawn twice while the space has others.
- Grid: every combination of the categorical values, in order.
- Bayesian: a Gaussian process over the trials that reported the objective, and the candidate
  of highest expected improvement among random ones. None of the well-kept optimisation
  libraries (optuna, scikit-optimize, hyperopt) is a dependency of this project, so this is the
  documented fallback on scikit-learn's GaussianProcessRegressor (Matern kernel, noise term).
  The first trials, before two results are in, are random, as AWS's first trials are.
- Hyperband: run as Random (no early stopping of trials; docs/local-endpoint.md says so).

Each strategy sees what has been tried (`tried`: every set proposed so far, running or done) and
the results (`observations`: a set and its objective, higher is better, already signed).
"""

from __future__ import annotations

import itertools
import random
import warnings
from collections.abc import Iterator
from typing import Any

from .space import Parameter, combinations

Values = dict[str, Any]
RANDOM_TRIES = 200  # draws before a discrete space is taken as spent
BAYESIAN_CANDIDATES = 500
BAYESIAN_RANDOM_START = 2  # results needed before the model is trusted


class Strategy:
    def __init__(self, space: list[Parameter], seed: int | None) -> None:
        self.space = space
        self.rng = random.Random(seed)

    def propose(self, tried: list[Values], observations: list[tuple[Values, float]]) -> Values | None:
        raise NotImplementedError

    def _random(self, tried: list[Values]) -> Values:
        """A random set, not one tried before while untried ones remain."""
        limit = combinations(self.space)
        seen = [_key(values) for values in tried]
        for _ in range(RANDOM_TRIES):
            values = {p.name: p.sample(self.rng) for p in self.space}
            if _key(values) not in seen or (limit is not None and len(set(seen)) >= limit):
                return values
        return values


class RandomSearch(Strategy):
    def propose(self, tried: list[Values], observations: list[tuple[Values, float]]) -> Values | None:
        return self._random(tried)


class GridSearch(Strategy):
    def __init__(self, space: list[Parameter], seed: int | None) -> None:
        super().__init__(space, seed)
        self._grid: Iterator[tuple[str, ...]] = itertools.product(*(p.values for p in space))

    def propose(self, tried: list[Values], observations: list[tuple[Values, float]]) -> Values | None:
        point = next(self._grid, None)
        return None if point is None else dict(zip((p.name for p in self.space), point, strict=True))


class BayesianSearch(Strategy):
    def propose(self, tried: list[Values], observations: list[tuple[Values, float]]) -> Values | None:
        if len(observations) < BAYESIAN_RANDOM_START:
            return self._random(tried)
        import numpy as np
        from scipy.stats import norm
        from sklearn.exceptions import ConvergenceWarning
        from sklearn.gaussian_process import GaussianProcessRegressor
        from sklearn.gaussian_process.kernels import ConstantKernel, Matern, WhiteKernel

        x = np.array([self._encode(values) for values, _ in observations])
        y = np.array([score for _, score in observations])
        kernel = ConstantKernel(1.0) * Matern(length_scale=np.full(x.shape[1], 0.5), nu=2.5) + WhiteKernel(1e-3)
        model = GaussianProcessRegressor(kernel=kernel, normalize_y=True, n_restarts_optimizer=2,
                                         random_state=self.rng.randrange(2**31))
        with warnings.catch_warnings():  # few points: the kernel's fit often sits on a bound, which is no news
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(x, y)
        seen = {_key(values) for values in tried}
        candidates = [self._random(tried) for _ in range(BAYESIAN_CANDIDATES)]
        fresh = [values for values in candidates if _key(values) not in seen] or candidates
        mean, deviation = model.predict(np.array([self._encode(values) for values in fresh]), return_std=True)
        best = y.max()
        deviation = np.maximum(deviation, 1e-9)
        z = (mean - best) / deviation
        improvement = (mean - best) * norm.cdf(z) + deviation * norm.pdf(z)  # expected improvement
        return fresh[int(np.argmax(improvement))]

    def _encode(self, values: Values) -> list[float]:
        return [number for parameter in self.space for number in parameter.encode(values[parameter.name])]


STRATEGIES: dict[str, type[Strategy]] = {
    "Random": RandomSearch,
    "Grid": GridSearch,
    "Bayesian": BayesianSearch,
    "Hyperband": RandomSearch,
}


def _key(values: Values) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((name, repr(value)) for name, value in values.items()))
