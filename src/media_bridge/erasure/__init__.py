"""``media-bridge forget``: erase one person's or one conversation's data everywhere the
bridge wrote it, and tell downstream engines to do the same (an erasure record)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp

from media_bridge import metrics
from media_bridge.config import Settings, secret_value
from media_bridge.erasure.files_part import (
    conversations_in_files,
    forget_in_dir,
    forget_in_jsonl,
    write_erasure_record,
)
from media_bridge.erasure.ledger_part import conversations_in_ledger, forget_in_ledger
from media_bridge.erasure.subject import Subject
from media_bridge.errors import BridgeError, ErasureRecordNotSent
from media_bridge.extras import require_extra
from media_bridge.identity import SpeakerDescriber
from media_bridge.ledger.sealed import ledger_for
from media_bridge.observability import get_logger
from media_bridge.sinks import sinks_from_settings
from media_bridge.sinks.metadata import SCHEMA_VERSION

__all__ = ["ErasureReport", "Subject", "forget"]

log = get_logger(__name__)


@dataclass(slots=True)
class ErasureReport:
    dry_run: bool
    removed: dict[str, int] = field(default_factory=dict)
    records_sent: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


async def forget(settings: Settings, subject: Subject, *, dry_run: bool = False) -> ErasureReport:
    describer = SpeakerDescriber(settings.identity)
    report = ErasureReport(dry_run)
    sinks = settings.sinks
    ledger = ledger_for(settings.ledger.url, secret_value(settings.ledger.payload_key))
    await ledger.open()
    try:
        if subject.keys:  # a person: their conversations go whole (the agent's side too)
            found = await conversations_in_ledger(ledger, subject, describer)
            found |= conversations_in_files(
                sinks.dir_path if _store_url(sinks.media) == "dir" else None,
                sinks.text_path if sinks.text == "jsonl" else None,
                subject,
            )
            subject = subject.with_conversations(found)
        report.removed.update(await forget_in_ledger(ledger, subject, describer, dry_run))
    finally:
        await ledger.close()
    media = _store_url(sinks.media)
    if media == "dir":
        report.removed["files"] = forget_in_dir(sinks.dir_path, subject, dry_run)
    elif media.startswith("s3://"):
        require_extra("aws", "erasing from an s3:// media sink (sinks.media)")
        from media_bridge.erasure.s3_part import forget_in_s3
        from media_bridge.sinks.s3 import s3_sink_from_url

        s3_sink = s3_sink_from_url(media)
        try:
            report.removed["files"] = await forget_in_s3(s3_sink, subject, dry_run)
        finally:
            await s3_sink.close()
    else:
        report.notes.append(
            "media sink http: the bridge keeps no copy; only the erasure record is sent, "
            "the receiver must delete"
        )
    if sinks.text == "jsonl":
        report.removed["nlp_lines"] = forget_in_jsonl(sinks.text_path, subject, dry_run)
    else:
        report.notes.append(
            f"NLP sink {sinks.text.split('://')[0]}: only the erasure record is sent"
        )
    if not dry_run:
        for what, n in report.removed.items():
            metrics.FORGOTTEN.labels(what=what).inc(n)
        await _send_records(settings, subject, report)
    log.info("erasure", dry_run=dry_run, request=subject.request, **report.removed)
    return report


def _store_url(media: str) -> str:
    """Where the media sink keeps bytes: itself, or a Kafka claim-check sink's store."""
    if not media.startswith("kafka://"):
        return media
    from urllib.parse import parse_qsl, urlsplit

    return dict(parse_qsl(urlsplit(media).query)).get("store", "dir")


def erasure_record(subject: Subject) -> dict[str, Any]:
    return {
        "kind": "erasure",
        "schema_version": SCHEMA_VERSION,
        "key": subject.record_key,
        # as pseudonyms when pseudonymisation is on: never a raw address downstream
        **subject.request,
        "conversations": sorted(subject.conversations),
        "requested_at": datetime.now(UTC).isoformat(),
    }


async def _send_records(settings: Settings, subject: Subject, report: ErasureReport) -> None:
    """To the NLP sink, to the media sink (dir, S3, HTTP, Kafka topic) and, for a Kafka
    claim-check sink, also beside the bytes in its store. Each is sent once per request."""
    record = erasure_record(subject)
    key = subject.record_key
    sinks = settings.sinks
    async with aiohttp.ClientSession() as session:
        built = sinks_from_settings(sinks, session)
        try:
            answer = await built.text.deliver_text(key, record)
            if not answer.get("duplicate"):
                report.records_sent.append(f"nlp:{built.text.name}")
            if _store_url(sinks.media) == "dir":
                if write_erasure_record(sinks.dir_path, key, record, False):
                    report.records_sent.append("media:dir")
            elif _store_url(sinks.media).startswith("s3://"):
                from media_bridge.erasure.s3_part import write_s3_erasure_record
                from media_bridge.sinks.kafka import KafkaClaimCheckSink
                from media_bridge.sinks.s3 import S3MediaSink

                store = built.media
                if isinstance(store, KafkaClaimCheckSink):
                    store = store.store
                assert isinstance(store, S3MediaSink)
                if await write_s3_erasure_record(store, key, record, False):
                    report.records_sent.append("media:s3")
            elif sinks.media == "http":
                from media_bridge.erasure.http_part import post_erasure

                await post_erasure(session, sinks, key, record)
                report.records_sent.append("media:http")
            if sinks.media.startswith("kafka://"):
                from media_bridge.sinks.kafka import KafkaClaimCheckSink

                assert isinstance(built.media, KafkaClaimCheckSink)
                await built.media.send_record(key, record)
                report.records_sent.append("media:kafka")
        except (BridgeError, aiohttp.ClientError, OSError) as error:
            who = " ".join(f"{k}={v}" for k, v in subject.request.items())
            removed = ", ".join(f"{n} {what}" for what, n in report.removed.items()) or "nothing"
            sent = ", ".join(report.records_sent) or "no sink"
            raise ErasureRecordNotSent(
                f"forget {who}: removed {removed}; the erasure record reached {sent} "
                f"but not the next sink ({error}); run the same forget again to send it"
            ) from error
        finally:
            await built.close()
