"""Option values several CLIs share or check up front (found by probing the CLIs with bad
values): each is refused as one argparse line naming the option, not a traceback after the
command had begun."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from lineops.cli.main import main

REPLAY = ["ingest", "replay", "--dataset", "te", "--url", "http://127.0.0.1:9"]


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["ingest", "replay", "--dataset", "te", "--url", "notaurl"], "--url: 'notaurl' is not"),
        (["lots", "show", "P-1", "--url", "ftp://x", "--line", "a/b"], "--url: 'ftp://x' is not"),
        (["lots", "trace", "--backward", "P-1", "--url", "x", "--line", "a/b"], "--url: 'x'"),
        (
            ["ingest", "replay", "--dataset", "te", "--url", "http://127.0.0.1:9", "--speed", "-5"],
            "--speed: '-5' is not 0 or 0.001..1e+06",
        ),
        (
            [
                "ingest",
                "replay",
                "--dataset",
                "te",
                "--url",
                "http://127.0.0.1:9",
                "--speed",
                "nan",
            ],
            "--speed: 'nan'",
        ),
        (
            ["ingest", "replay", "--dataset", "te", "--url", "http://127.0.0.1:9", "--limit", "-9"],
            "--limit: -9 is not 1..1000000000 rows",
        ),
        (
            ["lots", "trace", "--forward", "C-1", "--depth", "99999999999999999999", "--db", "x"],
            "--depth: 99999999999999999999 is not 1..1000 levels",
        ),
        # A traceback from bind() after the data plane had started its work:
        (["dataplane", "serve", "--port", "70000"], "--port: 70000 is not 0..65535"),
        # SQLite reads LIMIT -1 as no limit at all:
        (
            ["quarantine", "list", "--db", "x", "--limit", "-1"],
            "--limit: -1 is not 1..1000000 items",
        ),
        (
            ["quarantine", "release", "--db", "x", "--limit", "0"],
            "--limit: 0 is not 1..10000000 items",
        ),
        # A typo listed nothing, exit 0, as if the quarantine were empty:
        (
            ["quarantine", "list", "--db", "x", "--kind", "measurement"],
            "invalid choice: 'measurement'",
        ),
        # "Target nan" was drawn on the capability chart:
        (["report", "--csv", "x.csv", "--target", "nan"], "--target"),
        ([*REPLAY, "--fault", "22"], "--fault: 22 is not 0..21"),
        (
            [*REPLAY, "--fault", "two"],
            "--fault: 'two' is not a whole number",
        ),
    ],
)
def test_bad_option_values_are_argparse_errors(
    capsys: pytest.CaptureFixture[str], argv: list[str], words: str
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert words in capsys.readouterr().err


def test_replay_refuses_a_fault_of_a_dataset_without_faults(
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["ingest", "replay", "--dataset", "historian", "--url", "http://127.0.0.1:9"]
    assert main([*argv, "--fault", "3"]) == 2
    assert "--fault: only the te dataset has faults" in capsys.readouterr().err


def test_line_spec_names_an_unwritable_out(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for out in (tmp_path / "nowhere" / "x.yaml", tmp_path):
        assert main(["ingest", "line-spec", "--dataset", "historian", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert (
            err.startswith(f"lineops: error: --out {out}: cannot write: ") and err.count("\n") == 1
        )


def test_a_line_file_error_is_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    binary = tmp_path / "line.yaml"
    binary.write_bytes(bytes(range(256)))
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "apiVersion: lineops.io/v1alpha1\nkind: ProductionLine\nmetadata: {name: x}\n"
    )
    for path, words in ((binary, "cannot read"), (broken, "spec: required value")):
        argv = ["features", "training-set", "--line-file", str(path), "--lots", "l.csv"]
        assert main([*argv, "--out", str(tmp_path / "t.csv")]) == 2
        err = capsys.readouterr().err
        assert words in err and err.count("\n") == 1, err


@pytest.fixture
def another_service() -> Iterator[str]:
    """A loopback server answering every request with 201 and an empty JSON object."""

    class Empty(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(201)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Empty)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_lots_at_another_service_says_so(
    another_service: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["lots", "receive", "COIL-1", "--material", "steel", "--quantity", "1", "--unit", "kg"]
    argv += ["--supplier", "acme", "--supplier-lot", "A-1"]
    assert main([*argv, "--url", another_service, "--line", "a/b"]) == 2
    err = capsys.readouterr().err
    assert f"--url {another_service}: the answer is not a lineops data plane's" in err


def test_a_measure_that_is_not_finite_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["lots", "quality", "Q-1", "--lot", "P-1", "--inspection", "i", "--outcome", "pass"]
    with pytest.raises(SystemExit):
        main([*argv, "--measure", "d=NaN", "--url", "http://127.0.0.1:9", "--line", "a/b"])
    assert "--measure: d: 'NaN' is not a finite number" in capsys.readouterr().err
