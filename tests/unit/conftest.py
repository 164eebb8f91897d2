"""Fixtures for every unit test."""

from __future__ import annotations

import pytest

from tests.support.status_patch import checked_status_patches


@pytest.fixture(autouse=True)
def _status_patches_match_the_api(checked_status_patches: None) -> None:
    """A reconcile test reading an outcome's status patch also checks it against the api
    status model (extra fields forbidden) and the CRD schema (see checked_status_patches)."""


__all__ = ["checked_status_patches"]
