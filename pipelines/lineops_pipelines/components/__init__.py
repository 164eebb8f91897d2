"""KFP v2 lightweight components of the quality-training pipeline, one per module.

Each component imports inside its body and calls the plain modules of ``lineops_pipelines``
(data, training, registry), so the CLI and the benchmark run the very same code. They install
nothing at run time: the base image (or, with ``kfp.local.SubprocessRunner(use_venv=False)``,
the current environment) must already hold ``lineops`` and its dependencies.
"""

BASE_IMAGE = "ghcr.io/lineops/lineops-pipelines:0.1.0-python3.11"
