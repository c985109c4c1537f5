"""Detection media in any S3-compatible object store (AWS S3, MinIO, Ceph RGW, Garage...) through aiobotocore.

aiobotocore is botocore (AWS's own request signing, retries and error parsing) on aiohttp, so requests never block
the event loop. Keys are the media keys under an optional ``prefix``; path-style addressing by default, which
every S3-compatible server accepts.

    detection:
      media:
        s3: {endpoint: "http://127.0.0.1:9000", bucket: gatehouse, access_key: KEY, secret_key: SECRET}
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from integrations.detection.media_store import MediaEntry, MediaStoreError, MediaStoreFull, validate_key

__all__ = ["S3MediaStore"]

#: Error codes S3-compatible servers answer when they have no room (MinIO's disk or bucket quota, HTTP 507).
_FULL_CODES = frozenset(
    {"XMinioStorageFull", "XMinioAdminBucketQuotaExceeded", "QuotaExceeded", "InsufficientStorage", "507"}
)
_MISSING_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
_FIELDS = frozenset({"endpoint", "bucket", "access_key", "secret_key", "region", "prefix", "addressing_style"})
_FIELD_PATH = "detection.media.s3"


class S3MediaStore:
    """Media as objects in ``bucket`` (under ``prefix``). The client is created on first use, closed by close()."""

    def __init__(
        self,
        *,
        bucket: str,
        endpoint: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        region: str = "us-east-1",
        prefix: str = "",
        addressing_style: str = "path",
        connect_timeout: float = 5.0,
        read_timeout: float = 30.0,
        max_attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        self.endpoint = endpoint
        self.region = region
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self._access_key = access_key
        self._secret_key = secret_key
        self._config = AioConfig(
            s3={"addressing_style": addressing_style},
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._client: Any = None
        self._stack: contextlib.AsyncExitStack | None = None
        self._lock = asyncio.Lock()

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> S3MediaStore:
        """From the yaml ``s3:`` mapping; ``MediaStoreError`` naming the field when something is wrong."""
        if not isinstance(config, Mapping):
            raise MediaStoreError(f"{_FIELD_PATH}: expected a mapping (endpoint, bucket, access_key, secret_key)")
        unknown = sorted(set(config) - _FIELDS)
        if unknown:
            raise MediaStoreError(f"{_FIELD_PATH}.{unknown[0]}: unknown option (expected {', '.join(sorted(_FIELDS))})")
        bucket = config.get("bucket")
        if not isinstance(bucket, str) or not bucket.strip():
            raise MediaStoreError(f"{_FIELD_PATH}.bucket: required (the bucket's name)")
        endpoint = config.get("endpoint")
        if endpoint is not None:
            parsed = urlparse(str(endpoint))
            if parsed.scheme not in ("http", "https") or not parsed.netloc:
                raise MediaStoreError(f"{_FIELD_PATH}.endpoint: {endpoint!r} is not an http(s) URL")
        access_key, secret_key = config.get("access_key"), config.get("secret_key")
        if (access_key is None) != (secret_key is None):
            raise MediaStoreError(f"{_FIELD_PATH}.secret_key: access_key and secret_key go together")
        style = str(config.get("addressing_style", "path"))
        if style not in ("path", "virtual", "auto"):
            raise MediaStoreError(f"{_FIELD_PATH}.addressing_style: expected path, virtual or auto")
        return cls(
            bucket=bucket.strip(),
            endpoint=str(endpoint).rstrip("/") if endpoint else None,
            access_key=None if access_key is None else str(access_key),
            secret_key=None if secret_key is None else str(secret_key),
            region=str(config.get("region") or "us-east-1"),
            prefix=str(config.get("prefix") or ""),
            addressing_style=style,
        )

    def describe(self) -> str:
        where = self.endpoint or f"aws {self.region}"
        return f"s3 {where}/{self.bucket}" + (f"/{self.prefix.rstrip('/')}" if self.prefix else "")

    def __repr__(self) -> str:
        return f"<S3MediaStore {self.describe()}>"

    # --------------------------------------------------------------------------------------------- client

    async def _get_client(self) -> Any:
        async with self._lock:
            if self._client is None:
                stack = contextlib.AsyncExitStack()
                self._client = await stack.enter_async_context(
                    get_session().create_client(
                        "s3",
                        endpoint_url=self.endpoint,
                        region_name=self.region,
                        aws_access_key_id=self._access_key,
                        aws_secret_access_key=self._secret_key,
                        config=self._config,
                    )
                )
                self._stack = stack
            return self._client

    async def close(self) -> None:
        async with self._lock:
            stack, self._stack, self._client = self._stack, None, None
            if stack is not None:
                await stack.aclose()

    def _error(self, action: str, key: str, err: Exception) -> MediaStoreError:
        if isinstance(err, ClientError):
            error = err.response.get("Error", {})
            code = str(error.get("Code", ""))
            status = str(err.response.get("ResponseMetadata", {}).get("HTTPStatusCode", ""))
            message = error.get("Message") or code
            if code in _FULL_CODES or status == "507":
                return MediaStoreFull(f"{self.describe()}: no room for {key} ({message})")
            return MediaStoreError(f"{self.describe()}: cannot {action} {key}: {code or status} {message}")
        return MediaStoreError(f"{self.describe()}: cannot {action} {key}: {err}")

    # ---------------------------------------------------------------------------------------------- store

    async def put(self, key: str, data: bytes, content_type: str) -> None:
        name = self.prefix + validate_key(key)
        client = await self._get_client()
        try:
            await client.put_object(Bucket=self.bucket, Key=name, Body=bytes(data), ContentType=content_type)
        except (BotoCoreError, ClientError) as err:
            raise self._error("write", key, err) from err

    async def get(self, key: str) -> bytes:
        name = self.prefix + validate_key(key)
        client = await self._get_client()
        try:
            response = await client.get_object(Bucket=self.bucket, Key=name)
            async with response["Body"] as body:
                return bytes(await body.read())
        except ClientError as err:
            if str(err.response.get("Error", {}).get("Code", "")) in _MISSING_CODES:
                raise KeyError(key) from None
            raise self._error("read", key, err) from err
        except BotoCoreError as err:
            raise self._error("read", key, err) from err

    async def delete(self, key: str) -> None:
        name = self.prefix + validate_key(key)
        client = await self._get_client()
        try:
            await client.delete_object(Bucket=self.bucket, Key=name)
        except ClientError as err:
            if str(err.response.get("Error", {}).get("Code", "")) in _MISSING_CODES:
                return
            raise self._error("delete", key, err) from err
        except BotoCoreError as err:
            raise self._error("delete", key, err) from err

    async def entries(self) -> list[MediaEntry]:
        client = await self._get_client()
        found: list[MediaEntry] = []
        try:
            paginator = client.get_paginator("list_objects_v2")
            async for page in paginator.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", ()):
                    name = str(item["Key"])
                    found.append(
                        MediaEntry(name[len(self.prefix) :], int(item["Size"]), item["LastModified"].timestamp())
                    )
        except (BotoCoreError, ClientError) as err:
            raise self._error("list", self.prefix or "/", err) from err
        found.sort(key=lambda entry: (entry.modified, entry.key))
        return found

    async def usage(self) -> int:
        return sum(entry.size for entry in await self.entries())
