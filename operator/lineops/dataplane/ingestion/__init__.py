"""Sensor-reading ingestion: payload decoding, validation, quarantine, storage, endpoints.

Entry points for the operator: :class:`IngestionService` (one per operator; configure a line
with ``configure_line``) and :class:`IngestionServer` (the HTTP endpoint on it).
"""

from lineops.dataplane.errors import IngestionDisabled, PayloadError, UnknownLine
from lineops.dataplane.ingestion.http_server import IngestionServer
from lineops.dataplane.ingestion.line_ingestor import BatchResult, LineIngestor
from lineops.dataplane.ingestion.metrics import IngestionMetrics
from lineops.dataplane.ingestion.payload import RawBatch, parse_bulk, parse_json_batch
from lineops.dataplane.ingestion.reasons import Reason
from lineops.dataplane.ingestion.service import IngestionService

__all__ = [
    "BatchResult",
    "IngestionDisabled",
    "IngestionMetrics",
    "IngestionServer",
    "IngestionService",
    "LineIngestor",
    "PayloadError",
    "RawBatch",
    "Reason",
    "UnknownLine",
    "parse_bulk",
    "parse_json_batch",
]
