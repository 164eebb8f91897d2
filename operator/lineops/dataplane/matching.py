"""Join material lots to sensor windows, point-in-time correct: the training set.

A lot (``lot, work_unit, start, end, product`` and whatever label columns are known, e.g.
``label`` or a measured ``ring_diameter``) gets the sensor features of its work unit computed
from readings with ``start <= timestamp <= as_of``, where ``as_of`` is the lot's
``decision_time`` when given (the moment a model would have had to predict) and its ``end``
otherwise. Nothing after ``as_of`` can reach a row, so a model trained on the set never sees
the future. The aggregates use the same formulas as the online features
(:mod:`lineops.dataplane.features`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np
import pandas as pd

from lineops.dataplane.features import features_from_stats, group_stats, wide_features

LOT_COLUMNS: Final = ("lot", "work_unit", "start", "end")
AS_OF: Final = "as_of"
KEYS: Final = frozenset({"lot", "work_unit"})


class LotsError(ValueError):
    """The lots table is unusable (missing column, bad time, end before start)."""


def normalise_lots(lots: pd.DataFrame) -> pd.DataFrame:
    """Check the lots table and add ``as_of`` (UTC)."""
    for column in LOT_COLUMNS:
        if column not in lots.columns:
            raise LotsError(f"lots: missing column {column!r}")
    if AS_OF in lots.columns:  # it was overwritten without a word
        raise LotsError(
            f"lots: column {AS_OF!r} is lineops's own (each lot's cut-off: decision_time, else "
            "end); rename yours"
        )
    out = lots.copy()
    for column in ("lot", "work_unit"):
        # astype(str) below made an empty cell the lot "nan", matched like any other.
        empty = out[column].isna() | (out[column].astype(str).str.strip() == "")
        if empty.any():
            raise LotsError(f"lots row {int(np.argmax(empty.to_numpy()))}: {column} is missing")
    keys = out["lot"].astype(str) + "\x00" + out["work_unit"].astype(str)
    repeated = keys.duplicated()
    if repeated.any():
        # Each row would get every window of its lot and unit: features from after its end.
        row = int(np.argmax(repeated.to_numpy()))
        first = int(np.argmax((keys == keys.iloc[row]).to_numpy()))
        raise LotsError(
            f"lots row {row}: lot {out['lot'].iloc[row]!r} on {out['work_unit'].iloc[row]!r} "
            f"is already in row {first} (one row per lot and work unit)"
        )
    for column in ("start", "end", "decision_time"):
        if column in out.columns:
            parsed = pd.to_datetime(out[column], utc=True, format="ISO8601", errors="coerce")
            missing = parsed.isna() & out[column].notna()
            if missing.any() or (column != "decision_time" and parsed.isna().any()):
                row = int(np.argmax((missing | parsed.isna()).to_numpy()))
                cell = out[column].iloc[row]
                if pd.isna(cell):
                    raise LotsError(f"lots row {row}: {column} is missing")
                raise LotsError(f"lots row {row}: {column} is not a time: {str(cell)!r}")
            out[column] = parsed
    if (out["end"] < out["start"]).any():
        row = int(np.argmax((out["end"] < out["start"]).to_numpy()))
        raise LotsError(f"lots row {row}: end before start")
    as_of = out["end"]
    if "decision_time" in out.columns:
        as_of = out["decision_time"].fillna(out["end"])
    out[AS_OF] = as_of
    out["lot"] = out["lot"].astype(str)
    out["work_unit"] = out["work_unit"].astype(str)
    return out


def training_set(
    readings: pd.DataFrame, lots: pd.DataFrame, sensors: Sequence[str]
) -> pd.DataFrame:
    """One row per lot: the lot's columns, ``as_of``, and ``<sensor>__<aggregate>`` features
    over its work unit's readings in ``[start, as_of]``."""
    lots = normalise_lots(lots)
    if lots.empty:
        return lots
    stamps = pd.to_datetime(readings["timestamp"], utc=True).astype("datetime64[ns, UTC]")
    frame = pd.DataFrame(
        {
            "work_unit": readings["work_unit"].astype(str).to_numpy(),
            "sensor": readings["sensor"].astype(str).to_numpy(),
            "ts": stamps.astype("int64").to_numpy(),
            "value": readings["value"].to_numpy(dtype=float),
        }
    ).sort_values(["work_unit", "ts"], kind="stable")
    parts: list[pd.DataFrame] = []
    for unit, unit_lots in lots.groupby("work_unit", sort=False):
        rows = frame[frame["work_unit"] == unit]
        ts = rows["ts"].to_numpy()
        starts = unit_lots["start"].astype("int64").to_numpy()
        cutoffs = unit_lots[AS_OF].astype("int64").to_numpy()
        lo = np.searchsorted(ts, starts, side="left")
        hi = np.searchsorted(ts, cutoffs, side="right")  # includes as_of, excludes after
        counts = hi - lo
        if counts.sum() == 0:
            continue
        # Every reading of each lot's slice, tagged with the lot's position (lots may overlap).
        index = np.concatenate([np.arange(a, b) for a, b in zip(lo, hi, strict=True)])
        owner = np.repeat(np.arange(len(unit_lots)), counts)
        stats = group_stats(
            rows["work_unit"].to_numpy(dtype=object)[index],
            rows["sensor"].to_numpy(dtype=object)[index],
            ts[index],
            rows["value"].to_numpy()[index],
            owner,
            cutoffs[owner],
        )
        long = pd.concat([stats[["group", "sensor"]], features_from_stats(stats)], axis=1)
        wide = wide_features(long, sensors, ["group"])
        wide["lot"] = unit_lots["lot"].to_numpy()[wide["group"].to_numpy()]
        wide["work_unit"] = unit
        parts.append(wide.drop(columns=["group"]))
    feature_columns = [c for c in wide_features(pd.DataFrame(), sensors, []).columns]
    features = (
        pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=["lot", "work_unit"])
    )
    clash = sorted(set(lots.columns) & (set(features.columns) | set(feature_columns)) - KEYS)
    if clash:  # pandas kept both as <name>_x and <name>_y, or the lot's column passed as one
        raise LotsError(f"lots: column {clash[0]!r} is also a feature's name; rename it")
    out = lots.merge(features, on=["lot", "work_unit"], how="left")
    for column in feature_columns:
        if column not in out.columns:
            out[column] = np.nan
        if column.endswith("__count"):
            out[column] = out[column].fillna(0).astype(np.int64)
    return out


def read_lots(path: str) -> pd.DataFrame:
    """Lots from CSV or Parquet (by extension)."""
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype={"lot": str, "work_unit": str})
