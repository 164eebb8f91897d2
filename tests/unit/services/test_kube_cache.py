"""The operator's record of the ConfigMaps it owns (lineops.backends.kube_cache): when a
reconcile may skip its read or create, and when it must ask the API server again. The API
server side (watch events, deletion, recreation) is tested in
tests/integration/test_reconcile_requests.py."""

from __future__ import annotations

from typing import Any

from lineops.backends.kube_cache import ConfigMapCache


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _cm(version: str, data: dict[str, str], owner: str = "u-1", **labels: str) -> dict[str, Any]:
    return {
        "metadata": {
            "name": "line-a-lineops",
            "namespace": "ns",
            "resourceVersion": version,
            "labels": {"app.kubernetes.io/managed-by": "lineops", **labels},
            "ownerReferences": [{"uid": owner}],
        },
        "data": data,
    }


def test_known_content_matches_and_a_difference_does_not() -> None:
    cache = ConfigMapCache()
    cache.observe(_cm("10", {"line.json": "{}"}, extra="kept"))
    assert cache.matches("ns", "line-a-lineops", _cm("", {"line.json": "{}"}))
    assert not cache.matches("ns", "line-a-lineops", _cm("", {"line.json": '{"a":1}'}))
    assert not cache.matches("ns", "line-a-lineops", _cm("", {"line.json": "{}"}, owner="u-2"))
    assert not cache.matches("ns", "line-a-lineops", _cm("", {"line.json": "{}"}, extra="other"))
    assert not cache.matches("ns", "other", _cm("", {"line.json": "{}"}))


def test_a_deletion_is_remembered_against_late_answers() -> None:
    cache = ConfigMapCache()
    cache.observe(_cm("10", {"k": "v"}))
    cache.observe(_cm("12", {"k": "v"}), deleted=True)
    assert not cache.exists("ns", "line-a-lineops")
    # A write's answer that the watch overtook (older resourceVersion) changes nothing.
    cache.observe(_cm("11", {"k": "v"}))
    assert not cache.exists("ns", "line-a-lineops")
    # Nor does a 409 (it says "exists", but not since when).
    cache.confirm_exists("ns", "line-a-lineops")
    assert not cache.exists("ns", "line-a-lineops")
    cache.observe(_cm("13", {"k": "v"}))
    assert cache.exists("ns", "line-a-lineops")


def test_a_409_is_known_to_exist_but_not_to_match() -> None:
    cache = ConfigMapCache()
    cache.confirm_exists("ns", "line-a-lineops")
    assert cache.exists("ns", "line-a-lineops")
    assert not cache.matches("ns", "line-a-lineops", _cm("", {}))
    # Any real version supersedes it.
    cache.observe(_cm("5", {"k": "v"}))
    assert cache.matches("ns", "line-a-lineops", _cm("", {"k": "v"}))


def test_what_was_learnt_long_ago_is_asked_again_and_pruned() -> None:
    clock = Clock()
    cache = ConfigMapCache(trust_seconds=600, clock=clock)
    cache.observe(_cm("10", {"k": "v"}))
    clock.now += 599
    assert cache.exists("ns", "line-a-lineops")
    clock.now += 2
    assert not cache.exists("ns", "line-a-lineops")
    assert not cache.matches("ns", "line-a-lineops", _cm("", {"k": "v"}))
    for i in range(200):  # new entries prune the stale ones (bounded memory)
        body = _cm(str(100 + i), {"k": "v"})
        body["metadata"]["name"] = f"cm-{i}"
        cache.observe(body)
    assert len(cache) <= 200
    assert "line-a-lineops" not in {k[1] for k in cache._known}


def test_objects_without_a_version_are_not_recorded() -> None:
    cache = ConfigMapCache()
    cache.observe(_cm("", {"k": "v"}))
    assert len(cache) == 0
