"""A real S3 endpoint on loopback for tests: moto's threaded server (the S3 REST protocol over HTTP, SigV4 signed).

A test asks for ``s3_server``, makes a bucket with ``s3_server.create_bucket()`` and points a client at
``s3_server.endpoint`` with ``**s3_server.credentials``; ``s3_server.client()`` is a boto3 client to arrange and
inspect objects from the test side.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, TypedDict

import pytest

from hub.testing import free_port

__all__ = ["S3Credentials", "S3Server", "s3_server"]

_buckets = itertools.count(1)


class S3Credentials(TypedDict):
    access_key: str
    secret_key: str
    region: str


@dataclass
class S3Server:
    """Where the test server listens and the (test-only) keys it accepts."""

    endpoint: str
    region: str = "us-east-1"
    access_key: str = "gatehouse-test"
    secret_key: str = "gatehouse-test-secret"
    _client: Any = field(default=None, repr=False)

    @property
    def credentials(self) -> S3Credentials:
        return {"access_key": self.access_key, "secret_key": self.secret_key, "region": self.region}

    def client(self) -> Any:
        """A synchronous boto3 client on the server, to arrange and inspect buckets from a test."""
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint,
                region_name=self.region,
                aws_access_key_id=self.access_key,
                aws_secret_access_key=self.secret_key,
            )
        return self._client

    def create_bucket(self, name: str | None = None) -> str:
        """A new empty bucket (a fresh name per call unless given)."""
        name = name or f"gatehouse-test-{next(_buckets)}"
        self.client().create_bucket(Bucket=name)
        return name


@pytest.fixture(scope="session")
def s3_server() -> Iterator[S3Server]:
    """moto's S3 server on 127.0.0.1 for the test session; each test makes its own bucket."""
    try:
        from moto.server import ThreadedMotoServer
    except ImportError as err:
        pytest.fail(f"the S3 test server needs moto[s3] and flask-cors ({err}): run make setup")

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield S3Server(endpoint=f"http://127.0.0.1:{port}")
    finally:
        server.stop()
