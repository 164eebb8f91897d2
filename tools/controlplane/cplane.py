#!/usr/bin/env python3
"""Build and run the test control plane: etcd + kube-apiserver + kube-controller-manager.

Standard library only, so `tools/controlplane/up` works before the project's virtualenv
exists and pytest fixtures can import the very same code (tests/support/controlplane.py).

Binaries are built from the Go wrapper modules next to this file into
``<repo>/.cache/controlplane/<versions>/bin`` and reused while the module files are
unchanged. Each running control plane lives in its own run directory (certificates, etcd
data, logs, kubeconfig, pids), so `down` stops exactly what `up` started.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
CACHE = Path(os.environ.get("LINEOPS_CACHE", REPO / ".cache"))
ADMIN_TOKEN_USER = "lineops-admin"

# binary name -> (wrapper module dir, Go package path)
BINARIES: dict[str, tuple[str, str]] = {
    "etcd": ("etcd", "lineops.io/controlplane/etcd"),
    "kube-apiserver": ("kubernetes", "k8s.io/kubernetes/cmd/kube-apiserver"),
    "kube-controller-manager": ("kubernetes", "k8s.io/kubernetes/cmd/kube-controller-manager"),
    "kube-scheduler": ("kubernetes", "k8s.io/kubernetes/cmd/kube-scheduler"),
    "kwok": ("kwok", "sigs.k8s.io/kwok/cmd/kwok"),
}
CORE = ("etcd", "kube-apiserver", "kube-controller-manager")


class ControlPlaneError(RuntimeError):
    """Anything that stops the control plane from building or starting."""


def log(msg: str) -> None:
    print(f"[controlplane] {msg}", file=sys.stderr, flush=True)


def versions() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in (HERE / "versions.env").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
    return out


def _module_fingerprint() -> str:
    """Changes whenever a wrapper module or the versions change, so stale binaries are rebuilt."""
    digest = hashlib.sha256()
    for path in sorted(HERE.glob("*/go.*")) + sorted(HERE.glob("*/*.go")) + [HERE / "versions.env"]:
        digest.update(path.relative_to(HERE).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def bin_dir() -> Path:
    return CACHE / "controlplane" / f"bin-{_module_fingerprint()}"


def _ldflags(name: str) -> str:
    v = versions()
    if name in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        kv = v["KUBERNETES_VERSION"]
        major, minor = kv.lstrip("v").split(".")[:2]
        flags = []
        for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
            flags += [
                f"-X {pkg}.gitVersion={kv}",
                f"-X {pkg}.gitMajor={major}",
                f"-X {pkg}.gitMinor={minor}",
                f"-X {pkg}.gitTreeState=clean",
                f"-X {pkg}.buildDate=1970-01-01T00:00:00Z",
            ]
        return "-s -w " + " ".join(flags)
    if name == "kwok":
        return f"-s -w -X sigs.k8s.io/kwok/pkg/consts.Version={v['KWOK_VERSION']}"
    return "-s -w"  # etcd's version is a constant in go.etcd.io/etcd/api/v3/version


def build(names: tuple[str, ...] = CORE) -> Path:
    """Build the named binaries unless a build for the current module files exists."""
    target = bin_dir()
    missing = [n for n in names if not (target / n).exists()]
    stages_missing = "kwok" in names and not (target / KWOK_STAGES).exists()
    if not missing and not stages_missing:
        return target
    if shutil.which("go") is None:
        raise ControlPlaneError(
            "Go is not installed (no `go` on PATH); the test control plane is built from Go "
            "modules. Install Go >= 1.26.8 (etcd and kwok need it) and run again."
        )
    target.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, CGO_ENABLED="0", GOFLAGS="-mod=mod", GOTOOLCHAIN="local")
    for name in missing:
        module, pkg = BINARIES[name]
        log(f"building {name} from {pkg} (cold builds of the Kubernetes binaries take minutes)")
        started = time.monotonic()
        tmp = target / f".{name}.tmp"
        cmd = ["go", "build", "-trimpath", "-ldflags", _ldflags(name), "-o", str(tmp), pkg]
        proc = subprocess.run(cmd, cwd=HERE / module, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            raise ControlPlaneError(
                f"building {name} failed (exit {proc.returncode}) in {HERE / module}:\n"
                + proc.stderr[-4000:]
            )
        tmp.rename(target / name)
        log(f"built {name} in {time.monotonic() - started:.0f}s")
    if "kwok" in names and not (target / KWOK_STAGES).exists():
        _write_kwok_stages(target / KWOK_STAGES, env)
    return target


# Named for the set of stages it holds, so a changed set is regenerated, not reused.
KWOK_STAGES = "kwok-stages-fast-heartbeat.yaml"


def _write_kwok_stages(path: Path, env: dict[str, str]) -> None:
    """kwok ships its 'fast' node and pod lifecycles as Stage manifests in its module
    source, not in the binary: copy them from the module cache next to the binary."""
    proc = subprocess.run(
        ["go", "list", "-m", "-f", "{{.Dir}}", "sigs.k8s.io/kwok"],
        cwd=HERE / "kwok",
        env=env,
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0 or not proc.stdout.strip():
        raise ControlPlaneError(f"cannot locate the kwok module source: {proc.stderr[-2000:]}")
    stages = Path(proc.stdout.strip()) / "kustomize" / "stage"
    # Without heartbeats the node lifecycle controller marks the node unreachable after its
    # grace period and flips its Pods to NotReady, which kwok's pod stages never undo.
    files = [
        stages / "node" / "fast" / "node-initialize.yaml",
        stages / "node" / "heartbeat" / "node-heartbeat.yaml",
        *sorted((stages / "pod" / "fast").glob("pod-*.yaml")),
    ]
    path.write_text("\n---\n".join(f.read_text() for f in files))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _openssl(*args: str, cwd: Path) -> None:
    proc = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ControlPlaneError(f"openssl {' '.join(args[:2])} failed: {proc.stderr[-2000:]}")


def make_pki(pki: Path) -> None:
    """A CA, a serving certificate for 127.0.0.1/localhost, and the service-account key pair."""
    if shutil.which("openssl") is None:
        raise ControlPlaneError("openssl is required to create the control plane's certificates")
    pki.mkdir(parents=True, exist_ok=True)
    _openssl("genrsa", "-out", "ca.key", "2048", cwd=pki)
    _openssl(
        "req",
        "-x509",
        "-new",
        "-key",
        "ca.key",
        "-days",
        "3650",
        "-subj",
        "/CN=lineops-test-ca",
        "-out",
        "ca.crt",
        cwd=pki,
    )
    _openssl("genrsa", "-out", "server.key", "2048", cwd=pki)
    _openssl(
        "req",
        "-new",
        "-key",
        "server.key",
        "-subj",
        "/CN=kube-apiserver",
        "-out",
        "server.csr",
        cwd=pki,
    )
    (pki / "san.ext").write_text(
        "subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
        "DNS:kubernetes.default.svc,IP:10.0.0.1\nextendedKeyUsage=serverAuth\n"
    )
    _openssl(
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "3650",
        "-extfile",
        "san.ext",
        "-out",
        "server.crt",
        cwd=pki,
    )
    _openssl("genrsa", "-out", "sa.key", "2048", cwd=pki)
    _openssl("rsa", "-in", "sa.key", "-pubout", "-out", "sa.pub", cwd=pki)


@dataclass
class ControlPlane:
    """A running control plane. Serialised to ``state.json`` in its run directory."""

    run_dir: str
    server: str
    kubeconfig: str
    token: str
    ca_file: str
    pids: dict[str, int] = field(default_factory=dict)

    @classmethod
    def load(cls, run_dir: Path) -> ControlPlane:
        return cls(**json.loads((run_dir / "state.json").read_text()))

    def save(self) -> None:
        Path(self.run_dir, "state.json").write_text(json.dumps(asdict(self), indent=2))

    def alive(self) -> dict[str, bool]:
        return {name: _pid_alive(pid) for name, pid in self.pids.items()}

    def stop(self, timeout: float = 15.0) -> None:
        # Reverse start order: controllers first, etcd last, so nothing logs a lost backend.
        for name in reversed(list(self.pids)):
            _terminate(self.pids[name], timeout)
        self.pids = {}


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie child of ours is not alive
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _terminate(pid: int, timeout: float) -> None:
    if not _pid_alive(pid):
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            finished, _ = os.waitpid(pid, os.WNOHANG)
            if finished == pid:
                return
        except ChildProcessError:
            pass
        if not _pid_alive(pid):
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)


def _spawn(name: str, cmd: list[str], run_dir: Path) -> int:
    logf = open(run_dir / f"{name}.log", "ab")  # noqa: SIM115 - handed to the child
    # start_new_session: the servers outlive `up` and are not hit by the caller's Ctrl-C.
    proc = subprocess.Popen(
        cmd,
        stdout=logf,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=run_dir,
    )
    logf.close()
    return proc.pid


def _wait_ready(
    url: str,
    pid: int,
    name: str,
    run_dir: Path,
    timeout: float,
    context: ssl.SSLContext | None = None,
    token: str | None = None,
) -> None:
    """Poll until the endpoint answers exactly ``ok`` (while starting, it lists its checks)."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            tail = (run_dir / f"{name}.log").read_text(errors="replace")[-3000:]
            raise ControlPlaneError(f"{name} exited during start-up; last log lines:\n{tail}")
        request = urllib.request.Request(url)
        if token:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=2, context=context) as resp:
                body = resp.read().decode().strip()
                if body == "ok":
                    return
                last = body
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last = str(exc)
        time.sleep(0.1)
    raise ControlPlaneError(f"{name} not ready after {timeout:.0f}s at {url}: {last[-500:]}")


