"""Decode reading payloads (JSON batches, CSV, Parquet and Arrow IPC uploads) into a
columnar batch.

Decoding decides only the *shape*: a payload whose envelope is wrong (not JSON, no
``readings`` array, a reading without ``timestamp``, a work unit that is not a string...) is
rejected whole with a :class:`PayloadError` naming the field. Everything about the *content*
of a well-formed reading (unknown sensor, ``"Bad"`` instead of a number, out of range,
duplicate, late) is decided later against the line spec, and such readings are quarantined,
never rejected: the sender did nothing wrong, its sensor did.

The hot path is columnar, because the endpoint must sustain half a million readings per
second: a JSON batch is decoded by msgspec straight into typed structs (no dicts), then
checked column by column (distinct names once, timestamps parsed by Arrow, values by numpy).
Historian junk (``"Bad"``, null, true as a value) is typed too and stays on this path.
Whatever the typed decoder refuses (a missing field, a work unit that is not a string, a
list as a value, not JSON at all) goes through the reference path instead, ``json.loads``
and the same checks, so a bad payload gets exactly the answer it always got; the slow,
precise per-reading walk only runs to name the first offending field of a payload that is
already known to be bad. Arrow IPC streams (:mod:`lineops.dataplane.ingestion.columnar`)
skip Python objects altogether.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter
from typing import Any, Final

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lineops.dataplane.errors import PayloadError
from lineops.dataplane.problems import media_type
from lineops.mes.data import MAX_VALUE

MAX_READINGS: Final = 1_000_000
# Reading times are nanoseconds since 1970 in an int64: 9999-12-31 is valid ISO 8601 but
# cannot be stored, and the error says which range can.
SPAN: Final = "1677-09-22..2262-04-11"
# Work units, sensors and lots are Kubernetes-style names; a lot longer than the lots API
# takes (253) would be stored and tracked but could never be read or closed.
MAX_TEXT: Final = 253
# Epoch-second timestamps outside 1900..2200 are certainly unit mistakes (ms, us).
MIN_EPOCH_S: Final = -2_208_988_800
MAX_EPOCH_S: Final = 7_258_118_400
REQUIRED: Final = ("work_unit", "sensor", "timestamp", "value")
_NUMBER: Final = re.compile(r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$")

CSV_TYPES: Final = frozenset({"text/csv", "application/csv"})
PARQUET_TYPES: Final = frozenset(
    {"application/vnd.apache.parquet", "application/x-parquet", "application/parquet"}
)
ARROW_TYPES: Final = frozenset(
    {"application/vnd.apache.arrow.stream", "application/x-apache-arrow-stream"}
)


@dataclass(frozen=True)
class Names:
    """A column of names factorised: ``distinct[codes]`` is the column. A line has a few
    work units and sensors, so whatever depends on a name (is it known, its valid range,
    its watermark, its Arrow string) is worked out once per distinct name."""

    codes: np.ndarray  # intp, into distinct
    distinct: np.ndarray  # object (str)

    @classmethod
    def of(cls, column: np.ndarray) -> Names:
        codes, distinct = pd.factorize(column)
        if len(codes) and codes.min() < 0:  # None/NaN get a code of their own
            codes, distinct = pd.factorize(column, use_na_sentinel=False)
        return cls(np.asarray(codes), np.asarray(distinct, dtype=object))

    def values(self, rows: np.ndarray | slice | None = None) -> np.ndarray:
        """The column (or its ``rows``), one string object per distinct name."""
        codes = self.codes if rows is None else self.codes[rows]
        taken: np.ndarray = self.distinct[codes]
        return taken

    def categorical(self) -> pd.Categorical:
        return pd.Categorical.from_codes(self.codes, categories=pd.Index(self.distinct))


@dataclass(frozen=True)
class RawBatch:
    """Well-formed readings, column by column; ``value`` is NaN where ``numeric`` is False,
    and ``raw_value`` keeps what was sent (for the quarantine). A decoder that factorised
    the name columns anyway hands them on in ``work_unit_names``/``sensor_names``."""

    work_unit: np.ndarray  # object (str)
    sensor: np.ndarray  # object (str)
    timestamp_ns: np.ndarray  # int64, UTC
    value: np.ndarray  # float64
    numeric: np.ndarray  # bool
    raw_value: Sequence[Any]
    lot: np.ndarray  # object (str | None)
    work_unit_names: Names | None = None
    sensor_names: Names | None = None

    def __len__(self) -> int:
        return len(self.timestamp_ns)

    def names(self) -> tuple[Names, Names]:
        """(work unit, sensor) factorised."""
        return (
            self.work_unit_names or Names.of(self.work_unit),
            self.sensor_names or Names.of(self.sensor),
        )

    @classmethod
    def empty(cls) -> RawBatch:
        none = np.array([], dtype=object)
        return cls(none, none, np.array([], np.int64), np.array([]), np.array([], bool), [], none)


def _utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from "\ud800" escapes
        return False
    return True


# ----------------------------------------------------------------------------- JSON


class _Reading(msgspec.Struct, gc=False):
    """One reading as the typed decoder accepts it. ``value`` takes every JSON scalar, so
    historian junk (``"Bad"``, null, true) stays on the fast path and is quarantined later;
    ``timestamp`` only what :func:`timestamps_ns` can convert."""

    work_unit: str
    sensor: str
    timestamp: str | int | float
    value: int | float | str | bool | None
    lot: str | None = None


class _Document(msgspec.Struct, gc=False):
    readings: list[_Reading]


_DECODER: Final = msgspec.json.Decoder(_Document)
_FIELDS: Final = ("work_unit", "sensor", "timestamp", "value", "lot")


def parse_json_batch(body: bytes | str) -> RawBatch:
    """``{"readings": [{work_unit, sensor, timestamp, value, lot?}, ...]}`` -> RawBatch.

    Typed decoding first; a document it refuses takes the reference path, which gives the
    same batch or names the offending field."""
    try:
        readings = _DECODER.decode(body).readings
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeError, RecursionError):
        return parse_json_reference(body)
    if len(readings) > MAX_READINGS:
        raise PayloadError("readings", f"too many readings ({len(readings)} > {MAX_READINGS})", 413)
    if not readings:
        return RawBatch.empty()
    columns = [list(map(attrgetter(name), readings)) for name in _FIELDS]
    return columns_batch(*columns, path="readings")


def parse_json_reference(body: bytes | str) -> RawBatch:
    """The reference decoder (stdlib ``json``, reading by reading): slower, and the one
    that names the first offending field of a bad payload."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError
        raise PayloadError("body", f"not valid JSON ({exc})", 400) from None
    if not isinstance(document, dict):
        raise PayloadError("body", "must be a JSON object with a readings array")
    if "readings" not in document:
        raise PayloadError("readings", "missing")
    return readings_batch(document["readings"], "readings")


