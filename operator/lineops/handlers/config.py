"""What the handlers need before the operator starts.

kopf takes timer intervals (and ``when`` filters) when a handler is *registered*, i.e. when
this package is imported, before any start-up handler or memo exists. So the settings are
loaded once here, at import, and only the timer periods and the training policy's attempt
limit are taken from them. Everything else comes from the settings object the composition
root builds (``lineops operator run`` passes it in kopf's memo; kopf's start-up handler
``lifecycle.configure`` loads it when kopf imports the handlers itself). Both read the same
environment, so a bad value fails here first, with the error naming the variable.
"""

from __future__ import annotations

import random
from typing import Any, Final

from lineops.services.training_policy import TrainingPolicy
from lineops.settings import Settings, load_settings

AT_REGISTRATION: Final[Settings] = load_settings()
RESYNC_SECONDS: Final = AT_REGISTRATION.resync_seconds
# How often a model with a training run in flight (or a retry pending) is reconciled.
POLL_SECONDS: Final = AT_REGISTRATION.training_poll_seconds
# The poll timer's ``when`` filter needs the attempt limit (is a retry still to come?).
TRAINING_POLICY: Final = TrainingPolicy.from_settings(AT_REGISTRATION)


def resync_delay(**_: Any) -> float:
    """The first resync of an object, somewhere in the first period (then every period): at
    the same moment for all, a thousand objects' resyncs met at start-up + 60 s, and every
    period after."""
    return random.uniform(0.5, 1.0) * RESYNC_SECONDS
