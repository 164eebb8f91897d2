"""`lineops lots trace|recall|epcis` against the hand-built plant of test_genealogy_api, through
a running data plane (--url) and straight from its database (--db), on SQLite and PostgreSQL.

The ``lots`` group itself belongs to lineops.cli.lots_cmd; here the three commands are
registered on a parser of their own, exactly as that group registers them.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from lineops.cli import genealogy_cmd
from lineops.cli.errors import CliError
from lineops.dataplane.epcis_check import check

from tests.integration.dataplane.test_genealogy_api import at, build
from tests.support.dataplane_server import LINE, ServedApp, served_dataplane

LINE_ARG = f"{LINE.namespace}/{LINE.name}"


@pytest.fixture
def served(tmp_path: Path, db_url: str) -> Iterator[tuple[ServedApp, str]]:
    with served_dataplane(tmp_path / "data", db_url) as app:
        build(app)
        yield app, db_url


def lots(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    parser = argparse.ArgumentParser(prog="lineops")
    group = parser.add_subparsers(dest="command", required=True)
    actions = group.add_parser("lots").add_subparsers(dest="lots_command", required=True)
    genealogy_cmd.register(actions)
    args = parser.parse_args(["lots", *argv])
    try:
        code = args.func(args)
    except CliError as exc:
        print(f"lineops: error: {exc}")
        code = 2
    out = capsys.readouterr()
    return code, out.out, out.err


def test_trace_prints_a_tree_with_quantities(
    served: tuple[ServedApp, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, _ = served
    code, out, _ = lots(
        ["trace", "--backward", "P4", "--maintenance", "--url", app.url, "--line", LINE_ARG],
        capsys,
    )
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0] == "backward trace of P4 (all levels):"
    assert lines[1].startswith("P4  production  ring  on gauge-01")
    body = "\n".join(lines[2:])
    # P4 <- P2 (100) <- P1 (400) <- M1 (12.5), M3 (7); P4 <- P3 (200) <- M2 (3.25).
    for expected in (
        "├─ 100 kg  P2  production",
        "│  └─ 400 kg  P1  production  ring  on press-01",
        "│     ├─ 12.5 kg  M1  material  steel-strip  from acme lot acme-A",
        "│     └─ 7 kg  M3  material  steel-strip  from borealis lot bor-1",
        "└─ 200 kg  P3  production",
        "   └─ 3.25 kg  M2  material  steel-strip  from acme lot acme-B",
        "after unplanned maintenance mnt-1",
    ):
        assert expected in body, (expected, out)


def test_json_is_the_same_over_http_and_from_the_database(
    served: tuple[ServedApp, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, db_url = served
    common = ["trace", "--forward", "M1", "--depth", "2", "--json", "--line", LINE_ARG]
    _, over_http, _ = lots([*common, "--url", app.url], capsys)
    _, direct, _ = lots([*common, "--db", db_url], capsys)
    assert json.loads(over_http) == json.loads(direct)
    trace = json.loads(direct)
    assert [(e["outputLot"], e["depth"]) for e in trace["edges"]] == [("P1", 1), ("P2", 2)]
    assert trace["truncated"] is True


def test_recall_and_epcis(
    served: tuple[ServedApp, str], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    app, db_url = served
    code, out, _ = lots(
        ["recall", "--supplier-lot", "acme-B", "--db", db_url, "--line", LINE_ARG], capsys
    )
    assert code == 0
    assert out.splitlines()[0] == (
        "recall of supplier lot acme-B: 1 lot(s) received, 2 lot(s) made from them"
    )
    assert "└─ 3.25 kg  P3  production" in out
    target = tmp_path / "epcis.jsonld"
    for where in (["--url", app.url], ["--db", db_url]):
        code, out, _ = lots(
            [
                "epcis",
                "--from",
                at(days=-6),
                "--to",
                at(days=1),
                "--out",
                str(target),
                *where,
                "--line",
                LINE_ARG,
            ],
            capsys,
        )
        assert code == 0 and out.strip() == f"wrote {target}: 9 EPCIS event(s)"
        assert check(json.loads(target.read_text())) == []
    # A mistyped line: over HTTP the data plane answers 404; a database knows no lines, so
    # the empty document comes with a note (it used to come alone).
    window = ["--from", at(days=-6), "--to", at(days=1)]
    code, out, err = lots(["epcis", *window, "--db", db_url, "--line", "plant/typo"], capsys)
    assert code == 0 and json.loads(out)["epcisBody"]["eventList"] == []
    assert err == (
        "lineops: note: line plant/typo has no lots in this database; check the line's "
        "namespace/name\n"
    )
    code, out, err = lots(["epcis", *window, "--db", db_url, "--line", LINE_ARG], capsys)
    assert code == 0 and err == ""


def test_errors_name_what_is_wrong(
    served: tuple[ServedApp, str], capsys: pytest.CaptureFixture[str]
) -> None:
    app, db_url = served
    code, out, _ = lots(
        ["trace", "--backward", "nope", "--url", app.url, "--line", LINE_ARG], capsys
    )
    assert code == 2 and "404 lot 'nope' is not recorded" in out
    code, out, _ = lots(["trace", "--backward", "nope", "--db", db_url, "--line", LINE_ARG], capsys)
    assert code == 2 and "lot 'nope' is not recorded" in out
    code, out, _ = lots(
        ["recall", "--supplier-lot", "x", "--db", db_url, "--line", "no-slash"], capsys
    )
    assert code == 2 and "--line: 'no-slash' is not namespace/name" in out
    code, out, _ = lots(
        ["epcis", "--from", "later", "--to", at(), "--db", db_url, "--line", LINE_ARG], capsys
    )
    assert code == 2 and "--from: 'later' is not an ISO 8601 time" in out
    with pytest.raises(SystemExit):
        lots(
            ["trace", "--backward", "P4", "--depth", "0", "--db", db_url, "--line", LINE_ARG],
            capsys,
        )


def test_trace_between_repairs_lists_what_a_work_unit_made(
    served: tuple[ServedApp, str], capsys: pytest.CaptureFixture[str]
) -> None:
    """`lots trace --between-repairs M1 [M2]`: what was produced on M1's work unit between two
    maintenance records (the next one when M2 is not given), over HTTP and from the database."""
    app, db_url = served
    for where in (["--url", app.url], ["--db", db_url]):
        code, out, _ = lots(
            ["trace", "--between-repairs", "mnt-1", *where, "--line", LINE_ARG], capsys
        )
        assert code == 0, out
        first, *rows = out.splitlines()
        assert first.startswith("made on press-01 after unplanned maintenance mnt-1 ")
        assert "until mnt-2" in first and first.endswith(": 1 lot(s)")
        assert [r.split()[0] for r in rows] == ["P1"]
        code, out, _ = lots(
            ["trace", "--between-repairs", "pm-0", "mnt-2", "--json", *where, "--line", LINE_ARG],
            capsys,
        )
        assert code == 0 and [lot["lot"] for lot in json.loads(out)["lots"]] == ["P1"]
        code, out, _ = lots(
            ["trace", "--between-repairs", "mnt-2", "mnt-1", *where, "--line", LINE_ARG], capsys
        )
        assert code == 2 and "started before" in out, out
    code, out, _ = lots(["trace", "--backward", "--url", app.url, "--line", LINE_ARG], capsys)
    assert code == 2 and "give the LOT to trace" in out
