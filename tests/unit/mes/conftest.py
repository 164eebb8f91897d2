"""Textbook data sets shared by the MES tests (small, typed in from the cited sources)."""

from __future__ import annotations

import numpy as np
import pytest
from lineops.mes.textbook import PISTON_RINGS as PISTON_RINGS  # re-exported for the tests
from lineops.mes.textbook import piston_rings_table
from numpy.typing import NDArray

# The subgroup means and ranges the book prints next to the data (3 decimals).
PISTON_XBAR = [
    74.010, 74.001, 74.008, 74.003, 74.003, 73.996, 74.000, 73.997, 74.004, 73.998,
    73.994, 74.001, 73.998, 73.990, 74.006, 73.997, 74.001, 74.007, 73.998, 74.009,
    74.000, 74.002, 74.002, 74.005, 73.998,
]  # fmt: skip
PISTON_R = [
    0.038, 0.019, 0.036, 0.022, 0.026, 0.024, 0.012, 0.030, 0.014, 0.017,
    0.008, 0.011, 0.029, 0.039, 0.016, 0.021, 0.026, 0.018, 0.021, 0.020,
    0.033, 0.019, 0.025, 0.022, 0.035,
]  # fmt: skip

# Montgomery, chapter 7, p chart example: nonconforming frozen orange juice cans,
# 30 samples of n = 50.
ORANGE_JUICE = [
    12, 15, 8, 10, 4, 7, 16, 9, 14, 10, 5, 6, 17, 12, 22,
    8, 10, 5, 13, 11, 20, 18, 24, 15, 9, 12, 7, 13, 9, 6,
]  # fmt: skip

# Montgomery, chapter 7, c chart example: nonconformities in 26 samples of 100
# printed circuit boards.
CIRCUIT_BOARDS = [
    21, 24, 16, 12, 15, 5, 28, 20, 31, 25, 20, 24, 16,
    19, 10, 17, 13, 22, 18, 39, 30, 24, 16, 19, 17, 15,
]  # fmt: skip

# Montgomery, chapter 7, u chart example: total nonconformities in 20 samples of 5
# personal computers.
PERSONAL_COMPUTERS = [10, 12, 8, 14, 10, 16, 11, 7, 10, 15, 9, 5, 7, 11, 12, 6, 8, 10, 7, 5]

# Montgomery, chapter 6, individuals chart example: weekly cost of processing mortgage
# loan applications.
MORTGAGE_COSTS = [
    310, 288, 297, 298, 307, 303, 294, 297, 308, 306,
    294, 299, 297, 299, 314, 295, 293, 306, 301, 304,
]  # fmt: skip


@pytest.fixture
def piston_rings() -> NDArray[np.float64]:
    return piston_ring_array()


def piston_ring_array() -> NDArray[np.float64]:
    return np.array(piston_rings_table())
