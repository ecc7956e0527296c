"""The deployment examples under deploy/ are linted: each parses, names what the docs say,
and its settings load (unknown names and bad values are refused by ``load_settings``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from genesys_emulator.cli import build_parser as emulator_parser
from media_bridge.cli import build_parser as bridge_parser
from media_bridge.config import IntakeSettings, OperationsSettings, Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _load_env(env: dict[str, str], files: dict[str, Path]) -> Settings:
    """``load_settings`` of ``env``, each ``*_FILE`` path read from ``files`` instead."""
    environ = {k: str(files.get(v, v)) if k.endswith("_FILE") else v for k, v in env.items()}
    for name, value in environ.items():
        if name.endswith("_FILE"):
            assert Path(value).is_file(), f"{name}={env[name]}: no such secret in the example"
    return load_settings(environ=environ)


def test_docker_and_podman_ignore_the_same_files() -> None:
    # podman reads .containerignore, docker .dockerignore: one build context for both
    ignored = (ROOT / ".containerignore").read_text()
    assert ignored == (ROOT / ".dockerignore").read_text()
    assert "!src/media_bridge" in ignored.splitlines()


# --- compose -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def test_compose_names_its_services(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "bridge", "emulator", "tls-proxy"}
    assert services["tls-proxy"]["profiles"] == ["tls"]  # optional
    assert services["emulator"]["depends_on"]["bridge"]["condition"] == "service_healthy"
    assert services["bridge"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    stages = re.findall(r"^FROM \S+ AS (\S+)$", (ROOT / "Dockerfile").read_text(), re.M)
    for name in ("bridge", "emulator"):
        assert services[name]["build"]["target"] in stages
        assert (DEPLOY / services[name]["build"]["context"] / "Dockerfile").is_file()


def test_compose_runs_the_commands_of_the_quick_start(compose: dict[str, Any]) -> None:
    services = compose["services"]
    bridge = bridge_parser().parse_args(services["bridge"]["command"])
    assert (bridge.command, bridge.source) == ("run", ["http"])
    emulator = emulator_parser().parse_args(services["emulator"]["command"])
    assert emulator.host == "0.0.0.0"
    # the emulator's events go to the bridge's intake, with the key the bridge expects
    (sink,) = emulator.event_sink
    assert sink.startswith("http://bridge:8080/events?")
    key = (DEPLOY / compose["secrets"]["intake_api_key"]["file"]).read_text().strip()
    assert f"apiKey={key}" in sink
    # every Genesys host the bridge calls is one of the emulator's names
    aliases = set(services["emulator"]["networks"]["default"]["aliases"])
    env = services["bridge"]["environment"]
    for name in ("LOGIN_URL", "API_URL", "DOWNLOADS_URL"):
        url = env[f"MEDIA_BRIDGE_GENESYS__{name}"]
        assert url.split("//", 1)[1].split(":")[0] in aliases
        assert url.endswith(f":{emulator.single_port}")


def test_compose_bridge_settings_load_with_its_secrets(compose: dict[str, Any]) -> None:
    bridge = compose["services"]["bridge"]
    files = {
        f"/run/secrets/{name}": DEPLOY / compose["secrets"][name]["file"]
        for name in bridge["secrets"]
    }
    settings = _load_env(bridge["environment"], files)
    assert settings.ledger.url.startswith("postgresql://bridge:")
    assert settings.genesys.client_secret.get_secret_value() == "emulator-secret"
    assert settings.intake.api_key == "trial-intake-key"
    published = {p.rsplit(":", 1)[1] for p in bridge["ports"]}
    assert published == {str(IntakeSettings().port), str(OperationsSettings().port)}
    assert all(p.startswith("127.0.0.1:") for p in bridge["ports"])  # not public


def test_the_tls_proxy_keeps_the_intake_limits(compose: dict[str, Any]) -> None:
    mounts = compose["services"]["tls-proxy"]["volumes"]
    caddyfile = next(DEPLOY / m.split(":")[0] for m in mounts if "Caddyfile" in m)
    text = caddyfile.read_text()
    intake = IntakeSettings()
    assert f"read_header {intake.header_timeout_s:g}s" in text
    assert f"read_body {intake.body_timeout_s:g}s" in text
    assert intake.max_body_bytes == 1024 * 1024
    assert "max_size 1MiB" in text
    assert "reverse_proxy bridge:8080" in text
    assert "9108" not in text  # the operations port is never proxied


# --- Kubernetes --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def k8s() -> dict[str, dict[str, Any]]:
    """kind -> the one object of that kind in deploy/k8s (every file kustomization lists)."""
    kustomization = yaml.safe_load((DEPLOY / "k8s" / "kustomization.yaml").read_text())
    listed = set(kustomization["resources"])
    assert listed == {p.name for p in (DEPLOY / "k8s").glob("*.yaml")} - {"kustomization.yaml"}
    objects: dict[str, dict[str, Any]] = {}
    for name in sorted(listed):
        for document in yaml.safe_load_all((DEPLOY / "k8s" / name).read_text()):
            assert document["kind"] not in objects
            objects[document["kind"]] = document
    return objects


def _container(k8s: dict[str, dict[str, Any]]) -> dict[str, Any]:
    (container,) = k8s["Deployment"]["spec"]["template"]["spec"]["containers"]
    found: dict[str, Any] = container
    return found


def test_k8s_probes_are_on_the_operations_port(k8s: dict[str, dict[str, Any]]) -> None:
    container = _container(k8s)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert ports == {"intake": IntakeSettings().port, "operations": OperationsSettings().port}
    liveness = container["livenessProbe"]["httpGet"]
    readiness = container["readinessProbe"]["httpGet"]
    assert (liveness["path"], liveness["port"]) == ("/healthz", "operations")
    assert (readiness["path"], readiness["port"]) == ("/readyz", "operations")
    pod = k8s["Deployment"]["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


def test_k8s_secret_reaches_the_bridge_as_files(
    k8s: dict[str, dict[str, Any]], tmp_path: Path
) -> None:
    secret = k8s["Secret"]
    container = _container(k8s)
    volumes = k8s["Deployment"]["spec"]["template"]["spec"]["volumes"]
    (volume,) = [v for v in volumes if "secret" in v]
    assert volume["secret"]["secretName"] == secret["metadata"]["name"]
    (mount,) = [m for m in container["volumeMounts"] if m["name"] == volume["name"]]
    files = {}
    for key, value in secret["stringData"].items():
        (tmp_path / key).write_text(value)
        files[f"{mount['mountPath']}/{key}"] = tmp_path / key
    env = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    assert "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET_FILE" in env  # never the secret itself
    assert not any(name.endswith(("SECRET", "API_KEY", "PASSWORD")) for name in env), (
        "a secret as a plain env value"
    )
    settings = _load_env(env, files)
    assert settings.genesys.client_secret.get_secret_value().startswith("REPLACE")
    assert settings.ledger.url.startswith("postgresql://")
    assert settings.intake.host == settings.operations.host == "0.0.0.0"
    args = bridge_parser().parse_args(
        [a.replace("$(POD_NAME)", "pod-0") for a in container["args"]]
    )
    assert (args.command, args.source, args.worker_id) == ("run", ["http"], "pod-0")


def test_k8s_service_and_ingress_put_tls_in_front_of_the_intake(
    k8s: dict[str, dict[str, Any]],
) -> None:
    service, ingress = k8s["Service"], k8s["Ingress"]
    labels = k8s["Deployment"]["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    (port,) = service["spec"]["ports"]
    assert port["targetPort"] == "intake"  # the operations port is not in the Service
    (rule,) = ingress["spec"]["rules"]
    (path,) = rule["http"]["paths"]
    assert (path["path"], path["pathType"]) == ("/events", "Exact")
    backend = path["backend"]["service"]
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] == port["name"]
    (tls,) = ingress["spec"]["tls"]
    assert rule["host"] in tls["hosts"]
    assert tls["secretName"]
    annotations = ingress["metadata"]["annotations"]
    intake = IntakeSettings()
    assert annotations["nginx.ingress.kubernetes.io/proxy-body-size"] == "1m"
    assert int(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]) <= (
        intake.body_timeout_s
    )


# --- systemd -----------------------------------------------------------------------------

UNIT = DEPLOY / "systemd" / "media-bridge.service"


def _unit_environment() -> dict[str, str]:
    env = {}
    for line in UNIT.read_text().splitlines():
        if line.startswith("Environment="):
            name, _, value = line.removeprefix("Environment=").partition("=")
            env[name] = value
    return env


def test_systemd_unit_settings_load(tmp_path: Path) -> None:
    text = UNIT.read_text()
    credentials = dict(re.findall(r"^LoadCredential=([^:]+):(\S+)$", text, re.M))
    files = {}
    for name in credentials:
        (tmp_path / name).write_text("placeholder\n")
        files[f"%d/{name}"] = tmp_path / name
    settings = _load_env(_unit_environment(), files)
    assert settings.genesys.client_secret.get_secret_value() == "placeholder"
    assert str(settings.sinks.dir_path).startswith("/var/lib/media-bridge/")
    (exec_start,) = re.findall(r"^ExecStart=(\S+) (.*)$", text, re.M)
    args = bridge_parser().parse_args(exec_start[1].split())
    assert (args.command, args.source) == ("run", ["http"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_verify_passes(tmp_path: Path) -> None:
    # the unit names /opt/media-bridge; verify checks that ExecStart exists: the command
    # installed in this venv stands in for it
    installed = Path(sys.prefix) / "bin" / "media-bridge"
    assert installed.exists()
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text().replace("/opt/media-bridge/bin/media-bridge", str(installed)))
    done = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(unit)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    # a warning (an unknown key, a bad value) is printed and ignored by systemd: none allowed
    assert (done.returncode, done.stdout + done.stderr) == (0, "")
