"""Incremental rule evaluation with fixed (Phase II) limits.

Two paths that give exactly the violations of the batch evaluator in ``rules``:

* ``RuleStream.push`` takes one point and updates a handful of run counters: O(1) in pure
  Python, for live feeds that arrive one subgroup at a time.
* ``RuleStream.push_many`` takes a chunk and runs the vectorised batch rules on the chunk
  preceded by the last ``MAX_LOOKBACK`` points. Because no rule looks further back, the
  result for the chunk equals the batch result on the whole series; the per-point cost is
  the numpy cost, which is what makes millions of points per second possible without a
  compiled inner loop.

The two paths share one state (the tail of recent points), so callers may mix them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence

import numpy as np

from lineops.mes.charts import ChartKind, ChartParams, apply
from lineops.mes.data import ChartData, FloatArray
from lineops.mes.rules import MAX_LOOKBACK, RULES, IndexArray, Violation, evaluate

# Below this chunk length the per-call numpy overhead costs more than the Python loop.
VECTOR_MIN = 32


class _Counters:
    """Run lengths that the rules need, updated one point at a time."""

    def __init__(self) -> None:
        self.above = self.below = self.within = self.outside = 0
        self.up = self.down = self.flips = 0
        self.last_x: float | None = None
        self.last_step = 0  # sign of the previous difference, 0 when none or flat
        self.recent: deque[float] = deque(maxlen=5)

    def update(self, x: float, z: float) -> None:
        self.above = self.above + 1 if z > 0 else 0
        self.below = self.below + 1 if z < 0 else 0
        self.within = self.within + 1 if abs(z) < 1.0 else 0
        self.outside = self.outside + 1 if abs(z) > 1.0 else 0
        if self.last_x is not None:
            step = 1 if x > self.last_x else (-1 if x < self.last_x else 0)
            self.up = self.up + 1 if step > 0 else 0
            self.down = self.down + 1 if step < 0 else 0
            flip = step != 0 and step == -self.last_step
            self.flips = self.flips + 1 if flip else 0
            self.last_step = step
        self.last_x = x
        self.recent.append(z)

    def fires(self, rule: str) -> bool:
        spec = RULES[rule]
        kind, t = spec.kind, spec.threshold
        z = self.recent[-1]
        if kind == "beyond":
            return abs(z) > t
        if kind == "run":
            return self.above >= spec.length or self.below >= spec.length
        if kind == "trend":
            return self.up >= spec.length - 1 or self.down >= spec.length - 1
        if kind == "alternate":
            return self.flips >= spec.length - 2
        if kind == "within":
            return self.within >= spec.length
        if kind == "outside":
            return self.outside >= spec.length
        window = list(self.recent)[-spec.length :]
        if z > t:
            return sum(1 for v in window if v > t) >= spec.needed
        if z < -t:
            return sum(1 for v in window if v < -t) >= spec.needed
        return False


class RuleStream:
    """Run rules over one plotted statistic, point by point or chunk by chunk."""

    def __init__(self, rules: Sequence[str]) -> None:
        self.rules = tuple(rules)
        self.count = 0  # points seen so far
        self._tail_x: deque[float] = deque(maxlen=MAX_LOOKBACK)
        self._tail_z: deque[float] = deque(maxlen=MAX_LOOKBACK)
        self._state = _Counters()

    def push(self, x: float, z: float) -> list[str]:
        """Rules that fire on this point."""
        self._state.update(x, z)
        self._tail_x.append(x)
        self._tail_z.append(z)
        self.count += 1
        return [rule for rule in self.rules if self._state.fires(rule)]

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
        self.count += x.size
        self._tail_x.extend(x[-MAX_LOOKBACK:].tolist())
        self._tail_z.extend(z[-MAX_LOOKBACK:].tolist())
        self._state = _Counters()
        for xi, zi in zip(self._tail_x, self._tail_z, strict=True):
            self._state.update(xi, zi)
        return result


class SpcStream:
    """Phase II monitoring of a control chart with fixed limits, subgroup by subgroup.

    ``update`` accepts any number of new subgroups (or samples for attribute charts) and
    returns their violations with indices counted from the first subgroup ever seen, the
    same indices the batch ``phases.monitor`` reports for the concatenated data.
    """

    def __init__(self, params: ChartParams, rules: Iterable[str]) -> None:
        self.params = params
        self.rules = tuple(rules)
        self._streams = {name: RuleStream(self.rules) for name in params.kind.statistics}
        self._last_individual: float | None = None

    def update(self, data: ChartData) -> list[Violation]:
        if len(data) == 0:
            return []
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