def _write_kubeconfig(path: Path, server: str, ca_file: Path, token: str) -> None:
    path.write_text(
        json.dumps(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {
                        "name": "lineops-test",
                        "cluster": {"server": server, "certificate-authority": str(ca_file)},
                    }
                ],
                "users": [{"name": "admin", "user": {"token": token}}],
                "contexts": [
                    {
                        "name": "lineops-test",
                        "context": {"cluster": "lineops-test", "user": "admin"},
                    }
                ],
                "current-context": "lineops-test",
            },
            indent=2,
        )
    )


def up(
    run_dir: Path | None = None,
    with_controller_manager: bool = True,
    timeout: float = 120.0,
    with_nodes: bool = False,
) -> ControlPlane:
    """Build (or reuse) the binaries, start the servers, and return once /readyz says ok."""
    wanted = CORE if with_controller_manager else CORE[:2]
    bins = build(tuple(BINARIES) if with_nodes else wanted)
    runs = CACHE / "controlplane" / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    run_dir = Path(run_dir) if run_dir else Path(tempfile.mkdtemp(prefix="cp-", dir=runs))
    run_dir.mkdir(parents=True, exist_ok=True)
    pki = run_dir / "pki"
    make_pki(pki)
    token = hashlib.sha256(os.urandom(32)).hexdigest()
    (pki / "tokens.csv").write_text(f'{token},{ADMIN_TOKEN_USER},uid-admin,"system:masters"\n')

    etcd_client, etcd_peer, api_port = free_port(), free_port(), free_port()
    server = f"https://127.0.0.1:{api_port}"
    kubeconfig = run_dir / "kubeconfig"
    _write_kubeconfig(kubeconfig, server, pki / "ca.crt", token)
    cp = ControlPlane(
        run_dir=str(run_dir),
        server=server,
        kubeconfig=str(kubeconfig),
        token=token,
        ca_file=str(pki / "ca.crt"),
    )
    try:
        log(f"starting etcd on 127.0.0.1:{etcd_client}")
        cp.pids["etcd"] = _spawn(
            "etcd",
            [
                str(bins / "etcd"),
                "--name",
                "lineops-test",
                "--data-dir",
                str(run_dir / "etcd"),
                "--listen-client-urls",
                f"http://127.0.0.1:{etcd_client}",
                "--advertise-client-urls",
                f"http://127.0.0.1:{etcd_client}",
                "--listen-peer-urls",
                f"http://127.0.0.1:{etcd_peer}",
                "--initial-advertise-peer-urls",
                f"http://127.0.0.1:{etcd_peer}",
                "--initial-cluster",
                f"lineops-test=http://127.0.0.1:{etcd_peer}",
                "--unsafe-no-fsync",  # test data only; fsync dominates start-up on shared disks
                "--log-level",
                "warn",
            ],
            run_dir,
        )
        cp.save()
        _wait_etcd(etcd_client, cp.pids["etcd"], run_dir, timeout)

        log(f"starting kube-apiserver on {server}")
        cp.pids["kube-apiserver"] = _spawn(
            "kube-apiserver",
            [
                str(bins / "kube-apiserver"),
                "--etcd-servers",
                f"http://127.0.0.1:{etcd_client}",
                "--bind-address",
                "127.0.0.1",
                "--advertise-address",
                "127.0.0.1",
                "--secure-port",
                str(api_port),
                "--tls-cert-file",
                str(pki / "server.crt"),
                "--tls-private-key-file",
                str(pki / "server.key"),
                "--client-ca-file",
                str(pki / "ca.crt"),
                "--token-auth-file",
                str(pki / "tokens.csv"),
                "--authorization-mode",
                "RBAC",
                "--service-account-issuer",
                "https://kubernetes.default.svc.cluster.local",
                "--service-account-key-file",
                str(pki / "sa.pub"),
                "--service-account-signing-key-file",
                str(pki / "sa.key"),
                "--service-cluster-ip-range",
                "10.0.0.0/24",
                "--allow-privileged=true",
                "--disable-admission-plugins",
                "ServiceAccount",
                "--enable-priority-and-fairness=false",
                "--profiling=false",
                "--v=1",
            ],
            run_dir,
        )
        cp.save()
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        _wait_ready(
            f"{server}/readyz",
            cp.pids["kube-apiserver"],
            "kube-apiserver",
            run_dir,
            timeout,
            context=context,
            token=token,
        )

        if with_controller_manager:
            kcm_port = free_port()
            log("starting kube-controller-manager")
            cp.pids["kube-controller-manager"] = _spawn(
                "kube-controller-manager",
                [
                    str(bins / "kube-controller-manager"),
                    "--kubeconfig",
                    str(kubeconfig),
                    "--authentication-kubeconfig",
                    str(kubeconfig),
                    "--authorization-kubeconfig",
                    str(kubeconfig),
                    "--bind-address",
                    "127.0.0.1",
                    "--secure-port",
                    str(kcm_port),
                    "--leader-elect=false",
                    "--service-account-private-key-file",
                    str(pki / "sa.key"),
                    "--root-ca-file",
                    str(pki / "ca.crt"),
                    "--use-service-account-credentials=false",
                    "--controllers",
                    "*",
                    "--v=1",
                ],
                run_dir,
            )
            cp.save()
            _wait_ready(
                f"https://127.0.0.1:{kcm_port}/healthz",
                cp.pids["kube-controller-manager"],
                "kube-controller-manager",
                run_dir,
                timeout,
                context=ssl._create_unverified_context(),
                token=token,
            )
        if with_nodes:
            _start_nodes(cp, bins, kubeconfig, run_dir, token, context)
    except BaseException:
        cp.stop()
        raise
    log(f"ready: {server} (run dir {run_dir})")
    return cp


