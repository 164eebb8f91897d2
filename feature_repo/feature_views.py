"""Per-line sensor-window feature views, generated from each line's sensors."""

from lineops.backends.feast_store import feature_view
from lines import PLANS
from sources import push_sources

views = {
    view.name: feature_view(view, push_sources[view.name]) for plan in PLANS for view in plan.views
}
globals().update(views)
