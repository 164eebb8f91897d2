"""Metadata for objects the operator creates on behalf of a custom resource."""

from __future__ import annotations

from typing import Any

from lineops.api.constants import LABEL_MANAGED_BY, MANAGED_BY


def owner_reference(body: dict[str, Any]) -> dict[str, Any]:
    """Controller owner reference, so the garbage collector deletes the child with its owner."""
    meta = body["metadata"]
    return {
        "apiVersion": body["apiVersion"],
        "kind": body["kind"],
        "name": meta["name"],
        "uid": meta["uid"],
        "controller": True,
        "blockOwnerDeletion": True,
    }


def child_metadata(body: dict[str, Any], name: str, labels: dict[str, str]) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": body["metadata"]["namespace"],
        "labels": {LABEL_MANAGED_BY: MANAGED_BY, **labels},
        "ownerReferences": [owner_reference(body)],
    }