def readings_batch(items: Any, path: str) -> RawBatch:
    """A list of reading objects (already decoded JSON) -> RawBatch."""
    if not isinstance(items, list):
        raise PayloadError(path, "must be an array")
    if len(items) > MAX_READINGS:
        raise PayloadError(path, f"too many readings ({len(items)} > {MAX_READINGS})", 413)
    if not items:
        return RawBatch.empty()
    try:
        units = [r["work_unit"] for r in items]
        sensors = [r["sensor"] for r in items]
        stamps = [r["timestamp"] for r in items]
        values = [r["value"] for r in items]
        lots = [r.get("lot") for r in items]
    except (KeyError, TypeError, AttributeError):
        _raise_first_shape_error(items, path)
        raise  # unreachable: the walk above always raises
    return columns_batch(units, sensors, stamps, values, lots, path=path)


def columns_batch(
    units: list[Any],
    sensors: list[Any],
    stamps: list[Any],
    values: list[Any],
    lots: list[Any],
    *,
    path: str,
) -> RawBatch:
    """Decoded columns (one entry per reading) -> RawBatch, checked column-wise; errors name
    ``{path}[i].{field}`` of the first offending reading."""
    work_unit = _names(units, path, "work_unit")
    sensor = _names(sensors, path, "sensor")
    lot = _lots(lots, path)
    timestamp_ns = timestamps_ns(stamps, path)
    value, numeric = numbers(values)
    return RawBatch(
        work_unit=work_unit.values(),
        sensor=sensor.values(),
        timestamp_ns=timestamp_ns,
        value=value,
        numeric=numeric,
        raw_value=values,
        lot=lot,
        work_unit_names=work_unit,
        sensor_names=sensor,
    )


