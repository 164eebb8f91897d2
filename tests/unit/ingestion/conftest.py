"""Fixtures of the ingestion unit tests: a small line, and an ingestor on temporary stores."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from lineops.api.productionline import ProductionLineSpec
from lineops.dataplane.ingestion.line_ingestor import LineIngestor
from lineops.dataplane.ingestion.metrics import IngestionMetrics
from lineops.dataplane.offline_store import OfflineStore
from lineops.dataplane.quarantine import ReadingQuarantine
from prometheus_client import CollectorRegistry

LINE = "press-line-1"


def small_spec(window: str = "5m") -> ProductionLineSpec:
    return ProductionLineSpec.model_validate(
        {
            "site": "plant-a",
            "area": "stamping",
            "workUnits": [
                {
                    "name": "press-01",
                    "idealCycleTime": "1.2s",
                    "sensors": [
                        {"name": "vibration_rms", "unit": "mm/s", "validRange": ["0", "50"]},
                        {"name": "ram_force", "unit": "kN", "validRange": ["0", "2500"]},
                    ],
                },
                {
                    "name": "grinder-01",
                    "idealCycleTime": "2.4s",
                    "sensors": [{"name": "wheel_wear", "unit": "um"}],
                },
            ],
            "features": {"window": window, "materializeEvery": "1s"},
        }
    )


@pytest.fixture
def spec() -> ProductionLineSpec:
    return small_spec()


class Stores:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.offline = OfflineStore(root / "offline", fsync=False)
        self.quarantine = ReadingQuarantine.embedded(root)
        self.registry = CollectorRegistry()
        self.metrics = IngestionMetrics(self.registry)

    def ingestor(self, spec: ProductionLineSpec, **kwargs: object) -> LineIngestor:
        return LineIngestor(
            LINE,
            spec,
            offline=self.offline,
            quarantine=self.quarantine,
            metrics=self.metrics,
            **kwargs,  # type: ignore[arg-type]
        )


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[Stores]:
    s = Stores(tmp_path)
    yield s
    s.quarantine.close()
