"""Shared pieces of the quality models: seeding, standardisation, windows, training loop, I/O.

A saved model is a directory with two files:

* ``model.json``: task, feature list, window, standardiser, threshold, classes, config, metrics;
* ``weights.pt``: the torch ``state_dict`` (loaded with ``weights_only=True``).

``TorchModelBase`` holds what the three models share: their attributes, ``window`` and the
save/load of that bundle.
"""

from __future__ import annotations

import json
import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Self, cast

import numpy as np
import torch
from torch import nn

MODEL_JSON = "model.json"
WEIGHTS = "weights.pt"
FORMAT_VERSION = 1
MAX_THREADS = 2
FIT_OPTIONS = ("epochs", "batch_size", "lr", "weight_decay", "patience")


def set_seed(seed: int) -> torch.Generator:
    """Seed every RNG the training uses and make torch deterministic on CPU."""
    random.seed(seed)
    np.random.seed(seed % (2**32))
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)
    if torch.get_num_threads() > MAX_THREADS:
        torch.set_num_threads(MAX_THREADS)
    generator = torch.Generator()
    generator.manual_seed(seed)
    return generator


@dataclass
class Standardiser:
    """Per-feature z-scores; fitted on training rows only and saved with the model."""

    mean: np.ndarray
    scale: np.ndarray

    @classmethod
    def fit(cls, x: np.ndarray) -> Standardiser:
        x = np.asarray(x, dtype=np.float64)
        scale = x.std(axis=0, ddof=1) if len(x) > 1 else np.ones(x.shape[1])
        scale = np.where(np.isfinite(scale) & (scale > 1e-12), scale, 1.0)
        return cls(mean=x.mean(axis=0), scale=scale)

    def transform(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(x, dtype=np.float64) - self.mean) / self.scale

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": self.mean.tolist(), "scale": self.scale.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Standardiser:
        return cls(mean=np.asarray(data["mean"], float), scale=np.asarray(data["scale"], float))


def sliding_windows(x: np.ndarray, window: int) -> np.ndarray:
    """(n, F) -> (n - window + 1, window, F); the window ending at row i is entry i-window+1."""
    if len(x) < window:
        return np.empty((0, window, x.shape[1]), dtype=x.dtype)
    view = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)  # (n-w+1, F, w)
    return np.ascontiguousarray(view.transpose(0, 2, 1))


def ewma(values: np.ndarray, lam: float, start: float) -> np.ndarray:
    """Exponentially weighted moving average, NaN inputs pass through as NaN (not updated)."""
    out = np.full(len(values), np.nan)
    acc = start
    for i, value in enumerate(values):
        if np.isfinite(value):
            acc = lam * value + (1.0 - lam) * acc
            out[i] = acc
    return out


def lag1_autocorrelation(values: np.ndarray) -> float:
    centred = values - values.mean()
    denom = float((centred**2).sum())
    return float((centred[1:] * centred[:-1]).sum() / denom) if denom > 0 else 0.0


def ewma_threshold(stat: np.ndarray, lam: float, quantile: float) -> tuple[float, float]:
    """Upper ``quantile`` of the in-control EWMA (weight ``lam``) of a statistic, from its
    values on held-out normal rows; returns (threshold, lag-1 autocorrelation used).

    Box's scaled chi-square approximation with the statistic modelled as AR(1): mean m,
    variance v * lam / (2 - lam) * (1 + (1 - lam) phi) / (1 - (1 - lam) phi). Far steadier
    than an empirical quantile of a few hundred strongly autocorrelated EWMA values."""
    from scipy import stats

    mean, var = float(stat.mean()), float(stat.var(ddof=1))
    phi = float(np.clip(lag1_autocorrelation(stat), 0.0, 0.95))
    ewma_var = var * lam / (2.0 - lam) * (1 + (1 - lam) * phi) / (1 - (1 - lam) * phi)
    g, h = ewma_var / (2.0 * mean), 2.0 * mean**2 / ewma_var
    return float(g * stats.chi2.ppf(quantile, h)), phi


