"""The data plane: readings and MES records in, stored, validated and quarantined; one
HTTP API. Its own application: it imports nothing from handlers, services or cli, so the
operator runs it in-process (embedded profile) or as a Deployment (cluster profile)."""
