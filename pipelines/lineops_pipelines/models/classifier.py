"""Fault classification over a short window of recent samples (torch, CPU).

The network sees the last ``window`` standardised samples (clipped to +/- ``clip`` so a fault
that drifts further than anything in training cannot drive the logits wild) and combines

* a 1-D CNN (or a GRU) over time, pooled over the whole window and over its last steps, with
* the window statistics a process engineer would look at: last value, mean, standard deviation
  and last-minus-first per variable.

Labels are class ids (0 = normal); ``classes`` stores their names. The window ending at row i
classifies row i; rows before the first full window get no label.
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
    sliding_windows,
    time_split,
)

TASK = "fault-classification"


@dataclass
class ClassifierConfig:
    window: int = 30
    arch: str = "cnn"  # cnn | gru | stats (MLP over the window statistics only)
    hidden: int = 64
    clip: float = 8.0
    dropout: float = 0.3
    val_fraction: float = 0.2
    epochs: int = 60
    lr: float = 2e-3
    weight_decay: float = 1e-2
    batch_size: int = 128
    patience: int = 10
    noise: float = 0.05
    label_smoothing: float = 0.05


def window_stats(x: torch.Tensor) -> torch.Tensor:
    """(batch, window, F) -> (batch, 4F): last, mean, std, last - first."""
    return torch.cat([x[:, -1], x.mean(1), x.std(1), x[:, -1] - x[:, 0]], dim=1)


class WindowNet(nn.Module):
    def __init__(self, n_features: int, n_classes: int, config: ClassifierConfig) -> None:
        super().__init__()
        h = config.hidden
        self.arch = config.arch
        self.clip = config.clip
        self.encoder: nn.Module | None = None
        width = 4 * n_features
        if config.arch == "cnn":
            self.encoder = nn.Sequential(
                nn.Conv1d(n_features, h, 5, padding=2),
                nn.ReLU(),
                nn.Conv1d(h, h, 5, padding=2),
                nn.ReLU(),
            )
            width += 2 * h
        elif config.arch == "gru":
            self.encoder = nn.GRU(n_features, h, batch_first=True)
            width += h
        elif config.arch != "stats":
            raise ValueError(f"unknown classifier arch {config.arch!r}")
        self.head = nn.Sequential(
            nn.LayerNorm(width),
            nn.Dropout(config.dropout),
            nn.Linear(width, 2 * h),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(2 * h, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, window, F)
        x = x.clamp(-self.clip, self.clip)
        parts = [window_stats(x)]
        if self.arch == "cnn":
            assert self.encoder is not None
            h = self.encoder(x.transpose(1, 2))
            parts += [h.mean(-1), h[..., -5:].mean(-1)]
        elif self.arch == "gru":
            assert isinstance(self.encoder, nn.GRU)
            _, last = self.encoder(x)
            parts.append(last[-1])
        return self.head(torch.cat(parts, dim=1))


class FaultClassifier:
    task = TASK

    def __init__(
        self,
        features: list[str],
        classes: list[str],
        config: ClassifierConfig,
        standardiser: Standardiser,
        net: WindowNet,
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
        one window, so no validation window overlaps a training window).
        """
        config = config or ClassifierConfig()
        generator = set_seed(seed)
        w = config.window
        fit_runs, val_runs = [], []
        for x, y in runs:
            tr, va = time_split(len(x), config.val_fraction, gap=w - 1)
            fit_runs.append((x[tr], y[tr]))
            val_runs.append((x[va], y[va]))
        standardiser = Standardiser.fit(np.vstack([x for x, _ in fit_runs]))

        def tensors(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[torch.Tensor, ...]:
            xs, ys = [], []
            for x, y in parts:
                if len(x) < w:
                    continue
                xs.append(sliding_windows(standardiser.transform(x), w))
                ys.append(y[w - 1 :])
            if not xs:
                return torch.empty((0, w, len(features))), torch.empty(0, dtype=torch.long)
            return (
                torch.tensor(np.concatenate(xs), dtype=torch.float32),
                torch.tensor(np.concatenate(ys), dtype=torch.long),
            )

        x_train, y_train = tensors(fit_runs)
        x_val, y_val = tensors(val_runs)
        if len(x_train) == 0:
            raise ValueError(f"fault-classification needs runs of at least {w} rows")
        net = WindowNet(len(features), len(classes), config)
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

    def predict_proba(self, x: np.ndarray, batch: int = 2048) -> np.ndarray:
        """(n, C) class probabilities for one time series; NaN rows until the window is full."""
        w = self.config.window
        out = np.full((len(x), len(self.classes)), np.nan)
        if len(x) < w:
            return out
        windows = sliding_windows(self.standardiser.transform(x), w)
        probs = []
        with torch.no_grad():
            for start in range(0, len(windows), batch):
                chunk = torch.tensor(windows[start : start + batch], dtype=torch.float32)
                probs.append(torch.softmax(self.net(chunk), dim=1).double().numpy())
        out[w - 1 :] = np.concatenate(probs)
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
            "kind": f"window-{self.config.arch}",
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
        net = WindowNet(len(meta["features"]), len(meta["classes"]), config)
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
