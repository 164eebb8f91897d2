"""The one settings object: defaults, validation naming the variable, flags over the
environment, the generated configuration docs, and no environment reads anywhere else."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from lineops.backends.training.local import default_pipelines_dir
from lineops.cli.main import main
from lineops.cli.settings_cmd import CONFIGURATION
from lineops.services.data_plane_workload import DEFAULT_IMAGE as WORKLOAD_IMAGE
from lineops.services.training_policy import TrainingPolicy
from lineops.settings import (
    DEFAULT_IMAGE,
    GROUPS,
    OPERATOR_FLAGS,
    Settings,
    SettingsError,
    configuration_markdown,
    load_settings,
    variable,
)

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "operator" / "lineops"
SERVICE_CONFIG = REPO / "bentos" / "quality_inspector" / "config.py"
VARIABLES = {variable(name) for name in Settings.model_fields}


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """No LINEOPS_* variable (nor KUBECONFIG) from the shell running the tests."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield monkeypatch


# ------------------------------------------------------------------------------ values


def test_defaults_are_the_documented_ones() -> None:
    settings = load_settings()
    assert settings.profile == "embedded"
    assert settings.metrics_host == "127.0.0.1"
    assert (settings.metrics_port, settings.ingest_port) == (8080, 8081)
    assert settings.kubeconfig is None
    assert settings.data_dir == Path(".lineops")
    assert settings.worker_limit == 20
    assert (settings.resync_seconds, settings.monitor_seconds) == (60.0, 10.0)
    assert settings.training is True
    assert settings.training_poll_seconds == 5.0
    assert settings.training_max_attempts == 3
    assert (settings.training_retry_seconds, settings.training_retry_max_seconds) == (30, 900)
    assert settings.pipelines_dir is None
    assert settings.image == DEFAULT_IMAGE == WORKLOAD_IMAGE == "ghcr.io/lineops/lineops:0.1.0"
    assert settings.kfp_host is None and settings.kfp_token_file is None
    assert settings.kfp_experiment == "lineops" and settings.kfp_namespace is None
    assert settings.model_store is None
    assert settings.feast_redis is None and settings.feast_registry_url is None


