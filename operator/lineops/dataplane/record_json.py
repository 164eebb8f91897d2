"""Stored records (lots, consumptions, maintenance, quality results, stock, supplier scores)
as the data plane's routes answer them: one rule for every field, so the lots and genealogy
routes cannot drift apart.

A field ``work_unit`` is answered as ``workUnit``; a quantity stored in millionths
(``quantity_micros``) as exact decimal text under its name without the suffix
(``quantity``: ``"1.5"``), None staying None.
"""

from __future__ import annotations

from typing import Any, Final

from lineops.dataplane.repositories.lot_links import MaintenanceRecord
from lineops.dataplane.repositories.lots import Maintenance, column_field, micros_text

MICROS_SUFFIX: Final = "_micros"
MAINTENANCE_FIELDS: Final = ("maintenance", "work_unit", "kind", "reason", "start", "end")


def record_json(record: object, *names: str, drop_none: bool = False) -> dict[str, Any]:
    """The named fields of ``record`` by the rule above; ``drop_none`` leaves out the fields
    that are None (optional fields a route answers only when known)."""
    out: dict[str, Any] = {}
    for name in names:
        value = getattr(record, name)
        if name.endswith(MICROS_SUFFIX):
            name = name.removesuffix(MICROS_SUFFIX)
            value = None if value is None else micros_text(value)
        if value is not None or not drop_none:
            out[column_field(name)] = value
    return out


def maintenance_json(record: Maintenance | MaintenanceRecord) -> dict[str, Any]:
    """A maintenance record, written (lots routes) or read with a lot (genealogy routes)."""
    return record_json(record, *MAINTENANCE_FIELDS)
