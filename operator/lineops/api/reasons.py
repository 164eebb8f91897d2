"""Condition types and reasons: every value the operator writes into ``status.conditions``.

Kept in one module so that handlers, tests, alerts and docs agree on the spelling, as
Kubernetes API conventions ask (types are adjectives or past-tense verbs; reasons are
CamelCase and machine-readable).
"""

from __future__ import annotations

from typing import Final

# --- Condition types -------------------------------------------------------------------------

READY: Final = "Ready"
"""The resource is fully reconciled and working; the summary condition printed by kubectl."""
SPEC_VALID: Final = "SpecValid"
"""The spec passed the operator's own validation (what the CRD schema cannot express)."""

# ProductionLine
FEATURES_READY: Final = "FeaturesReady"
INGESTION_READY: Final = "IngestionReady"
MONITORING_READY: Final = "MonitoringReady"
IN_CONTROL: Final = "InControl"

# QualityModel
TRAINED: Final = "Trained"
SERVING: Final = "Serving"
PROMOTION_BLOCKED: Final = "PromotionBlocked"

PRODUCTION_LINE_CONDITION_TYPES: Final = (
    READY,
    SPEC_VALID,
    FEATURES_READY,
    INGESTION_READY,
    MONITORING_READY,
    IN_CONTROL,
)
QUALITY_MODEL_CONDITION_TYPES: Final = (READY, SPEC_VALID, TRAINED, SERVING, PROMOTION_BLOCKED)
CONDITION_TYPES: Final = tuple(
    dict.fromkeys(PRODUCTION_LINE_CONDITION_TYPES + QUALITY_MODEL_CONDITION_TYPES)
)

# --- Reasons ---------------------------------------------------------------------------------

# General
RECONCILED: Final = "Reconciled"
PENDING: Final = "Pending"
PROGRESSING: Final = "Progressing"
INVALID_SPEC: Final = "InvalidSpec"
DISABLED: Final = "Disabled"
DELETING: Final = "Deleting"
BACKEND_ERROR: Final = "BackendError"
"""A backend (Kubernetes, KFP, BentoML, Feast, database) is down, throttling or not permitted
(a transient backend error); retried."""
BACKEND_REJECTED: Final = "BackendRejected"
"""A backend rejected what the operator asked for as invalid (a permanent backend error); not
retried until the spec changes."""
DEPENDENCY_NOT_READY: Final = "DependencyNotReady"

# ProductionLine
FEATURES_APPLIED: Final = "FeaturesApplied"
FEATURES_FAILED: Final = "FeaturesFailed"
INGESTION_STARTED: Final = "IngestionStarted"
INGESTION_FAILED: Final = "IngestionFailed"
BROKER_UNREACHABLE: Final = "BrokerUnreachable"
MONITORING_CONFIGURED: Final = "MonitoringConfigured"
MONITORING_FAILED: Final = "MonitoringFailed"
NO_DATA: Final = "NoData"
"""Not enough measurements yet to judge a chart or a KPI."""
PROCESS_IN_CONTROL: Final = "ProcessInControl"
RULE_VIOLATION: Final = "RuleViolation"
"""A Nelson or Western Electric run rule fired on a quality characteristic."""

# QualityModel
LINE_NOT_FOUND: Final = "LineNotFound"
LINE_NOT_READY: Final = "LineNotReady"
FEATURE_SERVICE_NOT_FOUND: Final = "FeatureServiceNotFound"
PIPELINE_NOT_FOUND: Final = "PipelineNotFound"
"""spec.training.pipelineRef names a ConfigMap, key or KFP pipeline version that does not
exist; no run is submitted until it does."""
PIPELINE_INVALID: Final = "PipelineInvalid"
"""The referenced pipeline breaks the training-pipeline contract (docs/pipelines.md); the
condition's message lists every problem. No run is submitted."""
PIPELINE_UNSUPPORTED: Final = "PipelineUnsupported"
"""spec.training.pipelineRef.kfp in a profile that cannot run pipelines uploaded to KFP."""
TRAINING_REQUESTED: Final = "TrainingRequested"
TRAINING_RUNNING: Final = "TrainingRunning"
TRAINING_SUCCEEDED: Final = "TrainingSucceeded"
TRAINING_FAILED: Final = "TrainingFailed"
TRAINING_CANCELED: Final = "TrainingCanceled"
"""A run in flight was canceled because the spec changed (a new training request)."""
NOT_TRAINED: Final = "NotTrained"
RETRAIN_COOLDOWN: Final = "RetrainCooldown"
DRIFT_DETECTED: Final = "DriftDetected"
SPC_ALERT: Final = "SpcAlert"
PROMOTED: Final = "Promoted"
BELOW_MINIMUM: Final = "BelowMinimum"
"""The challenger's promotion metric is below ``spec.promotion.minimum``."""
CHALLENGER_SUPERSEDED: Final = "ChallengerSuperseded"
"""The blocked challenger was trained for an earlier training spec: it is dropped, not
re-judged (a changed promotion threshold must not promote a model of other features)."""
NO_MODEL_REGISTERED: Final = "NoModelRegistered"
"""The run succeeded without registering a model (no model tag): there is nothing to serve,
so it is not judged at all."""
CHAMPION_NOT_BEATEN: Final = "ChampionNotBeaten"
"""The challenger does not beat the champion by ``spec.promotion.mustBeatChampionBy``."""
NO_CHAMPION: Final = "NoChampion"
DEPLOYING: Final = "Deploying"
DEPLOYED: Final = "Deployed"
SCALED_TO_ZERO: Final = "ScaledToZero"
CANARY: Final = "Canary"
"""Cluster profile: a new champion's canary Deployment takes a share of the Pods and is being
analysed; the old champion keeps the rest."""
CANARY_STARTED: Final = "CanaryStarted"
CANARY_ANALYSING: Final = "CanaryAnalysing"
"""The canary is Available; it is held for canaryAnalysis.period within its limits."""
CANARY_PROMOTED: Final = "CanaryPromoted"
CANARY_ROLLED_BACK: Final = "CanaryRolledBack"
"""The canary broke a limit of canaryAnalysis (or never became Available): removed, the old
champion keeps serving; the message says why."""
SERVING_FAILED: Final = "ServingFailed"
"""The champion's process failed to start or died fail-after times in a row (still retried)."""
SERVING_STARTING: Final = "Starting"
"""The champion's process was started and does not answer /readyz yet."""
SERVING_RESTARTING: Final = "Restarting"
"""The champion's process died or never became ready; the message has the last exit and the
next attempt (bounded exponential backoff)."""
