"""The S3 media sink: one object per file under a deterministic key, plus a JSON sidecar.

Names come from the job's idempotency key, never from arrival time, so delivering
the same attachment twice overwrites the same objects with the same bytes (the
Kafka Connect S3 idea of exactly-once by deterministic naming):

    {prefix}{conversationId}/{messageId}_{mediaId}.{role}.{ext}
    {prefix}{conversationId}/{messageId}_{mediaId}.json        (sidecar: metadata + files)

Ids that are not plain ``[A-Za-z0-9-]`` get ``__`` and a hash of the key instead
(``sinks.naming``), so two jobs never share an object.

Files are streamed from disk (multipart above the transfer threshold). A few
fields ride along as S3 user metadata (ASCII, small); the whole record is the sidecar.
The sidecar is written last: its presence means every file of the delivery is there.
"""

from __future__ import annotations

import json
from contextlib import AsyncExitStack
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import aioboto3  # type: ignore[import-untyped]

from media_bridge.config import S3_URL_OPTIONS
from media_bridge.errors import ConfigError, DeliveryRejected, SinkUnavailable
from media_bridge.sinks.naming import delivery_stem, file_name, safe_conversation_id
from media_bridge.types import DeliveredFile, Delivery


def object_stem(delivery: Delivery) -> str:
    """``{conversationId}/{stem}``: the dir sink's naming, so both sinks agree per job key."""
    return f"{safe_conversation_id(delivery.conversation_id)}/{delivery_stem(delivery)}"


def object_key(prefix: str, delivery: Delivery, file: DeliveredFile) -> str:
    """The extension comes from the MIME type, never from the worker's temporary file."""
    return f"{prefix}{object_stem(delivery)}.{file_name('', file).lstrip('.')}"


def _speaker_key(delivery: Delivery) -> str:
    speaker = delivery.metadata.get("speaker")
    return str(speaker.get("key") or "") if isinstance(speaker, dict) else ""


def _ascii(value: Any) -> str:
    return str(value).encode("ascii", "replace").decode("ascii")[:256]


class S3MediaSink:
    """``MediaSink`` writing to an S3 bucket (or anything speaking S3: ``endpoint_url``)."""

    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str | None = None,
        session: aioboto3.Session | None = None,
        sidecar: bool = True,
        kms_key_id: str | None = None,
        bucket_key: bool = False,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix if not prefix or prefix.endswith("/") else f"{prefix}/"
        self._endpoint_url = endpoint_url
        self._region = region
        self._session = session or aioboto3.Session()
        self._sidecar = sidecar
        #: SSE-KMS for every object (files and sidecars): voice is special-category data
        self._encryption: dict[str, Any] = {}
        if kms_key_id:
            self._encryption = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": kms_key_id}
            if bucket_key:
                self._encryption["BucketKeyEnabled"] = True
        self._stack: AsyncExitStack | None = None
        self._client: Any = None

    async def _s3(self) -> Any:
        if self._client is None:
            self._stack = AsyncExitStack()
            self._client = await self._stack.enter_async_context(
                self._session.client(
                    "s3", endpoint_url=self._endpoint_url, region_name=self._region
                )
            )
        return self._client

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    async def deliver(self, delivery: Delivery) -> dict[str, Any]:
        s3 = await self._s3()
        stem = f"{self.prefix}{object_stem(delivery)}"
        written: list[dict[str, Any]] = []
        for file in delivery.files:
            key = object_key(self.prefix, delivery, file)
            extra = {
                **self._encryption,
                "ContentType": file.mime,
                "Metadata": {
                    "job-key": _ascii(delivery.key),
                    "conversation-id": _ascii(delivery.conversation_id),
                    "role": _ascii(file.role),
                    "sha256": file.sha256,
                    "kind": str(delivery.kind),
                    # lets a lifecycle rule or an erasure find a person's objects
                    "speaker-key": _ascii(_speaker_key(delivery)),
                },
            }
            await self._call(s3.upload_file(str(file.path), self.bucket, key, ExtraArgs=extra))
            written.append(
                {
                    "role": file.role,
                    "uri": self.uri(key),
                    "mime": file.mime,
                    "sha256": file.sha256,
                    "size": file.size,
                }
            )
        result: dict[str, Any] = {"sink": self.name, "files": written}
        if written:
            result["location"] = written[0]["uri"]
        if self._sidecar:
            sidecar_key = f"{stem}.json"
            record = {
                "key": delivery.key,
                "kind": str(delivery.kind),
                "conversationId": delivery.conversation_id,
                "metadata": delivery.metadata,
                "files": written,
            }
            body = json.dumps(record, sort_keys=True, default=str).encode("utf-8")
            await self._call(
                s3.put_object(
                    Bucket=self.bucket,
                    Key=sidecar_key,
                    Body=body,
                    ContentType="application/json",
                    **self._encryption,
                )
            )
            result["sidecar"] = self.uri(sidecar_key)
            result.setdefault("location", result["sidecar"])
        return result

    async def _call(self, operation: Any) -> Any:
        """Map S3 errors: throttling/5xx/network are transient, the rest a refusal."""
        from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

        try:
            return await operation
        except ClientError as exc:
            error = exc.response.get("Error", {})
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            code = str(error.get("Code", ""))
            message = f"S3 {code or status}: {error.get('Message', '')}".strip()
            if status >= 500 or status in {408, 429} or "Throttl" in code or code == "SlowDown":
                raise SinkUnavailable(message) from exc
            raise DeliveryRejected(message) from exc
        except (BotoCoreError, OSError) as exc:
            raise SinkUnavailable(f"S3 unreachable: {type(exc).__name__}") from exc

    async def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._client = self._stack, None, None
            await stack.aclose()


def s3_sink_from_url(url: str) -> S3MediaSink:
    """``s3://BUCKET/PREFIX?endpoint_url=http://...&region=eu-west-1&sidecar=1``, plus
    ``kms_key_id=<key id or ARN>`` (SSE-KMS for every object) and ``bucket_key=1``.

    Credentials and, absent ``endpoint_url``, the endpoint come from the standard
    AWS chain (env, profile, instance role, ``AWS_ENDPOINT_URL``).
    """
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc:
        raise ConfigError(f"S3 sink URL must be s3://BUCKET[/PREFIX], not {url!r}")
    options = dict(parse_qsl(parts.query))
    unknown = set(options) - S3_URL_OPTIONS
    if unknown:
        raise ConfigError(f"S3 sink URL: unknown option(s) {sorted(unknown)}")
    return S3MediaSink(
        parts.netloc,
        prefix=parts.path.lstrip("/"),
        endpoint_url=options.get("endpoint_url"),
        region=options.get("region"),
        sidecar=options.get("sidecar", "1").lower() not in {"0", "false", "no"},
        kms_key_id=options.get("kms_key_id"),
        bucket_key=options.get("bucket_key", "0").lower() in {"1", "true", "yes"},
    )
