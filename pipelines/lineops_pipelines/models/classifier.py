"""Fault classification from rolling-window features of recent samples (CPU).

Every row of a time series is described by causal rolling features of its standardised
variables over the last ``window`` samples: last value, mean, standard deviation and
last-minus-first (``rolling_features``; optionally, with ``diff_window`` > 0, the standard
deviation of the first differences over a longer window). Two models map these to classes:

* an extremely randomised forest (``trees`` trees; fitted with scikit-learn, then exported to
  plain node arrays stored in ``weights.pt``, so loading needs neither pickle nor sklearn).
  Trees saturate outside the training range, which matters on TE: the test runs go on 16 h
  longer after the fault than the training runs, and drifting faults leave the training range;
* a torch MLP on the clipped, standardised features (weight ``net_weight`` in the average of
  the two models' probabilities; 0 = forest only).

At prediction time the per-row probabilities are filtered along the series, causally (a row
uses only rows up to itself), because faults persist and the evidence of successive windows
should add up. ``sequence="hmm"`` (default) is the forward pass of a hidden Markov model over
the classes (``sequence.filter_sequence``): normal turns into some fault with probability
``switch_onset`` per row, a fault is repaired (back to normal) with ``switch_repair`` and turns
into another fault with ``switch_fault``; a row's class probabilities, raised to
``evidence_weight`` (< 1 because consecutive windows share all but one row), are its evidence;
the belief starts uniform. The rates were chosen on training streams in which faults get
repaired and others follow (``classifier_selection.classifier_stream_validation``).
``sequence="ewma"`` averages the log-probabilities with weight ``smoothing``.

Classes whose held-out training rows the model cannot tell from normal ones
(``normal_like_test``; ``sequence.holdout_normal_like``) are one state with normal in the
filter and are REPORTED as normal (``predict``), the most probable class kept as the raw class
(``predict_raw``); ``card()`` records both, with the filter's prior, in ``model.json``.

Labels are class ids (0 = normal); ``classes`` stores their names. Rows before the first full
``window`` get no label.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from lineops_pipelines.models.common import (
    Standardiser,
    TorchModelBase,
    fit_options,
    fit_torch,
    set_seed,
    time_split,
)
from lineops_pipelines.models.sequence import (
    filter_rows,
    filter_sequence,
    holdout_normal_like,
    padded_proba,
    report,
    transition_matrix,
)

__all__ = ["ClassifierConfig", "FaultClassifier", "filter_sequence", "transition_matrix"]

TASK = "fault-classification"
FEATURE_CLIP = 5.0
# Up to this many rows the forest is walked in Python (``Forest._walk``), above vectorised.
WALK_ROWS = 8
SEQUENCE_FILTERS = ("hmm", "ewma", "none")


@dataclass
class ClassifierConfig:
    window: int = 20  # last, mean, std, last - first over this many samples
    # > 0: add the std of first differences over this many samples; 20 won on training streams
    # with repairs (benchmarks/te_variants.py, seeds 0 and 1: +0.014 / +0.024 macro-F1)
    diff_window: int = 20
    trees: int = 300  # extremely randomised trees (0: MLP only)
    # features tried per split, as a fraction of all (0: sqrt(n)); 0.3 was chosen on held-out
    # parts of the TE training files only (docs/benchmarks.md, fault classification)
    max_features: float = 0.3
    net_weight: float = 1.0 / 3.0  # weight of the torch MLP's probabilities (0: forest only)
    # Along-the-series filter; the HMM settings were chosen on spliced onsets built from the TE
    # training files only (training.classifier_onset_validation, docs/benchmarks.md).
    sequence: str = "hmm"  # "hmm" | "ewma" | "none"
    switch_onset: float = 0.1  # P(normal -> some fault) per row
    switch_repair: float = 1e-3  # P(fault -> normal) per row: a repair
    switch_fault: float = 1e-8  # P(fault -> another fault) per row
    evidence_weight: float = 0.2  # exponent on a row's class probabilities
    smoothing: float = 0.05  # ewma: weight of the newest row's log-probabilities
    hidden: int = 256
    dropout: float = 0.2
    val_fraction: float = 0.2
    epochs: int = 40
    lr: float = 1e-3
    weight_decay: float = 1e-4
    batch_size: int = 128
    patience: int = 8
    noise: float = 0.0
    label_smoothing: float = 0.05
    # Classes whose held-out training rows cannot be told from normal ones are reported as
    # normal (raw class kept aside); see sequence.holdout_normal_like.
    normal_like_test: bool = True

    def __post_init__(self) -> None:
        if self.sequence not in SEQUENCE_FILTERS:
            raise ValueError(
                f"sequence: {self.sequence!r} is not one of {', '.join(SEQUENCE_FILTERS)}"
            )
        for name in ("switch_onset", "switch_repair", "switch_fault"):
            if not 0.0 <= getattr(self, name) < 1.0:
                raise ValueError(f"{name}: must be in [0, 1), got {getattr(self, name)}")
        if not 0.0 < self.evidence_weight <= 1.0:
            raise ValueError(f"evidence_weight: must be in (0, 1], got {self.evidence_weight}")
        if not 0.0 < self.smoothing <= 1.0:
            raise ValueError(f"smoothing: must be in (0, 1], got {self.smoothing}")

    @property
    def history(self) -> int:
        """Rows of history one feature vector depends on."""
        return max(self.window, self.diff_window)


def window_stats(x: torch.Tensor) -> torch.Tensor:
    """(batch, window, F) -> (batch, 4F): last, mean, std, last - first (used by failure.py)."""
    return torch.cat([x[:, -1], x.mean(1), x.std(1), x[:, -1] - x[:, 0]], dim=1)


def _rolling(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Causal rolling mean and population std over the last (up to) ``w`` rows."""
    n = len(x)
    zero = np.zeros((1, x.shape[1]))
    c1 = np.vstack([zero, np.cumsum(x, axis=0)])
    c2 = np.vstack([zero, np.cumsum(x * x, axis=0)])
    end = np.arange(1, n + 1)
    start = np.maximum(0, end - w)
    count = (end - start)[:, None].astype(float)
    mean = (c1[end] - c1[start]) / count
    var = np.maximum((c2[end] - c2[start]) / count - mean**2, 0.0)
    return mean, np.sqrt(var)


