"""The S3 sink against moto in server mode: deterministic keys, metadata, sidecar, idempotence."""

from __future__ import annotations

import hashlib
import json
import secrets
from pathlib import Path

import aioboto3  # type: ignore[import-untyped]
import pytest
from scripts.infra import MotoServer

from media_bridge.errors import DeliveryRejected
from media_bridge.sinks.s3 import S3MediaSink, s3_sink_from_url
from media_bridge.types import DeliveredFile, Delivery, JobKind

pytestmark = pytest.mark.integration


def _file(tmp_path: Path, name: str, data: bytes, role: str, mime: str) -> DeliveredFile:
    path = tmp_path / name
    path.write_bytes(data)
    return DeliveredFile(role, path, mime, hashlib.sha256(data).hexdigest(), len(data))


@pytest.fixture
async def bucket(moto_server: MotoServer) -> str:
    name = f"media-{secrets.token_hex(4)}"
    async with aioboto3.Session().client("s3", endpoint_url=moto_server.endpoint_url) as s3:
        await s3.create_bucket(Bucket=name)
    return name


async def test_delivers_files_and_sidecar_under_deterministic_keys(
    tmp_path: Path, moto_server: MotoServer, bucket: str
) -> None:
    original = _file(
        tmp_path, "voice.ogg", b"OggS" + secrets.token_bytes(300_000), "original", "audio/ogg"
    )
    normalized = _file(
        tmp_path, "norm", b"RIFF" + secrets.token_bytes(1000), "normalized", "audio/wav"
    )
    delivery = Delivery(
        key="attachment:conv-1:msg-2:media-3",
        kind=JobKind.ATTACHMENT,
        conversation_id="conv-1",
        metadata={
            "channel": "whatsapp",
            "participantPurpose": "customer",
            "name": "nöte",
            "speaker": {"key": "tel:+447700900123"},
        },
        files=[original, normalized],
    )
    sink = S3MediaSink(bucket, prefix="in", endpoint_url=moto_server.endpoint_url)
    try:
        first = await sink.deliver(delivery)
        second = await sink.deliver(delivery)  # a re-run after a crash: same objects
    finally:
        await sink.close()
    assert first == second
    assert [f["uri"] for f in first["files"]] == [
        f"s3://{bucket}/in/conv-1/msg-2_media-3.original.ogg",
        f"s3://{bucket}/in/conv-1/msg-2_media-3.normalized.wav",
    ]
    assert first["sidecar"] == f"s3://{bucket}/in/conv-1/msg-2_media-3.json"

    async with aioboto3.Session().client("s3", endpoint_url=moto_server.endpoint_url) as s3:
        listing = await s3.list_objects_v2(Bucket=bucket, Prefix="in/")
        assert len(listing["Contents"]) == 3
        head = await s3.get_object(Bucket=bucket, Key="in/conv-1/msg-2_media-3.original.ogg")
        body = await head["Body"].read()
        assert hashlib.sha256(body).hexdigest() == original.sha256
        assert head["ContentType"] == "audio/ogg"
        assert head["Metadata"]["sha256"] == original.sha256
        assert head["Metadata"]["job-key"] == delivery.key
        assert head["Metadata"]["speaker-key"] == "tel:+447700900123"
        side = await s3.get_object(Bucket=bucket, Key="in/conv-1/msg-2_media-3.json")
        record = json.loads(await side["Body"].read())
    assert record["metadata"]["name"] == "nöte"
    assert [f["sha256"] for f in record["files"]] == [original.sha256, normalized.sha256]


async def test_missing_bucket_is_a_rejection(tmp_path: Path, moto_server: MotoServer) -> None:
    sink = S3MediaSink("no-such-bucket-x", endpoint_url=moto_server.endpoint_url)
    delivery = Delivery(
        key="recording:c:r1",
        kind=JobKind.RECORDING,
        conversation_id="c",
        metadata={},
        files=[_file(tmp_path, "a.wav", b"RIFF", "original", "audio/wav")],
    )
    try:
        with pytest.raises(DeliveryRejected):
            await sink.deliver(delivery)
    finally:
        await sink.close()


async def test_objects_are_encrypted_with_the_kms_key(
    tmp_path: Path, moto_server: MotoServer, bucket: str
) -> None:
    async with aioboto3.Session().client(
        "kms", endpoint_url=moto_server.endpoint_url, region_name="us-east-1"
    ) as kms:
        key_id = (await kms.create_key(Description="bridge test"))["KeyMetadata"]["KeyId"]
    sink = s3_sink_from_url(
        f"s3://{bucket}/enc?endpoint_url={moto_server.endpoint_url}&kms_key_id={key_id}&bucket_key=1"
    )
    original = _file(
        tmp_path, "v.ogg", b"OggS" + secrets.token_bytes(1000), "original", "audio/ogg"
    )
    delivery = Delivery(
        key="attachment:conv-9:msg-1:media-1",
        kind=JobKind.ATTACHMENT,
        conversation_id="conv-9",
        metadata={},
        files=[original],
    )
    try:
        await sink.deliver(delivery)
    finally:
        await sink.close()
    async with aioboto3.Session().client("s3", endpoint_url=moto_server.endpoint_url) as s3:
        listing = await s3.list_objects_v2(Bucket=bucket, Prefix="enc/")
        keys = [item["Key"] for item in listing["Contents"]]
        assert len(keys) == 2  # the file and its sidecar
        for key in keys:
            head = await s3.head_object(Bucket=bucket, Key=key)
            assert head["ServerSideEncryption"] == "aws:kms"
            assert key_id in head["SSEKMSKeyId"]