FAKE_NODE = "kwok-node-0"


def _start_nodes(
    cp: ControlPlane,
    bins: Path,
    kubeconfig: Path,
    run_dir: Path,
    token: str,
    context: ssl.SSLContext,
) -> None:
    """kube-scheduler plus kwok simulating one node, so Deployments become Available.
    kwok fakes the kubelet: Pods are scheduled and reported Running/Ready, nothing runs."""
    log("starting kube-scheduler and kwok (one simulated node)")
    cp.pids["kube-scheduler"] = _spawn(
        "kube-scheduler",
        [
            str(bins / "kube-scheduler"),
            "--kubeconfig",
            str(kubeconfig),
            "--authentication-kubeconfig",
            str(kubeconfig),
            "--authorization-kubeconfig",
            str(kubeconfig),
            "--leader-elect=false",
            "--bind-address",
            "127.0.0.1",
            "--secure-port",
            "0",
            "--v=1",
        ],
        run_dir,
    )
    cp.pids["kwok"] = _spawn(
        "kwok",
        [
            str(bins / "kwok"),
            "--kubeconfig",
            str(kubeconfig),
            "--config",
            str(bins / KWOK_STAGES),
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--cidr=10.0.0.1/24",
            "--node-ip=10.0.0.1",
            "--server-address",
            "127.0.0.1:0",
        ],
        run_dir,
    )
    cp.save()
    node = {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": FAKE_NODE,
            "annotations": {"kwok.x-k8s.io/node": "fake"},
            "labels": {"kubernetes.io/hostname": FAKE_NODE, "type": "kwok"},
        },
    }
    request = urllib.request.Request(
        f"{cp.server}/api/v1/nodes",
        data=json.dumps(node).encode(),
        method="POST",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10, context=context):
        pass


