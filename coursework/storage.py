"""Where the files of learning materials live: local files under `<data_dir>/materials/`, or an
S3-compatible bucket (MinIO, Ceph, a cloud's object storage) when the school configures one. Both
behind one interface: a finished upload is put under a key, then read back whole or by byte range."""
from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

CHUNK = 256 * 1024
KEY = re.compile(r"^[a-z0-9][a-z0-9/_-]{0,99}$")


class MaterialStore(Protocol):
    async def put(self, key: str, source: Path) -> None:
        """Store the finished file `source` under `key` (`source` is consumed or left to the caller)."""

    async def size(self, key: str) -> int | None:
        """The stored size, or None when nothing is stored under `key`."""

    def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        """Bytes start..end (inclusive) of the stored file, in chunks."""

    async def delete(self, key: str) -> None: ...


def _check(key: str) -> str:
    if not KEY.match(key) or ".." in key:
        raise ValueError(f"bad storage key {key!r}")
    return key


@dataclass(frozen=True)
class LocalStore:
    root: Path

    def path(self, key: str) -> Path:
        return self.root / _check(key)

    async def put(self, key: str, source: Path) -> None:
        target = self.path(key)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".part")
        # A copy under a temporary name, then an atomic rename: readers never see half a file.
        await asyncio.to_thread(_copy, source, partial)
        os.replace(partial, target)

    async def size(self, key: str) -> int | None:
        try:
            return self.path(key).stat().st_size
        except FileNotFoundError:
            return None

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        handle = await asyncio.to_thread(open, self.path(key), "rb")
        try:
            handle.seek(start)
            left = end - start + 1
            while left > 0:
                chunk = await asyncio.to_thread(handle.read, min(CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
        finally:
            handle.close()

    async def delete(self, key: str) -> None:
        self.path(key).unlink(missing_ok=True)


def _copy(source: Path, target: Path) -> None:
    try:
        os.link(source, target)  # same file system: no copy at all
        return
    except OSError:
        pass
    with open(source, "rb") as src, open(target, "wb") as dst:
        while chunk := src.read(1024 * 1024):
            dst.write(chunk)


@dataclass(frozen=True)
class S3Store:
    endpoint: str
    bucket: str
    access_key: str
    secret_key: str
    region: str = "us-east-1"
    prefix: str = "materials/"

    def _client(self):  # type: ignore[no-untyped-def]
        from aiobotocore.session import get_session

        return get_session().create_client(
            "s3", endpoint_url=self.endpoint, region_name=self.region,
            aws_access_key_id=self.access_key, aws_secret_access_key=self.secret_key)

    async def put(self, key: str, source: Path) -> None:
        async with self._client() as s3:
            with open(source, "rb") as body:
                await s3.put_object(Bucket=self.bucket, Key=self.prefix + _check(key), Body=body,
                                    ContentLength=source.stat().st_size)

    async def size(self, key: str) -> int | None:
        from botocore.exceptions import ClientError

        async with self._client() as s3:
            try:
                head = await s3.head_object(Bucket=self.bucket, Key=self.prefix + _check(key))
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                    return None
                raise
        return int(head["ContentLength"])

    async def read(self, key: str, start: int, end: int) -> AsyncIterator[bytes]:
        async with self._client() as s3:
            reply = await s3.get_object(Bucket=self.bucket, Key=self.prefix + _check(key),
                                        Range=f"bytes={start}-{end}")
            async with reply["Body"] as body:
                while chunk := await body.read(CHUNK):
                    yield chunk

    async def delete(self, key: str) -> None:
        async with self._client() as s3:
            await s3.delete_object(Bucket=self.bucket, Key=self.prefix + _check(key))


def store_for(data_dir: Path, *, s3_endpoint: str | None = None, s3_bucket: str | None = None,
              s3_access_key: str | None = None, s3_secret_key: str | None = None,
              s3_region: str = "us-east-1") -> MaterialStore:
    """The S3 store when an endpoint and bucket are configured, else local files."""
    if s3_endpoint and s3_bucket:
        return S3Store(s3_endpoint, s3_bucket, s3_access_key or "", s3_secret_key or "", s3_region)
    return LocalStore(data_dir / "materials")
