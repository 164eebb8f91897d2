"""A Feast offline store that lineops never queries, instead of Feast's "file" store.

lineops pushes window aggregates to Feast's online store and builds training sets from its own
raw store (the data plane's ``/training-set``), so Feast's offline store is never asked for
anything. Feast's "file" store is its dask store: building a FeatureStore with it imports dask,
and dask imports scipy, about 26 MB of the operator's resident memory (measured: 184 -> 210 MB
when the first line's FeatureStore is built) for code that never runs. Configured as
``offline_store={"type": OFFLINE_STORE_TYPE}``, this store loads nothing, and a call that
would need an offline store says so instead of failing somewhere inside dask.
"""

from __future__ import annotations

from typing import Any, Final, Literal, NoReturn

from feast.infra.offline_stores.offline_store import OfflineStore
from feast.repo_config import FeastConfigBaseModel

OFFLINE_STORE_TYPE: Final = "lineops.backends.feast_offline.NoOfflineStore"


class NoOfflineStoreConfig(FeastConfigBaseModel):
    """Feast finds the config class by the store's class name plus ``Config``."""

    type: Literal["lineops.backends.feast_offline.NoOfflineStore"] = (
        "lineops.backends.feast_offline.NoOfflineStore"
    )


def _refuse(what: str) -> NoReturn:
    raise NotImplementedError(
        f"Feast offline store: {what} is not available: lineops configures no Feast offline "
        "store (training sets come from the data plane's /training-set, features from the "
        "online store)"
    )


class NoOfflineStore(OfflineStore):
    @staticmethod
    def pull_latest_from_table_or_query(*args: Any, **kwargs: Any) -> NoReturn:
        _refuse("pull_latest_from_table_or_query (materialization)")

    @staticmethod
    def get_historical_features(*args: Any, **kwargs: Any) -> NoReturn:
        _refuse("get_historical_features")

    @staticmethod
    def pull_all_from_table_or_query(*args: Any, **kwargs: Any) -> NoReturn:
        _refuse("pull_all_from_table_or_query")

    @staticmethod
    def write_logged_features(*args: Any, **kwargs: Any) -> NoReturn:
        _refuse("write_logged_features (feature logging)")

    @staticmethod
    def offline_write_batch(*args: Any, **kwargs: Any) -> NoReturn:
        _refuse("offline_write_batch (push to the offline store)")
