"""Incremental rule evaluation with fixed (Phase II) limits.

Three entry points that give exactly the violations of the batch ``phases.monitor``:

* ``SpcStream.update_one`` takes one subgroup (or individual value, or sample) as plain
  numbers: O(1) pure Python with no numpy call, for live feeds that deliver one subgroup at
  a time. The statistics repeat numpy's float operations in numpy's order
  (``streaming_scalar``) and the rules are run counters (``RuleStream.push``).
* ``SpcStream.update`` takes a chunk. Chunks shorter than ``VECTOR_MIN`` go through
  ``update_one``; longer ones run the vectorised batch rules on the chunk preceded by the
  last ``MAX_LOOKBACK`` points. Because no rule looks further back, the result for the chunk
  equals the batch result on the whole series; the per-point cost is the numpy cost, which
  is what makes tens of millions of points per second possible without a compiled loop.

All paths share one state per plotted statistic (the tail of recent points and the run
counters), so callers may mix them.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterable, Sequence
from functools import reduce
from operator import add

import numpy as np

from lineops.mes.charts import ChartKind, ChartParams, apply
from lineops.mes.data import ChartData, FloatArray, finite_row
from lineops.mes.errors import MesInputError
from lineops.mes.rules import MAX_LOOKBACK, RULES, IndexArray, Violation, applies, evaluate
from lineops.mes.streaming_scalar import (
    COLUMN_SUM_MAX,
    pairwise_sum,
    row_std,
    safe_sqrt,
    standardize_one,
)

# Below this chunk length the per-call numpy overhead costs more than the Python loop.
VECTOR_MIN = 32

# The run counters hard-wire the zone of the "within" and "outside" rules (1 sigma).
_ZONE = 1.0
assert all(s.threshold == _ZONE for s in RULES.values() if s.kind in ("within", "outside"))
_NEVER = 1 << 62  # a run length no stream reaches: the gate for a kind no chosen rule has
_NONE: tuple[str, ...] = ()


class RuleStream:
    """Run rules over one plotted statistic, point by point or chunk by chunk."""

    __slots__ = (
        "_above",
        "_alt_gate",
        "_below",
        "_checks",
        "_down",
        "_flips",
        "_last_step",
        "_last_x",
        "_outside",
        "_run_gate",
        "_tail_x",
        "_tail_z",
        "_trend_gate",
        "_up",
        "_within",
        "_within_gate",
        "_zone_gate",
        "count",
        "rules",
    )

    def __init__(self, rules: Sequence[str]) -> None:
        self.rules = tuple(rules)
        # Sorted by id, so a point's rules come out in the order ``Violation`` sorts them.
        specs = [RULES[rule] for rule in sorted(set(self.rules))]
        self._checks = tuple((s.id, s.kind, s.length, s.threshold, s.needed) for s in specs)

        # Every zone rule needs the newest point beyond its threshold, every run rule a run
        # of its length: a point that meets none of these fires nothing, and most points
        # leave ``push`` after these few comparisons.
        def gate(kinds: tuple[str, ...], shorten: int = 0) -> int:
            return min((s.length - shorten for s in specs if s.kind in kinds), default=_NEVER)

        self._zone_gate = min(
            (s.threshold for s in specs if s.kind in ("beyond", "count", "outside")),
            default=math.inf,
        )
        self._run_gate = gate(("run",))
        self._trend_gate = gate(("trend",), 1)
        self._alt_gate = gate(("alternate",), 2)
        self._within_gate = gate(("within",))
        self.count = 0  # points seen so far
        self._tail_x: deque[float] = deque(maxlen=MAX_LOOKBACK)
        self._tail_z: deque[float] = deque(maxlen=MAX_LOOKBACK)
        self._reset_counters()

    def _reset_counters(self) -> None:
        self._above = self._below = self._within = self._outside = 0
        self._up = self._down = self._flips = 0
        # NaN is neither above nor below the first point: no step, as batch has none there.
        self._last_x = math.nan
        self._last_step = 0  # sign of the previous difference, 0 when none or flat

    def push(self, x: float, z: float) -> tuple[str, ...]:
        """Rules that fire on this point, by rule id."""
        self._tail_x.append(x)
        self._tail_z.append(z)
        self.count += 1
        # NaN z (zero sigma, point on the centre) is on no side and in no zone, as in batch.
        if z > 0.0:
            above = self._above = self._above + 1
            self._below = below = 0
        elif z < 0.0:
            below = self._below = self._below + 1
            self._above = above = 0
        else:
            self._above = self._below = above = below = 0
        az = -z if z < 0.0 else z
        if az < _ZONE:
            within = self._within = self._within + 1
            self._outside = 0
        else:
            within = self._within = 0
            self._outside = self._outside + 1 if az > _ZONE else 0
        last = self._last_x
        self._last_x = x
        if x > last:
            up = self._up = self._up + 1
            self._down = down = 0
            flip = self._last_step < 0
            self._last_step = 1
        elif x < last:
            down = self._down = self._down + 1
            self._up = up = 0
            flip = self._last_step > 0
            self._last_step = -1
        else:
            self._up = self._down = up = down = self._last_step = 0
            flip = False
        flips = self._flips = self._flips + 1 if flip else 0
        if (
            az > self._zone_gate
            or above >= self._run_gate
            or below >= self._run_gate
            or up >= self._trend_gate
            or down >= self._trend_gate
            or flips >= self._alt_gate
            or within >= self._within_gate
        ):
            return self._fired(z, az)
        return _NONE

    def _fired(self, z: float, az: float) -> tuple[str, ...]:
        out: list[str] = []
        for rule, kind, length, t, needed in self._checks:
            if kind == "beyond":
                hit = az > t
            elif kind == "run":
                hit = self._above >= length or self._below >= length
            elif kind == "trend":
                hit = self._up >= length - 1 or self._down >= length - 1
            elif kind == "alternate":
                hit = self._flips >= length - 2
            elif kind == "within":
                hit = self._within >= length
            elif kind == "outside":
                hit = self._outside >= length
            elif z > t:
                window = list(self._tail_z)[-length:]
                hit = sum(1 for v in window if v > t) >= needed
            elif z < -t:
                window = list(self._tail_z)[-length:]
                hit = sum(1 for v in window if v < -t) >= needed
            else:
                hit = False
            if hit:
                out.append(rule)
        return tuple(out)

    def push_many(self, x: FloatArray, z: FloatArray) -> dict[str, IndexArray]:
        """Indices (counted from the first point ever pushed) at which each rule fires."""
        if x.size < VECTOR_MIN:
            start = self.count
            hits: dict[str, list[int]] = {rule: [] for rule in self.rules}
            for i, (xi, zi) in enumerate(zip(x.tolist(), z.tolist(), strict=True)):
                for rule in self.push(xi, zi):
                    hits[rule].append(start + i)
            return {rule: np.asarray(idx, dtype=np.intp) for rule, idx in hits.items()}
        ctx = len(self._tail_x)
        xs = np.concatenate([np.fromiter(self._tail_x, np.float64, ctx), x])
        zs = np.concatenate([np.fromiter(self._tail_z, np.float64, ctx), z])
        found = evaluate(xs, zs, self.rules)
        offset = self.count - ctx
        result = {rule: idx[idx >= ctx] + offset for rule, idx in found.items()}
        # Replaying the last points rebuilds the counters that ``push`` continues from.
        count = self.count + x.size
        self._tail_x.clear()
        self._tail_z.clear()
        self._reset_counters()
        for xi, zi in zip(xs[-MAX_LOOKBACK:].tolist(), zs[-MAX_LOOKBACK:].tolist(), strict=True):
            self.push(xi, zi)
        self.count = count
        return result


class SpcStream:
    """Phase II monitoring of a control chart with fixed limits, subgroup by subgroup.

    ``update`` accepts any number of new subgroups (or samples for attribute charts) and
    ``update_one`` exactly one, as plain numbers; both return violations with indices
    counted from the first subgroup ever seen, the same indices (and order) the batch
    ``phases.monitor`` reports for the concatenated data.
    """

    def __init__(self, params: ChartParams, rules: Iterable[str]) -> None:
        self.params = params
        self.rules = tuple(rules)
        kind = params.kind
        self._kind = kind
        attribute = kind.is_attribute
        self._streams = {
            name: RuleStream(tuple(r for r in self.rules if applies(attribute, name, r)))
            for name in kind.statistics
        }
        self._last_individual: float | None = None
        self._seen = 0  # subgroups (individuals, samples) seen so far
        # Centres and sigmas taken from ``apply`` itself, so they are the batch floats.
        if kind in (ChartKind.XBAR_R, ChartKind.XBAR_S):
            probe = ChartData(values=np.zeros((1, params.n)))
        elif kind is ChartKind.IMR:
            probe = ChartData(values=np.zeros(2))
        else:
            probe = ChartData(counts=np.zeros(1), sizes=np.full(1, float(max(params.n, 1))))
        series = apply(params, probe)
        self._n = params.n
        self._name_a = series[0].name
        self._stream_a = self._streams[self._name_a]
        self._center_a = series[0].center
        self._sigma_a = float(series[0].sigma[0])
        second = series[-1]  # the same series again on one-statistic charts
        self._name_b = second.name
        self._stream_b = self._streams[second.name]
        self._center_b = second.center
        self._sigma_b = float(second.sigma[0])
        # R and s sort before "xbar", so their violations come first at the same index.
        self._b_first = self._name_b < self._name_a

    def update(self, data: ChartData) -> list[Violation]:
        if len(data) == 0:
            return []
        if len(data) < VECTOR_MIN:
            rows = self._rows(data)
            if rows is not None:
                found: list[Violation] = []
                for row in rows:
                    found += self.update_one(row)
                return found
        return self._update_vector(data)

    def update_one(self, values: Sequence[float]) -> list[Violation]:
        """Violations of one new subgroup, given as plain numbers, in ``Violation`` order.

        ``values`` is the subgroup's measurements (X-bar charts), ``[x]`` (I-MR),
        ``[count]`` (c) or ``[count, sample size]`` (p, np, u). Floats are used as they are;
        other numbers go through ``float()`` first, as ``ChartData`` does. (Integers mixed
        with floats are summed as Python numbers, which equals the float sum as long as the
        partial sums stay within 2**53.)
        """
        kind = self._kind
        index = self._seen
        if kind is ChartKind.XBAR_R or kind is ChartKind.XBAR_S:
            n = self._n
            try:
                total = reduce(add, values) if n <= COLUMN_SUM_MAX else pairwise_sum(values)
            except TypeError:  # e.g. a string among the numbers: convert below
                total = math.nan
            # Plain floats of the right count pass one type test; anything else (numpy
            # scalars, strings, NaN, a wrong count) is converted and checked, then re-summed.
            if len(values) != n or type(total) is not float or total - total != 0.0:
                values = _variables_row(values, n, index)
                total = reduce(add, values) if n <= COLUMN_SUM_MAX else pairwise_sum(values)
            xa = total / n
            xb = max(values) - min(values) if kind is ChartKind.XBAR_R else row_std(values)
        elif kind is ChartKind.IMR:
            (xa,) = _variables_row(values, 1, index)
            last = self._last_individual
            self._last_individual = xa
            self._seen = index + 1
            return self._individual(xa, last, index)
        else:
            xa, sigma = self._attribute_point(values, index)
            self._seen = index + 1
            za = standardize_one(xa, self._center_a, sigma)
            return [Violation(index, self._name_a, r) for r in self._stream_a.push(xa, za)]
        self._seen = index + 1
        sa, ca = self._sigma_a, self._center_a
        za = (xa - ca) / sa if sa != 0.0 else standardize_one(xa, ca, sa)
        sb, cb = self._sigma_b, self._center_b
        zb = (xb - cb) / sb if sb != 0.0 else standardize_one(xb, cb, sb)
        hits_b = self._stream_b.push(xb, zb)
        hits_a = self._stream_a.push(xa, za)
        if not (hits_a or hits_b):
            return []
        found = [Violation(index, self._name_a, r) for r in hits_a]
        spread = [Violation(index, self._name_b, r) for r in hits_b]
        return spread + found if self._b_first else found + spread

    def _individual(self, x: float, last: float | None, index: int) -> list[Violation]:
        z = standardize_one(x, self._center_a, self._sigma_a)
        found = [Violation(index, self._name_a, r) for r in self._stream_a.push(x, z)]
        if last is None:
            return found
        # A moving range ends at this value but is point ``index - 1`` of its own chart.
        mr = abs(x - last)
        z_mr = standardize_one(mr, self._center_b, self._sigma_b)
        hits = self._stream_b.push(mr, z_mr)
        return [Violation(index - 1, self._name_b, r) for r in hits] + found

    def _attribute_point(self, values: Sequence[float], index: int) -> tuple[float, float]:
        """The plotted point of one sample and its sigma (which varies with n on p and u)."""
        kind = self._kind
        expected = 1 if kind is ChartKind.C else 2
        if len(values) != expected:
            # As the batch path refuses it (a c chart given [count, size] raised a bare
            # "too many values to unpack").
            shape = "[count]" if expected == 1 else "[count, sample size]"
            raise MesInputError(
                f"a {kind.value} chart point is {shape}, got {len(values)} value(s)", row=index
            )
        if kind is ChartKind.C:
            (count,) = values
            return _check_count(float(count), index), self._sigma_a
        count, size = values
        c = _check_count(float(count), index)
        n = float(size)
        if not (math.isfinite(n) and n > 0.0):
            raise MesInputError(f"sample size {n:g} must be positive", row=index, field="n")
        if kind in (ChartKind.P, ChartKind.NP) and c > n:
            # A share above 1: the batch path refuses it, the stream charted it.
            raise MesInputError(f"count {c:g} exceeds sample size {n:g}", row=index, field="count")
        if kind is ChartKind.NP:
            if n != self._n:
                raise MesInputError(
                    f"sample size {n:g} differs from Phase I size {self._n}",
                    row=index,
                    field="n",
                )
            return c, self._sigma_a
        center = self.params.center
        # As ``charts.apply``: sigma_p = sqrt(p(1 - p) / n), sigma_u = sqrt(u / n).
        var = center * (1.0 - center) / n if kind is ChartKind.P else center / n
        return c / n, safe_sqrt(var)

    def _rows(self, data: ChartData) -> list[list[float]] | None:
        """``data`` as ``update_one`` rows, or None to leave odd input to ``apply``'s checks.

        Anything ``apply`` would reject goes to it, so a bad chunk fails whole, with the
        same message, and leaves the stream as it was.
        """
        kind = self._kind
        if kind in (ChartKind.XBAR_R, ChartKind.XBAR_S):
            v = data.values
            if v is None or v.ndim != 2 or v.shape[1] != self._n:
                return None
            rows: list[list[float]] = v.tolist()
            return rows
        if kind is ChartKind.IMR:
            if data.values is None or data.values.ndim != 1:
                return None
            return [[x] for x in data.values.tolist()]
        if data.counts is None:
            return None
        if data.sizes is None:
            return [[c] for c in data.counts.tolist()] if kind is ChartKind.C else None
        if kind is ChartKind.NP and np.any(data.sizes != self._n):
            return None
        return [[c, n] for c, n in zip(data.counts.tolist(), data.sizes.tolist(), strict=True)]

    def _update_vector(self, data: ChartData) -> list[Violation]:
        series = apply(self.params, data)
        found: list[Violation] = []
        for s in series:
            x, z = s.points, s.z()
            if self.params.kind is ChartKind.IMR and s.name == "mr":
                x, z = self._bridge_moving_range(data, x, z)
            stream = self._streams[s.name]
            for rule, idx in stream.push_many(x, z).items():
                found.extend(Violation(int(i), s.name, rule) for i in idx)
        if self.params.kind is ChartKind.IMR:
            assert data.values is not None
            self._last_individual = float(data.values[-1])
        self._seen += len(data)
        return sorted(found)

    def _bridge_moving_range(
        self, data: ChartData, x: FloatArray, z: FloatArray
    ) -> tuple[FloatArray, FloatArray]:
        # The first moving range of a chunk spans the previous chunk's last value.
        if self._last_individual is None:
            return x, z
        assert data.values is not None
        bridge = ChartData(values=np.array([self._last_individual, float(data.values[0])]))
        first = apply(self.params, bridge)[1]
        return (
            np.concatenate([first.points, x]),
            np.concatenate([first.z(), z]),
        )


def _variables_row(values: Sequence[float], n: int, index: int) -> list[float]:
    """``values`` as floats, with the checks (and messages) of ``data.as_subgroups``."""
    row = finite_row(values, index)
    if len(row) != n:
        raise MesInputError(f"subgroup has {len(row)} values, expected {n}", row=index)
    return row


def _check_count(count: float, index: int) -> float:
    """As ``data.as_counts``: a non-negative whole number."""
    if not math.isfinite(count) or count < 0 or count != round(count):
        problem = "is negative" if count < 0 else "is not a whole number"
        raise MesInputError(f"count {count:g} {problem}", row=index, field="count")
    return count
