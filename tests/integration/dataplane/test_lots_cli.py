"""`lineops lots receive|produce|consume|close|show|inventory|material|quality|maintenance`
against a real data plane on a loopback port (with a bearer token), on SQLite and
PostgreSQL: the records land, a repeat is reported as unchanged, and a refusal is a one-line
error naming the lot and the shortfall with exit status 2 and nothing stored."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from lineops.cli.main import main

from tests.support.dataplane_server import LINE, ServedApp, served_dataplane

TOKEN = "lots-cli-token"


@pytest.fixture
def served(tmp_path: Path, db_url: str) -> Iterator[ServedApp]:
    with served_dataplane(tmp_path / "data", db_url, token=TOKEN) as app:
        yield app


@pytest.fixture
def where(served: ServedApp, tmp_path: Path) -> list[str]:
    token = tmp_path / "token"
    token.write_text(TOKEN + "\n")
    return ["--url", served.url, "--line", str(LINE), "--token-file", str(token)]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(["lots", *argv])
    out, err = capsys.readouterr()
    return status, out, err


def test_record_a_lot_history_and_show_it(
    capsys: pytest.CaptureFixture[str], where: list[str], served: ServedApp
) -> None:
    receive = ["receive", "COIL-7", "--material", "steel-coil", "--quantity", "12.5"]
    receive += ["--unit", "kg", "--supplier", "acme", "--supplier-lot", "A-99"]
    receive += ["--received-at", "2026-11-02T06:00:00Z", *where]  # a repeat: the same times
    status, out, _ = run(capsys, *receive)
    assert (status, out.strip()) == (0, "received COIL-7: 12.5 kg of steel-coil")
    status, out, _ = run(capsys, *receive)
    assert "already recorded" in out
    status, out, _ = run(
        capsys, "produce", "P-7", "--product", "bracket", "--work-unit", "press-01", *where
    )
    assert (status, out.split()[0]) == (0, "open")
    consume = ["consume", "--id", "C-7", "--input", "COIL-7:2.25:kg", "--into", "P-7", *where]
    status, out, _ = run(capsys, *consume)
    assert (status, out.strip()) == (0, "C-7: 2.25 kg of COIL-7 into P-7")
    status, out, _ = run(capsys, "close", "P-7", "--good", "40", "--total", "41", *where)
    assert (status, out.strip()) == (0, "closed P-7: 40 pcs in stock")
    status, out, _ = run(
        capsys,
        "quality",
        "Q-7",
        "--lot",
        "P-7",
        "--inspection",
        "final",
        "--outcome",
        "pass",
        "--measure",
        "width=12.01",
        *where,
    )
    assert status == 0
    status, out, _ = run(capsys, "show", "P-7", "--json", *where)
    shown = json.loads(out)
    assert [(i["lot"], i["quantity"]) for i in shown["inputs"]] == [("COIL-7", "2.25")]
    assert shown["qualityResults"][0]["measurements"] == {"width": 12.01}
    material = ["material", "steel-coil", "--unit", "kg"]
    status, out, _ = run(capsys, *material, "--low-stock", "11", *where)
    assert status == 0 and out == "steel-coil in kg, low stock below 11 (new)\n"
    status, out, _ = run(capsys, *material, "--low-stock", "12", *where)
    # A PUT replaces: it said "(already recorded: unchanged)" after changing the threshold.
    assert status == 0 and out == "steel-coil in kg, low stock below 12 (updated)\n"
    status, out, _ = run(capsys, *material, "--low-stock", "11", *where)
    status, out, _ = run(capsys, "inventory", "--material", "steel-coil", *where)
    assert out.splitlines()[0] == "steel-coil: 10.25 kg (threshold 11)  LOW"
    status, out, _ = run(capsys, "inventory", "--material", "unobtainium", *where)
    assert (status, out) == (0, f"no stock of material 'unobtainium' recorded on line {LINE}\n")
    quality = ["quality", "Q-8", "--lot", "P-7", "--inspection", "final", "--outcome", "pass"]
    status, _, err = run(capsys, *quality, "--measure", "w=1", "--measure", "w=2", *where)
    assert status == 2 and "--measure: 'w' given more than once" in err
    status, out, _ = run(
        capsys,
        "maintenance",
        "M-7",
        "--work-unit",
        "press-01",
        "--kind",
        "planned",
        "--start",
        "2026-11-02T10:00:00Z",
        *where,
    )
    assert (status, out.strip()) == (0, "M-7: planned on press-01")


def test_refusals_name_the_lot_and_the_shortfall_and_store_nothing(
    capsys: pytest.CaptureFixture[str], where: list[str], served: ServedApp
) -> None:
    receive = ["receive", "COIL-8", "--material", "steel-coil", "--quantity", "3", "--unit"]
    assert run(capsys, *receive, "kg", "--supplier", "a", "--supplier-lot", "b", *where)[0] == 0
    assert (
        run(capsys, "produce", "P-8", "--product", "x", "--work-unit", "press-01", *where)[0] == 0
    )
    status, _, err = run(
        capsys, "consume", "--id", "C-8", "--input", "COIL-8:3.5:kg", "--into", "P-8", *where
    )
    assert status == 2
    assert "409" in err and "'COIL-8'" in err and "short by 0.5 kg" in err
    status, _, err = run(
        capsys, "consume", "--id", "C-9", "--input", "COIL-8:1:g", "--into", "P-8", *where
    )
    assert status == 2 and "inputs[0].unit" in err
    status, _, err = run(capsys, "show", "NOPE", *where)
    assert status == 2 and "404" in err and "NOPE" in err
    headers = {"Authorization": f"Bearer {TOKEN}"}
    stock = requests.get(served.line_url("inventory"), headers=headers, timeout=30).json()
    assert stock["materials"][0]["onHand"] == "3"
    assert (
        requests.get(served.line_url("lots/P-8"), headers=headers, timeout=30).json()["inputs"]
        == []
    )


def test_a_missing_token_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], served: ServedApp
) -> None:
    status, _, err = run(capsys, "inventory", "--url", served.url, "--line", str(LINE))
    assert status == 2 and "401" in err and "Bearer" in err
