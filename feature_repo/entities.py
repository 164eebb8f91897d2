"""Entities shared by every line (definitions live in lineops.backends.feast_store, so the
operator and `feast apply` register identical objects)."""

from lineops.backends.feast_store import line_entity, lot_entity, work_unit_entity

line = line_entity()
work_unit = work_unit_entity()
lot = lot_entity()
