"""Arrow IPC stream uploads (``application/vnd.apache.arrow.stream``) -> RawBatch.

The bulk format for high rates: typed columns, decoded without a Python object per reading
(names are dictionary-encoded by Arrow and checked once per distinct value, timestamps and
values stay in Arrow/numpy buffers). Schema (extra columns are ignored):

=========== ====================================================== ======================
column      Arrow type                                             null
=========== ====================================================== ======================
work_unit   string / large_string, or a dictionary of them         rejected (422)
sensor      string / large_string, or a dictionary of them         rejected (422)
timestamp   timestamp (s/ms/us/ns; any tz; none means UTC),        rejected (422)
            or string / large_string with ISO 8601 texts
value       float64 (other float and integer types are converted)  quarantined
lot         string / large_string / dictionary, optional           allowed
=========== ====================================================== ======================

As for CSV and Parquet uploads, a stream that cannot be read is a 400, a missing column or
one of the wrong type a 422 naming the column, and a row without a work unit, a sensor or
a usable timestamp a 422 naming ``rows[i].<column>``: nothing of it is stored. A value that
is null, NaN or infinite is a ``non_numeric`` reading and is quarantined like any other
reading the line does not accept.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Final, overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lineops.dataplane.errors import PayloadError
from lineops.dataplane.ingestion.payload import (
    MAX_READINGS,
    MAX_TEXT,
    REQUIRED,
    Names,
    RawBatch,
    arrow_iso_ns,
    timestamps_ns,
    usable,
)

_NS: Final = pa.timestamp("ns")
_NAT: Final = np.iinfo(np.int64).min


def read_arrow_stream(body: bytes) -> RawBatch:
    """An Arrow IPC stream (schema message, then record batches) -> RawBatch."""
    try:
        with pa.ipc.open_stream(pa.py_buffer(body)) as reader:
            table = reader.read_all()
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise PayloadError("body", f"not an Arrow IPC stream ({exc})", 400) from None
    return arrow_table_batch(table)


def arrow_table_batch(table: pa.Table) -> RawBatch:
    """A table with the columns above -> RawBatch; errors name the column, and the 0-based
    row (``rows[i].<column>``) where one row is at fault."""
    for column in (*REQUIRED, "lot"):
        count = len(table.schema.get_all_field_indices(column))
        if count == 0 and column != "lot":
            raise PayloadError(column, "missing column", 422)
        if count > 1:
            raise PayloadError(column, f"column appears {count} times", 422)
    _check_types(table)
    if table.num_rows > MAX_READINGS:
        raise PayloadError("rows", f"too many rows ({table.num_rows} > {MAX_READINGS})", 413)
    if table.num_rows == 0:
        return RawBatch.empty()
    work_unit = _names(table.column("work_unit"), "work_unit")
    sensor = _names(table.column("sensor"), "sensor")
    value, numeric, raw = _values(table.column("value"))
    return RawBatch(
        work_unit=work_unit.values(),
        sensor=sensor.values(),
        timestamp_ns=_timestamps(table.column("timestamp")),
        value=value,
        numeric=numeric,
        raw_value=raw,
        lot=_lots(table.column("lot") if "lot" in table.column_names else None, table.num_rows),
        work_unit_names=work_unit,
        sensor_names=sensor,
    )


def _is_text(kind: pa.DataType) -> bool:
    if pa.types.is_dictionary(kind):
        kind = kind.value_type
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _check_types(table: pa.Table) -> None:
    """The schema, before any row is looked at."""
    for name in ("work_unit", "sensor"):
        if not _is_text(table.schema.field(name).type):
            raise _wrong_type(name, table.schema.field(name).type, "string")
    stamp = table.schema.field("timestamp").type
    if not (pa.types.is_timestamp(stamp) or _is_text(stamp)):
        raise _wrong_type("timestamp", stamp, "timestamp or ISO 8601 string")
    value = table.schema.field("value").type
    if not (pa.types.is_floating(value) or pa.types.is_integer(value)):
        raise _wrong_type("value", value, "float64")
    if "lot" in table.column_names:
        lot = table.schema.field("lot").type
        if not (_is_text(lot) or pa.types.is_null(lot)):
            raise _wrong_type("lot", lot, "string")


def _wrong_type(column: str, kind: pa.DataType, wanted: str) -> PayloadError:
    return PayloadError(column, f"must be a {wanted} column, not {kind}", 422)


def _first_null(column: pa.ChunkedArray | pa.Array) -> int:
    return int(np.argmax(column.is_null().to_numpy(zero_copy_only=False)))


def _plain(column: pa.ChunkedArray) -> pa.Array:
    """One array, dictionaries decoded (chunks may carry different dictionaries)."""
    if pa.types.is_dictionary(column.type):
        column = column.cast(column.type.value_type)
    return column.combine_chunks()


def _encode(column: pa.ChunkedArray, name: str) -> tuple[np.ndarray, list[str | None]]:
    """(code per row, distinct texts); a null row gets the code len(distinct)."""
    encoded = _plain(column).dictionary_encode()
    try:
        encoded.dictionary.validate(full=True)
        distinct: list[str | None] = encoded.dictionary.to_pylist()
    except (pa.ArrowException, UnicodeDecodeError):
        raise PayloadError(name, "not valid UTF-8", 422) from None
    indices = pc.fill_null(encoded.indices, len(distinct))
    codes: np.ndarray = indices.to_numpy(zero_copy_only=False).astype(np.intp, copy=False)
    return codes, distinct


def _names(column: pa.ChunkedArray, name: str) -> Names:
    if column.null_count:
        raise PayloadError(f"rows[{_first_null(column)}].{name}", "missing", 422)
    codes, distinct = _encode(column, name)
    for position, text in enumerate(distinct):
        if text is None or not 0 < len(text) <= MAX_TEXT:
            row = int(np.argmax(codes == position))
            raise PayloadError(f"rows[{row}].{name}", f"must be 1..{MAX_TEXT} characters", 422)
    return Names(codes, np.array(distinct, dtype=object))


def _timestamps(column: pa.ChunkedArray) -> np.ndarray:
    kind = column.type
    if column.null_count:
        raise PayloadError(f"rows[{_first_null(column)}].timestamp", "missing", 422)
    if _is_text(kind):
        texts = _plain(column)
        parsed = arrow_iso_ns(texts)
        if parsed is not None:
            return parsed
        # pandas' ISO 8601 parser (what JSON and CSV texts get), naming the first bad row.
        return timestamps_ns(texts.to_pylist(), "rows")
    try:
        # Instants: a tz-aware column stores UTC already, a naive one is read as UTC.
        stamps = column.cast(pa.timestamp("ns", kind.tz)).cast(pa.int64()).combine_chunks()
    except pa.ArrowInvalid:
        stamps = None
    values = None if stamps is None else stamps.to_numpy(zero_copy_only=False)
    if values is None or (values == _NAT).any():
        raise PayloadError("timestamp", "out of range (1677..2262 in nanoseconds)", 422)
    out: np.ndarray = values.astype(np.int64, copy=False)
    return out


def _values(column: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray, Sequence[Any]]:
    floats = column.cast(pa.float64(), safe=False).combine_chunks()
    value = np.asarray(floats.to_numpy(zero_copy_only=False), dtype=np.float64)  # null: NaN
    numeric = usable(value)
    if not numeric.all():
        value = np.where(numeric, value, np.nan)
    return value, numeric, ArrowValues(floats)


def _lots(column: pa.ChunkedArray | None, rows: int) -> np.ndarray:
    if column is None or column.null_count == rows:
        return np.full(rows, None, dtype=object)
    codes, distinct = _encode(column, "lot")
    for position, text in enumerate(distinct):
        if text is not None and len(text) > MAX_TEXT:
            row = int(np.argmax(codes == position))
            raise PayloadError(f"rows[{row}].lot", f"must be valid text up to {MAX_TEXT}", 422)
    lots: np.ndarray = np.array([*distinct, None], dtype=object)[codes]
    return lots


class ArrowValues(Sequence[Any]):
    """The values as sent, read lazily (only quarantined readings are ever looked at):
    a float, or None for a null."""

    def __init__(self, values: pa.Array) -> None:
        self._values = values

    def __len__(self) -> int:
        return len(self._values)

    @overload
    def __getitem__(self, index: int) -> Any: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Any]: ...

    def __getitem__(self, index: int | slice) -> Any:
        if isinstance(index, slice):
            return self._values[index].to_pylist()
        return self._values[index].as_py()

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values.to_pylist())
