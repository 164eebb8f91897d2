"""`lineops model train/score` through lineops.cli.main.main."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from lineops.cli.main import main
from lineops_pipelines import te_data


def _rows(capsys: pytest.CaptureFixture[str]) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_score_te_dat_whitespace_layout(
    anomaly_model_dir: Path, te_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = (te_dir / "d01_te.dat").read_text().splitlines()[:200]
    path = tmp_path / "d01_head.dat"
    path.write_text("\n".join(lines) + "\n")
    capsys.readouterr()
    assert (
        main(["model", "score", "--model", str(anomaly_model_dir), "--csv", str(path), "--json"])
        == 0
    )
    rows = _rows(capsys)
    assert [r["row"] for r in rows] == list(range(1, 201))
    meta = json.loads((anomaly_model_dir / "model.json").read_text())
    lags = meta["config"]["lags"]
    assert all(r["score"] is None and r["alarm"] is None for r in rows[:lags])
    assert all(isinstance(r["score"], float) for r in rows[lags:])
    assert rows[-1]["alarm"] is True  # fault 1 from sample 160 on
    assert rows[lags]["alarm"] is False


def test_score_csv_with_header_in_any_column_order(
    anomaly_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    x = te_data.load_matrix(0, test=True)[:20]
    names = list(te_data.FEATURES)
    order = names[::-1]
    body = "\n".join(",".join(str(v) for v in row[::-1]) for row in x)
    (tmp_path / "h.csv").write_text(
        "sample,"
        + ",".join(order)
        + "\n"
        + "\n".join(f"{i}," + line for i, line in enumerate(body.splitlines()))
        + "\n"
    )
    (tmp_path / "n.csv").write_text("\n".join(",".join(map(str, row)) for row in x) + "\n")
    capsys.readouterr()
    assert (
        main(
            [
                "model",
                "score",
                "--model",
                str(anomaly_model_dir),
                "--csv",
                str(tmp_path / "h.csv"),
                "--json",
            ]
        )
        == 0
    )
    with_header = _rows(capsys)
    assert (
        main(
            [
                "model",
                "score",
                "--model",
                str(anomaly_model_dir),
                "--csv",
                str(tmp_path / "n.csv"),
                "--json",
            ]
        )
        == 0
    )
    headerless = _rows(capsys)
    assert len(with_header) == 20
    for a, b in zip(with_header, headerless, strict=True):
        assert (
            a["score"] == pytest.approx(b["score"])
            if a["score"] is not None
            else b["score"] is None
        )


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "empty file"),
        ("1,2,3\n", "line 1: 3 values, expected 52"),
        (
            ",".join(["1"] * 52) + "\n" + ",".join(["1"] * 51 + ["abc"]) + "\n",
            "line 2: column 'xmv_11': 'abc' is not a number",
        ),
        ("xmeas_1,bogus\n1,2\n", "column 'bogus' is not a feature"),
        ("xmeas_1,xmeas_2\n1,2\n", "features xmeas_3, xmeas_4, xmeas_5,"),
        ("xmeas_1,xmeas_2\n1,2\n", "and 30 more are missing (50 of the 52"),
        # Finite, but the scaling squares it: the rows' scores came out null, exit 0.
        (
            ",".join(["1"] * 52) + "\n" + ",".join(["1e308"] + ["1"] * 51) + "\n",
            "line 2: column 'xmeas_1': '1e308' is not a finite number within ±1e+100",
        ),
        (",".join(["1"] * 51 + ["1_0"]) + "\n", "line 1: column 'xmv_11': '1_0' is not a number"),
        ("xmeas_1,xmeas_1\n1,2\n", "column 'xmeas_1' appears more than once"),
    ],
)
def test_score_rejects_bad_input(
    anomaly_model_dir: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str,
    message: str,
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(content)
    assert main(["model", "score", "--model", str(anomaly_model_dir), "--csv", str(path)]) == 2
    assert message in capsys.readouterr().err


def test_score_unknown_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    csv = tmp_path / "x.csv"
    csv.write_text("1,2\n")
    assert main(["model", "score", "--model", str(tmp_path / "nope"), "--csv", str(csv)]) == 2
    assert "no such model directory" in capsys.readouterr().err
    assert main(["model", "score", "--model", "no-such-model:v1", "--csv", str(csv)]) == 2
    assert "no-such-model:v1" in capsys.readouterr().err


def test_a_broken_model_folder_is_named_not_a_traceback(
    anomaly_model_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    csv = tmp_path / "x.csv"
    csv.write_text("1,2\n")
    torn = tmp_path / "torn"
    shutil.copytree(anomaly_model_dir, torn)
    (torn / "model.json").write_text("{not json")
    assert main(["model", "score", "--model", str(torn), "--csv", str(csv)]) == 2
    err = capsys.readouterr().err
    assert "model.json: not a model card" in err and err.count("\n") == 1
    weightless = tmp_path / "weightless"
    shutil.copytree(anomaly_model_dir, weightless)
    for weights in weightless.glob("*.pt"):
        weights.unlink()
    assert main(["model", "score", "--model", str(weightless), "--csv", str(csv)]) == 2
    err = capsys.readouterr().err
    assert "model cannot be loaded" in err and err.count("\n") == 1
    # Weights that are not a torch file, or empty: an UnpicklingError / EOFError traceback.
    for name, content in (("garbage", b"garbage\n"), ("empty", b"")):
        broken = tmp_path / name
        shutil.copytree(anomaly_model_dir, broken)
        for weights in broken.glob("*.pt"):
            weights.write_bytes(content)
        assert main(["model", "score", "--model", str(broken), "--csv", str(csv)]) == 2
        err = capsys.readouterr().err
        assert "model cannot be loaded" in err and err.count("\n") == 1, (name, err)


def test_train_rejects_unknown_dataset(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "model",
                "train",
                "--task",
                "anomaly-detection",
                "--dataset",
                str(tmp_path / "missing.csv"),
                "--out",
                str(tmp_path / "m"),
            ]
        )
        == 2
    )
    assert "no such file" in capsys.readouterr().err


def test_classifier_train_and_score(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "clf"
    assert (
        main(
            [
                "model",
                "train",
                "--task",
                "fault-classification",
                "--dataset",
                "te",
                "--reduced",
                "--epochs",
                "2",
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    summary = json.loads(capsys.readouterr().out)
    # Six classes (chance ~0.17); faults 1, 2, 4, 6, 7 are large and easily told apart.
    assert summary["metrics"]["macro_f1"] > 0.6
    x = te_data.load_matrix(6, test=True)[:400]  # fault 6 (A feed loss) from row 160
    (tmp_path / "x.csv").write_text("\n".join(",".join(map(str, r)) for r in x) + "\n")
    assert (
        main(["model", "score", "--model", str(out), "--csv", str(tmp_path / "x.csv"), "--json"])
        == 0
    )
    rows = _rows(capsys)
    window = json.loads((out / "model.json").read_text())["window"]
    assert rows[window - 2]["label"] is None and rows[window - 2]["probabilities"] is None
    labels = [r["label"] for r in rows]
    assert np.mean([label == "0" for label in labels[window:150]]) > 0.8
    assert np.mean([label == "6" for label in labels[250:]]) > 0.8
    assert all(r["raw_label"] == r["label"] for r in rows[window:])  # no normal-like class
    assert np.isclose(sum(rows[-1]["probabilities"].values()), 1.0, atol=1e-4)
