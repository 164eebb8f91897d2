"""The data plane's OpenAPI document: the committed ``docs/dataplane-openapi.json`` is what
the code generates (drift test, like the CRDs'), and it is a valid OpenAPI 3.1 document
(the official 3.1 meta-schema and JSON Schema 2020-12 for every schema in it, both shipped
with schemathesis; and schemathesis builds every operation from it)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest
import schemathesis
from lineops.cli.main import main
from lineops.dataplane.ingestion.reasons import VOCABULARY
from lineops.dataplane.openapi import openapi_document
from schemathesis.core.result import Ok

REPO = Path(__file__).resolve().parents[2]
COMMITTED = REPO / "docs" / "dataplane-openapi.json"


def test_committed_document_matches_a_fresh_generation(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["dataplane", "openapi", "--check", "--out", str(COMMITTED)])
    assert status == 0, f"run `lineops dataplane openapi`: {capsys.readouterr().err}"
    assert json.loads(COMMITTED.read_text(encoding="utf-8")) == openapi_document()


def test_check_fails_on_a_stale_document_and_names_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dataplane-openapi.json"
    assert main(["dataplane", "openapi", "--check", "--out", str(out)]) != 0  # missing
    assert main(["dataplane", "openapi", "--out", str(out)]) == 0
    assert main(["dataplane", "openapi", "--check", "--out", str(out)]) == 0
    out.write_text(out.read_text(encoding="utf-8").replace("3.1.0", "3.0.3"), encoding="utf-8")
    capsys.readouterr()
    assert main(["dataplane", "openapi", "--check", "--out", str(out)]) != 0
    assert "lineops dataplane openapi" in capsys.readouterr().err


def test_document_is_valid_openapi_3_1() -> None:
    document = json.loads(COMMITTED.read_text(encoding="utf-8"))
    assert document["openapi"].startswith("3.1.")
    schema = schemathesis.openapi.from_dict(document)
    schema.validate()  # the official OpenAPI 3.1 meta-schema; raises on the first violation
    operations = list(schema.get_all_operations())
    assert operations and all(isinstance(op, Ok) for op in operations), operations
    labels = {op.ok().label for op in operations if isinstance(op, Ok)}
    assert "POST /v1/namespaces/{namespace}/lines/{line}/readings" in labels
    assert "POST /v1/namespaces/{namespace}/lines/{line}/counts" in labels


def _schemas(node: Any, path: str = "#") -> Iterator[tuple[str, Any]]:
    """Every JSON Schema in the document (the 3.1 meta-schema leaves them unchecked)."""
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}/{key}"
            if key == "schema" or (path == "#/components/schemas"):
                yield where, value
            else:
                yield from _schemas(value, where)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _schemas(value, f"{path}/{index}")


def test_every_schema_in_it_is_valid_json_schema_2020_12() -> None:
    document = openapi_document()
    found = dict(_schemas(document))
    assert "#/components/schemas/Reading" in found
    for where, schema in found.items():
        try:
            jsonschema_rs.meta.validate(schema)
        except jsonschema_rs.ValidationError as exc:
            pytest.fail(f"{where}: {exc}")
        for ref in _refs(schema):
            name = ref.removeprefix("#/components/schemas/")
            assert name in document["components"]["schemas"], f"{where}: dangling {ref}"


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


@pytest.mark.parametrize(
    "break_it",
    [
        lambda d: d.pop("info"),
        lambda d: d["paths"]["/healthz"]["get"]["responses"].__setitem__("200", {}),
        lambda d: d["paths"]["/metrics"]["get"].__setitem__("parameters", [{"in": "path"}]),
    ],
)
def test_validation_catches_a_broken_document(break_it: Any) -> None:
    document = openapi_document()
    break_it(document)
    with pytest.raises(jsonschema_rs.ValidationError):
        schemathesis.openapi.from_dict(document).validate()


def test_errors_are_problem_documents_and_reasons_are_the_vocabulary() -> None:
    document = openapi_document()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                if int(status) >= 400:
                    content = response["content"]
                    assert list(content) == ["application/problem+json"], (path, method, status)
                    assert content["application/problem+json"]["schema"] == {
                        "$ref": "#/components/schemas/Problem"
                    }
    reasons = document["components"]["schemas"]["BatchResult"]["properties"]["reasons"]
    assert reasons["propertyNames"]["enum"] == list(VOCABULARY)
