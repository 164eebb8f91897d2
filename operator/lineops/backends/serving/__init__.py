"""Serving backends: where a QualityModel's champion answers (``bentoml serve`` processes
behind a stable loopback endpoint in the embedded profile).

Backends implement ``ServingBackend`` (``protocol.py``); the operator picks one by profile at
start-up, so services never know which one they talk to.
"""
