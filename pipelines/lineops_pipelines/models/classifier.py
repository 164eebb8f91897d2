"""Fault classification from drift-robust rolling features of recent samples (torch, CPU).

Every row of a time series is described by causal rolling features of its standardised
variables (see ``rolling_features``):

* over the last ``window`` samples: last value, mean, standard deviation, last-minus-first
  (what a process engineer, or the ExtraTrees baseline, looks at);
* over the last ``long_window`` samples: the standard deviation of the first differences. It
  measures the fast, random variation a fault adds and, unlike levels and means, does not move
  when a fault makes the process drift further than anything seen in training.

Each feature is piecewise-linearly encoded on ``bins`` quantile bins of the training rows
(Gorishniy et al., 2022): a value beyond the training range saturates instead of driving the
logits wild, which is how tree ensembles treat it. An MLP maps the encoded features to class
logits. At prediction time the per-row log-probabilities are averaged over time by an EWMA
(``smoothing``; causal, so a row still uses only rows up to itself): a fault persists, so the
evidence of successive windows adds up.

Labels are class ids (0 = normal); ``classes`` stores their names. Rows before the first full
``window`` get no label.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from lineops_pipelines.models.common import (
    Standardiser,
    fit_torch,
    read_bundle,
    save_bundle,
    set_seed,
    time_split,
)

TASK = "fault-classification"


@dataclass
class ClassifierConfig:
    window: int = 20  # short window: last, mean, std, last - first
    long_window: int = 60  # standard deviation of first differences
    bins: int = 8  # quantile bins of the piecewise-linear feature encoding
    hidden: int = 256
    dropout: float = 0.3
    smoothing: float = 0.1  # EWMA weight of the newest row's log-probabilities; 1 = none
    val_fraction: float = 0.2
    epochs: int = 60
    lr: float = 1e-3
    weight_decay: float = 1e-2
    batch_size: int = 128
    patience: int = 10
    noise: float = 0.0
    label_smoothing: float = 0.05


def window_stats(x: torch.Tensor) -> torch.Tensor:
    """(batch, window, F) -> (batch, 4F): last, mean, std, last - first (used by failure.py)."""
    return torch.cat([x[:, -1], x.mean(1), x.std(1), x[:, -1] - x[:, 0]], dim=1)


def _rolling(x: np.ndarray, w: int, min_periods: int) -> tuple[np.ndarray, np.ndarray]:
    """Causal rolling mean and population std over up to ``w`` rows (NaN before min_periods)."""
    n = len(x)
    c1 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x, axis=0)])
    c2 = np.vstack([np.zeros((1, x.shape[1])), np.cumsum(x * x, axis=0)])
    end = np.arange(1, n + 1)
    start = np.maximum(0, end - w)
    count = (end - start)[:, None].astype(float)
    mean = (c1[end] - c1[start]) / count
    var = np.maximum((c2[end] - c2[start]) / count - mean**2, 0.0)
    mean[: min_periods - 1] = np.nan
    var[: min_periods - 1] = np.nan
    return mean, np.sqrt(var)


def rolling_features(z: np.ndarray, window: int, long_window: int) -> np.ndarray:
    """(n, F) standardised rows -> (n, 5F) causal features; NaN rows before ``window``."""
    n, f = z.shape
    out = np.full((n, 5 * f), np.nan)
    if n < window:
        return out
    mean, std = _rolling(z, window, window)
    first = np.full_like(z, np.nan)
    first[window - 1 :] = z[: n - window + 1]
    diff = np.vstack([np.full((1, f), np.nan), np.diff(z, axis=0)])
    _, dstd = _rolling(np.nan_to_num(diff[1:]), long_window, max(1, window - 1))
    dstd = np.vstack([np.full((1, f), np.nan), dstd])
    out[:] = np.hstack([z, mean, std, z - first, dstd])
    out[: window - 1] = np.nan
    return out


class PiecewiseLinear(nn.Module):
    """Piecewise-linear encoding on fixed bin edges: (batch, D) -> (batch, D * bins)."""

    def __init__(self, edges: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("edges", edges)  # (D, bins + 1), increasing

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        edges: torch.Tensor = self.edges  # type: ignore[assignment]
        left, right = edges[:, :-1], edges[:, 1:]
        width = (right - left).clamp(min=1e-6)
        enc = ((x.unsqueeze(-1) - left) / width).clamp(0.0, 1.0)
        return enc.flatten(1)


class FeatureNet(nn.Module):
    def __init__(self, n_inputs: int, n_classes: int, config: ClassifierConfig) -> None:
        super().__init__()
        h = config.hidden
        self.encode = PiecewiseLinear(torch.zeros(n_inputs, config.bins + 1))
        self.mlp = nn.Sequential(
            nn.Dropout(config.dropout / 2),
            nn.Linear(n_inputs * config.bins, h),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(h, h),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(h, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, n_inputs)
        return self.mlp(self.encode(x))


def _quantile_edges(x: np.ndarray, bins: int) -> np.ndarray:
    """(D, bins + 1) strictly increasing bin edges at the training quantiles of each feature."""
    edges = np.quantile(x, np.linspace(0.0, 1.0, bins + 1), axis=0).T
    span = np.maximum(edges[:, -1] - edges[:, 0], 1e-6)
    step = 1e-4 * span[:, None] * np.arange(bins + 1)
    return np.maximum.accumulate(edges, axis=1) + step


class FaultClassifier:
    task = TASK

    def __init__(
        self,
        features: list[str],
        classes: list[str],
        config: ClassifierConfig,
        standardiser: Standardiser,
        net: FeatureNet,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.features = features
        self.classes = classes
        self.config = config
        self.standardiser = standardiser
        self.net = net
        self.info = info or {}

    @property
    def window(self) -> int:
        return self.config.window

    def _features(self, x: np.ndarray) -> np.ndarray:
        z = self.standardiser.transform(x)
        return rolling_features(z, self.config.window, self.config.long_window)

    @classmethod
    def fit(
        cls,
        runs: list[tuple[np.ndarray, np.ndarray]],
        features: list[str],
        classes: list[str],
        config: ClassifierConfig | None = None,
        seed: int = 0,
    ) -> FaultClassifier:
        """Train on runs of (x (n, F), y (n,) class ids); each run is one time series.

        Early stopping uses the last ``val_fraction`` of every run (time split with a gap of
        the longest window, so no validation feature shares a row with a training feature).
        """
        config = config or ClassifierConfig()
        generator = set_seed(seed)
        w = config.window
        gap = max(w, config.long_window) - 1
        fit_runs, val_runs = [], []
        for x, y in runs:
            tr, va = time_split(len(x), config.val_fraction, gap=gap)
            fit_runs.append((x[tr], y[tr]))
            val_runs.append((x[va], y[va]))
        standardiser = Standardiser.fit(np.vstack([x for x, _ in fit_runs]))

        def arrays(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
            xs, ys = [], []
            for x, y in parts:
                if len(x) < w:
                    continue
                feats = rolling_features(standardiser.transform(x), w, config.long_window)
                xs.append(feats[w - 1 :])
                ys.append(y[w - 1 :])
            if not xs:
                return np.empty((0, 5 * len(features))), np.empty(0, dtype=np.int64)
            return np.concatenate(xs), np.concatenate(ys)

        xf, yf = arrays(fit_runs)
        xv, yv = arrays(val_runs)
        if len(xf) == 0:
            raise ValueError(f"fault-classification needs runs of at least {w} rows")
        net = FeatureNet(xf.shape[1], len(classes), config)
        net.encode.edges.copy_(torch.tensor(_quantile_edges(xf, config.bins)))
        x_train = torch.tensor(xf, dtype=torch.float32)
        y_train = torch.tensor(yf, dtype=torch.long)
        x_val = torch.tensor(xv, dtype=torch.float32)
        y_val = torch.tensor(yv, dtype=torch.long)
        counts = torch.bincount(y_train, minlength=len(classes)).float()
        weights = torch.where(counts > 0, counts.sum() / (len(classes) * counts.clamp(min=1)), 0)
        loss = nn.CrossEntropyLoss(weight=weights, label_smoothing=config.label_smoothing)
        history = fit_torch(
            net,
            loss,
            (x_train, y_train),
            (x_val, y_val),
            epochs=config.epochs,
            generator=generator,
            batch_size=config.batch_size,
            lr=config.lr,
            weight_decay=config.weight_decay,
            patience=config.patience,
            noise=config.noise,
        )
        with torch.no_grad():
            val_acc = float((net(x_val).argmax(1) == y_val).float().mean()) if len(x_val) else 0.0
        info = {
            "epochs_run": len(history.val_loss),
            "best_epoch": history.best_epoch,
            "val_loss": min(history.val_loss),
            "val_accuracy": val_acc,
            "train_windows": len(x_train),
            "val_windows": len(x_val),
        }
        return cls(features, classes, config, standardiser, net, info)

    def predict_proba(self, x: np.ndarray, batch: int = 4096) -> np.ndarray:
        """(n, C) class probabilities for one time series; NaN rows until the window is full.

        The per-row log-probabilities are EWMA-smoothed along the series (``smoothing``)."""
        w = self.config.window
        out = np.full((len(x), len(self.classes)), np.nan)
        if len(x) < w:
            return out
        feats = self._features(x)[w - 1 :]
        logp = []
        with torch.no_grad():
            for start in range(0, len(feats), batch):
                chunk = torch.tensor(feats[start : start + batch], dtype=torch.float32)
                logp.append(torch.log_softmax(self.net(chunk), dim=1).double().numpy())
        lp = np.concatenate(logp)
        lam = float(self.config.smoothing)
        if lam < 1.0:
            acc = lp[0].copy()
            for i in range(len(lp)):
                acc = lam * lp[i] + (1.0 - lam) * acc
                lp[i] = acc
        lp -= lp.max(axis=1, keepdims=True)
        p = np.exp(lp)
        out[w - 1 :] = p / p.sum(axis=1, keepdims=True)
        return out

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class ids per row, -1 until the window is full."""
        proba = self.predict_proba(x)
        labels = np.full(len(x), -1, dtype=np.int64)
        full = ~np.isnan(proba[:, 0])
        labels[full] = proba[full].argmax(axis=1)
        return labels

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> Path:
        meta = {
            "task": TASK,
            "kind": "rolling-features-mlp",
            "features": self.features,
            "classes": self.classes,
            "window": self.window,
            "config": asdict(self.config),
            "standardiser": self.standardiser.to_dict(),
            "info": self.info,
            **(extra or {}),
        }
        return save_bundle(directory, meta, self.net)

    @classmethod
    def load(cls, directory: str | Path) -> FaultClassifier:
        meta, state = read_bundle(directory)
        config = ClassifierConfig(**meta["config"])
        net = FeatureNet(5 * len(meta["features"]), len(meta["classes"]), config)
        net.load_state_dict(state)
        net.eval()
        return cls(
            list(meta["features"]),
            list(meta["classes"]),
            config,
            Standardiser.from_dict(meta["standardiser"]),
            net,
            meta.get("info", {}),
        )
