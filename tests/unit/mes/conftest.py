"""Textbook data sets shared by the MES tests (small, typed in from the cited sources)."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.typing import NDArray

# Montgomery, Introduction to Statistical Quality Control (6th ed.), Table 6.3: inside
# diameter (mm) of forged automobile piston rings, 25 subgroups of 5.
PISTON_RINGS = """
74.030 74.002 74.019 73.992 74.008
73.995 73.992 74.001 74.011 74.004
73.988 74.024 74.021 74.005 74.002
74.002 73.996 73.993 74.015 74.009
73.992 74.007 74.015 73.989 74.014
74.009 73.994 73.997 73.985 73.993
73.995 74.006 73.994 74.000 74.005
73.985 74.003 73.993 74.015 73.988
74.008 73.995 74.009 74.005 74.004
73.998 74.000 73.990 74.007 73.995
73.994 73.998 73.994 73.995 73.990
74.004 74.000 74.007 74.000 73.996
73.983 74.002 73.998 73.997 74.012
74.006 73.967 73.994 74.000 73.984
74.012 74.014 73.998 73.999 74.007
74.000 73.984 74.005 73.998 73.996
73.994 74.012 73.986 74.005 74.007
74.006 74.010 74.018 74.003 74.000
73.984 74.002 74.003 74.005 73.997
74.000 74.010 74.013 74.020 74.003
73.982 74.001 74.015 74.005 73.996
74.004 73.999 73.990 74.006 74.009
74.010 73.989 73.990 74.009 74.014
74.015 74.008 73.993 74.000 74.010
73.982 73.984 73.995 74.017 74.013
"""

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
    rows = [line.split() for line in PISTON_RINGS.splitlines() if line.strip()]
    return np.array([[float(v) for v in row] for row in rows])
