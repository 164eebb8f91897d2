"""`lineops predict`'s own parts: reading SENSOR=VALUE options, the human answer per task,
and the refusal text the client makes of BentoML's error bodies."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest
from lineops.backends.serving.client import InspectorClient, InspectorError, Prediction, _message
from lineops.cli.errors import CliError
from lineops.cli.main import main
from lineops.cli.predict_cmd import _human, _readings


def test_readings_are_sensor_number_pairs() -> None:
    assert _readings(["temp=21.5", "pressure=-3"]) == {"temp": 21.5, "pressure": -3.0}
    for bad in ("temp", "=1", "temp=hot"):
        with pytest.raises(CliError, match="--reading: expected SENSOR=NUMBER"):
            _readings([bad])
    # NaN would make the request body invalid JSON; a repeat dropped the first value.
    for bad, words in (("temp=nan", "not finite"), ("temp=inf", "not finite")):
        with pytest.raises(CliError, match=f"--reading: 'temp' is {words}"):
            _readings([bad])
    with pytest.raises(CliError, match="--reading: 'temp' given twice"):
        _readings(["temp=1", "temp=2"])


@pytest.mark.parametrize(
    ("option", "value", "words"),
    [
        ("--timeout", "-1", "is not 0.001..3600"),
        ("--timeout", "nan", "is not 0.001..3600"),
        ("--timeout", "1e308", "is not 0.001..3600"),
        ("--endpoint", "notaurl", "is not an http:// or https:// URL"),
    ],
)
def test_bad_options_are_argument_errors(
    capsys: pytest.CaptureFixture[str], option: str, value: str, words: str
) -> None:
    argv = ["predict", "--line", "ns/l", "--model", "m", "--work-unit", "w", option, value]
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert words in capsys.readouterr().err


@pytest.fixture
def not_an_inspector() -> Iterator[str]:
    """A loopback server answering every POST with 200 and an HTML page."""

    class Page(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            body = b"<html>proxy login</html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_200_that_is_not_json_is_an_error_not_a_traceback(not_an_inspector: str) -> None:
    with pytest.raises(InspectorError, match="answered 200 with no JSON: <html>proxy login"):
        InspectorClient(not_an_inspector, timeout=10).predict("press-01")


def test_the_human_answer_says_what_the_task_predicts() -> None:
    common = {"namespace": "plant", "line": "l1", "work_unit": "wu", "model_tag": "m:1"}
    label = _human(
        Prediction(label="normal", raw_label="3", probabilities={"3": 0.7}, lot="L", **common)
    )
    assert "wu lot L: label normal (most probable class 3, not told from normal)" in label
    assert "p(3) = 0.700" in label
    score = _human(Prediction(score=0.91, alarm=True, rul=12.5, **common))
    assert "score 0.91, alarm yes, remaining useful life 12.5 h" in score
    warming = _human(Prediction(history_rows=1, rows_needed=3, **common))
    assert "no answer yet: 1 of 3 rows" in warming


def test_bentoml_error_bodies_become_one_message() -> None:
    assert _message(b'{"error": "work_unit: stale"}') == "work_unit: stale"
    assert _message(b'[{"error": "a"}, {"error": "b"}]') == "a; b"
    assert _message(b"plain text\n") == "plain text"
