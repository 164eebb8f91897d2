"""The baselines the benchmark compares the lineops models with, given the same treatment.

* ``PCAMonitor``: static PCA (90 % variance) on standardised normal rows; its statistic is T²,
  SPE, or T²/limit + SPE/limit (the EWMA-PCA index). Like the lineops detector it is smoothed
  by an EWMA whose weight is chosen by ``training.select_anomaly_smoothing`` on training data
  only, and its alarm threshold is calibrated the same way, on the last block of the normal
  run that the fit never saw (``common.ewma_threshold``).
* ``ExtraTreesBaseline``: 500 extremely randomised trees on window statistics of the raw rows
  (last, mean, std, last - first over 20 rows). Its per-row probabilities go through the same
  filters (``sequence.filter_grouped``), with the same normal-like test, as the lineops
  classifier's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from lineops_pipelines.models.common import ewma, ewma_threshold
from lineops_pipelines.models.sequence import (
    filter_rows,
    holdout_normal_like,
    padded_proba,
    report,
)

STATISTICS = ("t2", "spe", "combined")


@dataclass
class PCAMonitor:
    mean: np.ndarray
    scale: np.ndarray
    loadings: np.ndarray
    variances: np.ndarray
    t2_limit: float
    spe_limit: float
    kind: str
    ewma_lambda: float
    stat_mean: float
    threshold: float
    window: int = 1  # rows needed before the first statistic

    @classmethod
    def fit(
        cls,
        runs: list[np.ndarray],
        kind: str = "combined",
        ewma_lambda: float = 1.0,
        quantile: float = 0.999,
        calibration_fraction: float = 0.2,
        variance: float = 0.90,
    ) -> PCAMonitor:
        """Fit on the first rows of every normal run, calibrate on the last block."""
        if kind not in STATISTICS:
            raise ValueError(f"kind: {kind!r} is not one of {', '.join(STATISTICS)}")
        cuts = [round(len(r) * (1.0 - calibration_fraction)) for r in runs]
        x0 = np.vstack([r[:c] for r, c in zip(runs, cuts, strict=True)])
        calib = np.vstack([r[c:] for r, c in zip(runs, cuts, strict=True)])
        mu, sd = x0.mean(0), x0.std(0, ddof=1)
        sd = np.where(sd > 1e-12, sd, 1.0)
        _, s, vt = np.linalg.svd((x0 - mu) / sd, full_matrices=False)
        var = s**2 / (len(x0) - 1)
        k = int(np.searchsorted(np.cumsum(var) / var.sum(), variance) + 1)
        monitor = cls(mu, sd, vt[:k].T, var[:k], 1.0, 1.0, kind, ewma_lambda, 0.0, 0.0)
        t2, spe = monitor._t2_spe(x0)
        monitor.t2_limit, monitor.spe_limit = (float(np.quantile(v, 0.99)) for v in (t2, spe))
        stat = monitor.statistic(calib)
        monitor.stat_mean = float(stat.mean())
        monitor.threshold = ewma_threshold(stat, ewma_lambda, quantile)[0]
        return monitor

    @property
    def components(self) -> int:
        return int(self.loadings.shape[1])

    def _t2_spe(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        z = (x - self.mean) / self.scale
        scores = z @ self.loadings
        return (scores**2 / self.variances).sum(1), ((z - scores @ self.loadings.T) ** 2).sum(1)

    def statistic(self, x: np.ndarray) -> np.ndarray:
        t2, spe = self._t2_spe(x)
        if self.kind == "t2":
            return t2
        if self.kind == "spe":
            return spe
        return np.asarray(t2 / self.t2_limit + spe / self.spe_limit)

    def score(self, x: np.ndarray) -> np.ndarray:
        return ewma(self.statistic(x), self.ewma_lambda, start=self.stat_mean)


def window_features(x: np.ndarray, w: int = 20) -> np.ndarray:
    """Last row, window mean, std, last-minus-first over the last w raw rows: (n-w+1, 4F)."""
    v = np.lib.stride_tricks.sliding_window_view(x, w, axis=0)  # (n-w+1, F, w)
    return np.hstack([v[..., -1], v.mean(-1), v.std(-1), v[..., -1] - v[..., 0]])


class ExtraTreesBaseline:
    """ExtraTrees on raw window statistics, with the lineops classifier's post-processing."""

    def __init__(self, forest: Any, n_classes: int, window: int, normal_like: list[int]) -> None:
        self.forest = forest
        self.n_classes = n_classes
        self.window = window
        self.normal_like = normal_like
        self.info: dict[str, Any] = {}

    @staticmethod
    def _fit_forest(
        parts: list[tuple[np.ndarray, np.ndarray]], trees: int, window: int, seed: int
    ) -> Any:
        from sklearn.ensemble import ExtraTreesClassifier

        x = np.vstack([window_features(p, window) for p, _ in parts if len(p) >= window])
        y = np.concatenate([t[window - 1 :] for p, t in parts if len(p) >= window])
        return ExtraTreesClassifier(n_estimators=trees, n_jobs=2, random_state=seed).fit(x, y)

    @classmethod
    def fit(
        cls,
        parts: list[tuple[np.ndarray, np.ndarray]],
        n_classes: int,
        seed: int = 0,
        trees: int = 500,
        window: int = 20,
        normal_like_test: bool = True,
    ) -> ExtraTreesBaseline:
        forest = cls._fit_forest(parts, trees, window, seed)
        test: dict[str, Any] = {"normal_like": []}
        if normal_like_test:

            def fitter(fit_parts: list[tuple[np.ndarray, np.ndarray]]) -> Any:
                aux = cls(cls._fit_forest(fit_parts, 100, window, seed), n_classes, window, [])
                return aux.row_proba

            test = holdout_normal_like(parts, fitter, window)
        model = cls(forest, n_classes, window, list(test["normal_like"]))
        model.info["normal_like_test"] = test
        return model

    def row_proba(self, x: np.ndarray) -> np.ndarray:
        if len(x) < self.window:
            return np.full((len(x), self.n_classes), np.nan)
        feats = window_features(x, self.window)
        return padded_proba(self.forest, feats, len(x), self.n_classes)

    def filter(self, row_proba: np.ndarray, config: Any) -> np.ndarray:
        return filter_rows(row_proba, config, self.normal_like)

    def report(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return report(proba, self.normal_like)