def test_every_variable_is_read(clean_env: pytest.MonkeyPatch) -> None:
    env = {
        "LINEOPS_PROFILE": "cluster",
        "LINEOPS_METRICS_HOST": "10.0.0.1",
        "LINEOPS_METRICS_PORT": "0",
        "LINEOPS_INGEST_PORT": "9000",
        "KUBECONFIG": "/etc/kube/config",
        "LINEOPS_LOG_FORMAT": "json",
        "LINEOPS_DATA_DIR": "/var/lib/lineops",
        "LINEOPS_WORKER_LIMIT": "4",
        "LINEOPS_RESYNC_SECONDS": "1.5",
        "LINEOPS_MONITOR_SECONDS": "1",
        "LINEOPS_TRAINING": "off",
        "LINEOPS_TRAINING_POLL_SECONDS": "2",
        "LINEOPS_TRAINING_MAX_ATTEMPTS": "5",
        "LINEOPS_TRAINING_RETRY_SECONDS": "1",
        "LINEOPS_TRAINING_RETRY_MAX_SECONDS": "60",
        "LINEOPS_PIPELINES_DIR": "/pipelines",
        "LINEOPS_IMAGE": "registry.example/lineops:test",
        "LINEOPS_IMAGE_PULL_POLICY": "IfNotPresent",
        "LINEOPS_IMAGE_PULL_SECRETS": "regcred",
        "LINEOPS_POD_USER_IDS": "false",
        "LINEOPS_DB_URL": "postgresql+psycopg://lineops@db/lineops",
        "LINEOPS_OFFLINE_URI": "s3://bucket/lineops",
        "LINEOPS_API_TOKEN_FILE": "/var/run/secrets/lineops/token",
        "LINEOPS_FEAST_REDIS": "redis:6379,db=1",
        "LINEOPS_FEAST_REGISTRY_URL": "postgresql+psycopg://feast@db/feast",
        "LINEOPS_DB_SECRET": "lineops-db",
        "LINEOPS_FEAST_SECRET": "lineops-feast",
        "LINEOPS_API_TOKEN_SECRET": "lineops-api-token",
        "LINEOPS_BENTO_IMAGE_REPOSITORY": "registry.example/bentos",
        "LINEOPS_BENTO_FEAST_CONFIG_MAP": "plant-feast",
        "LINEOPS_PROMETHEUS_URL": "http://prometheus:9090",
        "LINEOPS_PROMETHEUS_RULE_LABELS": "release=kube-prom",
        "LINEOPS_KFP_HOST": "http://kfp:8888",
        "LINEOPS_KFP_TOKEN_FILE": "/var/run/secrets/kfp/token",
        "LINEOPS_KFP_EXPERIMENT": "plant-a",
        "LINEOPS_KFP_NAMESPACE": "team-a",
        "LINEOPS_MODEL_STORE": "/mnt/bentoml",
        "LINEOPS_MODEL_STORE_CLAIM": "lineops-models",
    }
    assert set(env) == VARIABLES  # one entry per field: a new field needs a line here
    for name, value in env.items():
        clean_env.setenv(name, value)
    settings = load_settings()
    assert settings.model_dump() == {
        "profile": "cluster",
        "metrics_host": "10.0.0.1",
        "metrics_port": 0,
        "ingest_port": 9000,
        "kubeconfig": "/etc/kube/config",
        "log_format": "json",
        "data_dir": Path("/var/lib/lineops"),
        "worker_limit": 4,
        "resync_seconds": 1.5,
        "monitor_seconds": 1.0,
        "training": False,
        "training_poll_seconds": 2.0,
        "training_max_attempts": 5,
        "training_retry_seconds": 1.0,
        "training_retry_max_seconds": 60.0,
        "pipelines_dir": Path("/pipelines"),
        "db_url": "postgresql+psycopg://lineops@db/lineops",
        "offline_uri": "s3://bucket/lineops",
        "api_token_file": Path("/var/run/secrets/lineops/token"),
        "feast_redis": "redis:6379,db=1",
        "feast_registry_url": "postgresql+psycopg://feast@db/feast",
        "image": "registry.example/lineops:test",
        "image_pull_policy": "IfNotPresent",
        "image_pull_secrets": "regcred",
        "pod_user_ids": False,
        "db_secret": "lineops-db",
        "feast_secret": "lineops-feast",
        "api_token_secret": "lineops-api-token",
        "bento_image_repository": "registry.example/bentos",
        "bento_feast_config_map": "plant-feast",
        "prometheus_rule_labels": "release=kube-prom",
        "prometheus_url": "http://prometheus:9090",
        "kfp_host": "http://kfp:8888",
        "kfp_token_file": Path("/var/run/secrets/kfp/token"),
        "kfp_experiment": "plant-a",
        "kfp_namespace": "team-a",
        "model_store": Path("/mnt/bentoml"),
        "model_store_claim": "lineops-models",
    }


@pytest.mark.parametrize(
    ("value", "on"),
    [("off", False), ("OFF", False), ("false", False), ("0", False), ("on", True), ("1", True)],
)
def test_training_switch(clean_env: pytest.MonkeyPatch, value: str, on: bool) -> None:
    clean_env.setenv("LINEOPS_TRAINING", value)
    assert load_settings().training is on


