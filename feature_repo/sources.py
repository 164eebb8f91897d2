"""Per-line sources: a PushSource (window aggregates pushed by the ingestion service) backed
by a FileSource (the aggregates history), which Feast registers through the push source."""

from lineops.backends.feast_store import push_source
from lines import PLANS

push_sources = {view.name: push_source(view) for plan in PLANS for view in plan.views}

# Feast discovers module-level objects: expose each source under its own name.
globals().update({source.name: source for source in push_sources.values()})
