"""The write side of lots, genealogy and materials per line (issue #22): material receipts,
work orders, production lots (open, close), consumptions (the genealogy edges), quality
results, maintenance records and materials with low-stock thresholds; inventory from
receipts minus consumption.

Every write is one transaction: it is validated, applied and answered whole or not at all.
Writes are idempotent by the client's id: the same id with the same payload (its SHA-256
``payload_hash``) is answered with the stored record and ``created=False``; the same id with
another payload is refused (:class:`Refused`, 409). Stock never goes negative: a consumption
decrements each input with ``remaining_micros >= :q`` in the ``WHERE`` clause, so of two
concurrent consumptions of the same stock only the one that fits succeeds, and the table's
``CHECK`` backs it up.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any, Final

from sqlalchemy import (
    Connection,
    Engine,
    Row,
    Table,
    and_,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from lineops.dataplane.db.tables import (
    consumptions,
    lots,
    maintenance,
    materials,
    quality_results,
    work_orders,
)
from lineops.dataplane.lines import LineRef

MICROS: Final = 1_000_000


class Refused(ValueError):
    """A write refused whole: the HTTP status, a stable code, the field it names."""

    def __init__(self, status: int, code: str, field: str, detail: str) -> None:
        super().__init__(f"{field}: {detail}")
        self.status, self.code, self.field, self.detail = status, code, field, detail


@dataclass(frozen=True, slots=True)
class MaterialLot:
    lot: str
    material: str
    unit: str
    quantity_micros: int
    supplier: str
    supplier_lot: str
    received_at: str
    expected_at: str | None = None


@dataclass(frozen=True, slots=True)
class WorkOrder:
    work_order: str
    product: str
    quantity_micros: int
    unit: str
    due: str | None = None
    status: str = "released"


@dataclass(frozen=True, slots=True)
class ProductionLot:
    """A lot made on a work unit. ``total``/``good``/``scrap`` are micros of ``unit`` (a
    count of pieces is ``pieces * 1_000_000``); given with ``ended_at``, the lot is recorded
    closed and ``good`` is its stock."""

    lot: str
    material: str  # the product
    work_unit: str
    started_at: str
    unit: str = "pcs"
    work_order: str | None = None
    recipe: str | None = None  # JSON object: recipe name and parameters
    ended_at: str | None = None
    total: int | None = None
    good: int | None = None
    scrap: int | None = None


@dataclass(frozen=True, slots=True)
class LotClose:
    ended_at: str
    total: int | None = None
    good: int | None = None
    scrap: int | None = None


@dataclass(frozen=True, slots=True)
class Input:
    lot: str
    quantity_micros: int
    unit: str


@dataclass(frozen=True, slots=True)
class Consumption:
    consumption: str
    inputs: tuple[Input, ...]
    consumed_at: str
    output_lot: str | None = None
    maintenance: str | None = None


@dataclass(frozen=True, slots=True)
class QualityResult:
    result: str
    lot: str
    inspection: str
    outcome: str  # pass | fail
    measurements: str  # JSON object
    inspected_at: str


@dataclass(frozen=True, slots=True)
class Maintenance:
    maintenance: str
    work_unit: str
    kind: str  # planned | unplanned
    reason: str
    start: str
    end: str | None = None


@dataclass(frozen=True, slots=True)
class Material:
    material: str
    unit: str
    low_stock_micros: int | None = None


@dataclass(frozen=True, slots=True)
class Lot:
    """A stored lot, material or production."""

    lot: str
    kind: str
    material: str
    unit: str
    quantity_micros: int
    remaining_micros: int
    status: str
    supplier: str | None
    supplier_lot: str | None
    received_at: str | None
    expected_at: str | None
    work_order: str | None
    work_unit: str | None
    started_at: str | None
    ended_at: str | None
    total: int | None
    good: int | None
    scrap: int | None
    recipe: str | None
    created_at: str


@dataclass(frozen=True, slots=True)
class Written:
    """The answer to a write: ``created`` False when the same write was already stored."""

    created: bool
    record: Any


@dataclass(frozen=True, slots=True)
class LotStock:
    lot: str
    kind: str
    received_micros: int  # received, or good output of a production lot
    consumed_micros: int
    remaining_micros: int


@dataclass(frozen=True, slots=True)
class MaterialStock:
    material: str
    unit: str
    on_hand_micros: int
    low_stock_micros: int | None
    lots: list[LotStock] = field(default_factory=list)

    @property
    def low(self) -> bool:
        return self.low_stock_micros is not None and self.on_hand_micros < self.low_stock_micros


def payload_hash(record: object) -> str:
    """SHA-256 of the record's canonical JSON (the parsed, normalised payload)."""
    text = json.dumps(asdict(record), sort_keys=True, separators=(",", ":"))  # type: ignore[call-overload]
    return hashlib.sha256(text.encode()).hexdigest()


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _of(table: Table, line: LineRef) -> Any:
    return and_(table.c.namespace == line.namespace, table.c.line == line.name)