def time_split(n: int, fraction: float, gap: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Indices of the first (1 - fraction) rows and of the last rows after a gap (no leakage)."""
    cut = round(n * (1.0 - fraction))
    return np.arange(0, cut), np.arange(min(n, cut + gap), n)


@dataclass
class History:
    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False


def fit_torch(
    model: nn.Module,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    train: tuple[torch.Tensor, torch.Tensor],
    val: tuple[torch.Tensor, torch.Tensor],
    *,
    epochs: int,
    generator: torch.Generator,
    batch_size: int = 128,
    lr: float = 1e-3,
    weight_decay: float = 0.0,
    patience: int = 8,
    noise: float = 0.0,
) -> History:
    """Mini-batch AdamW with early stopping on the validation loss; keeps the best weights."""
    x_train, y_train = train
    x_val, y_val = val
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    history = History()
    best = float("inf")
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    bad = 0
    for epoch in range(epochs):
        model.train()
        order = torch.randperm(len(x_train), generator=generator)
        total = 0.0
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            xb = x_train[idx]
            if noise > 0:
                xb = xb + noise * torch.randn(xb.shape, generator=generator)
            loss = loss_fn(model(xb), y_train[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
        history.train_loss.append(total / max(1, len(order)))
        model.eval()
        with torch.no_grad():
            val_loss = float(loss_fn(model(x_val), y_val)) if len(x_val) else history.train_loss[-1]
        history.val_loss.append(val_loss)
        if val_loss < best - 1e-6:
            best, bad, history.best_epoch = val_loss, 0, epoch
            best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        else:
            bad += 1
            if bad >= patience:
                history.stopped_early = True
                break
    model.load_state_dict(best_state)
    model.eval()
    return history


def fit_options(config: Any) -> dict[str, Any]:
    """The ``fit_torch`` options a model config sets (epochs, batch size, lr, weight decay,
    patience)."""
    return {name: getattr(config, name) for name in FIT_OPTIONS}


def save_bundle(directory: str | Path, meta: dict[str, Any], model: nn.Module) -> Path:
    path = Path(directory)
    path.mkdir(parents=True, exist_ok=True)
    torch.save(model.state_dict(), path / WEIGHTS)
    meta = {"format_version": FORMAT_VERSION, **meta}
    (path / MODEL_JSON).write_text(json.dumps(meta, indent=2, sort_keys=True) + "\n")
    return path


def read_bundle(directory: str | Path) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    path = Path(directory)
    meta = json.loads((path / MODEL_JSON).read_text())
    state = torch.load(path / WEIGHTS, map_location="cpu", weights_only=True)
    return meta, state


class TorchModelBase(ABC):
    """A quality model: feature names, config dataclass, input standardiser, torch net, info.

    Subclasses set ``task``, ``kind`` (both written to ``model.json``) and ``config_type``, and
    say how to rebuild their net (``_build_net``) and which entries of their own they keep in
    ``model.json`` (``_bundle_fields``, read back as constructor arguments by
    ``_fields_from_bundle``).
    """

    task: ClassVar[str]
    kind: ClassVar[str]
    config_type: ClassVar[type[Any]]

    config: Any
    net: nn.Module

    def __init__(
        self,
        features: list[str],
        config: Any,
        standardiser: Standardiser,
        net: nn.Module,
        info: dict[str, Any] | None = None,
    ) -> None:
        self.features = features
        self.config = config
        self.standardiser = standardiser
        self.net = net
        self.info = info or {}

    @property
    def window(self) -> int:
        """Rows needed before the first output (``config.window`` unless a model overrides it)."""
        return cast(int, self.config.window)

    # --------------------------------------------------------------------------- I/O
    def _bundle_fields(self) -> dict[str, Any]:
        """The model's own entries of ``model.json``, beside the common ones."""
        return {}

    @classmethod
    def _fields_from_bundle(cls, meta: dict[str, Any]) -> dict[str, Any]:
        """Constructor arguments (by name) of the model's own, read back from ``model.json``."""
        return {}

    @classmethod
    @abstractmethod
    def _build_net(
        cls, meta: dict[str, Any], state: dict[str, torch.Tensor], config: Any
    ) -> nn.Module:
        """An untrained net of the saved shape, ready for ``load_state_dict(state)``."""

    def save(self, directory: str | Path, extra: dict[str, Any] | None = None) -> Path:
        meta = {
            "task": self.task,
            "kind": self.kind,
            "features": self.features,
            "window": self.window,
            "config": asdict(self.config),
            "standardiser": self.standardiser.to_dict(),
            **self._bundle_fields(),
            "info": self.info,
            **(extra or {}),
        }
        return save_bundle(directory, meta, self.net)

    @classmethod
    def _saved_config(cls, saved: dict[str, Any]) -> dict[str, Any]:
        """The config a bundle was saved with; a subclass fills in fields added since, so an
        older model keeps behaving as it did when it was evaluated and promoted."""
        return saved

    @classmethod
    def load(cls, directory: str | Path) -> Self:
        meta, state = read_bundle(directory)
        config = cls.config_type(**cls._saved_config(meta["config"]))
        net = cls._build_net(meta, state, config)
        net.load_state_dict(state)
        net.eval()
        return cls(
            features=list(meta["features"]),
            config=config,
            standardiser=Standardiser.from_dict(meta["standardiser"]),
            net=net,
            info=meta.get("info", {}),
            **cls._fields_from_bundle(meta),
        )
