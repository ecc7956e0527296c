"""The container image, built with ``podman build --isolation chroot`` (no registry, no
container runtime needed) from a local Debian root made with ``debootstrap``.

The built root file system is then used with ``chroot``, as the image's user: ``--help``,
``doctor --help``, and ``run --source http`` answering the image's own HEALTHCHECK command.
Needs root, podman and debootstrap (``make container-tools``); skipped otherwise. The base
image is kept in podman's storage under ``BASE_IMAGE`` and reused by the next run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.container, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[3]
BASE_IMAGE = "localhost/genesys-media-bridge-test-base:bookworm"
IMAGE = "localhost/genesys-media-bridge:container-test"
#: Debian's mirror for debootstrap (the machine's own apt mirror by default)
MIRROR = os.environ.get("MEDIA_BRIDGE_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")
USER = "10001:10001"


def _missing_tools() -> str | None:
    if os.geteuid() != 0:
        return "the container build test needs root (podman build, chroot)"
    for tool in ("podman", "debootstrap", "chroot"):
        if shutil.which(tool) is None:
            return (
                f"{tool} is not installed: `make container-tools` installs podman and debootstrap"
            )
    return None


def _podman(*args: str, timeout: float = 900, **kwargs: Any) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        ["podman", *args], capture_output=True, text=True, timeout=timeout, **kwargs
    )
    assert done.returncode == 0, f"podman {' '.join(args)}:\n{done.stderr[-3000:]}"
    return done


def _host_trust_mounts() -> list[str]:
    """The host's CA certificates and pip configuration, for the build's RUN steps only
    (nothing lands in the image): the build then reaches PyPI as the host does."""
    mounts = []
    if Path("/etc/ssl/certs").is_dir():
        mounts += ["-v", "/etc/ssl/certs:/etc/ssl/certs:ro"]
    if Path("/etc/pip.conf").is_file():
        mounts += ["-v", "/etc/pip.conf:/etc/pip.conf:ro"]
    return mounts


def _ensure_base(work: Path) -> float:
    """``BASE_IMAGE``: a minimal Debian bookworm root with python3 and venv; seconds spent."""
    if subprocess.run(["podman", "image", "exists", BASE_IMAGE], check=False).returncode == 0:
        return 0.0
    start = time.monotonic()
    root = work / "debian-root"
    done = subprocess.run(
        [
            "debootstrap",
            "--variant=minbase",
            "--include=python3,python3-venv,ca-certificates",
            "bookworm",
            str(root),
            MIRROR,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    tar = subprocess.Popen(["tar", "-C", str(root), "-c", "."], stdout=subprocess.PIPE)
    imported = subprocess.run(
        ["podman", "import", "--quiet", "-", BASE_IMAGE],
        stdin=tar.stdout,
        capture_output=True,
        timeout=600,
    )
    assert tar.wait(timeout=60) == 0
    assert imported.returncode == 0, imported.stderr[-2000:]
    shutil.rmtree(root, ignore_errors=True)
    return time.monotonic() - start


def _prune_stages(keep: str) -> None:
    """Untagged stage images of earlier builds of this Dockerfile (600 MB each); those of
    this build (the ids its output names) stay, as the next build's cache."""
    used = re.findall(r"^--> (?:Using cache )?([0-9a-f]{11,64})", keep, re.M)
    listed = _podman(
        "images",
        "--no-trunc",
        "--filter",
        "dangling=true",
        "--filter",
        "label=genesys-media-bridge.stage",
        "--format",
        "{{.ID}}",
    )
    for image in listed.stdout.split():
        image = image.removeprefix("sha256:")
        if not any(image.startswith(prefix) for prefix in used):
            subprocess.run(["podman", "rmi", image], capture_output=True, check=False)