def _raise_first_shape_error(items: list[Any], path: str) -> None:
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise PayloadError(f"{path}[{index}]", "must be an object")
        for key in REQUIRED:
            if key not in item:
                raise PayloadError(f"{path}[{index}].{key}", "missing")
    raise PayloadError(path, "malformed")


def _distinct(column: list[Any]) -> set[Any] | list[Any]:
    """The distinct entries of a column (a line has few work units, sensors and lots, so
    checking them is much cheaper than checking every reading); the column itself when an
    entry is unhashable (a list where a name belongs)."""
    try:
        return set(column)
    except TypeError:
        return column


def _objects(column: list[Any]) -> np.ndarray:
    out: np.ndarray = np.fromiter(column, dtype=object, count=len(column))
    return out


def _names(column: list[Any], path: str, key: str) -> Names:
    """A name column factorised, each distinct name checked once."""
    try:
        names = Names.of(_objects(column))
    except TypeError:  # unhashable entries: the walk below names the first
        pass
    else:
        if all(type(x) is str and 0 < len(x) <= MAX_TEXT and _utf8(x) for x in names.distinct):
            return names
    _check_names(column, path, key)
    raise PayloadError(path, "malformed")  # unreachable: the walk above raises


def _lots(column: list[Any], path: str) -> np.ndarray:
    if column.count(None) == len(column):  # no lots at all: the common case
        return np.full(len(column), None, dtype=object)
    _check_lots(column, path)
    return _objects(column)


def _check_names(column: list[Any], path: str, key: str) -> None:
    # A set keeps one of equal entries; only a str equals a str, so all distinct entries
    # being valid strings means all entries are.
    if all(type(x) is str and 0 < len(x) <= MAX_TEXT and _utf8(x) for x in _distinct(column)):
        return
    for index, x in enumerate(column):
        if type(x) is not str:
            raise PayloadError(f"{path}[{index}].{key}", "must be a string")
        if not 0 < len(x) <= MAX_TEXT:
            raise PayloadError(f"{path}[{index}].{key}", f"must be 1..{MAX_TEXT} characters")
        if not _utf8(x):
            raise PayloadError(f"{path}[{index}].{key}", "not valid Unicode")


def _check_lots(column: list[Any], path: str) -> None:
    if all(
        x is None or (type(x) is str and len(x) <= MAX_TEXT and _utf8(x)) for x in _distinct(column)
    ):
        return
    for index, x in enumerate(column):
        if x is not None and type(x) is not str:
            raise PayloadError(f"{path}[{index}].lot", "must be a string or null")
        if x is not None and (len(x) > MAX_TEXT or not _utf8(x)):
            raise PayloadError(f"{path}[{index}].lot", f"must be valid text up to {MAX_TEXT}")


def timestamps_ns(stamps: Sequence[Any], path: str) -> np.ndarray:
    """ISO 8601 strings (naive means UTC) or epoch seconds -> int64 ns since the epoch."""
    kinds = set(map(type, stamps))
    if kinds == {str}:
        fast = arrow_iso_ns(stamps)
        if fast is not None:
            return fast
        parsed = _iso_times(pd.Series(stamps, dtype=object))
        bad = parsed.isna().to_numpy()
        if bad.any():
            index = int(np.argmax(bad))
            raise PayloadError(
                f"{path}[{index}].timestamp",
                f"not an ISO 8601 time within {SPAN}: {stamps[index]!r}",
            )
        result: np.ndarray = parsed.astype("datetime64[ns, UTC]").astype(np.int64).to_numpy()
        return result
    if kinds <= {int, float}:
        try:
            seconds = np.array(stamps, dtype=np.float64)
        except OverflowError:
            seconds = np.array([math.inf] * len(stamps))
        ok = np.isfinite(seconds) & (seconds >= MIN_EPOCH_S) & (seconds <= MAX_EPOCH_S)
        if not ok.all():
            index = int(np.argmin(ok))
            raise PayloadError(
                f"{path}[{index}].timestamp",
                "epoch seconds out of range (1900..2200); send seconds, not ms",
            )
        # Integers exactly, floats to the microsecond (what a float can carry for epochs).
        if kinds == {int}:
            return np.array(stamps, dtype=np.int64) * 1_000_000_000
        return np.round(seconds * 1e6).astype(np.int64) * 1000
    # Mixed or wrong types: convert one by one, naming the first bad one.
    out = np.empty(len(stamps), dtype=np.int64)
    for index, x in enumerate(stamps):
        if type(x) not in (str, int, float):
            raise PayloadError(
                f"{path}[{index}].timestamp", "must be an ISO 8601 string or epoch seconds"
            )
        try:
            out[index] = timestamps_ns([x], path)[0]
        except PayloadError as exc:  # it names element 0 of the one-element list
            raise PayloadError(f"{path}[{index}].timestamp", exc.problem, exc.status) from None
    return out