def rolling_features(z: np.ndarray, window: int, diff_window: int = 0) -> np.ndarray:
    """(n, F) standardised rows -> (n, 4F or 5F) causal features; NaN before ``window`` rows.

    Last value, window mean, window std, last-minus-first over ``window`` rows, then (when
    ``diff_window`` > 0) the std of first differences over up to ``diff_window`` rows."""
    n, f = z.shape
    width = 5 * f if diff_window > 0 else 4 * f
    out = np.full((n, width), np.nan)
    if n < window:
        return out
    mean, std = _rolling(z, window)
    first = np.full_like(z, np.nan)
    first[window - 1 :] = z[: n - window + 1]
    parts = [z, mean, std, z - first]
    if diff_window > 0:
        _, dstd = _rolling(np.diff(z, axis=0), diff_window)
        parts.append(np.vstack([np.full((1, f), np.nan), dstd]))
    out[:] = np.hstack(parts)
    out[: window - 1] = np.nan
    return out


class Forest(nn.Module):
    """A fitted tree ensemble as flat node arrays (buffers), evaluated with numpy.

    Nodes of all trees are concatenated in scikit-learn's depth-first order, so an inner
    node's left child is the next node; ``right`` is the global id of the right child (-1 at a
    leaf), ``leaf_class`` the class of a (pure, fully grown) leaf, ``roots`` the first node of
    every tree. Thresholds are rounded down to float32 which, for float32 inputs, keeps every
    ``x <= threshold`` decision of the float64 original and halves the size."""

    def __init__(self, n_nodes: int = 0, n_trees: int = 0) -> None:
        super().__init__()
        self.register_buffer("feature", torch.zeros(n_nodes, dtype=torch.int16))
        self.register_buffer("threshold", torch.zeros(n_nodes, dtype=torch.float32))
        self.register_buffer("right", torch.zeros(n_nodes, dtype=torch.int32))
        self.register_buffer("leaf_class", torch.zeros(n_nodes, dtype=torch.int16))
        self.register_buffer("roots", torch.zeros(n_trees, dtype=torch.int32))

    @classmethod
    def from_sklearn(cls, estimators: list[Any], classes: Any = None) -> Forest:
        """``classes``: the ensemble's ``classes_``. Its trees vote with indices into it, so
        labels with gaps (a class without rows) must be mapped back through it."""
        feats, thresholds, rights, leaf_classes, roots = [], [], [], [], []
        offset = 0
        for est in estimators:
            tree = est.tree_
            leaf = tree.children_left < 0
            inner = ~leaf
            if np.any(tree.children_left[inner] != np.flatnonzero(inner) + 1):
                raise ValueError("unexpected tree layout: left child is not the next node")
            t64 = np.asarray(tree.threshold, dtype=np.float64)
            t32 = t64.astype(np.float32)
            t32 = np.where(
                t32.astype(np.float64) > t64, np.nextafter(t32, np.float32(-np.inf)), t32
            )
            roots.append(offset)
            feats.append(np.where(leaf, 0, tree.feature))
            thresholds.append(t32)
            rights.append(np.where(leaf, -1, tree.children_right + offset))
            labels = est.classes_ if classes is None else np.asarray(classes)
            leaf_classes.append(labels[tree.value[:, 0].argmax(axis=1)])
            offset += tree.node_count
        forest = cls(offset, len(roots))
        forest.feature = torch.tensor(np.concatenate(feats), dtype=torch.int16)
        forest.threshold = torch.tensor(np.concatenate(thresholds), dtype=torch.float32)
        forest.right = torch.tensor(np.concatenate(rights), dtype=torch.int32)
        forest.leaf_class = torch.tensor(np.concatenate(leaf_classes), dtype=torch.int16)
        forest.roots = torch.tensor(roots, dtype=torch.int32)
        return forest

    def _arrays(self) -> tuple[np.ndarray, ...]:
        """The node buffers as numpy arrays (feature, threshold, right, leaf class, roots),
        converted once per set of buffers rather than on every call (loading replaces the
        buffers, so they are keyed by the tensors themselves)."""
        key = (self.feature, self.threshold, self.right, self.leaf_class, self.roots)
        cached = self.__dict__.get("_numpy")
        if cached is None or any(a is not b for a, b in zip(cached[0], key, strict=True)):
            arrays = (
                self.feature.numpy().astype(np.int64),
                self.threshold.numpy(),
                self.right.numpy().astype(np.int64),
                self.leaf_class.numpy().astype(np.int64),
                self.roots.numpy().astype(np.int64),
            )
            # Python lists of the same values for ``_walk`` (thresholds as exact floats).
            lists = tuple(a.tolist() for a in arrays)
            cached = (key, arrays, lists)
            self.__dict__["_numpy"] = cached
        return cached[1] + cached[2]  # type: ignore[no-any-return]

    def proba(self, x: np.ndarray, n_classes: int) -> np.ndarray:
        """(n, D) float features -> (n, C) share of trees voting for each class."""
        feature, threshold, right, leaf_class, roots, *lists = self._arrays()
        x32 = np.asarray(x, dtype=np.float32)  # scikit-learn's trees compare float32 inputs
        if len(x32) <= WALK_ROWS:
            return self._walk(x32, n_classes, lists)
        rows = np.arange(len(x))[:, None]
        node = np.tile(roots, (len(x), 1))
        inner = right[node] >= 0
        while inner.any():
            go_left = x32[rows, feature[node]] <= threshold[node]
            node = np.where(inner, np.where(go_left, node + 1, right[node]), node)
            inner = right[node] >= 0
        votes = leaf_class[node]  # (n, trees)
        out = np.zeros((len(x), n_classes))
        np.add.at(out, (np.repeat(np.arange(len(x)), votes.shape[1]), votes.ravel()), 1.0)
        return out / max(1, votes.shape[1])

    @staticmethod
    def _walk(x32: np.ndarray, n_classes: int, lists: list[list[Any]]) -> np.ndarray:
        """``proba`` for a few rows, one tree at a time in Python: a served prediction scores
        one row, for which the vectorised walk's dozens of small numpy calls per tree level
        cost several times more. The same float32 comparisons (a float32 is exactly a
        Python float), so the same votes."""
        feature, threshold, right, leaf_class, roots = lists
        out = np.zeros((len(x32), n_classes))
        for i, values in enumerate(x32.tolist()):
            for node in roots:
                while right[node] >= 0:
                    node = node + 1 if values[feature[node]] <= threshold[node] else right[node]
                out[i, leaf_class[node]] += 1.0
        return out / max(1, len(roots))


