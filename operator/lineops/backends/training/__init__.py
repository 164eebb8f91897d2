"""Training backends: where a QualityModel's pipeline runs (kfp.local or a KFP API server).

Both implement ``TrainingBackend`` (``runs.py``); the operator picks one by profile at
start-up, so services never know which one they talk to.
"""