_OFFSET: Final = r"(?:[Zz]|[+-]\d\d(?::?\d\d)?)$"
_UTC_NS: Final = pa.timestamp("ns", "UTC")
_NAIVE_NS: Final = pa.timestamp("ns")
_NAT: Final = np.iinfo(np.int64).min


def arrow_iso_ns(stamps: Sequence[Any] | pa.Array | pa.ChunkedArray) -> np.ndarray | None:
    """ISO 8601 texts -> int64 ns since the epoch, parsed by Arrow in one pass; None when
    Arrow cannot take them all, and the caller falls back to :func:`_iso_times`.

    Arrow's parser is stricter than pandas' ISO 8601 one (no week dates, no ``2026-01`` or
    ``T0:00``, no blanks), and what both accept they read alike (tested against each other):
    all texts with an offset (``Z``, ``+01``, ``+0100``, ``+01:00``), or all without one,
    which means UTC. A batch mixing both goes to pandas."""
    try:
        texts = (
            stamps
            if isinstance(stamps, pa.Array | pa.ChunkedArray)
            else pa.array(stamps, pa.string())
        )
    except (pa.ArrowException, UnicodeError, TypeError, ValueError):
        return None
    if texts.null_count:
        return None
    for kind in (_UTC_NS, _NAIVE_NS):
        try:
            parsed = texts.cast(kind)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        out: np.ndarray = np.asarray(parsed.cast(pa.int64()).to_numpy(zero_copy_only=False))
        return None if (out == _NAT).any() else out.astype(np.int64, copy=False)
    return None


def _iso_times(texts: pd.Series) -> pd.Series:
    """ISO 8601 texts -> UTC timestamps (NaT if invalid). Texts with and without an offset
    are parsed apart: pandas would otherwise apply the first offset it sees to naive ones,
    and naive must mean UTC."""
    with_offset = texts.str.contains(_OFFSET, regex=True, na=False).to_numpy()
    if with_offset.all() or not with_offset.any():
        return pd.to_datetime(texts, utc=True, format="ISO8601", errors="coerce")
    out = pd.Series(pd.NaT, index=texts.index, dtype="datetime64[ns, UTC]")
    for mask in (with_offset, ~with_offset):
        part = pd.to_datetime(texts[mask], utc=True, format="ISO8601", errors="coerce")
        out[mask] = part.astype("datetime64[ns, UTC]")
    return out


def usable(value: np.ndarray) -> np.ndarray:
    """The values a reading may hold: finite and within ±MAX_VALUE (False for NaN too)."""
    mask: np.ndarray = np.abs(value) <= MAX_VALUE
    return mask


