"""Erasure in the S3 sink against moto in server mode: the person's objects and sidecars go,
everyone else's stay, the erasure record is written once, a second run changes nothing."""

from __future__ import annotations

import hashlib
import secrets
from pathlib import Path

import aioboto3  # type: ignore[import-untyped]
import pytest
from scripts.infra import MotoServer

from media_bridge.config import Settings
from media_bridge.erasure import Subject, forget
from media_bridge.identity import SpeakerDescriber
from media_bridge.sinks.s3 import S3MediaSink
from media_bridge.types import DeliveredFile, Delivery, JobKind

pytestmark = pytest.mark.integration


def delivery(tmp_path: Path, conversation: str, key: str) -> Delivery:
    data = secrets.token_bytes(2000)
    path = tmp_path / f"{conversation}.ogg"
    path.write_bytes(data)
    file = DeliveredFile("original", path, "audio/ogg", hashlib.sha256(data).hexdigest(), len(data))
    return Delivery(
        key=f"attachment:{conversation}:m1:a1",
        kind=JobKind.ATTACHMENT,
        conversation_id=conversation,
        metadata={"conversation_id": conversation, "speaker": {"key": key, "aliases": [key]}},
        files=[file],
    )


async def keys_in(moto: MotoServer, bucket: str) -> list[str]:
    async with aioboto3.Session().client("s3", endpoint_url=moto.endpoint_url) as s3:
        listing = await s3.list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents") or [])


async def test_forget_removes_one_persons_objects_once(
    tmp_path: Path, moto_server: MotoServer
) -> None:
    bucket = f"media-{secrets.token_hex(4)}"
    async with aioboto3.Session().client("s3", endpoint_url=moto_server.endpoint_url) as s3:
        await s3.create_bucket(Bucket=bucket)
    sink = S3MediaSink(bucket, prefix="in/", endpoint_url=moto_server.endpoint_url)
    try:
        await sink.deliver(delivery(tmp_path, "c-1", "tel:+447700900123"))
        await sink.deliver(delivery(tmp_path, "c-2", "tel:+447700900999"))
    finally:
        await sink.close()
    before = await keys_in(moto_server, bucket)
    assert len(before) == 4  # a file and a sidecar each
    settings = Settings(
        ledger={"url": f"sqlite:///{tmp_path}/ledger.db"},
        sinks={
            "media": f"s3://{bucket}/in/?endpoint_url={moto_server.endpoint_url}",
            "text_path": tmp_path / "nlp.jsonl",
        },
    )
    subject = Subject.of(SpeakerDescriber(settings.identity), speaker="tel:+447700900123")

    dry = await forget(settings, subject, dry_run=True)
    assert dry.removed["files"] == 2
    assert await keys_in(moto_server, bucket) == before

    done = await forget(settings, subject)
    assert done.removed["files"] == 2
    assert sorted(done.records_sent) == ["media:s3", "nlp:jsonl"]
    after = await keys_in(moto_server, bucket)
    assert [k for k in after if "_erasures/" not in k] == [k for k in before if "c-2" in k]
    assert len([k for k in after if k.startswith("in/_erasures/")]) == 1

    again = await forget(settings, subject)
    assert again.removed["files"] == 0
    assert again.records_sent == []
    assert await keys_in(moto_server, bucket) == after
