"""The custom resources as pydantic models: the single source of truth for the CRDs.

Pure: imports nothing from handlers, services, backends or cli.
"""
