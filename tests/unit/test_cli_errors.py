"""One-line messages of the errors the CLI reports from libraries (SQLAlchemy, PyYAML)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lineops.cli.errors import one_line, yaml_problem
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError


def test_a_sqlalchemy_error_is_one_line_without_its_statement_and_link() -> None:
    engine = create_engine("sqlite://")
    try:
        with engine.connect() as conn, pytest.raises(OperationalError) as caught:
            conn.execute(text("SELECT * FROM lots WHERE lot = :lot"), {"lot": "L-1"})
    finally:
        engine.dispose()
    assert "\n" in str(caught.value)  # what is being shortened: SQL, parameters, link
    assert one_line(caught.value) == "(sqlite3.OperationalError) no such table: lots"


def test_a_driver_hint_on_its_own_line_is_kept() -> None:
    # A real refusal: nothing listens on loopback port 1.
    engine = create_engine("postgresql+psycopg://u:p@127.0.0.1:1/x")
    try:
        with pytest.raises(OperationalError) as caught:
            engine.connect()
    finally:
        engine.dispose()
    message = one_line(caught.value)
    assert "\n" not in message and "sqlalche.me" not in message
    assert "Connection refused" in message and "Is the server running" in message, message


def test_a_yaml_error_names_its_line_and_column() -> None:
    with pytest.raises(yaml.YAMLError) as caught:
        yaml.safe_load("a: 1\nb: [2\n")
    problem = yaml_problem(caught.value)
    assert "\n" not in problem
    assert problem.endswith("(line 3, column 1)"), problem


def test_an_unwritable_output_path_is_one_line_not_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lineops.cli.main import main

    taken = tmp_path / "a-file"
    taken.write_text("mine")
    for argv in (
        ["dataplane", "openapi", "--out", str(tmp_path / "missing" / "x.json")],
        ["dashboards", "generate", "--out", str(taken)],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err.startswith("lineops: error: ") and err.count("\n") == 1, err
        assert str(tmp_path) in err
    assert taken.read_text() == "mine"


def test_an_input_that_is_not_utf8_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lineops.cli.main import main

    bad = tmp_path / "bad.csv"
    bad.write_bytes(b"a\n\xff\xfe1\n")
    assert main(["pipeline", "validate", str(bad)]) == 2
    assert capsys.readouterr().err == (
        "lineops: error: an input is not UTF-8 text (invalid start byte)\n"
    )


def test_nan_in_a_recipe_or_a_measurement_is_refused_before_anything_is_sent(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """json.loads reads NaN, also nested ([NaN]); json.dumps wrote it back, non-standard
    JSON the data plane refuses without naming the option. Nothing listens on port 1: a
    request would be a different error."""
    from lineops.cli.main import main

    target = ["--url", "http://127.0.0.1:1", "--line", "default/press-line-1"]
    produce = ["lots", "produce", "L2", "--product", "p", "--work-unit", "w"]
    assert main([*produce, "--recipe", '{"a": [NaN]}', *target]) == 2
    assert "--recipe: not JSON (NaN is not a finite number)" in capsys.readouterr().err
    quality = ["lots", "quality", "R1", "--lot", "L2", "--inspection", "h", "--outcome", "pass"]
    with pytest.raises(SystemExit):
        main([*quality, "--measure", "k=[NaN]", *target])
    assert "k: '[NaN]' is not a finite number" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("revision", "words"),
    [("nope", "Can't locate revision"), ("head+1", "not a revision of this schema")],
)
def test_an_unknown_schema_revision_is_named(
    revision: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from lineops.cli.main import main

    db = f"sqlite:///{tmp_path / 'x.db'}"
    assert main(["db", "upgrade", "--db", db, "--revision", revision]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"lineops: error: --revision {revision!r}: ") and words in err, err