def test_metrics_host_follows_the_profile_unless_set(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LINEOPS_PROFILE", "cluster")
    assert load_settings().metrics_host == "0.0.0.0"
    assert load_settings({"profile": "embedded"}).metrics_host == "127.0.0.1"
    clean_env.setenv("LINEOPS_METRICS_HOST", "10.1.2.3")
    assert load_settings().metrics_host == "10.1.2.3"
    assert load_settings({"metrics_host": "::1"}).metrics_host == "::1"


def test_an_empty_variable_counts_as_unset(clean_env: pytest.MonkeyPatch) -> None:
    for name in ("LINEOPS_METRICS_PORT", "LINEOPS_DATA_DIR", "LINEOPS_KFP_NAMESPACE", "KUBECONFIG"):
        clean_env.setenv(name, "")
    settings = load_settings()
    assert settings.metrics_port == 8080 and settings.data_dir == Path(".lineops")
    assert settings.kfp_namespace is None and settings.kubeconfig is None


def test_flags_override_the_environment(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LINEOPS_METRICS_PORT", "9100")
    clean_env.setenv("LINEOPS_DATA_DIR", "/from/env")
    settings = load_settings({"metrics_port": 9200, "data_dir": None, "kubeconfig": "/k"})
    assert settings.metrics_port == 9200  # the flag
    assert settings.data_dir == Path("/from/env")  # flag not given (None): the variable
    assert settings.kubeconfig == "/k"


def test_settings_are_frozen() -> None:
    settings = load_settings()
    with pytest.raises(ValueError, match="frozen"):
        settings.metrics_port = 1  # type: ignore[misc]


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("LINEOPS_METRICS_PORT", "abc", "must be a valid integer"),
        ("LINEOPS_METRICS_PORT", "70000", "must be less than or equal to 65535"),
        ("LINEOPS_INGEST_PORT", "-1", "must be greater than or equal to 0"),
        ("LINEOPS_PROFILE", "local", "must be 'embedded' or 'cluster'"),
        ("LINEOPS_LOG_FORMAT", "yaml", "must be 'text' or 'json'"),
        ("LINEOPS_WORKER_LIMIT", "0", "must be greater than or equal to 1"),
        ("LINEOPS_RESYNC_SECONDS", "0", "must be greater than 0"),
        ("LINEOPS_MONITOR_SECONDS", "soon", "must be a valid number"),
        ("LINEOPS_TRAINING_POLL_SECONDS", "-5", "must be greater than 0"),
        ("LINEOPS_TRAINING", "maybe", "must be a valid boolean"),
        ("LINEOPS_TRAINING_MAX_ATTEMPTS", "0", "must be greater than or equal to 1"),
        ("LINEOPS_TRAINING_RETRY_SECONDS", "-1", "must be greater than or equal to 0"),
        ("LINEOPS_IMAGE_PULL_SECRETS", "regcred,Bad_Name", "'Bad_Name' is not a Secret name"),
        ("LINEOPS_IMAGE_PULL_SECRETS", "regcred,,other", "'' is not a Secret name"),
        ("LINEOPS_IMAGE_PULL_POLICY", "always", "must be 'Always', 'IfNotPresent' or 'Never'"),
        (
            "LINEOPS_PROMETHEUS_RULE_LABELS",
            "release=kube-prom,team",
            "'team' is not key=value with a Kubernetes label key and value",
        ),
        (
            "LINEOPS_PROMETHEUS_RULE_LABELS",
            "release=kube prom",
            "'release=kube prom' is not key=value",
        ),
    ],
)
def test_a_bad_value_names_the_variable(
    clean_env: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    clean_env.setenv(name, value)
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert f"{name}: {says}" in message, message
    assert f"got {value!r}" in message, message


def test_every_bad_value_is_reported_at_once(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LINEOPS_METRICS_PORT", "abc")
    clean_env.setenv("LINEOPS_PROFILE", "x")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "LINEOPS_METRICS_PORT:" in str(error.value)
    assert "LINEOPS_PROFILE:" in str(error.value)


@pytest.mark.parametrize(
    ("given", "named", "says"),
    [
        ("LINEOPS_FEAST_REDIS", "LINEOPS_FEAST_REGISTRY_URL", "must be set when"),
        ("LINEOPS_FEAST_REGISTRY_URL", "LINEOPS_FEAST_REGISTRY_URL", "needs LINEOPS_FEAST_REDIS"),
    ],
)
def test_the_feast_cluster_stores_come_together(
    clean_env: pytest.MonkeyPatch, given: str, named: str, says: str
) -> None:
    clean_env.setenv(given, "x")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert f"{named}: {says}" in str(error.value), str(error.value)


def test_a_bad_flag_names_the_flag(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LINEOPS_METRICS_PORT", "9100")
    with pytest.raises(SettingsError, match=r"--metrics-port: must be less .*, got 70000"):
        load_settings({"metrics_port": 70000})


def test_operator_run_stops_before_starting_and_names_the_variable(
    clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clean_env.setenv("LINEOPS_INGEST_PORT", "eighty")
    assert main(["operator", "run", "-n", "default"]) == 2
    err = capsys.readouterr().err
    assert "LINEOPS_INGEST_PORT: must be a valid integer" in err and "'eighty'" in err
    assert main(["operator", "run", "-n", "default", "--ingest-port", "99999"]) == 2
    assert "--ingest-port: must be less than or equal to 65535" in capsys.readouterr().err


def test_settings_show(clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    clean_env.setenv("LINEOPS_TRAINING", "off")
    assert main(["settings", "show"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "LINEOPS_TRAINING=False" in lines and "LINEOPS_METRICS_PORT=8080" in lines
    assert {line.split("=", 1)[0] for line in lines} == VARIABLES


# ----------------------------------------------------------------------- consumers


def test_training_policy_from_settings(clean_env: pytest.MonkeyPatch) -> None:
    assert TrainingPolicy.from_settings(load_settings()) == TrainingPolicy()
    clean_env.setenv("LINEOPS_TRAINING_MAX_ATTEMPTS", "2")
    clean_env.setenv("LINEOPS_TRAINING_RETRY_SECONDS", "1")
    clean_env.setenv("LINEOPS_TRAINING_RETRY_MAX_SECONDS", "3")
    clean_env.setenv("LINEOPS_TRAINING_POLL_SECONDS", "0.5")
    assert TrainingPolicy.from_settings(load_settings()) == TrainingPolicy(2, 1.0, 3.0, 0.5)


def test_pipelines_dir(tmp_path: Path) -> None:
    assert default_pipelines_dir(tmp_path) == tmp_path.resolve()
    assert default_pipelines_dir() == REPO / "pipelines" / "compiled"


# ------------------------------------------------------------------------------- docs


def test_every_field_is_documented_once() -> None:
    grouped = [name for names in GROUPS.values() for name in names]
    assert sorted(grouped) == sorted(Settings.model_fields)
    assert len(grouped) == len(set(grouped))
    for name, info in Settings.model_fields.items():
        assert info.description, f"{variable(name)} has no description"
    assert set(OPERATOR_FLAGS) <= set(Settings.model_fields)


def test_committed_configuration_matches_the_model(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["settings", "docs", "--check"])
    assert status == 0, f"run `lineops settings docs`: {capsys.readouterr().err}"


def test_docs_check_fails_on_drift(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["settings", "docs", "--check", "--root", str(tmp_path)]) == 1  # missing
    assert main(["settings", "docs", "--root", str(tmp_path)]) == 0
    assert (tmp_path / CONFIGURATION).read_text(encoding="utf-8") == configuration_markdown()
    assert main(["settings", "docs", "--check", "--root", str(tmp_path)]) == 0
    (tmp_path / CONFIGURATION).write_text("edited by hand\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["settings", "docs", "--check", "--root", str(tmp_path)]) == 1
    assert str(CONFIGURATION) in capsys.readouterr().err


def test_docs_table_has_a_row_per_variable() -> None:
    text = configuration_markdown()
    rows = re.findall(r"^\| `([A-Z_]+)` \|", text, flags=re.MULTILINE)
    assert sorted(rows) == sorted(VARIABLES)
    assert "| `LINEOPS_METRICS_PORT` | `--metrics-port` | integer (>= 0, <= 65535) | `8080` |" in (
        text
    )
    assert "| `LINEOPS_TRAINING` |  | on/off | `on` |" in text


# -------------------------------------------------------- no environment reads elsewhere


def _is_environ(node: ast.expr) -> bool:
    if isinstance(node, ast.Attribute):
        return node.attr == "environ" and isinstance(node.value, ast.Name)
    return isinstance(node, ast.Name) and node.id == "environ"


def _key_is_suspect(key: ast.expr | None) -> bool:
    """A LINEOPS_ name, or a key that is not a literal (it could build one)."""
    if key is None:
        return False
    if isinstance(key, ast.Constant):
        return isinstance(key.value, str) and key.value.startswith("LINEOPS_")
    return True


def lineops_env_reads(source: str) -> list[int]:
    """Lines of ``source`` that read a LINEOPS_* variable from the process environment:
    ``os.environ.get/pop/setdefault(...)``, ``os.getenv(...)``, ``os.environ[...]`` (read)
    and ``... in os.environ``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        key: ast.expr | None = None
        if isinstance(node, ast.Call):
            func = node.func
            getter = (
                isinstance(func, ast.Attribute)
                and func.attr in ("get", "pop", "setdefault")
                and _is_environ(func.value)
            )
            getenv = (isinstance(func, ast.Attribute) and func.attr == "getenv") or (
                isinstance(func, ast.Name) and func.id == "getenv"
            )
            if (getter or getenv) and node.args:
                key = node.args[0]
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and _is_environ(node.value)
        ):
            key = node.slice
        elif (
            isinstance(node, ast.Compare)
            and any(isinstance(op, ast.In | ast.NotIn) for op in node.ops)
            and any(_is_environ(c) for c in node.comparators)
        ):
            key = node.left
        if _key_is_suspect(key):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_the_checker_finds_every_kind_of_read() -> None:
    source = "\n".join(
        [
            "import os",
            "from os import environ, getenv",
            'a = os.environ.get("LINEOPS_A", "1")',
            'b = os.getenv("LINEOPS_B")',
            'c = os.environ["LINEOPS_C"]',
            'd = "LINEOPS_D" in os.environ',
            'e = environ.get("LINEOPS_E")',
            'f = getenv("LINEOPS_F")',
            'g = os.environ.get("LINEOPS_" + "G")',
            'h = os.environ.get("HOME")',  # not ours
            'os.environ["LINEOPS_I"] = "1"',  # a write (for a child process)
            'env = dict(os.environ, LINEOPS_J="2")',  # a copy for a child process
        ]
    )
    assert lineops_env_reads(source) == [3, 4, 5, 6, 7, 8, 9]


def test_only_settings_reads_lineops_variables() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "settings.py":
            continue
        for line in lineops_env_reads(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(REPO)}:{line}")
    assert not offenders, f"read LINEOPS_* through lineops.settings instead: {offenders}"


def service_variables() -> set[str]:
    """The quality inspector's own variables (bentos/quality_inspector/config.py), which the
    operator sets in the environment of the `bentoml serve` processes it starts."""
    text = SERVICE_CONFIG.read_text("utf-8")
    found = re.search(r'PREFIX: Final = "(LINEOPS_[A-Z0-9_]+)"', text)
    assert found is not None, "the service's variable prefix moved"
    prefix = found.group(1)
    names = set(re.findall(r'_(?:get|seconds|int|switch)\("([A-Z0-9_]+)"', text))
    assert names, "the service reads no variables: the pattern above is stale"
    return {prefix + name for name in names} | {prefix.rstrip("_")}


def test_every_lineops_name_in_the_code_is_a_setting() -> None:
    """A LINEOPS_* name in a message, docstring or a child's environment is a real one: a
    setting, or a variable of the serving process the operator starts."""
    unknown = set()
    for path in PACKAGE.rglob("*.py"):
        if path == PACKAGE / "settings.py":
            continue
        unknown |= set(re.findall(r"LINEOPS_[A-Z0-9_]*[A-Z0-9]", path.read_text("utf-8")))
    assert unknown - VARIABLES - service_variables() == set()


def test_prometheus_rule_labels_are_read_as_a_mapping(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("LINEOPS_PROMETHEUS_RULE_LABELS", "release=kube-prom, example.com/team=qa")
    assert load_settings().rule_labels == {"release": "kube-prom", "example.com/team": "qa"}
    clean_env.delenv("LINEOPS_PROMETHEUS_RULE_LABELS")
    assert load_settings().rule_labels == {}


def test_first_resyncs_are_spread_over_the_first_period() -> None:
    from lineops.handlers.config import RESYNC_SECONDS, resync_delay

    delays = [resync_delay() for _ in range(200)]
    assert all(0.5 * RESYNC_SECONDS <= d <= RESYNC_SECONDS for d in delays)
    assert max(delays) - min(delays) > 0.2 * RESYNC_SECONDS  # spread, not one moment