@pytest.fixture(scope="module")
def built_image(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reason = _missing_tools()
    if reason:
        pytest.skip(reason)
    work = tmp_path_factory.mktemp("container")
    base_s = _ensure_base(work)
    start = time.monotonic()
    built = _podman(
        "build",
        "--isolation",
        "chroot",
        "--format",
        "docker",  # keeps HEALTHCHECK (the OCI format has none)
        *_host_trust_mounts(),
        "--build-arg",
        f"BASE_IMAGE={BASE_IMAGE}",
        "-t",
        IMAGE,
        "-f",
        str(ROOT / "Dockerfile"),
        str(ROOT),
    )
    build_s = time.monotonic() - start
    _prune_stages(keep=built.stdout + built.stderr)
    print(f"\ncontainer image: base {base_s:.0f} s (0 = reused), build {build_s:.0f} s")
    inspected = json.loads(_podman("image", "inspect", IMAGE).stdout)[0]
    try:
        yield inspected
    finally:
        subprocess.run(["podman", "rmi", "--force", IMAGE], capture_output=True, check=False)


@pytest.fixture
def root_fs(built_image: dict[str, Any]) -> Iterator[Path]:
    """A writable root file system of the image (a created, never started, container)."""
    name = f"media-bridge-test-{os.getpid()}-{time.monotonic_ns()}"
    _podman("create", "--name", name, IMAGE)
    try:
        yield Path(_podman("mount", name).stdout.strip())
    finally:
        subprocess.run(["podman", "rm", "--force", name], capture_output=True, check=False)


def _healthcheck(image: dict[str, Any]) -> list[str]:
    """The HEALTHCHECK command (podman shows it beside ``Config``, docker inside it)."""
    check = image.get("Healthcheck") or image["Config"].get("Healthcheck")
    assert check, "the image has no HEALTHCHECK"
    test: list[str] = check["Test"]
    return test


def _image_env(image: dict[str, Any]) -> dict[str, str]:
    return dict(item.split("=", 1) for item in image["Config"]["Env"])


def _chroot(
    root: Path, image: dict[str, Any], *argv: str, env: dict[str, str] | None = None, **kw: Any
) -> subprocess.Popen[str]:
    """``argv`` in the image's root, as its user, with its environment (and ``env``)."""
    environment = {**_image_env(image), "HOME": "/data", **(env or {})}
    return subprocess.Popen(
        [
            "chroot",
            f"--userspec={image['Config']['User']}",
            str(root),
            "/usr/bin/env",
            "-i",
            "--chdir",
            image["Config"]["WorkingDir"],
            *(f"{k}={v}" for k, v in environment.items()),
            *argv,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        **kw,
    )


def _finished(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err


def test_the_image_is_configured_for_a_deployment(built_image: dict[str, Any]) -> None:
    config = built_image["Config"]
    assert config["User"] == USER  # not root
    env = _image_env(built_image)
    assert env["MEDIA_BRIDGE_INTAKE__HOST"] == "0.0.0.0"
    assert env["MEDIA_BRIDGE_OPERATIONS__HOST"] == "0.0.0.0"
    assert env["MEDIA_BRIDGE_OPERATIONS__PORT"] == "9108"
    assert set(config["ExposedPorts"]) == {"8080/tcp", "9108/tcp"}
    assert "http://127.0.0.1:9108/healthz" in " ".join(_healthcheck(built_image))
    assert config["Entrypoint"] == ["media-bridge"]


def test_help_and_doctor_help_run_in_the_root_file_system(
    built_image: dict[str, Any], root_fs: Path
) -> None:
    for argv in (("media-bridge", "--help"), ("media-bridge", "doctor", "--help")):
        code, out, err = _finished(_chroot(root_fs, built_image, *argv))
        assert code == 0, err
        assert out.startswith("usage: media-bridge")


def test_only_runtime_packages_are_installed(root_fs: Path) -> None:
    site = next((root_fs / "opt" / "media-bridge" / "lib").glob("python3*/site-packages"))
    names = {p.name.split("-")[0].lower() for p in site.iterdir()}
    assert {"media_bridge", "aioboto3", "confluent_kafka", "asyncpg"} <= names
    assert not names & {"pytest", "mypy", "ruff", "genesys_emulator", "moto", "rich", "pip"}
    size = sum(f.stat().st_size for f in site.rglob("*") if f.is_file())
    print(f"\nimage site-packages: {size / 1e6:.0f} MB")


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_the_healthcheck_passes_against_a_running_bridge(
    built_image: dict[str, Any], root_fs: Path
) -> None:
    if not _free(9108):
        pytest.skip("port 9108 (the HEALTHCHECK's) is taken on this machine")
    secrets = root_fs / "run" / "secrets"
    secrets.mkdir(parents=True, exist_ok=True)
    (secrets / "genesys_client_secret").write_text("secret\n")
    (secrets / "intake_api_key").write_text("key\n")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        intake_port = sock.getsockname()[1]
    bridge = _chroot(
        root_fs,
        built_image,
        "media-bridge",
        "run",
        "--source",
        "http",
        env={
            # loopback here: the chroot shares the machine's network
            "MEDIA_BRIDGE_INTAKE__HOST": "127.0.0.1",
            "MEDIA_BRIDGE_INTAKE__PORT": str(intake_port),
            "MEDIA_BRIDGE_OPERATIONS__HOST": "127.0.0.1",
            "MEDIA_BRIDGE_GENESYS__CLIENT_ID": "id",
            "MEDIA_BRIDGE_GENESYS__CLIENT_SECRET_FILE": "/run/secrets/genesys_client_secret",
            "MEDIA_BRIDGE_INTAKE__API_KEY_FILE": "/run/secrets/intake_api_key",
            # nothing leaves the machine: no event comes, so Genesys is never called
            "MEDIA_BRIDGE_GENESYS__API_URL": "http://127.0.0.1:9",
        },
    )
    try:
        check = _healthcheck(built_image)
        assert check[0] == "CMD"
        deadline = time.monotonic() + 60
        while True:
            assert bridge.poll() is None, bridge.communicate()[1][-2000:]
            code, _, err = _finished(_chroot(root_fs, built_image, *check[1:]))
            if code == 0:
                break
            assert time.monotonic() < deadline, err
            time.sleep(0.5)
    finally:
        bridge.terminate()
        code, _, err = _finished(bridge)
    assert code == 0, err[-2000:]
    assert (root_fs / "data" / "ledger.db").exists()  # the image's ledger, in its volume
