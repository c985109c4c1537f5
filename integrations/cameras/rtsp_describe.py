"""A one-request RTSP client: ``DESCRIBE`` a stream, answering a Basic or Digest challenge once (RFC 2326/7826).

Cheap enough for health checks every minute and for auto-detect's first pass over dozens of vendor paths: a
wrong path answers 404 in a millisecond, wrong credentials 401, where opening a decoder takes seconds.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import re
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit, urlunsplit

from .camera_http import USER_AGENT, CameraAuthError

_CHALLENGE_ITEM = re.compile(r'(\w+)=(?:"([^"]*)"|([^,\s]+))')
MAX_HEADER_BYTES = 64 * 1024
#: A 503 (busy) is asked again this many times, this many seconds apart.
BUSY_RETRIES = 2
BUSY_DELAY = 0.3


class RtspError(Exception):
    """The server answered, but not with the stream (404, 454, garbage)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True, slots=True)
class RtspAnswer:
    status: int
    reason: str
    headers: dict[str, str]
    body: bytes

    @property
    def server(self) -> str | None:
        return self.headers.get("server")


def _parse_challenge(header: str) -> tuple[str, dict[str, str]]:
    scheme, _, rest = header.strip().partition(" ")
    values = {key.lower(): quoted or bare for key, quoted, bare in _CHALLENGE_ITEM.findall(rest)}
    return scheme.lower(), values


def authorization(header: str, method: str, uri: str, username: str, password: str) -> str:
    """The ``Authorization`` value answering a ``WWW-Authenticate`` challenge (Basic, or Digest MD5)."""
    scheme, values = _parse_challenge(header)
    if scheme == "basic":
        return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()
    if scheme != "digest":
        raise RtspError(f"unsupported RTSP authentication scheme {scheme!r}")
    realm, nonce = values.get("realm", ""), values.get("nonce", "")
    ha1 = hashlib.md5(f"{username}:{realm}:{password}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{uri}".encode()).hexdigest()
    response = hashlib.md5(f"{ha1}:{nonce}:{ha2}".encode()).hexdigest()
    parts = [f'username="{username}"', f'realm="{realm}"', f'nonce="{nonce}"', f'uri="{uri}"',
             f'response="{response}"']  # fmt: skip
    if "opaque" in values:
        parts.append(f'opaque="{values["opaque"]}"')
    return "Digest " + ", ".join(parts)


async def _read_answer(reader: asyncio.StreamReader) -> RtspAnswer:
    head = await reader.readuntil(b"\r\n\r\n")
    if len(head) > MAX_HEADER_BYTES:
        raise RtspError("RTSP answer headers too large")
    lines = head.decode("latin-1").split("\r\n")
    status_line = lines[0].split(" ", 2)
    if len(status_line) < 2 or not status_line[0].startswith("RTSP/") or not status_line[1].isdigit():
        raise RtspError(f"not an RTSP answer: {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0") or 0)
    body = await reader.readexactly(min(length, MAX_HEADER_BYTES)) if length else b""
    reason = status_line[2] if len(status_line) > 2 else ""
    return RtspAnswer(int(status_line[1]), reason, headers, body)


async def describe(url: str, *, timeout: float = 5.0) -> RtspAnswer:
    """``DESCRIBE url``; credentials in the URL answer a challenge. Raises ``CameraAuthError`` on 401,
    ``RtspError`` on any other non-200, ``OSError``/``TimeoutError`` when nothing answers."""
    parts = urlsplit(url)
    if parts.scheme not in ("rtsp", "rtsps") or not parts.hostname:
        raise ValueError(f"not an RTSP URL: {parts.scheme}://")
    secure = parts.scheme == "rtsps"
    port = parts.port or (322 if secure else 554)
    username, password = unquote(parts.username or ""), unquote(parts.password or "")
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    uri = urlunsplit((parts.scheme, f"{host}:{port}", parts.path or "/", parts.query, ""))
    context = None
    if secure:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # cameras and NVRs (UniFi Protect) use self-signed certificates
    async with asyncio.timeout(timeout):
        for attempt in range(1, BUSY_RETRIES + 2):
            answer = await _describe_once(parts.hostname, port, context, uri, username, password)
            if answer.status != 503 or attempt > BUSY_RETRIES:
                break
            await asyncio.sleep(BUSY_DELAY)  # busy (a stream being torn down, too many clients): ask again
    if answer.status == 401:
        raise CameraAuthError("the camera refused the credentials (RTSP 401)")
    if answer.status != 200:
        raise RtspError(f"RTSP {answer.status} {answer.reason}".strip(), answer.status)
    return answer


async def _describe_once(
    host: str, port: int, context: ssl.SSLContext | None, uri: str, username: str, password: str
) -> RtspAnswer:
    reader, writer = await asyncio.open_connection(host, port, ssl=context)
    try:
        answer = await _exchange(reader, writer, uri, 1, None)
        challenge = answer.headers.get("www-authenticate")
        if answer.status == 401 and username and challenge:
            answer = await _exchange(
                reader, writer, uri, 2, authorization(challenge, "DESCRIBE", uri, username, password)
            )
        return answer
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError):
            await writer.wait_closed()


async def _exchange(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, uri: str, cseq: int, auth: str | None
) -> RtspAnswer:
    request = f"DESCRIBE {uri} RTSP/1.0\r\nCSeq: {cseq}\r\nAccept: application/sdp\r\nUser-Agent: {USER_AGENT}\r\n"
    if auth:
        request += f"Authorization: {auth}\r\n"
    writer.write((request + "\r\n").encode())
    await writer.drain()
    try:
        return await _read_answer(reader)
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError) as err:
        raise RtspError(f"the RTSP server closed or sent garbage: {type(err).__name__}") from None
