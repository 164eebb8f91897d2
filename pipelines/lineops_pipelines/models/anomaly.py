"""Anomaly detection trained on normal data only: a dynamic forecaster + whitened residual + EWMA.

The torch model predicts each sample from the previous ``lags`` samples (a linear
autoregressive map plus an optional small MLP branch). Its one-step residuals are whitened with
their covariance on the training rows, giving a Hotelling-type statistic per sample; the
anomaly score is that statistic smoothed by an EWMA. Forecasting removes the process dynamics
(autocorrelation) that make static PCA charts slow, and the EWMA accumulates small persistent
changes in mean *and* variance. The default ``ewma_lambda`` = 0.5 (memory of about 2
samples) is the output of ``training.select_anomaly_smoothing`` on the TE training files: the
lowest mean detection delay at 5 % false alarms over synthetic onsets built from training data
only (held-out normal rows followed by the first rows of every training fault run).

The alarm threshold is fixed at training time from held-out NORMAL rows (the last block of each
normal run, in time order, after a gap so no window straddles the split; early stopping uses
the block before it and never sees these rows) and stored with the model:
``alarm = score > threshold``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from lineops_pipelines.models.common import (
    Standardiser,
    TorchModelBase,
    ewma,
    ewma_threshold,
    fit_options,
    fit_torch,
    set_seed,
    sliding_windows,
    time_split,
)

TASK = "anomaly-detection"


@dataclass
class AnomalyConfig:
    lags: int = 3
    hidden: int = 0  # 0: linear autoregressive forecaster; > 0 adds an MLP branch
    # chosen by training.select_anomaly_smoothing (TE training files only; see its docstring)
    ewma_lambda: float = 0.5
    threshold_quantile: float = 0.999  # of the in-control EWMA distribution (held-out normal)
    val_fraction: float = 0.2  # early stopping: the block before the calibration block
    calibration_fraction: float = 0.2  # the threshold: the last block of every normal run
    epochs: int = 300
    lr: float = 5e-3
    weight_decay: float = 0.1
    batch_size: int = 64
    patience: int = 20
    covariance_ridge: float = 1e-3


class Forecaster(nn.Module):
    def __init__(self, n_features: int, lags: int, hidden: int) -> None:
        super().__init__()
        self.linear = nn.Linear(n_features * lags, n_features)
        self.mlp: nn.Module | None = None
        if hidden > 0:
            self.mlp = nn.Sequential(
                nn.Linear(n_features * lags, hidden), nn.Tanh(), nn.Linear(hidden, n_features)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, lags, F)
        flat = x.flatten(1)
        out = self.linear(flat)
        if self.mlp is not None:
            out = out + self.mlp(flat)
        return out


class AnomalyDetector(TorchModelBase):
    task = TASK
    kind = "ar-forecaster-ewma"
    config_type = AnomalyConfig
    config: AnomalyConfig
    net: Forecaster

    def __init__(
        self,
        features: list[str],
        config: AnomalyConfig,
        standardiser: Standardiser,
        net: Forecaster,
        whitening: np.ndarray,
        stat_mean: float,
        threshold: float,
        info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(features, config, standardiser, net, info)
        self.whitening = whitening
        self.stat_mean = stat_mean
        self.threshold = threshold

    @property
    def window(self) -> int:
        """Rows needed before the first score (the forecaster's lags plus the current row)."""
        return self.config.lags + 1

    # ------------------------------------------------------------------------ training
    @classmethod
    def fit(
        cls,
        runs: list[np.ndarray],
        features: list[str],
        config: AnomalyConfig | None = None,
        seed: int = 0,
    ) -> AnomalyDetector:
        """Train on normal runs (each a time-ordered (n, F) array)."""
        config = config or AnomalyConfig()
        generator = set_seed(seed)
        lags = config.lags
        # Three blocks of every run in time order, with a gap of the lags between them: fit,
        # early stopping, and the threshold's calibration, which early stopping never saw.
        fit_parts, val_parts, cal_parts = [], [], []
        for run in runs:
            head, calib = time_split(len(run), config.calibration_fraction, gap=lags)
            share = config.val_fraction / max(1e-9, 1.0 - config.calibration_fraction)
            tr, va = time_split(len(head), share, gap=lags)
            fit_parts.append(run[head][tr])
            val_parts.append(run[head][va])
            cal_parts.append(run[calib])
        standardiser = Standardiser.fit(np.vstack(fit_parts))

        def pairs(parts: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
            xs, ys = [], []
            for part in parts:
                z = standardiser.transform(part)
                w = sliding_windows(z, lags + 1)
                xs.append(w[:, :lags])
                ys.append(w[:, lags])
            n_features = len(features)
            x = np.concatenate(xs) if xs else np.empty((0, lags, n_features))
            y = np.concatenate(ys) if ys else np.empty((0, n_features))
            return torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32)

        train = pairs(fit_parts)
        val = pairs(val_parts)
        cal = pairs(cal_parts)
        if len(train[0]) < 10 or len(val[0]) < 5 or len(cal[0]) < 5:
            raise ValueError("anomaly-detection needs more normal rows to train and calibrate")
        net = Forecaster(len(features), lags, config.hidden)
        history = fit_torch(
            net, nn.functional.mse_loss, train, val, generator=generator, **fit_options(config)
        )
        with torch.no_grad():
            resid_train = (train[1] - net(train[0])).double().numpy()
            resid_cal = (cal[1] - net(cal[0])).double().numpy()
        cov = np.cov(resid_train.T) + config.covariance_ridge * np.eye(len(features))
        whitening = np.linalg.cholesky(np.linalg.inv(cov))
        stat_train = ((resid_train @ whitening) ** 2).sum(axis=1)
        stat_cal = ((resid_cal @ whitening) ** 2).sum(axis=1)
        lam = config.ewma_lambda
        threshold, phi = ewma_threshold(stat_cal, lam, config.threshold_quantile)
        mean = float(stat_cal.mean())
        stat_mean = mean  # EWMA start: the in-control level seen on held-out normal rows
        info = {
            "epochs_run": len(history.val_loss),
            "best_epoch": history.best_epoch,
            "val_mse": min(history.val_loss),
            "train_rows": int(sum(len(p) for p in fit_parts)),
            "early_stopping_rows": int(sum(len(p) for p in val_parts)),
            "calibration_rows": int(sum(len(p) for p in cal_parts)),
            "calibration_stat_mean": mean,
            "train_stat_mean": float(stat_train.mean()),
            "calibration_lag1_autocorrelation": phi,
        }
        return cls(features, config, standardiser, net, whitening, stat_mean, threshold, info)

    # ------------------------------------------------------------------------- scoring
    def statistic(self, x: np.ndarray) -> np.ndarray:
        """Whitened squared one-step residual per row; NaN for the first ``lags`` rows."""
        lags = self.config.lags
        out = np.full(len(x), np.nan)
        if len(x) <= lags:
            return out
        z = self.standardiser.transform(x)
        w = torch.tensor(sliding_windows(z, lags + 1), dtype=torch.float32)
        with torch.no_grad():
            resid = (w[:, lags] - self.net(w[:, :lags])).double().numpy()
        out[lags:] = ((resid @ self.whitening) ** 2).sum(axis=1)
        return out

    def score(self, x: np.ndarray) -> np.ndarray:
        """EWMA-smoothed statistic over one time-ordered series; NaN until the window is full."""
        return ewma(self.statistic(x), self.config.ewma_lambda, start=self.stat_mean)

    def alarms(self, scores: np.ndarray) -> np.ndarray:
        return np.asarray(np.nan_to_num(scores, nan=-np.inf) > self.threshold)

    # --------------------------------------------------------------------------- I/O
    def _bundle_fields(self) -> dict[str, Any]:
        return {
            "whitening": self.whitening.tolist(),
            "stat_mean": self.stat_mean,
            "threshold": self.threshold,
        }

    @classmethod
    def _fields_from_bundle(cls, meta: dict[str, Any]) -> dict[str, Any]:
        return {
            "whitening": np.asarray(meta["whitening"], float),
            "stat_mean": float(meta["stat_mean"]),
            "threshold": float(meta["threshold"]),
        }

    @classmethod
    def _build_net(
        cls, meta: dict[str, Any], state: dict[str, torch.Tensor], config: AnomalyConfig
    ) -> Forecaster:
        return Forecaster(len(meta["features"]), config.lags, config.hidden)