class FeatureNet(nn.Module):
    """The torch MLP over standardised, clipped features, plus the exported forest."""

    def __init__(
        self,
        n_inputs: int,
        n_classes: int,
        config: ClassifierConfig,
        n_nodes: int = 0,
        n_trees: int = 0,
    ) -> None:
        super().__init__()
        h = config.hidden
        self.register_buffer("mean", torch.zeros(n_inputs))
        self.register_buffer("scale", torch.ones(n_inputs))
        self.mlp = nn.Sequential(
            nn.Linear(n_inputs, h),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(h, h),
            nn.ReLU(),
            nn.Dropout(config.dropout),
            nn.Linear(h, n_classes),
        )
        self.forest = Forest(n_nodes, n_trees)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (batch, n_inputs) raw features
        z = ((x - self.mean) / self.scale).clamp(-FEATURE_CLIP, FEATURE_CLIP)
        if self.training:
            return self.mlp(z)  # type: ignore[no-any-return]
        # Evaluation: the same layers as functions (dropout is the identity then), the same
        # kernels and so the same numbers, without nn.Module's dispatch per layer, which cost
        # more than the arithmetic on the one row a served prediction scores.
        for layer in self.mlp:
            if isinstance(layer, nn.Linear):
                z = F.linear(z, layer.weight, layer.bias)
            elif isinstance(layer, nn.ReLU):
                z = torch.relu(z)
            elif not isinstance(layer, nn.Dropout):
                z = layer(z)  # any other layer as a module
        return z


