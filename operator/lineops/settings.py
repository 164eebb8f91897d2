"""The operator's configuration: every ``LINEOPS_*`` environment variable (and ``KUBECONFIG``)
in one validated object.

``load_settings()`` reads the environment once, at start-up, and turns a bad value into a
``SettingsError`` that names the variable (``LINEOPS_METRICS_PORT: must be a valid integer,
..., got 'abc'``). The composition root (``lineops operator run``, or kopf's start-up handler
when kopf loads the handlers itself) builds it and hands it down; nothing else in ``lineops``
reads the environment for these names. ``docs/configuration.md`` is generated from this model
(``lineops settings docs``), so the field descriptions are the documentation.

Pure: imports nothing from the operator's layers (checked by import-linter).
"""

from __future__ import annotations

import re
import types
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Final, Literal

import annotated_types
from pydantic import Field, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from lineops import __version__

ENV_PREFIX: Final = "LINEOPS_"
Profile = Literal["embedded", "cluster"]
PROFILES: Final[tuple[Profile, ...]] = typing.get_args(Profile)
DEFAULT_IMAGE: Final = f"ghcr.io/lineops/lineops:{__version__}"
# Where /metrics (and the embedded data server) listen when LINEOPS_METRICS_HOST is unset.
LOCAL_HOST: Final = "127.0.0.1"
CLUSTER_HOST: Final = "0.0.0.0"  # in a Pod: probes and scrapes come from outside

PullPolicy = Literal["Always", "IfNotPresent", "Never"]
# A DNS-1123 subdomain, what Kubernetes takes as a Secret's name.
SECRET_NAME: Final = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
# A label key: an optional DNS-subdomain prefix and "/", then a name of 1-63 characters; a
# value: empty or 1-63 characters (Kubernetes' label syntax).
LABEL_NAME: Final = re.compile(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)")
LABEL_VALUE: Final = re.compile(r"(([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?)")


def label_problem(key: str, value: str) -> str | None:
    """Which part of a Kubernetes label is malformed ("key" or "value"), or None."""
    prefix, slash, name = key.rpartition("/")
    if LABEL_NAME.fullmatch(name) is None or (
        slash and (SECRET_NAME.fullmatch(prefix) is None or len(prefix) > 253)
    ):
        return "key"
    return None if LABEL_VALUE.fullmatch(value) is not None else "value"


Port = Annotated[int, Field(ge=0, le=65535)]
Seconds = Annotated[float, Field(gt=0)]


class SettingsError(ValueError):
    """The environment (or a flag) holds a value the operator cannot start with."""


