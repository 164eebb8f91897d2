"""Tennessee Eastman process data, read from the files the ``bibmon`` package ships.

The files are located with ``importlib.util.find_spec`` so bibmon itself (and its heavy
dependencies) is never imported, and nothing is copied into the repository.

Layout (Braatz et al. / Chiang, Russell & Braatz 2000):

* ``d00.dat``: normal operation, 500 samples; stored transposed (52 rows x 500 columns).
* ``dNN.dat`` (NN = 01..21): training runs, 480 samples each, all taken after the fault.
* ``dNN_te.dat`` (NN = 00..21): test runs, 960 samples; the fault starts at sample 160.

Samples are 3 minutes apart; 52 variables: XMEAS(1..41) then XMV(1..11).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd

N_VARIABLES = 52
FAULTS = tuple(range(22))  # 0 = normal, 1..21 faults
UNDETECTABLE_FAULTS = (3, 9, 15)  # no visible effect on the measurements (literature consensus)
DETECTABLE_FAULTS = tuple(f for f in range(1, 22) if f not in UNDETECTABLE_FAULTS)
TEST_FAULT_ONSET = 160
TRAIN_ROWS = 480
TEST_ROWS = 960
NORMAL_TRAIN_ROWS = 500

FEATURES: tuple[str, ...] = tuple(
    [f"xmeas_{i}" for i in range(1, 42)] + [f"xmv_{i}" for i in range(1, 12)]
)

# Columns added by the frame loaders besides the 52 features.
RUN_COLUMN = "run"
SAMPLE_COLUMN = "sample"
LABEL_COLUMN = "fault"


class TEDataError(RuntimeError):
    """The TE files cannot be found or do not have the expected shape."""


def data_dir() -> Path:
    """Folder holding bibmon's ``tennessee_eastman/*.dat`` files (bibmon is not imported)."""
    spec = importlib.util.find_spec("bibmon")
    if spec is None or not spec.submodule_search_locations:
        raise TEDataError("the 'bibmon' package is not installed: it ships the TE data files")
    for location in spec.submodule_search_locations:
        folder = Path(location) / "tennessee_eastman"
        if (folder / "d00.dat").is_file():
            return folder
    raise TEDataError("bibmon is installed but has no tennessee_eastman/d00.dat")


def file_name(fault: int, test: bool) -> str:
    if fault not in FAULTS:
        raise ValueError(f"TE fault must be 0..21, got {fault}")
    return f"d{fault:02d}{'_te' if test else ''}.dat"


def load_matrix(fault: int, test: bool = False) -> np.ndarray:
    """One TE run as a (samples, 52) float array, transposing d00.dat when needed."""
    path = data_dir() / file_name(fault, test)
    data = np.loadtxt(path, dtype=np.float64)
    if data.ndim != 2:
        raise TEDataError(f"{path}: expected a 2-D table")
    if data.shape[1] != N_VARIABLES and data.shape[0] == N_VARIABLES:
        data = data.T  # d00.dat is stored variables x samples
    if data.shape[1] != N_VARIABLES:
        raise TEDataError(f"{path}: expected {N_VARIABLES} variables, got shape {data.shape}")
    expected = TEST_ROWS if test else (NORMAL_TRAIN_ROWS if fault == 0 else TRAIN_ROWS)
    if data.shape[0] != expected:
        raise TEDataError(f"{path}: expected {expected} samples, got {data.shape[0]}")
    return data


def labels_for(fault: int, n_rows: int, test: bool) -> np.ndarray:
    """Per-sample class: in test runs the first 160 samples are still normal."""
    labels = np.full(n_rows, fault, dtype=np.int64)
    if test:
        labels[:TEST_FAULT_ONSET] = 0
    return labels


def load_frame(
    test: bool = False,
    faults: tuple[int, ...] | list[int] | None = None,
    max_rows: int | None = None,
) -> pd.DataFrame:
    """Runs stacked into one frame: ``run`` (e.g. ``d05_te``), ``sample``, ``fault``, features.

    ``sample`` is the time index inside its run, so ``(run, sample)`` orders the data in time;
    ``max_rows`` keeps only the first rows of each run (for reduced, fast datasets).
    """
    chosen = FAULTS if faults is None else tuple(faults)
    frames = []
    for fault in chosen:
        data = load_matrix(fault, test)
        if max_rows is not None:
            data = data[:max_rows]
        frame = pd.DataFrame(data, columns=list(FEATURES))
        frame.insert(0, LABEL_COLUMN, labels_for(fault, len(data), test))
        frame.insert(0, SAMPLE_COLUMN, np.arange(len(data), dtype=np.int64))
        frame.insert(0, RUN_COLUMN, file_name(fault, test).removesuffix(".dat"))
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)
