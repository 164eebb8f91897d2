"""kopf glue for the ConfigMaps the operator owns (a line's configuration, a model's training
requests): the watch keeps ``KubeBackend``'s record of them current, so reconciles skip the
reads and writes that would change nothing, and a child deleted or edited by hand is written
again by its owner's next reconcile (``lineops.backends.kube_cache``)."""

from __future__ import annotations

from typing import Any

import kopf

from lineops.api.constants import LABEL_MANAGED_BY, MANAGED_BY
from lineops.handlers.components import KEY, Components


@kopf.on.event("", "v1", "configmaps", labels={LABEL_MANAGED_BY: MANAGED_BY})
async def owned_config_map_event(
    type: str | None, body: kopf.Body, memo: kopf.Memo, **_: Any
) -> None:
    parts = memo.get(KEY)
    if not isinstance(parts, Components):
        return  # start-up not done: the record starts empty, reconciles read as before
    parts.kube.config_maps.observe(body, deleted=type == "DELETED")
