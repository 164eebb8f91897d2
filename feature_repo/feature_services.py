"""Versioned feature services (``<line>__sensor_window_v1``) that QualityModels reference by
their short name (``featureService: sensor_window_v1``) next to their ``lineRef``."""

from feast import FeatureService
from feature_views import views
from lineops.backends.feast_store import OWNER
from lines import PLANS

services = {
    service.name: FeatureService(
        name=service.name,
        features=[views[name] for name in service.views],
        description=service.description,
        owner=OWNER,
        tags=dict(service.tags),
    )
    for plan in PLANS
    for service in plan.services
}
globals().update(services)
