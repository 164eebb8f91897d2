from __future__ import annotations

import numpy as np
from lineops_pipelines import te_data


def test_normal_training_file_is_transposed_into_samples_by_variables() -> None:
    x = te_data.load_matrix(0)
    assert x.shape == (500, 52)


def test_fault_training_and_test_shapes() -> None:
    assert te_data.load_matrix(1).shape == (480, 52)
    assert te_data.load_matrix(21).shape == (480, 52)
    assert te_data.load_matrix(0, test=True).shape == (960, 52)
    assert te_data.load_matrix(7, test=True).shape == (960, 52)


def test_test_labels_start_at_sample_160() -> None:
    labels = te_data.labels_for(5, 960, test=True)
    assert (labels[:160] == 0).all() and (labels[160:] == 5).all()
    assert (te_data.labels_for(5, 480, test=False) == 5).all()


def test_frame_has_run_sample_label_and_52_features() -> None:
    frame = te_data.load_frame(test=True, faults=[0, 2], max_rows=200)
    assert list(frame.columns[:3]) == ["run", "sample", "fault"]
    assert list(frame.columns[3:]) == list(te_data.FEATURES)
    assert len(te_data.FEATURES) == 52
    assert frame.shape == (400, 55)
    assert set(frame["run"]) == {"d00_te", "d02_te"}
    assert np.isfinite(frame[list(te_data.FEATURES)].to_numpy()).all()


def test_bibmon_is_located_without_importing_it() -> None:
    import sys

    te_data.data_dir()
    assert "bibmon" not in sys.modules
