"""Where a CLI command finds a ProductionLine: `--line [NAMESPACE/]NAME` read from the
cluster (the object the operator reconciles), shared by the commands that take it."""

from __future__ import annotations

from typing import Any

from lineops.api.kinds import ResourceInfo
from lineops.api.productionline import ProductionLine
from lineops.cli.errors import CliError, yaml_problem


def parse_line_ref(text: str) -> tuple[str, str]:
    namespace, sep, name = text.rpartition("/")
    if not sep:
        namespace = "default"
    if not name or not namespace or "/" in namespace:
        raise CliError(f"--line: expected [NAMESPACE/]NAME, got {text!r}")
    return namespace, name


def line_from_cluster(namespace: str, name: str, kubeconfig: str | None) -> ProductionLine:
    """The ProductionLine as the cluster holds it (kubernetes is imported only here)."""
    from pydantic import ValidationError

    from lineops.api.errors import describe_validation_error
    from lineops.api.kinds import PRODUCTION_LINE

    ref = f"ProductionLine {namespace}/{name}"
    hint = "; give the manifest with --line-file to report without the cluster"
    obj = object_from_cluster(PRODUCTION_LINE, namespace, name, kubeconfig, hint)
    try:
        return ProductionLine.model_validate(obj)
    except ValidationError as exc:
        raise CliError(f"{ref}: {describe_validation_error(exc, root='')}") from None


def object_from_cluster(
    kind: ResourceInfo, namespace: str, name: str, kubeconfig: str | None, hint: str = ""
) -> dict[str, Any]:
    """One custom object as the cluster holds it; a CliError that says why not (``hint``
    appended: what the user can do without the cluster)."""
    from kubernetes import client
    from kubernetes.client.exceptions import ApiException
    from kubernetes.config import ConfigException
    from urllib3.exceptions import HTTPError

    from lineops.backends.kube import REQUEST_TIMEOUT, new_api_client

    ref = f"{kind.kind} {namespace}/{name}"
    import yaml

    try:
        api = new_api_client(kubeconfig)
    except (ConfigException, OSError) as exc:
        raise CliError(f"cannot read {ref}: no cluster configuration ({exc}){hint}") from None
    except yaml.YAMLError as exc:  # a kubeconfig that is not YAML: a ScannerError traceback
        raise CliError(
            f"cannot read {ref}: the kubeconfig is not valid YAML ({yaml_problem(exc)}){hint}"
        ) from None
    try:
        obj: dict[str, Any] = client.CustomObjectsApi(api).get_namespaced_custom_object(
            kind.group, kind.version, namespace, kind.plural, name, _request_timeout=REQUEST_TIMEOUT
        )
    except ApiException as exc:
        if exc.status == 404:
            raise CliError(f"{ref} not found in the cluster") from None
        raise CliError(
            f"cannot read {ref}: API server answered {exc.status} {exc.reason}"
        ) from None
    except (HTTPError, OSError) as exc:
        cause = getattr(exc, "reason", None) or exc  # urllib3 wraps the socket error
        where = api.configuration.host
        raise CliError(
            f"cannot read {ref}: cluster unreachable at {where} ({cause}){hint}"
        ) from None
    finally:
        api.close()
    return obj
