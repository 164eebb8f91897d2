"""Stored MES records as report input: moved to :mod:`lineops.mes.stored_series` (the data
plane's live line page charts them too); these names stay importable from here."""

from __future__ import annotations

from lineops.mes.stored_series import (
    Record,
    StoredSubgroups,
    count_records,
    event_records,
    stored_subgroups,
)

__all__ = ["Record", "StoredSubgroups", "count_records", "event_records", "stored_subgroups"]
