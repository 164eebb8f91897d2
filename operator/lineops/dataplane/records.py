"""Parse and validate MES records sent to a line: quality measurements, machine states and
production counts. Nothing is dropped: a record that cannot be used is returned as a
rejection with the reason and the field, for the quarantine store and the counters."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Generic, TypeVar

from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.errors import PayloadError
from lineops.dataplane.ingestion.reasons import RecordReason as R
from lineops.dataplane.repositories.mes import MachineEvent, Measurement, ProductionCount
from lineops.mes.data import MAX_VALUE
from lineops.mes.oee import MachineState

T = TypeVar("T")
KINDS = ("measurements", "events", "counts")


@dataclass(frozen=True)
class Rejection:
    index: int
    reason: str  # machine-readable: unknown_characteristic, non_numeric, ...
    detail: str  # names the field: "records[3].value: 'Bad' is not a number"
    record: Mapping[str, Any]


@dataclass
class Parsed(Generic[T]):
    accepted: list[T] = field(default_factory=list)
    rejected: list[Rejection] = field(default_factory=list)

    @property
    def received(self) -> int:
        return len(self.accepted) + len(self.rejected)


class _Reject(Exception):
    def __init__(self, reason: R, detail: str) -> None:
        super().__init__(detail)
        self.reason, self.detail = reason, detail


# What the MES tables can hold: a lot is VARCHAR(253), counts BIGINT, a sample size INTEGER.
# A record beyond that is quarantined, never a database error (a 5xx, on PostgreSQL at least).
MAX_NAME: Final = 253
MAX_BIGINT: Final = 2**63 - 1
MAX_INT: Final = 2**31 - 1


def _storable(value: str, key: str, where: str, limit: int | None = MAX_NAME) -> str:
    """Text a database can store: no NUL (PostgreSQL refuses it), no lone surrogate (not
    UTF-8: both databases refuse it), at most ``limit`` characters."""
    if "\x00" in value:
        raise _Reject(R.WRONG_TYPE, f"{where}.{key}: contains a NUL character")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise _Reject(R.WRONG_TYPE, f"{where}.{key}: not valid Unicode text") from None
    if limit is not None and len(value) > limit:
        raise _Reject(R.WRONG_TYPE, f"{where}.{key}: longer than {limit} characters")
    return value


def _text(record: Mapping[str, Any], key: str, where: str) -> str:
    value = record.get(key)
    if value is None or value == "":
        raise _Reject(R.MISSING_FIELD, f"{where}.{key}: missing")
    if not isinstance(value, str):
        raise _Reject(R.WRONG_TYPE, f"{where}.{key}: must be a string, got {type(value).__name__}")
    return value


def _timestamp(record: Mapping[str, Any], where: str) -> str:
    value = _text(record, "timestamp", where)
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise _Reject(R.BAD_TIMESTAMP, f"{where}.timestamp: {value!r} is not ISO 8601") from None
    if parsed.tzinfo is None:
        raise _Reject(R.BAD_TIMESTAMP, f"{where}.timestamp: {value!r} has no UTC offset")
    # Stored in UTC: the repositories order events and counts by this text, which is the
    # order of instants only when every record is written in one offset.
    try:
        return parsed.astimezone(UTC).isoformat()
    except OverflowError:  # 0001-01-01T00:00+01:00 is before year 1 in UTC
        raise _Reject(
            R.BAD_TIMESTAMP, f"{where}.timestamp: {value!r} falls outside years 1..9999 in UTC"
        ) from None


def _number(record: Mapping[str, Any], key: str, where: str, bound: float = MAX_VALUE) -> float:
    value = record.get(key)
    if value is None:
        raise _Reject(R.MISSING_FIELD, f"{where}.{key}: missing")
    if isinstance(value, bool):
        raise _Reject(R.NON_NUMERIC, f"{where}.{key}: {value!r} is not a number")
    if isinstance(value, str) and "_" in value:
        # Python's float() reads "7_4.0" as 74.0; readings quarantine such text
        raise _Reject(R.NON_NUMERIC, f"{where}.{key}: {value!r:.80} is not a number")
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):  # OverflowError: an int beyond a float
        raise _Reject(R.NON_NUMERIC, f"{where}.{key}: {value!r:.80} is not a number") from None
    if not math.isfinite(number):
        raise _Reject(R.NON_NUMERIC, f"{where}.{key}: {value!r} is not finite")
    if abs(number) > bound:
        raise _Reject(R.NON_NUMERIC, f"{where}.{key}: {value!r:.80} is beyond ±{bound:g}")
    return number


def _whole(record: Mapping[str, Any], key: str, where: str, limit: int = MAX_BIGINT) -> int:
    number = _number(record, key, where, math.inf)  # a count has its own limit below
    value = record.get(key)
    # An integer as sent (a float would round 2**63 - 1 up); anything else via the float.
    whole = value if type(value) is int else int(number) if number.is_integer() else None
    if whole is None or whole < 0:
        raise _Reject(R.BAD_COUNT, f"{where}.{key}: {value!r:.80} is not a whole count >= 0")
    if whole > limit:
        raise _Reject(R.BAD_COUNT, f"{where}.{key}: {value!r:.80} exceeds {limit}")
    return whole


def _measurement(spec: ProductionLineSpec, record: Mapping[str, Any], where: str) -> Measurement:
    name = _text(record, "characteristic", where)
    qc = spec.quality_characteristic(name)
    if qc is None:
        raise _Reject(
            R.UNKNOWN_CHARACTERISTIC,
            f"{where}.characteristic: {name!r} is not declared by the line",
        )
    ts = _timestamp(record, where)
    value = _number(record, "value", where)
    size = None
    if qc.chart.value in ("p", "np", "c", "u"):
        value = float(_whole(record, "value", where))
        if "sampleSize" in record:
            size = _whole(record, "sampleSize", where, MAX_INT)
            if size == 0:
                raise _Reject(R.BAD_COUNT, f"{where}.sampleSize: must be positive")
            if qc.chart.value == "np" and size != qc.subgroup_size:
                # An np chart's limits hold for one n; a stored other size stopped the line's
                # chart (and its monitor) from being computed at all.
                raise _Reject(
                    R.BAD_COUNT,
                    f"{where}.sampleSize: {size} differs from the np chart's subgroupSize "
                    f"{qc.subgroup_size} (a p chart takes varying sizes)",
                )
        if qc.chart.value in ("p", "np") and value > (size or qc.subgroup_size):
            raise _Reject(
                R.BAD_COUNT,
                f"{where}.value: {value:g} defectives exceed the sample "
                f"size {size or qc.subgroup_size}",
            )
    lot = _optional_text(record, "lot", where)
    text = None if lot is None else _storable(lot, "lot", where)
    return Measurement(name, ts, value, size, text)


def _optional_text(record: Mapping[str, Any], key: str, where: str) -> str | None:
    """A string or absent; anything else is quarantined rather than stored as its repr
    (``{"a": 1}`` was stored as the text "{'a': 1}")."""
    value = record.get(key)
    if value is None or isinstance(value, str):
        return value
    raise _Reject(R.WRONG_TYPE, f"{where}.{key}: must be a string, got {type(value).__name__}")


def _work_unit(spec: ProductionLineSpec, record: Mapping[str, Any], where: str) -> str:
    unit = _text(record, "workUnit", where)
    if spec.work_unit(unit) is None:
        raise _Reject(
            R.UNKNOWN_WORK_UNIT, f"{where}.workUnit: {unit!r} is not declared by the line"
        )
    return unit


def _event(spec: ProductionLineSpec, record: Mapping[str, Any], where: str) -> MachineEvent:
    unit = _work_unit(spec, record, where)
    ts = _timestamp(record, where)
    state = _text(record, "state", where)
    try:
        MachineState(state)
    except ValueError:
        allowed = ", ".join(s.value for s in MachineState)
        raise _Reject(
            R.UNKNOWN_STATE, f"{where}.state: {state!r} is not one of {allowed}"
        ) from None
    reason = _storable(_optional_text(record, "reason", where) or "", "reason", where, limit=None)
    return MachineEvent(unit, ts, state, reason)


def _count(spec: ProductionLineSpec, record: Mapping[str, Any], where: str) -> ProductionCount:
    unit = _work_unit(spec, record, where)
    ts = _timestamp(record, where)
    total, good = _whole(record, "total", where), _whole(record, "good", where)
    if good > total:
        raise _Reject(R.BAD_COUNT, f"{where}.good: {good} exceeds total {total}")
    return ProductionCount(unit, ts, total, good)


_PARSERS: dict[str, Callable[[ProductionLineSpec, Mapping[str, Any], str], Any]] = {
    "measurements": _measurement,
    "events": _event,
    "counts": _count,
}


# The fields of each record kind. Another field is quarantined with the record rather than
# dropped: "sample_size" for sampleSize charted a p-chart point against the wrong n.
FIELDS: Final[dict[str, tuple[str, ...]]] = {
    "measurements": ("characteristic", "timestamp", "value", "sampleSize", "lot"),
    "events": ("workUnit", "timestamp", "state", "reason"),
    "counts": ("workUnit", "timestamp", "total", "good"),
}


def known_fields(record: Mapping[str, Any], fields: Sequence[str], where: str) -> None:
    """Raises _Reject (wrong_type) naming the first field not in ``fields``."""
    unknown = sorted(str(key) for key in record if key not in fields)
    if unknown:
        raise _Reject(
            R.WRONG_TYPE,
            # repr: a key may hold what no database text takes (NUL, lone surrogates)
            f"{where}: unknown field {unknown[0]!r:.80} (expected {', '.join(fields)})",
        )


def parse_envelope(
    spec: ProductionLineSpec,
    payload: Any,
    parse: Callable[[ProductionLineSpec, Mapping[str, Any], str], T],
    fields: Sequence[str] | None = None,
) -> Parsed[T]:
    """Validate ``{"records": [...]}`` with ``parse`` per record; every record ends up
    accepted or rejected (the envelope of every record route: MES records, predictions).
    With ``fields``, a record with any other field is rejected."""
    if not isinstance(payload, Mapping):
        raise PayloadError("body", "must be a JSON object with a 'records' list")
    records = payload.get("records")
    if not isinstance(records, list):
        raise PayloadError("records", "missing or not a list")
    result: Parsed[T] = Parsed()
    for i, record in enumerate(records):
        where = f"records[{i}]"
        if not isinstance(record, Mapping):
            result.rejected.append(
                Rejection(
                    i, R.WRONG_TYPE, f"{where}: must be an object", {"raw": repr(record)[:200]}
                )
            )
            continue
        try:
            if fields is not None:
                known_fields(record, fields, where)
            result.accepted.append(parse(spec, record, where))
        except _Reject as exc:
            result.rejected.append(Rejection(i, exc.reason, exc.detail, record))
    return result


def parse_records(kind: str, spec: ProductionLineSpec, payload: Any) -> Parsed[Any]:
    """Validate ``{"records": [...]}`` of one MES record kind."""
    return parse_envelope(spec, payload, _PARSERS[kind], FIELDS[kind])