def _wait_etcd(port: int, pid: int, run_dir: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _pid_alive(pid):
            tail = (run_dir / "etcd.log").read_text(errors="replace")[-3000:]
            raise ControlPlaneError(f"etcd exited during start-up; last log lines:\n{tail}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as resp:
                if json.loads(resp.read()).get("health") == "true":
                    return
        except (urllib.error.URLError, ConnectionError, OSError, ValueError):
            pass
        time.sleep(0.1)
    raise ControlPlaneError(f"etcd not healthy after {timeout:.0f}s")


def down(run_dir: Path) -> list[str]:
    """Stop exactly the processes recorded for this run directory; return their names."""
    state = run_dir / "state.json"
    if not state.exists():
        raise ControlPlaneError(f"no control plane recorded in {run_dir}")
    cp = ControlPlane.load(run_dir)
    names = list(cp.pids)
    cp.stop()
    cp.save()
    return names


def _latest_run() -> Path:
    runs = sorted(
        (CACHE / "controlplane" / "runs").glob("cp-*/state.json"), key=lambda p: p.stat().st_mtime
    )
    live = [p.parent for p in runs if any(ControlPlane.load(p.parent).alive().values())]
    if not live:
        raise ControlPlaneError("no running control plane found; start one with `up`")
    return live[-1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="controlplane", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    b = sub.add_parser("build", help="build (or reuse) the binaries and print their folder")
    b.add_argument("--all", action="store_true", help="also kube-scheduler and kwok")
    u = sub.add_parser("up", help="start etcd + kube-apiserver + kube-controller-manager")
    u.add_argument("--run-dir", type=Path)
    u.add_argument("--no-controller-manager", action="store_true")
    u.add_argument(
        "--with-nodes",
        action="store_true",
        help="also kube-scheduler + kwok with one simulated node",
    )
    d = sub.add_parser("down", help="stop what `up` started")
    d.add_argument(
        "run_dir",
        nargs="?",
        type=Path,
        help="run directory printed by `up` (default: the newest running one)",
    )
    args = parser.parse_args(argv)
    try:
        if args.cmd == "build":
            print(build(tuple(BINARIES) if args.all else CORE))
        elif args.cmd == "up":
            cp = up(
                args.run_dir,
                with_controller_manager=not args.no_controller_manager,
                with_nodes=args.with_nodes,
            )
            print(cp.kubeconfig)
        else:
            run_dir = args.run_dir or _latest_run()
            stopped = down(run_dir)
            log(f"stopped {', '.join(stopped) or 'nothing'} ({run_dir})")
    except ControlPlaneError as exc:
        print(f"controlplane: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