class Settings(BaseSettings):
    """Everything the operator is configured with, from ``LINEOPS_*`` variables.

    Command-line flags of ``lineops operator run`` override the environment (see
    ``OPERATOR_FLAGS``); values are validated once, when the object is built."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_ignore_empty=True,  # LINEOPS_X= (empty) means "not set", as before
        frozen=True,
        extra="forbid",
        validate_by_name=True,
        validate_by_alias=True,
    )

    # --- profile and endpoints --------------------------------------------------------------
    profile: Profile = Field(
        default="embedded",
        description="Backend set: `embedded` (in-process data plane, kfp.local training) or "
        "`cluster` (per-line ingestion Deployments, a KFP API server).",
    )
    metrics_host: str = Field(
        default="",
        description="Address `/metrics` and `/healthz` listen on (embedded profile: also the "
        "data server). Unset: 127.0.0.1, or 0.0.0.0 in the cluster profile.",
        json_schema_extra={"doc_default": "127.0.0.1; 0.0.0.0 (cluster)"},
    )
    metrics_port: Port = Field(
        default=8080,
        description="Port of the operator's `/metrics` and `/healthz`; 0 picks a free port.",
    )
    ingest_port: Port = Field(
        default=8081,
        description="Embedded profile: port of the data server (readings and MES records); 0 "
        "picks a free port.",
    )
    kubeconfig: str | None = Field(
        default=None,
        validation_alias="KUBECONFIG",
        description="Kubeconfig file. Unset: the Pod's ServiceAccount in a cluster, else "
        "kubectl's default.",
    )

    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines of the operator and of `lineops dataplane serve`: `text` for a "
        "terminal, `json` (one object a line with `time`, `level`, `logger`, `message`) for a "
        "log collector. The cluster profile passes the operator's value on to the data-plane "
        "Deployments.",
    )

    # --- data and concurrency -------------------------------------------------------------
    data_dir: Path = Field(
        default=Path(".lineops"),
        description="Embedded profile: the MES and quarantine stores, offline store, Feast "
        "repo and training runs; relative paths are relative to the working directory.",
    )
    worker_limit: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="How many objects are reconciled at once (each may hold an API thread; the "
        "thread pool has this many + 8).",
    )

    # --- timers (read once when kopf registers the handlers) --------------------------------
    resync_seconds: Seconds = Field(
        default=60.0,
        description="Period of the full reconcile timer of every ProductionLine and "
        "QualityModel (also when a cron schedule slot is noticed); an object's first one comes "
        "at a random point of the second half of the first period, so objects do not all "
        "resync at once. Read when the handlers are imported.",
    )
    monitor_seconds: Seconds = Field(
        default=10.0,
        description="Period at which each line's control charts, capability and OEE are "
        "re-evaluated from new records (one monitoring pass over all lines; a pass that takes "
        "longer stretches it, see lineops_monitor_pass_seconds).",
    )

    # --- training ---------------------------------------------------------------------------
    training: bool = Field(
        default=True,
        description="`off` records training requests only, in either profile (accepts "
        "on/off, true/false, 1/0, yes/no).",
    )
    training_poll_seconds: Seconds = Field(
        default=5.0,
        description="Poll period of a QualityModel while a training run is in flight or a "
        "retry is pending. Read when the handlers are imported.",
    )
    training_max_attempts: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Attempts per training run (the first one included) before it stays Failed.",
    )
    training_retry_seconds: float = Field(
        default=30.0,
        ge=0,
        description="Delay before the first retry of a failed training run; doubles per attempt.",
    )
    training_retry_max_seconds: float = Field(
        default=900.0,
        ge=0,
        description="Upper bound of the retry delay.",
    )
    pipelines_dir: Path | None = Field(
        default=None,
        description="Directory of the compiled KFP pipelines (`<name>.yaml`). Unset: "
        "`pipelines/compiled` beside the lineops_pipelines package.",
        json_schema_extra={"doc_default": "pipelines/compiled"},
    )

    # --- data plane ---------------------------------------------------------------------------
    db_url: str | None = Field(
        default=None,
        description="Database of MES records and the quarantine (SQLAlchemy URL, e.g. "
        "`postgresql+psycopg://user@host/db`). Unset: SQLite `lineops.db` in the data "
        "directory. The schema must be current: `lineops db upgrade --db URL`.",
        json_schema_extra={"doc_default": "sqlite:///<data dir>/lineops.db"},
    )
    offline_uri: str | None = Field(
        default=None,
        description="Raw-readings store of the data plane: a path or a pyarrow filesystem URI "
        "(`file:///mnt/lineops/offline`, `s3://bucket/prefix?endpoint_override=...`). Unset: "
        "`offline/` in the data directory.",
        json_schema_extra={"doc_default": "<data dir>/offline"},
    )
    api_token_file: Path | None = Field(
        default=None,
        description="File holding the bearer token the data plane requires on its line routes (a "
        "mounted Secret). Unset: no token needed.",
    )

    # Feast's cluster stores (backends/feast_store.py cluster_config); both or neither.
    feast_redis: str | None = Field(
        default=None,
        description="Feast online store on Redis: Feast's connection string "
        "(`host:port[,db=N][,password=...][,ssl=true]`; set it from a Secret when it holds a "
        "password). Needs `LINEOPS_FEAST_REGISTRY_URL`. Unset: SQLite online store in the "
        "data directory.",
    )
    feast_registry_url: str | None = Field(
        default=None,
        validate_default=True,  # so that a lone LINEOPS_FEAST_REDIS is refused too
        description="Feast SQL registry: SQLAlchemy URL of its database (e.g. "
        "`postgresql+psycopg://user@host/feast`; its tables are created on first use). Needs "
        "`LINEOPS_FEAST_REDIS`. Unset: registry file in the data directory.",
    )

    # --- cluster profile ----------------------------------------------------------------------
    image: str = Field(
        default=DEFAULT_IMAGE,
        min_length=1,
        description="Cluster profile: image of the per-line ingestion Deployment.",
    )
    image_pull_policy: PullPolicy | None = Field(
        default=None,
        description="Cluster profile: `imagePullPolicy` of the data-plane containers (they "
        "run the operator's image; the chart passes its `image.pullPolicy`). Unset: "
        "Kubernetes' default for the image reference.",
    )
    image_pull_secrets: str | None = Field(
        default=None,
        description="Cluster profile: comma-separated names of registry-credential Secrets "
        "(`kubernetes.io/dockerconfigjson`) put into the `imagePullSecrets` of the data-plane "
        "and serving Pods; like every Secret a Pod uses, each must exist in the line's or "
        "model's namespace (the chart passes its `imagePullSecrets`). Unset: none.",
    )
    pod_user_ids: bool = Field(
        default=True,
        description="Cluster profile: set `runAsUser`, `runAsGroup` and `fsGroup` (10001) in "
        "the data-plane Pods and `runAsUser` and `fsGroup` (1034, the user of `bentoml "
        "containerize`) in the serving Pods. `false` leaves them to the platform: OpenShift's "
        "restricted-v2 SCC "
        "gives each namespace its own UID range and refuses Pods that ask for another; "
        "`runAsNonRoot` stays.",
    )
    db_secret: str | None = Field(
        default=None,
        description="Cluster profile: Secret (in the line's namespace, key `url`) with the "
        "database URL the data-plane Deployments get as `LINEOPS_DB_URL`. Unset: each "
        "Deployment keeps SQLite on its Pod's volume.",
    )
    feast_secret: str | None = Field(
        default=None,
        description="Cluster profile: Secret (in the line's namespace) with Feast's cluster "
        "stores for the data-plane Deployments: key `redis` becomes `LINEOPS_FEAST_REDIS`, key "
        "`registry-url` `LINEOPS_FEAST_REGISTRY_URL` (Secret references, never values in the "
        "manifest). Unset: each Deployment keeps Feast's files on its Pod.",
    )
    api_token_secret: str | None = Field(
        default=None,
        description="Cluster profile: Secret (key `token`) mounted as `LINEOPS_API_TOKEN_FILE` "
        "into the data-plane Deployments (from the line's namespace) and into every step of a "
        "submitted pipeline (from the pipelines' namespace; kfp-kubernetes), which read the "
        "data plane with it. The operator reads the data planes with its own "
        "`LINEOPS_API_TOKEN_FILE` (the chart mounts the same-named Secret of its namespace). "
        "Unset: the data planes need no token.",
    )
    bento_image_repository: str = Field(
        default="ghcr.io/lineops/bentos",
        min_length=1,
        description="Cluster profile: repository of the champions' bento images; a model tag "
        "`<name>:<version>` is served from the image `<repository>/<name>:<version>` (built "
        "with `bentoml containerize`, see docs/serving.md).",
    )
    bento_feast_config_map: str = Field(
        default="lineops-feast-repo",
        min_length=1,
        description="Cluster profile: ConfigMap (in the model's namespace) holding the "
        "`feature_store.yaml` the serving Pods read online features with (mounted as their "
        "`LINEOPS_SERVING_FEAST_REPO`; optional: without it the Pods stay unready).",
    )
    prometheus_rule_labels: str | None = Field(
        default=None,
        description="Labels (`key=value`, comma-separated) of the PrometheusRule the operator "
        "creates per line, e.g. the `release` label a kube-prometheus-stack Prometheus selects "
        "rules by (the chart passes its `metrics.prometheusRule.labels`). Unset: only "
        "lineops' own labels, which such a Prometheus ignores.",
    )
    prometheus_url: str | None = Field(
        default=None,
        description="Cluster profile: Prometheus' HTTP API (e.g. `http://prometheus:9090`), "
        "read for a canary's error rate and p99 latency. Unset: a canary is promoted on "
        "readiness and its analysis period alone (said in the Serving condition).",
    )
    kfp_host: str | None = Field(
        default=None,
        description="Cluster profile: URL of the KFP API server. Unset: training is disabled "
        "(requests only), with a warning.",
    )
    kfp_token_file: Path | None = Field(
        default=None,
        description="Cluster profile: file holding the KFP bearer token, read at every call "
        "(a rotated Secret mount is picked up).",
    )
    kfp_experiment: str = Field(
        default="lineops",
        min_length=1,
        description="Cluster profile: KFP experiment the runs are filed under.",
    )
    kfp_namespace: str | None = Field(
        default=None,
        description="Cluster profile: KFP profile namespace (multi-user KFP).",
    )
    model_store: Path | None = Field(
        default=None,
        description="Cluster profile: the pipeline pods' `BENTOML_HOME` (a shared volume) as "
        "mounted in the operator; succeeded runs' metrics and model tag are read from it. "
        "Unset: the promotion gate blocks KFP runs (no metrics).",
    )
    model_store_claim: str | None = Field(
        default=None,
        description="Cluster profile: PersistentVolumeClaim of that shared store in the "
        "namespace the pipeline pods run in, mounted into every step of a submitted pipeline "
        "(kfp-kubernetes) at `/var/lib/lineops/model-store`, their `BENTOML_HOME`. Unset: no "
        "store mounted (the pods' own `BENTOML_HOME`).",
    )

    @field_validator("feast_registry_url")
    @classmethod
    def _feast_stores_together(cls, value: str | None, info: ValidationInfo) -> str | None:
        # One Feast configuration: a Redis online store with a file registry (or the reverse)
        # would split the objects from their values between Pods.
        redis = info.data.get("feast_redis")
        if value is None and redis is not None:
            raise PydanticCustomError("feast_pair", "must be set when LINEOPS_FEAST_REDIS is")
        if value is not None and redis is None and "feast_redis" in info.data:
            raise PydanticCustomError("feast_pair", "needs LINEOPS_FEAST_REDIS too")
        return value

    @field_validator("image_pull_secrets")
    @classmethod
    def _secret_names(cls, value: str | None) -> str | None:
        if value is None:
            return None
        names = [name.strip() for name in value.split(",")]
        for name in names:
            if not SECRET_NAME.fullmatch(name) or len(name) > 253:
                raise PydanticCustomError(
                    "secret_name",
                    "{name} is not a Secret name (lower-case letters, digits, '-' and '.', "
                    "starting and ending with a letter or digit)",
                    {"name": repr(name)},
                )
        return ",".join(names)

    @field_validator("prometheus_rule_labels")
    @classmethod
    def _rule_labels(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        for pair in value.split(","):
            key, equals, label = (part.strip() for part in pair.partition("="))
            if not equals or label_problem(key, label) is not None:
                raise PydanticCustomError(
                    "label",
                    "{pair} is not key=value with a Kubernetes label key and value",
                    {"pair": repr(pair.strip())},
                )
        return value

    @property
    def rule_labels(self) -> dict[str, str]:
        """LINEOPS_PROMETHEUS_RULE_LABELS as a mapping (empty when unset)."""
        if not self.prometheus_rule_labels:
            return {}
        pairs = (pair.partition("=") for pair in self.prometheus_rule_labels.split(","))
        return {key.strip(): label.strip() for key, _, label in pairs}

    @property
    def pull_secrets(self) -> tuple[str, ...]:
        """LINEOPS_IMAGE_PULL_SECRETS as a tuple of names (empty when unset)."""
        return tuple(self.image_pull_secrets.split(",")) if self.image_pull_secrets else ()

    @model_validator(mode="before")
    @classmethod
    def _host_by_profile(cls, data: Any) -> Any:
        if isinstance(data, dict) and not data.get("metrics_host"):
            cluster = data.get("profile") == "cluster"
            data = {**data, "metrics_host": CLUSTER_HOST if cluster else LOCAL_HOST}
        return data


# Sections of docs/configuration.md, in order; every field is in exactly one.
GROUPS: Final[dict[str, tuple[str, ...]]] = {
    "Profile and endpoints": (
        "profile",
        "metrics_host",
        "metrics_port",
        "ingest_port",
        "kubeconfig",
        "log_format",
    ),
    "Data and concurrency": ("data_dir", "worker_limit"),
    "Data plane": (
        "db_url",
        "offline_uri",
        "api_token_file",
        "feast_redis",
        "feast_registry_url",
    ),
    "Timers": ("resync_seconds", "monitor_seconds", "training_poll_seconds"),
    "Training": (
        "training",
        "training_max_attempts",
        "training_retry_seconds",
        "training_retry_max_seconds",
        "pipelines_dir",
    ),
    "Cluster profile": (
        "image",
        "image_pull_policy",
        "image_pull_secrets",
        "pod_user_ids",
        "db_secret",
        "feast_secret",
        "api_token_secret",
        "bento_image_repository",
        "bento_feast_config_map",
        "prometheus_rule_labels",
        "prometheus_url",
        "kfp_host",
        "kfp_token_file",
        "kfp_experiment",
        "kfp_namespace",
        "model_store",
        "model_store_claim",
    ),
}

# `lineops operator run` flags that override a setting (field name -> flag).
OPERATOR_FLAGS: Final[dict[str, str]] = {
    "profile": "--profile",
    "metrics_host": "--metrics-host",
    "metrics_port": "--metrics-port",
    "ingest_port": "--ingest-port",
    "data_dir": "--data-dir",
    "kubeconfig": "--kubeconfig",
}


def variable(name: str) -> str:
    """The environment variable of field ``name`` (``metrics_port`` -> LINEOPS_METRICS_PORT)."""
    alias = Settings.model_fields[name].validation_alias
    return alias if isinstance(alias, str) else ENV_PREFIX + name.upper()


def _field_of(loc: tuple[int | str, ...]) -> str | None:
    if not loc:
        return None
    key = str(loc[0])
    for name, info in Settings.model_fields.items():
        if key in (name, info.validation_alias):
            return name
    return None


def _message(error: Mapping[str, Any]) -> str:
    msg = str(error["msg"])
    if msg.startswith("Input should be"):
        msg = "must be" + msg[len("Input should be") :]
    return msg[:1].lower() + msg[1:]


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """The settings from the environment, with ``overrides`` (field name -> value, from
    command-line flags; None means "not given") taking precedence.

    Raises SettingsError naming each offending variable (or flag) and the value it got."""
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            name = _field_of(error["loc"])
            if name is None:
                where = ".".join(str(part) for part in error["loc"]) or "settings"
            elif name in given:
                where = OPERATOR_FLAGS.get(name, name)
            else:
                where = variable(name)
            problems.append(f"{where}: {_message(error)}, got {error.get('input')!r}")
        raise SettingsError("invalid configuration: " + "; ".join(problems)) from None


# ------------------------------------------------------------------------------ docs


_BOUNDS: Final = (
    (annotated_types.Ge, "ge", ">="),
    (annotated_types.Gt, "gt", ">"),
    (annotated_types.Le, "le", "<="),
    (annotated_types.Lt, "lt", "<"),
)


def _type_text(name: str, info: FieldInfo) -> str:
    annotation = info.annotation
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in args:
        annotation = next(a for a in args if a is not type(None))
    if typing.get_origin(annotation) is Literal:
        text = " \\| ".join(f"`{value}`" for value in typing.get_args(annotation))
    elif name.endswith("_seconds"):
        text = "seconds"
    else:
        names: dict[Any, str] = {bool: "on/off", int: "integer", float: "number"}
        names.update({str: "string", Path: "path"})
        text = names.get(annotation, str(annotation))
    bounds = [
        f"{sign} {getattr(meta, attr):g}"
        for meta in info.metadata
        for kind, attr, sign in _BOUNDS
        if isinstance(meta, kind)
    ]
    return text + (f" ({', '.join(bounds)})" if bounds else "")


def _default_text(info: FieldInfo) -> str:
    extra = info.json_schema_extra
    if isinstance(extra, dict) and "doc_default" in extra:
        return f"`{extra['doc_default']}`"
    default = info.default
    if default is None:
        return "(unset)"
    if isinstance(default, bool):
        return "`on`" if default else "`off`"
    if isinstance(default, float):
        return f"`{default:g}`"
    return f"`{default}`"


GENERATED_NOTE: Final = (
    "<!-- Generated by `lineops settings docs` from lineops.settings; do not edit. -->"
)


def configuration_markdown() -> str:
    """docs/configuration.md: one table per group of settings."""
    out = [
        GENERATED_NOTE,
        "",
        "# Configuration",
        "",
        "The operator reads its configuration from environment variables once, at start-up, "
        "into one validated settings object (`lineops.settings.Settings`). A value it cannot "
        "use stops the start with an error that names the variable, e.g. "
        "`LINEOPS_METRICS_PORT: must be a valid integer, ..., got 'abc'`. An empty variable "
        "counts as unset. Flags of `lineops operator run` override the environment. "
        "`lineops settings show` prints the values in effect.",
        "",
        "The timer periods are read when kopf registers the handlers (kopf needs them before "
        "the operator starts), so they come from the environment only.",
    ]
    fields = Settings.model_fields
    for title, names in GROUPS.items():
        out += ["", f"## {title}", ""]
        out += ["| variable | flag | type | default | description |", "|---|---|---|---|---|"]
        for name in names:
            info = fields[name]
            flag = OPERATOR_FLAGS.get(name)
            description = (info.description or "").replace("|", "\\|")
            out.append(
                f"| `{variable(name)}` | {f'`{flag}`' if flag else ''} | {_type_text(name, info)} "
                f"| {_default_text(info)} | {description} |"
            )
    return "\n".join(out) + "\n"
