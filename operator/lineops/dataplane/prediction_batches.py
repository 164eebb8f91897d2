"""Columnar prediction batches: a served model's ``predict_batch`` (a backfill of up to
100,000s of rows) posts one object per call instead of one record per row::

    {"batches": [{"modelTag": "te-fault:3x7...", "workUnit": "te-process", "lots": ["L-1", null],
                  "timestamp": "2026-11-29T10:00:00+00:00", "featureTimestamp": null,
                  "features": {"xmeas_01__last": [0.25, 0.26]},
                  "results": {"label": ["normal", null], "probabilities": [{...}, null]}}]}

``features`` maps a feature to its column of numbers, ``results`` a result field to its
column of JSON values (null: the field is not set for that row), ``lots`` (optional) a lot
per row; every column holds one value per row. The log still stores one prediction per row,
exactly the record the row-wise form would have posted (so lots are traced to the model tag
row by row), but what is the same for every row (tag, work unit, timestamps, feature names)
is checked once per batch and the numbers once per column, not per row.

A batch whose shape is wrong (a column that is not a list, columns of different lengths) is
refused whole (400 naming the field: nothing is stored). A value that cannot be stored (a
feature that is not a number, a lot that is not text) quarantines its row, as the record it
stands for, with ``batches[i].<field>[row]`` in the detail; a batch-level problem (an unknown
work unit, a bad timestamp) quarantines every row of the batch, as row-wise records would be.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from itertools import repeat
from typing import Any, Final

import msgspec

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.ingestion.reasons import RecordReason as R
from lineops.dataplane.json_paths import non_finite_path
from lineops.dataplane.prediction_records import MAX_FEATURES, MAX_RESULT, head
from lineops.dataplane.records import Parsed, Rejection, _Reject, _storable
from lineops.dataplane.repositories.predictions import Prediction

# Sorted keys at every level, as the row-wise path stores them (json.dumps(sort_keys=True)).
_encode = msgspec.json.Encoder(order="sorted").encode
MAX_FLOAT: Final = 1.7976931348623157e308  # a larger int is no float


def _columns(value: Any, field: str, rows: int | None) -> tuple[dict[str, list[Any]], int | None]:
    """``{name: column}`` with every column a list of the same length (the batch's rows)."""
    if not isinstance(value, Mapping):
        raise PayloadError(field, "must be an object of columns (name -> list of values)")
    columns: dict[str, list[Any]] = {}
    for name, column in value.items():
        if not isinstance(column, list):
            raise PayloadError(f"{field}.{name}", "must be a list (one value per row)")
        if rows is None:
            rows = len(column)
        elif len(column) != rows:
            raise PayloadError(f"{field}.{name}", f"{len(column)} values for {rows} rows")
        columns[str(name)] = column
    return columns, rows


def _feature_column(
    column: list[Any], name: str, where: str
) -> tuple[list[Any], dict[int, _Reject]]:
    """The column as floats (as the row-wise path stores them) and the rows whose value
    cannot be stored, with the reason (the row-wise path's checks)."""
    bad: dict[int, _Reject] = {}
    whole = False
    for row, value in enumerate(column):
        if type(value) is float:
            if math.isfinite(value):
                continue
        elif type(value) is int:
            whole = True
            if abs(value) <= MAX_FLOAT:
                continue
        field = f"{where}.features.{name}[{row}]"
        if isinstance(value, bool) or not isinstance(value, int | float):
            bad[row] = _Reject(R.NON_NUMERIC, f"{field}: {value!r:.80} is not a number")
        else:
            bad[row] = _Reject(R.NON_NUMERIC, f"{field}: {value!r:.80} is not finite")
    if whole:  # rare: a float per value only then
        column = [float(v) if type(v) is int and abs(v) <= MAX_FLOAT else v for v in column]
    return column, bad


def _lots(lots: list[Any] | None, rows: int, where: str, bad: dict[int, _Reject]) -> list[Any]:
    """A storable lot (or None) per row; rows whose lot is not one go to ``bad``."""
    if lots is None:
        return [None] * rows
    texts: list[Any] = []
    for row, lot in enumerate(lots):
        if lot is not None:
            try:
                if not isinstance(lot, str):
                    kind = type(lot).__name__
                    raise _Reject(
                        R.WRONG_TYPE, f"{where}.lots[{row}]: must be a string, got {kind}"
                    )
                _storable(lot, f"lots[{row}]", where)
            except _Reject as exc:
                bad.setdefault(row, exc)
        texts.append(lot)
    return texts


def _nones(column: list[Any]) -> list[int]:
    """Indices of the None values of ``column``, scanned in C (``list.index``): most columns
    of a batch hold none, or only the rows before a model's window is full."""
    found: list[int] = []
    at = -1
    while True:
        try:
            at = column.index(None, at + 1)
        except ValueError:
            return found
        found.append(at)


def _non_finite(results: Mapping[str, list[Any]], where: str) -> dict[int, _Reject]:
    """Rows whose result holds NaN or an infinity, as the row-wise path refuses them.

    msgspec writes NaN as null, so without this a NaN result was stored as null and
    accepted. One pass of the C encoder over the batch's results; the rows are looked for
    only when it fails.
    """
    try:
        json.dumps(results, allow_nan=False)
        return {}
    except ValueError:
        pass
    bad: dict[int, _Reject] = {}
    for name, column in results.items():
        for row, value in enumerate(column):
            try:
                json.dumps(value, allow_nan=False)
            except ValueError:
                bad.setdefault(row, _unstorable(value, f"{where}.results.{name}[{row}]"))
    return bad


def _unstorable(value: Any, field: str) -> _Reject:
    path = non_finite_path(value, field)
    if path:
        return _Reject(R.NON_NUMERIC, f"{path}: not a finite number")
    return _Reject(R.NON_NUMERIC, f"{field}: not storable JSON")


def _rows(keys: list[str], columns: list[list[Any]], rows: int) -> list[dict[str, Any]]:
    """A dict per row of the result fields set in it: a field that is None in a row is left
    out of its JSON, as the row-wise path leaves it out."""
    if not keys:
        return [{} for _ in range(rows)]
    out: list[dict[str, Any]] = list(map(dict, map(zip, repeat(keys), zip(*columns, strict=True))))
    for row in sorted({i for column in columns for i in _nones(column)}):
        out[row] = {k: v for k, v in out[row].items() if v is not None}
    return out


def _record(batch: Mapping[str, Any], row: int) -> dict[str, Any]:
    """Row ``row`` of a batch as the row-wise record it stands for (what is quarantined)."""
    features, results = batch.get("features") or {}, batch.get("results") or {}
    lots = batch.get("lots")
    return {
        "modelTag": batch.get("modelTag"),
        "workUnit": batch.get("workUnit"),
        "lot": None if not isinstance(lots, list) else lots[row],
        "timestamp": batch.get("timestamp"),
        "featureTimestamp": batch.get("featureTimestamp"),
        "features": {name: column[row] for name, column in features.items()},
        "result": {k: c[row] for k, c in results.items() if c[row] is not None},
    }


def _batch(
    spec: ProductionLineSpec, batch: Any, where: str, first: int, out: Parsed[Prediction]
) -> None:
    """Append the batch's rows to ``out`` (accepted or rejected); ``first``: the index the
    batch's first row gets in the answer's rejections (rows are counted across batches)."""
    if not isinstance(batch, Mapping):
        raise PayloadError(where, "must be an object (modelTag, timestamp, features, results)")
    features, rows = _columns(batch.get("features"), f"{where}.features", None)
    if not features:
        raise PayloadError(f"{where}.features", "missing or empty: a column per feature")
    results, rows = _columns(batch.get("results") or {}, f"{where}.results", rows)
    lots = batch.get("lots")
    if lots is not None and not isinstance(lots, list):
        raise PayloadError(f"{where}.lots", "must be a list (a lot or null per row)")
    if lots is not None and len(lots) != rows:
        raise PayloadError(f"{where}.lots", f"{len(lots)} lots for {rows} rows")
    assert rows is not None
    bad: dict[int, _Reject] = {}
    tag, unit, timestamp, feature_ts = "", None, "", None
    try:
        tag, unit, timestamp, feature_ts = head(spec, batch, where)
        if len(features) > MAX_FEATURES:
            raise _Reject(R.WRONG_TYPE, f"{where}.features: more than {MAX_FEATURES} features")
        for name in features:
            _storable(name, "features", where)
    except _Reject as exc:  # the same for every row: every row is quarantined with it
        bad = dict.fromkeys(range(rows), exc)
    names = sorted(features)
    feature_columns = []
    for name in names:
        column, problems = _feature_column(features[name], name, where)
        feature_columns.append(column)
        for row, problem in problems.items():
            bad.setdefault(row, problem)
    lot_texts = _lots(lots, rows, where, bad)
    keys = sorted(results)
    result_rows = _rows(keys, [results[k] for k in keys], rows)
    if not bad:
        # Row JSON made with C-level iteration (map/zip over the columns) and one msgspec
        # call per row: a Python loop per row was about half of the data plane's time on a
        # backfill (benchmarks/serving.py). A result too long to store takes the loop below.
        encoded = list(map(_encode, result_rows))
        # msgspec writes NaN and the infinities as null (a None is left out of a row), so
        # only a null anywhere calls for the precise check, which the row loop makes.
        clean = b"null" not in b"".join(encoded)
        if clean and (not encoded or max(map(len, encoded)) <= MAX_RESULT):
            feature_rows = map(dict, map(zip, repeat(names), zip(*feature_columns, strict=True)))
            out.accepted.extend(
                map(
                    Prediction,
                    repeat(tag),
                    repeat(unit),
                    lot_texts,
                    repeat(timestamp),
                    repeat(feature_ts),
                    map(bytes.decode, map(_encode, feature_rows)),
                    map(bytes.decode, encoded),
                )
            )
            return
    # Some row has a problem: one row at a time, the others' values never encoded.
    for row, problem in _non_finite(results, where).items():
        bad.setdefault(row, problem)
    for row, values in enumerate(zip(*feature_columns, strict=True)):
        if row in bad:
            continue
        result = _encode(result_rows[row])
        if len(result) > MAX_RESULT:
            detail = f"{where}.results[{row}]: longer than {MAX_RESULT} characters as JSON"
            bad[row] = _Reject(R.WRONG_TYPE, detail)
            continue
        out.accepted.append(
            Prediction(
                tag,
                unit,
                lot_texts[row],
                timestamp,
                feature_ts,
                _encode(dict(zip(names, values, strict=True))).decode(),
                result.decode(),
            )
        )
    _reject(batch, bad, first, out)


def _reject(
    batch: Mapping[str, Any], bad: dict[int, _Reject], first: int, out: Parsed[Any]
) -> None:
    """The ``bad`` rows to ``out.rejected``, as the records they stand for, in row order."""
    for row in sorted(bad):
        problem = bad[row]
        out.rejected.append(
            Rejection(first + row, problem.reason, problem.detail, _record(batch, row))
        )


def parse_batches(spec: ProductionLineSpec, batches: Any, out: Parsed[Prediction]) -> None:
    """Validate ``batches`` (the body's list) into ``out``; rejections are indexed by row,
    counted from ``out.received`` (after the body's row-wise ``records``, if any)."""
    if not isinstance(batches, list):
        raise PayloadError("batches", "not a list")
    for i, batch in enumerate(batches):
        _batch(spec, batch, f"batches[{i}]", out.received, out)
