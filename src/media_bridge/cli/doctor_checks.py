"""`doctor`'s checks of everything but Genesys: ledger, sinks, intake auth.

Each check returns ``(status, detail)`` with status ``ok``, ``FAIL`` or ``warn``. Probes
are harmless: the dir and S3 sinks get a probe object that is removed at once, HTTP sinks
only a TCP (and TLS) connect - never a request a receiver could take for a delivery -,
Kafka a metadata request.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from media_bridge.config import Settings
from media_bridge.extras import extra_installed, missing_extra_line
from media_bridge.redact import redact_text, redact_url

Result = tuple[str, str]
TIMEOUT_S = 10.0


def _why(exc: BaseException) -> str:
    text = redact_text(str(exc)).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _shown(url: str) -> str:
    return redact_url(url) if "@" in url else url


async def check_ledger(settings: Settings) -> Result:
    from media_bridge.ledger import ledger_from_url

    url = settings.ledger.url
    try:
        ledger = ledger_from_url(url)
        await asyncio.wait_for(ledger.open(), timeout=TIMEOUT_S)
    except TimeoutError:
        return "FAIL", f"ledger {_shown(url)}: no answer within {TIMEOUT_S:g} s"
    except Exception as exc:
        return "FAIL", f"ledger {_shown(url)}: {_why(exc)}"
    try:
        counts = await ledger.counts()
    except Exception as exc:
        return "FAIL", f"ledger {_shown(url)}: opened, but a read failed ({_why(exc)})"
    finally:
        await ledger.close()
    jobs = sum(counts.values())
    return "ok", f"ledger {_shown(url)}: connected, migrations applied, {jobs} job(s)"


def check_dir(path: Path, what: str) -> Result:
    probe = path / f".doctor-probe-{uuid.uuid4().hex}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe.write_bytes(b"probe")
        probe.unlink()
    except OSError as exc:
        return "FAIL", f"{what} {path}: cannot write ({exc.strerror or exc})"
    return "ok", f"{what} {path}: writable (probe written and removed)"


async def check_connect(url: str, what: str) -> Result:
    """A TCP connect, and the TLS handshake for https: no HTTP request is sent."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    tls = parts.scheme == "https"
    port = parts.port or (443 if tls else 80)
    context = ssl.create_default_context() if tls else None
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port, ssl=context), timeout=TIMEOUT_S
        )
    except TimeoutError:
        return "FAIL", f"{what} {redact_url(url)}: no answer within {TIMEOUT_S:g} s"
    except (OSError, ssl.SSLError) as exc:
        return "FAIL", f"{what} {redact_url(url)}: {_why(exc)}"
    writer.close()
    with contextlib.suppress(OSError, ssl.SSLError):
        await writer.wait_closed()
    return "ok", f"{what} {redact_url(url)}: {'TLS' if tls else 'TCP'} connect (no request sent)"


async def check_s3(url: str, what: str) -> Result:
    if not extra_installed("aws"):
        return "FAIL", missing_extra_line(f"{what} s3://", "aws")
    import aioboto3  # type: ignore[import-untyped]

    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    bucket, prefix = parts.netloc, parts.path.lstrip("/")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    key = f"{prefix}.doctor-probe-{uuid.uuid4().hex}"
    session: Any = aioboto3.Session()
    try:
        async with session.client(
            "s3", endpoint_url=options.get("endpoint_url"), region_name=options.get("region")
        ) as s3:
            await asyncio.wait_for(
                s3.put_object(Bucket=bucket, Key=key, Body=b"probe"), timeout=TIMEOUT_S
            )
            await asyncio.wait_for(s3.delete_object(Bucket=bucket, Key=key), timeout=TIMEOUT_S)
    except TimeoutError:
        return "FAIL", f"{what} s3://{bucket}/{prefix}: no answer within {TIMEOUT_S:g} s"
    except Exception as exc:
        return "FAIL", f"{what} s3://{bucket}/{prefix}: {_why(exc)}"
    return "ok", f"{what} s3://{bucket}/{prefix}: probe object written and removed"


async def check_kafka(url: str, what: str) -> Result:
    if not extra_installed("kafka"):
        return "FAIL", missing_extra_line(f"{what} kafka://", "kafka")
    from confluent_kafka.admin import AdminClient

    parts = urlsplit(url)
    topic = parts.path.strip("/")
    admin = AdminClient({"bootstrap.servers": parts.netloc})
    loop = asyncio.get_running_loop()
    try:
        metadata = await loop.run_in_executor(
            None, lambda: admin.list_topics(topic=topic, timeout=TIMEOUT_S)
        )
    except Exception as exc:
        return "FAIL", f"{what} kafka://{parts.netloc}/{topic}: {_why(exc)}"
    found = metadata.topics.get(topic)
    if found is None or found.error is not None:
        error = found.error if found is not None else "not found"
        return "FAIL", f"{what} kafka://{parts.netloc}/{topic}: topic {error}"
    return (
        "ok",
        f"{what} kafka://{parts.netloc}/{topic}: metadata ({len(found.partitions)} partitions)",
    )


async def check_media_sink(settings: Settings) -> list[Result]:
    sinks = settings.sinks
    what = "media sink"
    if sinks.media == "dir":
        return [check_dir(sinks.dir_path, what)]
    if sinks.media == "http":
        return [await check_connect(str(sinks.http_url), what)]
    if sinks.media.startswith("s3://"):
        return [await check_s3(sinks.media, what)]
    results = [await check_kafka(sinks.media, what)]
    store = dict(parse_qsl(urlsplit(sinks.media).query)).get("store", "dir")
    if store == "dir":
        results.append(check_dir(sinks.dir_path, "media sink claim-check store"))
    else:
        results.append(await check_s3(store, "media sink claim-check store"))
    return results


async def check_text_sink(settings: Settings) -> Result:
    sinks = settings.sinks
    what = "text sink"
    if sinks.text == "jsonl":
        return check_dir(sinks.text_path.parent, f"{what} folder of {sinks.text_path.name} in")
    if sinks.text == "http":
        return await check_connect(str(sinks.text_http_url), what)
    return await check_kafka(sinks.text, what)


def check_intake(settings: Settings) -> Result:
    intake = settings.intake
    where = f"{intake.host}:{intake.port}"
    if intake.api_key:
        return "ok", f"intake {where}: API key expected in header {intake.api_key_header}"
    if intake.basic_user is not None and intake.basic_password is not None:
        return "ok", f"intake {where}: basic auth (user {intake.basic_user})"
    if intake.allow_anonymous:
        return "warn", f"intake {where}: anonymous posts allowed (local experiments only)"
    return (
        "warn",
        f"intake {where}: no auth set, so `run --source http` refuses to start "
        "(MEDIA_BRIDGE_INTAKE__API_KEY or __BASIC_USER/__BASIC_PASSWORD)",
    )


async def bridge_checks(settings: Settings) -> list[tuple[str, str, str]]:
    """(status, check name, detail) for the ledger, the sinks and the intake."""
    results: list[tuple[str, str, str]] = []
    status, detail = await check_ledger(settings)
    results.append((status, "ledger", detail))
    for status, detail in await check_media_sink(settings):
        results.append((status, "media sink", detail))
    status, detail = await check_text_sink(settings)
    results.append((status, "text sink", detail))
    status, detail = check_intake(settings)
    results.append((status, "intake", detail))
    return results