def numbers(values: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """Values -> (float64 with NaN for non-numeric, numeric mask). Numeric strings count as
    numbers (historians export text); booleans, null, NaN/Infinity and junk do not."""
    kinds = set(map(type, values))
    if kinds <= {int, float}:
        try:
            value = np.array(values, dtype=np.float64)
        except OverflowError:
            pass
        else:
            numeric = usable(value)
            return np.where(numeric, value, np.nan), numeric
    value = np.full(len(values), np.nan)
    for index, x in enumerate(values):
        kind = type(x)
        number: float | None = None
        if kind is float:
            number = x
        elif kind is int:
            try:
                number = float(x)
            except OverflowError:
                number = None
        elif kind is str and len(x) <= 64 and _NUMBER.match(x):
            number = float(x)
        if number is not None and abs(number) <= MAX_VALUE:
            value[index] = number
    return value, ~np.isnan(value)


# ----------------------------------------------------------------------------- CSV / Parquet


def parse_bulk(body: bytes, content_type: str | None) -> RawBatch:
    """CSV (``text/csv``), Parquet or Arrow IPC stream upload with columns work_unit, sensor,
    timestamp, value and optionally lot. Errors name the column, and the 0-based data row
    (``rows[i]``)."""
    kind = media_type(content_type)
    if kind in ARROW_TYPES:
        from lineops.dataplane.ingestion.columnar import read_arrow_stream  # imports this

        return read_arrow_stream(body)
    if kind in CSV_TYPES:
        table = _read_csv(body)
    elif kind in PARQUET_TYPES:
        try:
            table = pq.read_table(io.BytesIO(body))
        except (pa.ArrowException, OSError, ValueError) as exc:
            raise PayloadError("body", f"not a Parquet file ({exc})", 400) from None
    else:
        raise PayloadError(
            "Content-Type",
            f"unsupported {kind or 'missing'}; use text/csv, application/vnd.apache.parquet "
            "or application/vnd.apache.arrow.stream",
            415,
        )
    return table_batch(table)


def _read_csv(body: bytes) -> pa.Table:
    # Every column as text: the value column of a historian export mixes numbers and junk,
    # and type inference would fail on the first "Bad" far down the file.
    try:
        header = _csv_header(body)
        return pacsv.read_csv(
            io.BytesIO(body),
            # The header's names as _csv_header reads them (spaces after the commas and
            # quotes stripped): Arrow's own kept " sensor", "missing column" for a column
            # that is there.
            read_options=pacsv.ReadOptions(column_names=header, skip_rows=1),
            convert_options=pacsv.ConvertOptions(
                column_types={name: pa.string() for name in header},
                strings_can_be_null=True,
                # Only an empty cell is missing: Arrow's default list also nulls "NA",
                # "N/A", "null" and "NaN", which turned lot NA into no lot and kept a
                # historian's "NaN" text out of the quarantine record.
                null_values=[""],
            ),
        )
    except (pa.ArrowException, ValueError, UnicodeDecodeError) as exc:
        raise PayloadError("body", f"not a CSV file ({exc})", 400) from None


def _csv_header(body: bytes) -> list[str]:
    first = body.split(b"\n", 1)[0].decode("utf-8").strip("\r\ufeff")
    return [name.strip().strip('"') for name in first.split(",")]


def _is_text(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_string(kind) or pa.types.is_large_string(kind) or pa.types.is_string_view(kind)
    )


def _is_binary(kind: pa.DataType) -> bool:
    return bool(
        pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_fixed_size_binary(kind)
        or pa.types.is_binary_view(kind)
    )


def _usable_columns(table: pa.Table) -> pa.Table:
    """The batch's columns, each once, dictionaries decoded, binary checked to be UTF-8
    text, timestamps of a type that means a time (text, epoch seconds, an Arrow timestamp
    within pandas' nanosecond range): anything else is a :class:`PayloadError` naming the
    column, never a server error."""
    present = [c for c in (*REQUIRED, "lot") if c in table.column_names]
    columns: dict[str, pa.ChunkedArray] = {}
    for name in present:
        if table.column_names.count(name) > 1:
            raise PayloadError(name, "column appears more than once", 422)
        data = table.column(name)
        if pa.types.is_dictionary(data.type):
            data = data.cast(data.type.value_type)
        if _is_binary(data.type) and name != "value":  # a junk value is quarantined later
            try:
                data = data.cast(pa.string())
            except pa.ArrowException:
                raise PayloadError(name, "binary column that is not UTF-8 text", 422) from None
        kind = data.type
        if name == "lot" and not (_is_text(kind) or pa.types.is_null(kind)):
            # A lot is a name: 5 and "5" are not the same lot, so nothing is converted.
            raise PayloadError(name, f"must be a string column, not {kind}", 422)
        if name in ("work_unit", "sensor") and not _is_text(kind):
            # As the JSON and Arrow paths refuse them (an int 5 was read as unit "5").
            raise PayloadError(name, f"must be a string column, not {kind}", 422)
        if name == "value" and pa.types.is_decimal(kind):
            # A decimal is a number: as text it was quarantined as non_numeric for good.
            try:
                data = data.cast(pa.float64())
            except pa.ArrowException:
                raise PayloadError(name, f"{kind} column cannot be read as numbers", 422) from None
            kind = data.type
        if name in ("work_unit", "sensor", "lot") and _is_text(kind):
            _check_lengths(data, name)
        if name == "timestamp":
            if pa.types.is_timestamp(kind) and kind.unit != "ns":
                try:
                    data = data.cast(pa.timestamp("ns", kind.tz))
                except pa.ArrowInvalid:
                    raise PayloadError(name, "times outside 1677..2262", 422) from None
            elif not (
                _is_text(kind)
                or pa.types.is_timestamp(kind)
                or pa.types.is_integer(kind)
                or pa.types.is_floating(kind)
                or pa.types.is_null(kind)
            ):
                raise PayloadError(
                    name, f"{kind} column: send ISO 8601 text, epoch seconds or timestamps", 422
                )
        columns[name] = data
    return pa.table(columns)


def _check_lengths(column: pa.ChunkedArray, name: str) -> None:
    """The JSON and Arrow paths' limit on a name or lot, for CSV and Parquet uploads."""
    lengths = pc.utf8_length(column)
    low = 0 if name == "lot" else 1
    bad = pc.fill_null(pc.or_(pc.less(lengths, low), pc.greater(lengths, MAX_TEXT)), False)
    if not pc.any(bad).as_py():
        return
    row = int(np.argmax(bad.to_numpy(zero_copy_only=False)))
    if name == "lot":
        raise PayloadError(f"rows[{row}].lot", f"must be valid text up to {MAX_TEXT}", 422)
    raise PayloadError(f"rows[{row}].{name}", f"must be 1..{MAX_TEXT} characters", 422)


def table_batch(table: pa.Table) -> RawBatch:
    names = set(table.column_names)
    for column in REQUIRED:
        if column not in names:
            raise PayloadError(column, "missing column", 422)
    if table.num_rows > MAX_READINGS:
        raise PayloadError("rows", f"too many rows ({table.num_rows} > {MAX_READINGS})", 413)
    usable = _usable_columns(table)
    try:
        frame = usable.to_pandas()
    except (pa.ArrowException, ValueError, OverflowError) as exc:  # an exotic column type
        raise PayloadError("body", f"columns cannot be read ({exc})", 422) from None
    units = _text_column(frame, "work_unit")
    sensors = _text_column(frame, "sensor")
    stamp = frame["timestamp"]
    if pd.api.types.is_datetime64_any_dtype(stamp):
        parsed = stamp.dt.tz_localize("UTC") if stamp.dt.tz is None else stamp
    elif pd.api.types.is_numeric_dtype(stamp):
        return _with(frame, units, sensors, timestamps_ns(stamp.tolist(), "rows"))
    else:
        parsed = _iso_times(stamp.astype(object))
    bad = parsed.isna().to_numpy()
    if bad.any():
        index = int(np.argmax(bad))
        raise PayloadError(
            f"rows[{index}].timestamp", f"not an ISO 8601 time within {SPAN}: {stamp[index]!r}"
        )
    return _with(
        frame, units, sensors, parsed.astype("datetime64[ns, UTC]").astype(np.int64).to_numpy()
    )


def _text_column(frame: pd.DataFrame, name: str) -> np.ndarray:
    column = frame[name]
    missing = column.isna().to_numpy()
    if missing.any():
        raise PayloadError(f"rows[{int(np.argmax(missing))}].{name}", "missing")
    values: np.ndarray = column.astype(str).to_numpy(dtype=object)
    return values


def _with(
    frame: pd.DataFrame, units: np.ndarray, sensors: np.ndarray, stamps: np.ndarray
) -> RawBatch:
    raw = frame["value"]
    if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
        value = raw.to_numpy(dtype=np.float64, na_value=np.nan)
        numeric = usable(value)
        value = np.where(numeric, value, np.nan)
    else:
        text = raw.astype(object).where(raw.notna(), None)
        converted = pd.to_numeric(text, errors="coerce").to_numpy(dtype=np.float64)
        strict = text.map(lambda x: isinstance(x, str) and bool(_NUMBER.match(x)))
        numeric = usable(converted) & strict.to_numpy(dtype=bool)
        value = np.where(numeric, converted, np.nan)
    lot = (
        frame["lot"].astype(object).where(frame["lot"].notna(), None).to_numpy(dtype=object)
        if "lot" in frame
        else np.full(len(frame), None, dtype=object)
    )
    return RawBatch(
        work_unit=units,
        sensor=sensors,
        timestamp_ns=stamps,
        value=value,
        numeric=numeric,
        raw_value=raw.tolist(),
        lot=lot,
    )
