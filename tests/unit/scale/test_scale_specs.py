"""Pure parts of the scale-out components: specs/URLs, object names, claim-check records, keys."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genesys_emulator.event_sinks_aws import put_events_entry
from genesys_emulator.event_sinks_kafka import conversation_key
from media_bridge.errors import BadInput
from media_bridge.intake.sources.kafka import kafka_source_from_spec
from media_bridge.intake.sources.sqs import sqs_source_from_spec
from media_bridge.sinks.kafka import _bootstrap_and_topic, claim_check_record
from media_bridge.sinks.s3 import object_key, s3_sink_from_url
from media_bridge.types import DeliveredFile, Delivery, JobKind


def _delivery(key: str = "attachment:c1:m2:a3", files: int = 1) -> Delivery:
    return Delivery(
        key=key,
        kind=JobKind.ATTACHMENT,
        conversation_id="c1",
        metadata={"channel": "whatsapp"},
        files=[
            DeliveredFile(role, Path(f"/tmp/x.{ext}"), mime, f"{i:064x}", 10 + i)
            for i, (role, ext, mime) in enumerate(
                [("original", "ogg", "audio/ogg"), ("normalized", "wav", "audio/wav")][:files]
            )
        ],
    )


def test_object_keys_are_deterministic_and_safe() -> None:
    delivery = _delivery()
    assert object_key("in/", delivery, delivery.files[0]) == "in/c1/m2_a3.original.ogg"
    odd = Delivery("recording:c1:r 1", JobKind.RECORDING, "c1", {}, [])
    file = DeliveredFile("customer", Path("/tmp/noext"), "audio/wav", "0" * 64, 1)
    assert object_key("", odd, file).startswith("c1/recording_r_1__")  # cleaned, so hashed
    # the worker's temporary file names never leak into object keys
    part = DeliveredFile("original", Path("/w/.media-k2j.part"), "audio/ogg", "0" * 64, 1)
    assert object_key("", delivery, part) == "c1/m2_a3.original.ogg"
    with pytest.raises(BadInput):
        object_key("", Delivery("attachment:c/1:m:a", JobKind.ATTACHMENT, "c/1", {}, []), file)


def test_s3_sink_url() -> None:
    sink = s3_sink_from_url("s3://bucket/a/b?endpoint_url=http://127.0.0.1:9&sidecar=0")
    assert (sink.bucket, sink.prefix) == ("bucket", "a/b/")
    assert sink._endpoint_url == "http://127.0.0.1:9"
    assert sink._sidecar is False
    with pytest.raises(ValueError, match="unknown option"):
        s3_sink_from_url("s3://bucket?colour=red")
    with pytest.raises(ValueError, match="s3://BUCKET"):
        s3_sink_from_url("https://bucket")


def test_sqs_spec() -> None:
    source = sqs_source_from_spec(
        "http://127.0.0.1:5/123/q?endpoint_url=http://127.0.0.1:5&wait_seconds=1&max_in_flight=7"
    )
    assert source._queue_url == "http://127.0.0.1:5/123/q"
    assert (source._wait_seconds, source._max_in_flight) == (1, 7)
    assert sqs_source_from_spec("genesys-events")._queue_url is None  # a name: resolved later
    with pytest.raises(ValueError, match="unknown option"):
        sqs_source_from_spec("q?visibility=3")


def test_kafka_spec() -> None:
    source = kafka_source_from_spec(
        "a,b?bootstrap=h1:9092,h2:9092&group=g&max_poll_interval_ms=6000&max_in_flight=5"
    )
    assert source._topics == ["a", "b"]
    assert source._config["group.id"] == "g"
    assert source._config["bootstrap.servers"] == "h1:9092,h2:9092"
    assert source._config["max.poll.interval.ms"] == "6000"
    assert source._config["enable.auto.commit"] is False
    assert source._max_in_flight == 5
    with pytest.raises(ValueError, match="bootstrap"):
        kafka_source_from_spec("topic")


def test_kafka_sink_url() -> None:
    assert _bootstrap_and_topic("kafka://h1:1,h2:2/media?store=dir") == (
        "h1:1,h2:2",
        "media",
        {"store": "dir"},
    )
    with pytest.raises(ValueError, match="TOPIC"):
        _bootstrap_and_topic("kafka://h1:1")


def test_claim_check_points_at_s3_objects_or_dir_files() -> None:
    delivery = _delivery(files=2)
    s3 = claim_check_record(
        delivery,
        {
            "files": [
                {"role": "original", "uri": "s3://b/c1/m2-a3.original.ogg"},
                {"uri": "s3://n"},
            ],
            "location": "s3://b/c1/m2-a3.original.ogg",
            "sidecar": "s3://b/c1/m2-a3.json",
        },
    )
    assert [f["uri"] for f in s3["files"]] == ["s3://b/c1/m2-a3.original.ogg", "s3://n"]
    assert s3["files"][0]["sha256"] == delivery.files[0].sha256
    assert (s3["key"], s3["conversationId"], s3["kind"]) == (delivery.key, "c1", "attachment")
    local = claim_check_record(delivery, {"folder": "/out/c1", "files": ["a.ogg", "a.wav"]})
    assert [f["uri"] for f in local["files"]] == ["/out/c1/a.ogg", "/out/c1/a.wav"]
    assert local["location"] == "/out/c1"
    assert "bytes" not in json.dumps(local)


def test_emulated_events_are_keyed_by_conversation() -> None:
    detail = {
        "detail": {
            "topicName": "v2.detail.events.conversation.c9.customer.end",
            "eventBody": {"conversationId": "c9"},
        }
    }
    message = {
        "detail": {
            "topicName": "v2.routing.queues.q1.conversations.messages",
            "eventBody": {"id": "c7", "participants": []},
        }
    }
    transcription = {"detail": {"topicName": "v2.conversations.c5.transcription", "eventBody": {}}}
    assert [conversation_key(e) for e in (detail, message, transcription)] == ["c9", "c7", "c5"]


def test_put_events_entry_keeps_source_type_and_detail() -> None:
    event = {
        "source": "aws.partner/genesys.com/cloud/org/bus",
        "detail-type": "v2.detail.events.conversation.{id}.customer.end",
        "time": "2026-11-24T09:12:33Z",
        "detail": {"topicName": "t", "eventBody": {"a": 1}},
    }
    entry = put_events_entry(event, "bus")
    assert entry["Source"] == event["source"]
    assert entry["DetailType"] == event["detail-type"]
    assert json.loads(entry["Detail"]) == event["detail"]
    assert entry["EventBusName"] == "bus"
    assert entry["Time"].year == 2026
