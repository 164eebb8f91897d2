"""Clients of what the operator talks to: Kubernetes, metrics, Feast, training, the data plane.

Feast's metrics module switches prometheus_client to multi-process mode for the whole
process on import (it sets PROMETHEUS_MULTIPROC_DIR and PROMETHEUS_MULTIPROCESS_DIR, for
Gunicorn workers). The operator and the data plane are single processes whose series must be
removable when a line is deleted, so prometheus_client is imported here, before any backend
can import Feast (its value class is chosen at import), and ``feast_store`` undoes the
variables Feast set, so neither this process nor its children inherit them.

Feast would also import torch eagerly; ``feast_torch`` makes that lazy (see there).
"""

import os

import prometheus_client  # noqa: F401  - first, on purpose (see above)

from lineops.backends import feast_torch

feast_torch.install()

MULTIPROC_DIR_SET = "PROMETHEUS_MULTIPROC_DIR" in os.environ
MULTIPROCESS_DIR_SET = "PROMETHEUS_MULTIPROCESS_DIR" in os.environ
