"""Why a reading was quarantined. The values are API: they appear in responses, metrics and
the quarantine store."""

from __future__ import annotations

from enum import IntEnum, StrEnum
from typing import Final


class Reason(IntEnum):
    """Reason codes in precedence order: a reading gets the first one that applies."""

    ACCEPTED = 0
    UNKNOWN_WORK_UNIT = 1
    UNKNOWN_SENSOR = 2
    NON_NUMERIC = 3
    OUT_OF_RANGE = 4
    FUTURE = 5
    DUPLICATE = 6
    LATE = 7
    MALFORMED_PAYLOAD = 8

    @property
    def label(self) -> str:
        return self.name.lower()


QUARANTINE_REASONS: Final = tuple(r for r in Reason if r is not Reason.ACCEPTED)

DETAILS: Final = {
    Reason.UNKNOWN_WORK_UNIT: "work unit not declared in the line spec",
    Reason.UNKNOWN_SENSOR: "sensor not declared for this work unit",
    Reason.NON_NUMERIC: "value is not a number within ±1e100",
    Reason.OUT_OF_RANGE: "value outside the sensor's validRange",
    Reason.FUTURE: "timestamp ahead of the operator's clock by more than the allowed skew",
    Reason.DUPLICATE: "a reading with the same work_unit, sensor and timestamp was accepted",
    Reason.LATE: "timestamp older than the work unit's watermark minus the allowed lateness",
    Reason.MALFORMED_PAYLOAD: "MQTT message could not be decoded",
}


class RecordReason(StrEnum):
    """Why an MES record (measurement, machine event, count) was quarantined. Readings and
    records share one quarantine and one vocabulary: where a reading reason means the same
    thing (``unknown_work_unit``, ``non_numeric``) the record uses the same code."""

    UNKNOWN_WORK_UNIT = Reason.UNKNOWN_WORK_UNIT.label
    NON_NUMERIC = Reason.NON_NUMERIC.label
    UNKNOWN_CHARACTERISTIC = "unknown_characteristic"
    UNKNOWN_STATE = "unknown_state"
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    BAD_TIMESTAMP = "bad_timestamp"
    BAD_COUNT = "bad_count"


# Every reason code the quarantine can hold: documented, and what `lineops quarantine list
# --reason` accepts.
VOCABULARY: Final = tuple(
    sorted({r.label for r in QUARANTINE_REASONS} | {r.value for r in RecordReason})
)