class FaultClassifier(TorchModelBase):
    task = TASK
    kind = "rolling-features-forest-mlp"
    config_type = ClassifierConfig
    config: ClassifierConfig
    net: FeatureNet

    def __init__(
        self,
        features: list[str],
        classes: list[str],
        config: ClassifierConfig,
        standardiser: Standardiser,
        net: FeatureNet,
        info: dict[str, Any] | None = None,
        normal_like: list[int] | None = None,
    ) -> None:
        super().__init__(features, config, standardiser, net, info)
        self.classes = classes
        # class ids reported as normal (class 0): not told apart from it on held-out rows
        self.normal_like = sorted(normal_like or [])

    def _features(self, x: np.ndarray) -> np.ndarray:
        z = self.standardiser.transform(x)
        return rolling_features(z, self.config.window, self.config.diff_window)

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

        The forest is fitted on every row. The MLP stops early on the last ``val_fraction`` of
        every run (time split with a gap of the feature history, so no validation feature
        shares a row with a training feature) and is then used as it is.
        """
        from sklearn.ensemble import ExtraTreesClassifier

        config = config or ClassifierConfig()
        generator = set_seed(seed)
        w = config.window
        usable = [(x, y) for x, y in runs if len(x) >= w]
        if not usable:
            raise ValueError(f"fault-classification needs runs of at least {w} rows")
        standardiser = Standardiser.fit(np.vstack([x for x, _ in usable]))

        def arrays(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
            xs, ys = [], []
            for x, y in parts:
                if len(x) < w:
                    continue
                feats = rolling_features(standardiser.transform(x), w, config.diff_window)
                xs.append(feats[w - 1 :])
                ys.append(y[w - 1 :])
            n_inputs = (5 if config.diff_window > 0 else 4) * len(features)
            if not xs:
                return np.empty((0, n_inputs)), np.empty(0, dtype=np.int64)
            return np.concatenate(xs), np.concatenate(ys)

        x_all, y_all = arrays(usable)
        info: dict[str, Any] = {"train_windows": len(x_all)}
        forest = Forest()
        if config.trees > 0:
            trees = ExtraTreesClassifier(
                n_estimators=config.trees,
                max_features=config.max_features or "sqrt",
                n_jobs=2,
                random_state=seed,
            ).fit(x_all.astype(np.float32), y_all)
            forest = Forest.from_sklearn(trees.estimators_, trees.classes_)
            info["forest_nodes"] = len(forest.feature)
        net = FeatureNet(x_all.shape[1], len(classes), config, len(forest.feature), config.trees)
        net.forest = forest
        feat_std = Standardiser.fit(x_all)
        net.mean.copy_(torch.tensor(feat_std.mean))
        net.scale.copy_(torch.tensor(feat_std.scale))
        if config.net_weight > 0 or config.trees == 0:
            fit_runs, val_runs = [], []
            for x, y in usable:
                tr, va = time_split(len(x), config.val_fraction, gap=config.history - 1)
                fit_runs.append((x[tr], y[tr]))
                val_runs.append((x[va], y[va]))
            xf, yf = arrays(fit_runs)
            xv, yv = arrays(val_runs)
            x_train = torch.tensor(xf, dtype=torch.float32)
            y_train = torch.tensor(yf, dtype=torch.long)
            x_val = torch.tensor(xv, dtype=torch.float32)
            y_val = torch.tensor(yv, dtype=torch.long)
            counts = torch.bincount(y_train, minlength=len(classes)).float()
            weights = torch.where(
                counts > 0, counts.sum() / (len(classes) * counts.clamp(min=1)), 0
            )
            loss = nn.CrossEntropyLoss(weight=weights, label_smoothing=config.label_smoothing)
            history = fit_torch(
                net,
                loss,
                (x_train, y_train),
                (x_val, y_val),
                generator=generator,
                noise=config.noise,
                **fit_options(config),
            )
            with torch.no_grad():
                acc = float((net(x_val).argmax(1) == y_val).float().mean()) if len(x_val) else 0.0
            info.update(
                epochs_run=len(history.val_loss),
                best_epoch=history.best_epoch,
                val_loss=min(history.val_loss),
                val_accuracy=acc,
                val_windows=len(x_val),
            )
        normal_like: list[int] = []
        if config.normal_like_test and len(classes) > 1:
            fitter = _forest_fitter(config, len(classes), seed)
            test = holdout_normal_like(usable, fitter, config.history)
            normal_like = list(test["normal_like"])
            info["normal_like_test"] = {
                **test,
                "normal_like": [classes[c] for c in normal_like],
                "balanced_accuracy": {
                    classes[int(c)]: v for c, v in test["balanced_accuracy"].items()
                },
            }
        return cls(features, classes, config, standardiser, net, info, normal_like)

    def _row_proba(self, feats: np.ndarray, batch: int = 4096) -> np.ndarray:
        """Per-row class probabilities (no smoothing) from full feature rows."""
        c = self.config
        n_classes = len(self.classes)
        use_forest = c.trees > 0 and len(self.net.forest.feature) > 0
        weight = 1.0 if not use_forest else float(np.clip(c.net_weight, 0.0, 1.0))
        proba = np.zeros((len(feats), n_classes))
        if weight > 0:
            with torch.no_grad():
                for start in range(0, len(feats), batch):
                    chunk = torch.tensor(feats[start : start + batch], dtype=torch.float32)
                    p = torch.softmax(self.net(chunk), dim=1).double().numpy()
                    proba[start : start + batch] += weight * p
        if use_forest and weight < 1:
            for start in range(0, len(feats), batch):
                p = self.net.forest.proba(feats[start : start + batch], n_classes)
                proba[start : start + batch] += (1 - weight) * p
        return proba

    def row_proba(self, x: np.ndarray) -> np.ndarray:
        """(n, C) unfiltered per-row probabilities of one series; NaN until the window is full."""
        w = self.config.window
        out = np.full((len(x), len(self.classes)), np.nan)
        if len(x) >= w:
            out[w - 1 :] = self._row_proba(self._features(x)[w - 1 :])
        return out

    def filter(self, row_proba: np.ndarray, config: ClassifierConfig | None = None) -> np.ndarray:
        """The model's filter (or ``config``'s, to compare filters on the same rows) over
        consecutive per-row probabilities, normal-like classes and normal as one state; NaN
        rows (before the window) pass through."""
        return filter_rows(row_proba, config or self.config, self.normal_like)

    def predict_proba(self, x: np.ndarray) -> np.ndarray:
        """(n, C) class probabilities for one time series; NaN rows until the window is full.

        Per-row probabilities filtered along the series as ``config.sequence`` says."""
        return self.filter(self.row_proba(x))

    def report(self, proba: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(reported, raw) class ids per row from ``predict_proba``'s output: normal-like
        classes are reported as normal (0), the most probable class is kept as raw."""
        return report(proba, self.normal_like)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Reported class ids per row (normal-like classes as 0), -1 until the window is full."""
        return self.report(self.predict_proba(x))[0]

    def predict_raw(self, x: np.ndarray) -> np.ndarray:
        """Most probable class id per row, normal-like classes included; -1 before the window."""
        return self.report(self.predict_proba(x))[1]

    def card(self) -> dict[str, Any]:
        """What a reader of the model needs to trust its labels: the filter's prior and the
        classes it reports as normal, with the test that decided them."""
        c = self.config
        prior: dict[str, Any] = {"sequence": c.sequence}
        if c.sequence == "hmm":
            prior.update(
                initial="uniform over the classes (a series may start in any state)",
                normal_to_some_fault_per_row=c.switch_onset,
                fault_to_normal_per_row=c.switch_repair,
                fault_to_other_fault_per_row=c.switch_fault,
                evidence_weight=c.evidence_weight,
            )
        elif c.sequence == "ewma":
            prior["smoothing"] = c.smoothing
        return {
            "sequence_filter": prior,
            "reported_as_normal": [self.classes[i] for i in self.normal_like],
            "normal_like_test": self.info.get("normal_like_test"),
        }

    def _bundle_fields(self) -> dict[str, Any]:
        return {
            "classes": self.classes,
            "normal_like": [self.classes[i] for i in self.normal_like],
            "card": self.card(),
        }

    @classmethod
    def _saved_config(cls, saved: dict[str, Any]) -> dict[str, Any]:
        # Older bundles keep the behaviour they were evaluated with: the EWMA before the HMM
        # existed, one rate for repairs and fault switches, no normal-like test.
        saved = saved if "sequence" in saved else {**saved, "sequence": "ewma"}
        if "switch_repair" not in saved:
            saved = {**saved, "switch_repair": saved.get("switch_fault", 1e-8)}
        return {"normal_like_test": False, **saved}

    @classmethod
    def _fields_from_bundle(cls, meta: dict[str, Any]) -> dict[str, Any]:
        classes = list(meta["classes"])
        return {
            "classes": classes,
            "normal_like": [classes.index(c) for c in meta.get("normal_like", [])],
        }

    @classmethod
    def _build_net(
        cls, meta: dict[str, Any], state: dict[str, torch.Tensor], config: ClassifierConfig
    ) -> FeatureNet:
        return FeatureNet(
            int(state["mean"].shape[0]),
            len(meta["classes"]),
            config,
            int(state["forest.feature"].shape[0]),
            int(state["forest.roots"].shape[0]),
        )


def _forest_fitter(config: ClassifierConfig, n_classes: int, seed: int) -> Any:
    """A per-row forest on the model's own features, for the held-out normal-like test."""

    def fit(parts: list[tuple[np.ndarray, np.ndarray]]) -> Any:
        from sklearn.ensemble import ExtraTreesClassifier

        # Only rows with every feature window full, so held-out rows look like fitted ones.
        w = config.history
        standardiser = Standardiser.fit(np.vstack([x for x, _ in parts]))

        def features(x: np.ndarray) -> np.ndarray:
            return rolling_features(standardiser.transform(x), config.window, config.diff_window)

        xs = np.concatenate([features(x)[w - 1 :] for x, _ in parts])
        ys = np.concatenate([y[w - 1 :] for _, y in parts])
        forest = ExtraTreesClassifier(
            n_estimators=min(config.trees, 100) or 100,
            max_features=config.max_features or "sqrt",
            n_jobs=2,
            random_state=seed,
        ).fit(xs.astype(np.float32), ys)

        def proba(x: np.ndarray) -> np.ndarray:
            feats = features(x)[w - 1 :].astype(np.float32)
            return padded_proba(forest, feats, len(x), n_classes)

        return proba

    return fit