def _advisory_key(line: LineRef) -> int:
    digest = hashlib.sha256(f"lineops-lots/{line}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


_LOT_COLUMNS: Final = [f.name for f in fields(Lot)]


def _lot(row: Row[Any]) -> Lot:
    return Lot(*row)  # type: ignore[call-arg]


class LotRepository:
    """Write (and read back) a line's lots and materials; safe to share between threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    # ------------------------------------------------------------------ plumbing

    def _write(self, attempt: Callable[[Connection], Written]) -> Written:
        """One transaction; a unique-key race with a concurrent write of the same id is
        retried once, which then finds the stored record (same or conflicting payload)."""
        for retry in (False, True):
            try:
                with self.engine.begin() as conn:
                    return attempt(conn)
            except IntegrityError:
                if retry:
                    raise
        raise AssertionError("unreachable")

    def _lock_line(self, conn: Connection, line: LineRef) -> None:
        """Serialise the genealogy writes of a line. PostgreSQL: a transaction-scoped
        advisory lock, so two consumptions cannot each pass the cycle check for the other's
        edge. SQLite: a first write takes the database's write lock (pysqlite begins the
        transaction at the first DML, and the checks below must read after it)."""
        if conn.dialect.name == "postgresql":
            conn.execute(select(func.pg_advisory_xact_lock(_advisory_key(line))))
        else:
            conn.execute(update(materials).where(literal(False)).values(unit=materials.c.unit))

    @staticmethod
    def _prior(
        conn: Connection, table: Table, column: str, line: LineRef, key: str, digest: str
    ) -> bool:
        """Whether the record is already stored with this payload; 409 if with another."""
        stored = conn.execute(
            select(table.c.payload_hash).where(_of(table, line), table.c[column] == key).limit(1)
        ).scalar_one_or_none()
        if stored is None:
            return False
        if stored != digest:
            raise Refused(
                409,
                "id-conflict",
                column_field(column),
                f"{key!r} was already recorded with a different payload; use a new id",
            )
        return True

    @staticmethod
    def _lot_row(conn: Connection, line: LineRef, lot: str) -> Lot | None:
        row = conn.execute(
            select(*(lots.c[c] for c in _LOT_COLUMNS)).where(_of(lots, line), lots.c.lot == lot)
        ).first()
        return None if row is None else _lot(row)

    @staticmethod
    def _insert(conn: Connection, table: Table, line: LineRef, values: dict[str, Any]) -> None:
        conn.execute(
            insert(table).values(
                namespace=line.namespace, line=line.name, created_at=_now(), **values
            )
        )

    def _material_unit(self, conn: Connection, line: LineRef, material: str) -> str | None:
        """The unit a material is counted in: declared (materials), else that of its lots
        already recorded (stock of one material is summed, so one unit)."""
        declared = conn.execute(
            select(materials.c.unit).where(_of(materials, line), materials.c.material == material)
        ).scalar_one_or_none()
        if declared is not None:
            return str(declared)
        recorded = conn.execute(
            select(lots.c.unit).where(_of(lots, line), lots.c.material == material).limit(1)
        ).scalar_one_or_none()
        return None if recorded is None else str(recorded)

    # ------------------------------------------------------------------ writes

    def receive(self, line: LineRef, receipt: MaterialLot) -> Written:
        """A material lot received from a supplier: its whole quantity is stock."""
        digest = payload_hash(receipt)

        def attempt(conn: Connection) -> Written:
            # The unit check reads, then writes: two receipts of a new material in kg and lb
            # at once both passed it, and inventory added the two up.
            self._lock_line(conn, line)
            if self._prior(conn, lots, "lot", line, receipt.lot, digest):
                return Written(False, self._lot_row(conn, line, receipt.lot))
            declared = self._material_unit(conn, line, receipt.material)
            if declared is not None and declared != receipt.unit:
                raise Refused(
                    422,
                    "unit-mismatch",
                    "unit",
                    f"{receipt.unit!r} is not the unit of material {receipt.material!r} "
                    f"({declared!r})",
                )
            values = asdict(receipt)
            values.update(
                kind="material",
                remaining_micros=receipt.quantity_micros,
                status="closed",
                payload_hash=digest,
            )
            self._insert(conn, lots, line, values)
            return Written(True, self._lot_row(conn, line, receipt.lot))

        return self._write(attempt)

    def _add_record(
        self,
        line: LineRef,
        table: Table,
        column: str,
        record: WorkOrder | QualityResult | Maintenance,
        check: Callable[[Connection], None] | None = None,
    ) -> Written:
        """Store a record kept as given under its id (``column``, the record's field of the
        same name): answered unchanged when already stored with this payload; ``check``
        refuses it before the insert."""
        digest = payload_hash(record)
        key = str(getattr(record, column))

        def attempt(conn: Connection) -> Written:
            if self._prior(conn, table, column, line, key, digest):
                return Written(False, record)
            if check is not None:
                check(conn)
            self._insert(conn, table, line, {**asdict(record), "payload_hash": digest})
            return Written(True, record)

        return self._write(attempt)

    def add_work_order(self, line: LineRef, order: WorkOrder) -> Written:
        return self._add_record(line, work_orders, "work_order", order)

    def produce(self, line: LineRef, produced: ProductionLot) -> Written:
        """Open a production lot (or record it closed when it carries its end and counts)."""
        digest = payload_hash(produced)

        def attempt(conn: Connection) -> Written:
            self._lock_line(conn, line)  # the unit check below reads, then writes
            if self._prior(conn, lots, "lot", line, produced.lot, digest):
                return Written(False, self._lot_row(conn, line, produced.lot))
            if produced.work_order is not None and not self._exists(
                conn, work_orders, "work_order", line, produced.work_order
            ):
                raise Refused(
                    422,
                    "unknown-work-order",
                    "workOrder",
                    f"work order {produced.work_order!r} is not recorded for the line",
                )
            declared = self._material_unit(conn, line, produced.material)
            if declared is not None and declared != produced.unit:
                raise Refused(
                    422,
                    "unit-mismatch",
                    "unit",
                    f"{produced.unit!r} is not the unit of product {produced.material!r} "
                    f"({declared!r})",
                )
            closed = produced.ended_at is not None
            good = produced.good or 0
            values = asdict(produced)
            values.update(
                kind="production",
                quantity_micros=good if closed else 0,
                remaining_micros=good if closed else 0,
                status="closed" if closed else "open",
                payload_hash=digest,
            )
            self._insert(conn, lots, line, values)
            return Written(True, self._lot_row(conn, line, produced.lot))

        return self._write(attempt)

    def close(self, line: LineRef, lot: str, closing: LotClose) -> Written:
        """Close a production lot: its good quantity becomes stock for downstream lots.
        Closing again with the same values answers the same; with others, 409. A lot closed
        without counts (from readings) takes the counts of a later close, once."""

        def attempt(conn: Connection) -> Written:
            # Two closes racing each read the lot open and both wrote: the second silently
            # replaced the first's counts, after both had answered 201.
            self._lock_line(conn, line)
            stored = self._lot_row(conn, line, lot)
            if stored is None:
                raise Refused(404, "unknown-lot", "path.lot", f"lot {lot!r} is not recorded")
            if stored.kind != "production":
                raise Refused(409, "not-a-production-lot", "path.lot", f"{lot!r} is a material lot")
            same = (stored.ended_at, stored.total, stored.good, stored.scrap) == (
                closing.ended_at,
                closing.total,
                closing.good,
                closing.scrap,
            )
            if stored.status == "closed" and same:
                return Written(False, stored)
            counted = (stored.total, stored.good, stored.scrap) != (None, None, None)
            counts = (closing.total, closing.good, closing.scrap) != (None, None, None)
            # Only counts may be added to a lot closed without them; anything else (other
            # counts, another end without counts) would rewrite a recorded close.
            if stored.status == "closed" and (counted or not counts):
                raise Refused(
                    409,
                    "lot-closed",
                    "path.lot",
                    f"lot {lot!r} was already closed at {stored.ended_at} with other "
                    + ("counts" if counted else "values"),
                )
            if stored.started_at is not None and closing.ended_at < stored.started_at:
                raise Refused(
                    422, "invalid-payload", "end", f"{closing.ended_at} is before the lot's start"
                )
            good = closing.good or 0
            # Nothing could be consumed from the lot while it had no stock; the WHERE keeps
            # that true under a concurrent consumption.
            done = conn.execute(
                update(lots)
                .where(
                    _of(lots, line),
                    lots.c.lot == lot,
                    lots.c.remaining_micros == stored.remaining_micros,
                )
                .values(
                    status="closed",
                    ended_at=closing.ended_at,
                    total=closing.total,
                    good=closing.good,
                    scrap=closing.scrap,
                    quantity_micros=good,
                    remaining_micros=stored.remaining_micros + good - stored.quantity_micros,
                )
            )
            if done.rowcount != 1:
                raise Refused(409, "lot-changed", "path.lot", f"lot {lot!r} changed; retry")
            return Written(True, self._lot_row(conn, line, lot))

        return self._write(attempt)

    def consume(self, line: LineRef, record: Consumption) -> Written:
        """Input lots into an output lot or a maintenance record, all inputs or none."""
        digest = payload_hash(record)

        def attempt(conn: Connection) -> Written:
            self._lock_line(conn, line)
            if self._prior(conn, consumptions, "consumption", line, record.consumption, digest):
                return Written(False, record)
            if record.output_lot is not None:
                target = self._lot_row(conn, line, record.output_lot)
                if target is None:
                    raise Refused(
                        422,
                        "unknown-lot",
                        "outputLot",
                        f"output lot {record.output_lot!r} is not recorded",
                    )
                if target.kind != "production":
                    raise Refused(
                        422,
                        "not-a-production-lot",
                        "outputLot",
                        f"{record.output_lot!r} is a material lot: only production lots consume",
                    )
            elif record.maintenance is not None and not self._exists(
                conn, maintenance, "maintenance", line, record.maintenance
            ):
                raise Refused(
                    422,
                    "unknown-maintenance",
                    "maintenance",
                    f"maintenance record {record.maintenance!r} is not recorded",
                )
            for i, item in enumerate(record.inputs):
                self._take(conn, line, item, f"inputs[{i}]", record.output_lot)
            for item in record.inputs:
                self._insert(
                    conn,
                    consumptions,
                    line,
                    {
                        "consumption": record.consumption,
                        "input_lot": item.lot,
                        "output_lot": record.output_lot,
                        "maintenance": record.maintenance,
                        "quantity_micros": item.quantity_micros,
                        "unit": item.unit,
                        "consumed_at": record.consumed_at,
                        "payload_hash": digest,
                    },
                )
            return Written(True, record)

        return self._write(attempt)

    def _take(
        self, conn: Connection, line: LineRef, item: Input, where: str, output: str | None
    ) -> None:
        stored = self._lot_row(conn, line, item.lot)
        if stored is None:
            raise Refused(422, "unknown-lot", f"{where}.lot", f"lot {item.lot!r} is not recorded")
        if stored.unit != item.unit:
            raise Refused(
                422,
                "unit-mismatch",
                f"{where}.unit",
                f"{item.unit!r} is not the unit of lot {item.lot!r} ({stored.unit!r})",
            )
        if output is not None and self._upstream(conn, line, item.lot, output):
            raise Refused(
                422,
                "genealogy-cycle",
                f"{where}.lot",
                f"consuming {item.lot!r} into {output!r} would make a cycle: {output!r} is "
                f"already upstream of {item.lot!r}",
            )
        taken = conn.execute(
            update(lots)
            .where(
                _of(lots, line),
                lots.c.lot == item.lot,
                lots.c.remaining_micros >= item.quantity_micros,
            )
            .values(remaining_micros=lots.c.remaining_micros - item.quantity_micros)
        )
        if taken.rowcount != 1:
            left = conn.execute(
                select(lots.c.remaining_micros).where(_of(lots, line), lots.c.lot == item.lot)
            ).scalar_one()
            raise Refused(
                409,
                "insufficient-stock",
                f"{where}.quantity",
                f"lot {item.lot!r} has {micros_text(left)} {stored.unit} left, "
                f"{micros_text(item.quantity_micros)} asked: short by "
                f"{micros_text(item.quantity_micros - left)} {stored.unit}",
            )

    @staticmethod
    def _upstream(conn: Connection, line: LineRef, lot: str, candidate: str) -> bool:
        """Whether ``candidate`` is ``lot`` or made into it, recursively (a recursive CTE;
        UNION, not UNION ALL, so a walk over a damaged graph still ends)."""
        if lot == candidate:
            return True
        c = consumptions.c
        seed = select(literal(lot).label("lot"))
        walk = seed.cte("upstream", recursive=True)
        step = select(c.input_lot).where(
            _of(consumptions, line), c.output_lot == walk.c.lot, c.output_lot.is_not(None)
        )
        walk = walk.union(step)
        found = conn.execute(select(exists().where(walk.c.lot == candidate))).scalar_one()
        return bool(found)

    def add_quality_result(self, line: LineRef, result: QualityResult) -> Written:
        def lot_recorded(conn: Connection) -> None:
            if not self._exists(conn, lots, "lot", line, result.lot):
                raise Refused(422, "unknown-lot", "lot", f"lot {result.lot!r} is not recorded")

        return self._add_record(line, quality_results, "result", result, lot_recorded)

    def add_maintenance(self, line: LineRef, record: Maintenance) -> Written:
        return self._add_record(line, maintenance, "maintenance", record)

    def set_material(self, line: LineRef, material: Material) -> Written:
        """Declare a material's unit and low-stock threshold (PUT: replaces). Its unit may
        not change once lots of it are recorded in another unit."""
        digest = payload_hash(material)

        def attempt(conn: Connection) -> Written:
            self._lock_line(conn, line)  # the unit check below reads, then writes
            other = conn.execute(
                select(lots.c.unit)
                .where(
                    _of(lots, line),
                    lots.c.material == material.material,
                    lots.c.unit != material.unit,
                )
                .limit(1)
            ).scalar_one_or_none()
            if other is not None:
                raise Refused(
                    422,
                    "unit-mismatch",
                    "unit",
                    f"lots of {material.material!r} are recorded in {other!r}, "
                    f"not {material.unit!r}",
                )
            stored = conn.execute(
                select(materials.c.payload_hash).where(
                    _of(materials, line), materials.c.material == material.material
                )
            ).scalar_one_or_none()
            if stored is None:
                self._insert(conn, materials, line, {**asdict(material), "payload_hash": digest})
                return Written(True, material)
            if stored != digest:
                conn.execute(
                    update(materials)
                    .where(_of(materials, line), materials.c.material == material.material)
                    .values(
                        unit=material.unit,
                        low_stock_micros=material.low_stock_micros,
                        payload_hash=digest,
                    )
                )
            return Written(False, material)

        return self._write(attempt)

    @staticmethod
    def _exists(conn: Connection, table: Table, column: str, line: LineRef, key: str) -> bool:
        return bool(
            conn.execute(
                select(exists().where(_of(table, line), table.c[column] == key))
            ).scalar_one()
        )

    # ------------------------------------------------------------------ readings' lots

    def open_from_readings(
        self, line: LineRef, lot: str, work_unit: str, started_at: str, product: str
    ) -> bool:
        """A lot first seen in readings: opened on its work unit unless already recorded.
        Returns whether it was opened."""
        opened = ProductionLot(
            lot=lot, material=product, work_unit=work_unit, started_at=started_at
        )
        try:
            with self.engine.begin() as conn:
                if self._exists(conn, lots, "lot", line, lot):
                    return False
                values = asdict(opened)
                values.update(
                    kind="production",
                    quantity_micros=0,
                    remaining_micros=0,
                    status="open",
                    payload_hash=payload_hash(opened),
                )
                self._insert(conn, lots, line, values)
        except IntegrityError:  # opened meanwhile by the API: fine
            return False
        return True

    def close_from_readings(self, line: LineRef, lot: str, ended_at: str) -> bool:
        """The work unit's readings moved on: an open lot ends at its last reading."""
        with self.engine.begin() as conn:
            done = conn.execute(
                update(lots)
                .where(
                    _of(lots, line),
                    lots.c.lot == lot,
                    lots.c.status == "open",
                    lots.c.kind == "production",
                )
                .values(status="closed", ended_at=ended_at)
            )
        return done.rowcount == 1

    def open_lots_on(self, line: LineRef, work_unit: str) -> list[tuple[str, str]]:
        """Production lots still open on a work unit, oldest first: (lot, started at)."""
        query = (
            select(lots.c.lot, lots.c.started_at)
            .where(
                _of(lots, line),
                lots.c.work_unit == work_unit,
                lots.c.status == "open",
                lots.c.kind == "production",
            )
            .order_by(lots.c.started_at, lots.c.id)
        )
        with self.engine.connect() as conn:
            return [(str(r[0]), str(r[1])) for r in conn.execute(query)]

    # ------------------------------------------------------------------ reads

    def lot(self, line: LineRef, lot: str) -> Lot | None:
        with self.engine.connect() as conn:
            return self._lot_row(conn, line, lot)

    def inputs(self, line: LineRef, lot: str) -> list[tuple[str, Input, str]]:
        """What was consumed into ``lot`` (one level), in recording order: (consumption id,
        input, consumed at)."""
        c = consumptions.c
        query = (
            select(c.consumption, c.input_lot, c.quantity_micros, c.unit, c.consumed_at)
            .where(_of(consumptions, line), c.output_lot == lot)
            .order_by(c.id)
        )
        with self.engine.connect() as conn:
            return [(r[0], Input(r[1], int(r[2]), r[3]), r[4]) for r in conn.execute(query)]

    def quality_results(self, line: LineRef, lot: str) -> list[QualityResult]:
        q = quality_results.c
        query = (
            select(q.result, q.lot, q.inspection, q.outcome, q.measurements, q.inspected_at)
            .where(_of(quality_results, line), q.lot == lot)
            .order_by(q.id)
        )
        with self.engine.connect() as conn:
            return [QualityResult(*r) for r in conn.execute(query)]

    def consumption(self, line: LineRef, key: str) -> Consumption | None:
        c = consumptions.c
        query = (
            select(
                c.input_lot, c.quantity_micros, c.unit, c.output_lot, c.maintenance, c.consumed_at
            )
            .where(_of(consumptions, line), c.consumption == key)
            .order_by(c.id)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        if not rows:
            return None
        inputs = tuple(Input(r[0], int(r[1]), r[2]) for r in rows)
        return Consumption(key, inputs, rows[0][5], rows[0][3], rows[0][4])

    def maintenance(
        self,
        line: LineRef,
        work_unit: str | None = None,
        start: str | None = None,
        end: str | None = None,
    ) -> list[tuple[Maintenance, list[Input]]]:
        """Maintenance records (by start), with the parts consumed into each; those of one
        work unit, overlapping [start, end) when given."""
        m = maintenance.c
        query = select(m.maintenance, m.work_unit, m.kind, m.reason, m.start, m.end).where(
            _of(maintenance, line)
        )
        if work_unit is not None:
            query = query.where(m.work_unit == work_unit)
        if end is not None:
            query = query.where(m.start < end)
        if start is not None:
            query = query.where((m.end.is_(None)) | (m.end > start))
        c = consumptions.c
        with self.engine.connect() as conn:
            records = [Maintenance(*r) for r in conn.execute(query.order_by(m.start, m.id))]
            parts: dict[str, list[Input]] = {}
            if records:
                used = conn.execute(
                    select(c.maintenance, c.input_lot, c.quantity_micros, c.unit)
                    .where(
                        _of(consumptions, line),
                        c.maintenance.in_([r.maintenance for r in records]),
                    )
                    .order_by(c.id)
                )
                for r in used:
                    parts.setdefault(r[0], []).append(Input(r[1], int(r[2]), r[3]))
        return [(r, parts.get(r.maintenance, [])) for r in records]

    def inventory(self, line: LineRef, material: str | None = None) -> list[MaterialStock]:
        """Stock per material and lot: received (or good output) minus consumed, with each
        material's unit and low-stock threshold; declared materials without lots show 0."""
        consumed = (
            select(
                consumptions.c.input_lot.label("lot"),
                func.sum(consumptions.c.quantity_micros).label("used"),
            )
            .where(_of(consumptions, line))
            .group_by(consumptions.c.input_lot)
            .subquery()
        )
        query = (
            select(
                lots.c.material,
                lots.c.unit,
                lots.c.lot,
                lots.c.kind,
                lots.c.quantity_micros,
                func.coalesce(consumed.c.used, 0),
                lots.c.remaining_micros,
            )
            .select_from(lots.outerjoin(consumed, consumed.c.lot == lots.c.lot))
            .where(_of(lots, line))
            .order_by(lots.c.material, lots.c.id)
        )
        declared = select(
            materials.c.material, materials.c.unit, materials.c.low_stock_micros
        ).where(_of(materials, line))
        if material is not None:
            query = query.where(lots.c.material == material)
            declared = declared.where(materials.c.material == material)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
            thresholds = {r[0]: (r[1], r[2]) for r in conn.execute(declared)}
        stocks: dict[str, MaterialStock] = {}
        for name, unit, lot, kind, received, used, remaining in rows:
            stock = stocks.get(name)
            if stock is None:
                limit = thresholds.get(name, (unit, None))[1]
                stock = stocks[name] = MaterialStock(name, unit, 0, limit, [])
            stock.lots.append(LotStock(lot, kind, int(received), int(used), int(remaining)))
        for name, (unit, limit) in thresholds.items():
            stocks.setdefault(name, MaterialStock(name, unit, 0, limit, []))
        return [
            MaterialStock(
                s.material,
                s.unit,
                sum(x.remaining_micros for x in s.lots),
                s.low_stock_micros,
                s.lots,
            )
            for s in sorted(stocks.values(), key=lambda s: s.material)
        ]


def column_field(column: str) -> str:
    """A column as the API field naming it (``work_order`` -> ``workOrder``)."""
    head, *rest = column.split("_")
    return head + "".join(part.capitalize() for part in rest)


def micros_text(value: int) -> str:
    """Exact decimal text of a micros quantity (``1500000`` -> ``1.5``)."""
    sign = "-" if value < 0 else ""
    whole, frac = divmod(abs(value), MICROS)
    return sign + (f"{whole}.{frac:06d}".rstrip("0").rstrip(".") if frac else str(whole))
