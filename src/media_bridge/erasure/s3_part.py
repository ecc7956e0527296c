"""Erasure in the S3 sink: the subject's objects, found through their sidecars."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from media_bridge.erasure.subject import Subject
from media_bridge.sinks.s3 import S3MediaSink


async def forget_in_s3(sink: S3MediaSink, subject: Subject, dry_run: bool) -> int:
    """Reads every sidecar (``*.json``) under the sink's prefix; deletes the matching
    deliveries' objects, then their sidecars. Returns the number of objects removed."""
    s3: Any = await sink._s3()
    removed = 0
    paginator = s3.get_paginator("list_objects_v2")
    async for page in paginator.paginate(Bucket=sink.bucket, Prefix=sink.prefix):
        for item in page.get("Contents") or []:
            key = str(item["Key"])
            if not key.endswith(".json") or key.startswith(f"{sink.prefix}_erasures/"):
                continue
            body = await (await s3.get_object(Bucket=sink.bucket, Key=key))["Body"].read()
            try:
                record = json.loads(body)
            except ValueError:
                continue
            if not isinstance(record, dict) or not subject.metadata_matches(record.get("metadata")):
                continue
            targets = [_object_key(f.get("uri"), sink.bucket) for f in record.get("files") or []]
            for target in [*(t for t in targets if t), key]:
                removed += 1
                if not dry_run:
                    await s3.delete_object(Bucket=sink.bucket, Key=target)
    return removed


def _object_key(uri: Any, bucket: str) -> str | None:
    if not isinstance(uri, str):
        return None
    parts = urlsplit(uri)
    if parts.scheme != "s3" or parts.netloc != bucket:
        return None  # never delete outside the sink's own bucket
    return parts.path.lstrip("/") or None


async def write_s3_erasure_record(
    sink: S3MediaSink, key: str, record: dict[str, Any], dry_run: bool
) -> bool:
    s3: Any = await sink._s3()
    target = f"{sink.prefix}_erasures/{key.replace(':', '_')}.json"
    listing = await s3.list_objects_v2(Bucket=sink.bucket, Prefix=target, MaxKeys=1)
    if listing.get("KeyCount", 0) or dry_run:  # written by an earlier run: once is enough
        return False
    body = json.dumps(record, sort_keys=True).encode()
    await s3.put_object(Bucket=sink.bucket, Key=target, Body=body, ContentType="application/json")
    return True
