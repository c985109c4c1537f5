"""ISAPI over HTTP: one client per device (or per device behind a gateway, through ``devIndex``).

Every call goes through ``_call``: the URL (plus ``format=json`` where the device speaks JSON, plus ``devIndex``
for gateway passthrough), Digest or Basic from ``ClientAuth`` (a refused password is never retried: devices lock
accounts), and the answer sorted into the three errors a caller must tell apart: ``IsapiAuthError`` (stop trying
this password), ``IsapiDeviceError`` (the device understood and said no: ResponseStatus), ``IsapiConnectionError``
(network, timeout, an HTML error page, an unparsable body: retry later with back-off).

Paged searches (users, cards, faces, access events) follow the device's ``searchID`` / ``MORE`` protocol and are
async iterators, so a caller can stop early. ``alert_stream`` yields parsed events until the stream breaks, then
raises ``IsapiConnectionError``: reconnecting (and backfilling through ``acs_events``) is the caller's decision.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import uuid
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Mapping, Sequence
from contextlib import aclosing, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from urllib.parse import quote

import aiohttp
from yarl import URL

from .client_auth import ClientAuth, UnsupportedAuthError
from .events import AccessRecord, EventParseError, HikEvent, parse_acs_record, parse_event
from .isapi_answers import Reply, any_document, auth_error, error_for, json_document, looks_html
from .isapi_errors import IsapiAuthError, IsapiConnectionError, IsapiDeviceError, IsapiError
from .multipart import DEFAULT_MAX_PART_SIZE, MultipartReader, boundary_from
from .values import as_list, integer, text

_LOGGER = logging.getLogger(__name__)

#: An AcsEvent search record has the same shape as a live access event's record.
AcsEventRecord = AccessRecord
DoorCommand = Literal["open", "close", "alwaysOpen", "alwaysClose"]
DOOR_COMMANDS: frozenset[str] = frozenset({"open", "close", "alwaysOpen", "alwaysClose"})

DEFAULT_RTSP_PORT = 554
DEFAULT_PAGE_SIZE = 30
STREAM_IDLE_TIMEOUT = 30.0  # devices write a keep-alive about every 10 s
BUSY_STATUS_CODES = frozenset({2, 3})  # "Device Busy" (firmware uses both)
_ERROR_BODY_LIMIT = 64 * 1024
_NO_BOUNDARY_LIMIT = 16 * 1024
_MAX_PAGES = 100_000
XML_HEADER = '<?xml version="1.0" encoding="UTF-8"?>\n'
ISAPI_XMLNS = "http://www.isapi.org/ver20/XMLSchema"


# -- results ----------------------------------------------------------------------------------------------------------


@dataclass(slots=True, frozen=True)
class DeviceInfo:
    name: str | None
    device_id: str | None
    model: str | None
    serial_number: str
    mac_address: str | None
    firmware_version: str | None
    device_type: str | None
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)


@dataclass(slots=True, frozen=True)
class StreamingChannel:
    """``id`` is the ISAPI stream id: channel * 100 + stream (101 = channel 1 main, 102 = its sub-stream)."""

    id: int
    name: str | None
    resolution: tuple[int, int] | None
    codec: str | None
    enabled: bool = True

    @property
    def channel(self) -> int:
        return self.id // 100

    @property
    def stream(self) -> Literal["main", "sub"] | None:
        number = self.id % 100
        if number == 1:
            return "main"
        return "sub" if number == 2 else None


# -- the client -------------------------------------------------------------------------------------------------------


class IsapiClient:
    """ISAPI calls to one device. The aiohttp session belongs to the caller (one session for many clients)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        username: str,
        password: str,
        *,
        dev_index: str | None = None,
        timeout: float = 10.0,
        auth: ClientAuth | None = None,
    ) -> None:
        self._session = session
        self.base_url = base_url.rstrip("/")
        parsed = URL(self.base_url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError(f"base_url must be an http(s) URL, not {base_url!r}")
        self.host = parsed.host
        self.dev_index = dev_index
        self.timeout = timeout
        self._auth = auth if auth is not None else ClientAuth(username, password)
        #: Parts of event streams that could not be parsed and were skipped, since this client was made.
        self.skipped_parts = 0

    @property
    def username(self) -> str:
        return self._auth.username

    def for_device(self, dev_index: str) -> IsapiClient:
        """A client for a device behind this gateway, sharing the gateway login (no new 401 round trip)."""
        return IsapiClient(
            self._session,
            self.base_url,
            self._auth.username,
            self._auth.password,
            dev_index=dev_index,
            timeout=self.timeout,
            auth=self._auth,
        )

    # -- plumbing ---------------------------------------------------------------------------------------------------

    def _url(self, path: str, params: Mapping[str, str] | None, json_format: bool) -> URL:
        query: dict[str, str] = {}
        if json_format:
            query["format"] = "json"
        if params:
            query.update(params)
        if self.dev_index:
            query["devIndex"] = self.dev_index
        url = URL(self.base_url + path)
        return url.update_query(query) if query else url

    @asynccontextmanager
    async def _open(
        self,
        method: str,
        path: str,
        url: URL,
        data: bytes | None,
        content_type: str | None,
        timeout: aiohttp.ClientTimeout,
    ) -> AsyncIterator[aiohttp.ClientResponse]:
        """Send with authentication; yields the response (not a 401). Network errors become IsapiConnectionError."""
        uri = url.raw_path_qs
        for attempt in range(3):
            header, sent = self._auth.authorization(method, uri, data or b"")
            headers = {"Accept": "*/*"}
            if header is not None:
                headers["Authorization"] = header
            if content_type is not None:
                headers["Content-Type"] = content_type
            try:
                response = await self._session.request(
                    method, url, data=data, headers=headers, timeout=timeout, allow_redirects=False
                )
            except (aiohttp.ClientError, TimeoutError, OSError) as err:
                raise IsapiConnectionError(f"{path}: {_describe(err)}", path=path) from err
            if response.status != 401:
                self._auth.accepted(sent)
                try:
                    yield response
                finally:
                    response.release()
                return
            try:
                body = await response.content.read(_ERROR_BODY_LIMIT)
            except (aiohttp.ClientError, TimeoutError, OSError):
                body = b""
            finally:
                response.release()
            try:
                retry = self._auth.challenged(response.headers.getall("WWW-Authenticate", []), sent)
            except UnsupportedAuthError as err:
                raise IsapiAuthError(f"{path}: {err}", path=path, http_status=401) from None
            if not retry or attempt == 2:
                raise auth_error(path, 401, body)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json_body: Any = None,
        data: bytes | None = None,
        content_type: str | None = None,
        json_format: bool = False,
    ) -> Reply:
        """One request; returns a 2xx reply, raises the right IsapiError otherwise."""
        if json_body is not None:
            data = json.dumps(json_body, separators=(",", ":"), ensure_ascii=False).encode()
            content_type = "application/json"
        url = self._url(path, params, json_format)
        timeout = aiohttp.ClientTimeout(total=self.timeout)
        try:
            async with self._open(method, path, url, data, content_type, timeout) as response:
                body = await response.read()
                reply = Reply(response.status, response.headers.get("Content-Type", ""), body)
        except (aiohttp.ClientError, TimeoutError, OSError) as err:
            raise IsapiConnectionError(f"{path}: {_describe(err)}", path=path) from err
        if 200 <= reply.status < 300:
            return reply
        raise error_for(path, reply)

    async def request_json(
        self, method: str, path: str, body: Any = None, *, params: Mapping[str, str] | None = None
    ) -> Any:
        """Any JSON ISAPI call (``?format=json``, ``devIndex`` added); a ResponseStatus failure inside a 200 raises
        IsapiDeviceError like an error status does."""
        reply = await self._call(method, path, params=params, json_body=body, json_format=True)
        return json_document(path, reply)

    async def _document(self, path: str, *, json_format: bool = False) -> dict[str, Any]:
        """A GET whose answer may be XML or JSON, as ``{root: fields}`` either way."""
        reply = await self._call("GET", path, json_format=json_format)
        return any_document(path, reply)

    # -- system -----------------------------------------------------------------------------------------------------

    async def device_info(self) -> DeviceInfo:
        """Model, serial, firmware and MAC (XML on every firmware; very old units only know /System/deviceInfo)."""
        path = "/ISAPI/System/deviceInfo"
        try:
            document = await self._document(path)
        except IsapiDeviceError as err:
            if err.http_status != 404:
                raise
            path = "/System/deviceInfo"
            document = await self._document(path)
        info = document.get("DeviceInfo")
        if not isinstance(info, dict):
            raise IsapiConnectionError(f"{path}: the answer has no DeviceInfo", path=path)
        serial = text(info.get("serialNumber"))
        if serial is None:
            raise IsapiConnectionError(f"{path}: DeviceInfo has no serialNumber", path=path)
        return DeviceInfo(
            name=text(info.get("deviceName")),
            device_id=text(info.get("deviceID")),
            model=text(info.get("model")),
            serial_number=serial,
            mac_address=text(info.get("macAddress")),
            firmware_version=text(info.get("firmwareVersion")),
            device_type=text(info.get("deviceType")),
            raw=info,
        )

    # -- doors ------------------------------------------------------------------------------------------------------

    async def door_control(self, door: int, cmd: DoorCommand) -> None:
        """Open (momentarily), close, hold open (``alwaysOpen``) or hold closed (``alwaysClose``) door ``door``."""
        if cmd not in DOOR_COMMANDS:
            raise ValueError(f"cmd must be one of {', '.join(sorted(DOOR_COMMANDS))}, not {cmd!r}")
        if door < 1:
            raise ValueError(f"door must be 1 or more, not {door}")
        path = f"/ISAPI/AccessControl/RemoteControl/door/{door}"
        await self.request_json("PUT", path, {"RemoteControlDoor": {"cmd": cmd}})

    async def door_status(self) -> dict[str, Any]:
        """``AcsWorkStatus``: ``doorLockStatus`` (per door, 1 = unlocked), ``doorStatus`` (per door: 1 sleep,
        2 always open, 3 always closed, 4 normal), ``magneticStatus`` (0 closed, 1 open), reader states..."""
        path = "/ISAPI/AccessControl/AcsWorkStatus"
        return _object(path, await self.request_json("GET", path), "AcsWorkStatus")

    # -- users, cards, faces -----------------------------------------------------------------------------------------

    async def count_users(self) -> int:
        path = "/ISAPI/AccessControl/UserInfo/Count"
        count = _object(path, await self.request_json("GET", path), "UserInfoCount")
        number = integer(count.get("userNumber"))
        if number is None:
            raise IsapiConnectionError(f"{path}: UserInfoCount has no userNumber", path=path)
        return number

    def search_users(
        self, employee_nos: Iterable[str] | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[dict[str, Any]]:
        """Every user (or those in ``employee_nos``) as the device's ``UserInfo`` objects."""
        cond: dict[str, Any] = {}
        if employee_nos is not None:
            cond["EmployeeNoList"] = [{"employeeNo": str(number)} for number in employee_nos]
        return self._paged(
            "/ISAPI/AccessControl/UserInfo/Search", "UserInfoSearchCond", "UserInfoSearch", "UserInfo", cond, page_size
        )

    async def add_users(self, users: Sequence[Mapping[str, Any]]) -> None:
        """Add users (``UserInfo`` objects: employeeNo, name, userType, Valid, doorRight, RightPlan), one request
        each because batch support differs between firmware versions. Stops at the first refusal."""
        for user in users:
            await self.request_json("POST", "/ISAPI/AccessControl/UserInfo/Record", {"UserInfo": dict(user)})

    async def modify_user(self, user: Mapping[str, Any]) -> None:
        await self.request_json("PUT", "/ISAPI/AccessControl/UserInfo/Modify", {"UserInfo": dict(user)})

    async def delete_users(self, employee_nos: Iterable[str]) -> None:
        """Delete users with their cards and faces; a user the device does not have counts as deleted."""
        entries = [{"employeeNo": str(number)} for number in employee_nos]
        if not entries:
            return
        await self._delete("/ISAPI/AccessControl/UserInfo/Delete", {"UserInfoDelCond": {"EmployeeNoList": entries}})

    def search_cards(
        self, employee_nos: Iterable[str] | None = None, *, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[dict[str, Any]]:
        cond: dict[str, Any] = {}
        if employee_nos is not None:
            cond["EmployeeNoList"] = [{"employeeNo": str(number)} for number in employee_nos]
        return self._paged(
            "/ISAPI/AccessControl/CardInfo/Search", "CardInfoSearchCond", "CardInfoSearch", "CardInfo", cond, page_size
        )

    async def add_cards(self, cards: Sequence[Mapping[str, Any]]) -> None:
        """Add cards (``CardInfo``: employeeNo, cardNo, cardType ``normalCard``); the person must exist first."""
        for card in cards:
            await self.request_json("POST", "/ISAPI/AccessControl/CardInfo/Record", {"CardInfo": dict(card)})

    async def delete_cards(self, card_nos: Iterable[str]) -> None:
        entries = [{"cardNo": str(number)} for number in card_nos]
        if not entries:
            return
        await self._delete("/ISAPI/AccessControl/CardInfo/Delete", {"CardInfoDelCond": {"CardNoList": entries}})

    async def add_face(self, employee_no: str, jpeg: bytes, fdid: str = "1") -> None:
        """Enrol a face picture for a person (the FPID is their employee number); JPEG, about 200 KB at most."""
        record = {"faceLibType": "blackFD", "FDID": str(fdid), "FPID": str(employee_no)}
        boundary = uuid.uuid4().hex
        body = b"".join(
            [
                f'--{boundary}\r\nContent-Disposition: form-data; name="FaceDataRecord"\r\n'
                f"Content-Type: application/json\r\n\r\n".encode(),
                json.dumps(record, separators=(",", ":")).encode(),
                f'\r\n--{boundary}\r\nContent-Disposition: form-data; name="img"; filename="face.jpg"\r\n'
                f"Content-Type: image/jpeg\r\n\r\n".encode(),
                jpeg,
                f"\r\n--{boundary}--\r\n".encode(),
            ]
        )
        path = "/ISAPI/Intelligent/FDLib/FaceDataRecord"
        reply = await self._call(
            "POST", path, data=body, content_type=f"multipart/form-data; boundary={boundary}", json_format=True
        )
        json_document(path, reply)

    def search_faces(
        self, fdid: str = "1", *, fpid: str | None = None, page_size: int = DEFAULT_PAGE_SIZE
    ) -> AsyncIterator[dict[str, Any]]:
        """Faces in library ``fdid`` (``FPID``, ``faceURL``), or the one of person ``fpid``."""
        cond: dict[str, Any] = {"faceLibType": "blackFD", "FDID": str(fdid)}
        if fpid is not None:
            cond["FPID"] = str(fpid)
        return self._paged("/ISAPI/Intelligent/FDLib/FDSearch", None, None, "MatchList", cond, page_size)

    async def delete_faces(self, fpids: Iterable[str], fdid: str = "1") -> None:
        entries = [{"value": str(fpid)} for fpid in fpids]
        if not entries:
            return
        path = "/ISAPI/Intelligent/FDLib/FDSearch/Delete"
        reply = await self._call(
            "PUT",
            path,
            params={"FDID": str(fdid), "faceLibType": "blackFD"},
            json_body={"FPID": entries},
            json_format=True,
        )
        json_document(path, reply)

    async def _delete(self, path: str, body: dict[str, Any]) -> None:
        try:
            await self.request_json("PUT", path, body)
        except IsapiDeviceError as err:
            if "notexist" not in err.sub_status_code.lower():
                raise

    # -- access history ---------------------------------------------------------------------------------------------

    async def acs_events(
        self,
        start: datetime,
        end: datetime,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        pace: float = 0.0,
        major: int = 0,
        minor: int = 0,
    ) -> AsyncIterator[AcsEventRecord]:
        """Access events between ``start`` and ``end`` (device order, oldest first), paging with one searchID.

        ``pace`` seconds between pages spares busy terminals; records without major/minor are skipped (logged)."""
        cond = {
            "major": major,
            "minor": minor,
            "startTime": start.isoformat(timespec="seconds"),
            "endTime": end.isoformat(timespec="seconds"),
        }
        path = "/ISAPI/AccessControl/AcsEvent"
        async for item in self._paged(path, "AcsEventCond", "AcsEvent", "InfoList", cond, page_size, pace=pace):
            try:
                yield parse_acs_record(item)
            except EventParseError as err:
                _LOGGER.warning("%s%s: skipped an access record: %s", self.base_url, path, err.reason)

    async def _paged(
        self,
        path: str,
        cond_key: str | None,
        result_key: str | None,
        items_key: str,
        cond: dict[str, Any],
        page_size: int,
        *,
        pace: float = 0.0,
    ) -> AsyncIterator[dict[str, Any]]:
        """ISAPI's paging: same searchID, ``searchResultPosition`` += ``numOfMatches`` while ``MORE``."""
        search_id = str(uuid.uuid4())
        position = 0
        for _ in range(_MAX_PAGES):
            page = {"searchID": search_id, "searchResultPosition": position, "maxResults": page_size, **cond}
            document = await self.request_json("POST", path, {cond_key: page} if cond_key else page)
            result = _object(path, document, result_key) if result_key else document
            if not isinstance(result, dict):
                raise IsapiConnectionError(f"{path}: the answer is not an object", path=path)
            items = [item for item in as_list(result.get(items_key)) if isinstance(item, dict)]
            for item in items:
                yield item
            status = str(result.get("responseStatusStrg", "")).upper()
            matches = integer(result.get("numOfMatches"))
            matches = len(items) if matches is None else matches
            total = integer(result.get("totalMatches"))
            position += matches
            if status != "MORE" or matches <= 0 or (total is not None and position >= total):
                return
            if pace > 0:
                await asyncio.sleep(pace)
        raise IsapiConnectionError(f"{path}: the device kept answering MORE after {_MAX_PAGES} pages", path=path)

    # -- video ------------------------------------------------------------------------------------------------------

    async def snapshot(self, channel_stream: int = 101, *, busy_retries: int = 2, busy_delay: float = 0.5) -> bytes:
        """A JPEG from stream ``channel_stream``. NVR channels answer statusCode 6 (or 404) on the direct path and
        are fetched through StreamingProxy; a busy device (statusCode 3) is asked again ``busy_retries`` times."""
        paths = (
            f"/ISAPI/Streaming/channels/{channel_stream}/picture",
            f"/ISAPI/ContentMgmt/StreamingProxy/channels/{channel_stream}/picture",
        )
        for index, path in enumerate(paths):
            try:
                return await self._picture(path, busy_retries, busy_delay)
            except IsapiDeviceError as err:
                if index == 0 and (err.status_code == 6 or err.http_status == 404):
                    continue
                raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _picture(self, path: str, busy_retries: int, busy_delay: float) -> bytes:
        for attempt in range(busy_retries + 1):
            try:
                reply = await self._call("GET", path)
            except IsapiDeviceError as err:
                if err.status_code in BUSY_STATUS_CODES and attempt < busy_retries:
                    await asyncio.sleep(busy_delay)
                    continue
                raise
            if reply.body[:2] == b"\xff\xd8" or reply.content_type.lower().startswith("image/"):
                return reply.body
            document = any_document(path, reply)  # a ResponseStatus inside a 200 raises here
            raise IsapiConnectionError(f"{path}: expected a JPEG, got {next(iter(document), 'nothing')}", path=path)
        raise AssertionError("unreachable")  # pragma: no cover

    async def streaming_channels(self) -> list[StreamingChannel]:
        """The device's video streams (cameras: /Streaming/channels; NVRs also list proxied channels there)."""
        path = "/ISAPI/Streaming/channels"
        document = await self._document(path)
        listing = document.get("StreamingChannelList")
        entries = as_list(listing.get("StreamingChannel")) if isinstance(listing, dict) else []
        channels: list[StreamingChannel] = []
        for entry in entries:
            if not isinstance(entry, dict):
                continue
            stream_id = integer(entry.get("id"))
            if stream_id is None:
                continue
            video = entry.get("Video")
            if not isinstance(video, dict):
                video = {}
            width = integer(video.get("videoResolutionWidth"))
            height = integer(video.get("videoResolutionHeight"))
            channels.append(
                StreamingChannel(
                    id=stream_id,
                    name=text(entry.get("channelName")),
                    resolution=(width, height) if width and height else None,
                    codec=text(video.get("videoCodecType")),
                    enabled=text(entry.get("enabled")) not in ("false", "False"),
                )
            )
        return channels

    async def rtsp_port(self) -> int:
        """The RTSP port from adminAccesses; 554 when the device does not say."""
        path = "/ISAPI/Security/adminAccesses"
        try:
            document = await self._document(path)
        except IsapiDeviceError:
            return DEFAULT_RTSP_PORT
        listing = document.get("AdminAccessProtocolList")
        entries = as_list(listing.get("AdminAccessProtocol")) if isinstance(listing, dict) else []
        for entry in entries:
            if isinstance(entry, dict) and str(entry.get("protocol", "")).upper() == "RTSP":
                port = integer(entry.get("portNo"))
                if port and 0 < port < 65536:
                    return port
        return DEFAULT_RTSP_PORT

    def rtsp_url(self, channel: int, stream: Literal["main", "sub"] = "main", port: int = DEFAULT_RTSP_PORT) -> str:
        """``rtsp://user:pass@host:port/Streaming/Channels/101``: channel * 100 + 1 (main) or 2 (sub), credentials
        percent-quoted (passwords with ``@`` or ``:`` stay one URL)."""
        if stream not in ("main", "sub"):
            raise ValueError(f"stream must be main or sub, not {stream!r}")
        host = f"[{self.host}]" if ":" in self.host else self.host
        user = quote(self._auth.username, safe="")
        password = quote(self._auth.password, safe="")
        number = channel * 100 + (1 if stream == "main" else 2)
        return f"rtsp://{user}:{password}@{host}:{port}/Streaming/Channels/{number}"

    # -- events -----------------------------------------------------------------------------------------------------

    async def set_http_host(
        self, url: str, host: str, port: int, parameter_format: Literal["XML", "JSON"] = "JSON"
    ) -> None:
        """Make the device POST its events to ``http://host:port/url`` (httpHosts entry 1, the one every firmware
        has). ``host`` may be an IP address or a host name."""
        if not 0 < port < 65536:
            raise ValueError(f"port must be 1..65535, not {port}")
        if parameter_format not in ("XML", "JSON"):
            raise ValueError(f"parameter_format must be XML or JSON, not {parameter_format!r}")
        is_ip = _is_ip(host)
        fields = [
            ("id", "1"),
            ("url", url if url.startswith("/") else "/" + url),
            ("protocolType", "HTTP"),
            ("parameterFormatType", parameter_format),
            ("addressingFormatType", "ipaddress" if is_ip else "hostname"),
            ("ipAddress" if is_ip else "hostName", host),
            ("portNo", str(port)),
            ("httpAuthenticationMethod", "none"),
        ]
        inner = "".join(f"<{key}>{_xml_escape(value)}</{key}>" for key, value in fields)
        body = (
            f'{XML_HEADER}<HttpHostNotificationList version="2.0" xmlns="{ISAPI_XMLNS}">'
            f"<HttpHostNotification>{inner}</HttpHostNotification></HttpHostNotificationList>"
        ).encode()
        path = "/ISAPI/Event/notification/httpHosts"
        reply = await self._call("PUT", path, data=body, content_type="application/xml; charset=UTF-8")
        any_document(path, reply)

    def alert_stream(
        self, *, idle_timeout: float = STREAM_IDLE_TIMEOUT, max_part_size: int = DEFAULT_MAX_PART_SIZE
    ) -> AsyncIterator[HikEvent]:
        """Events from ``/ISAPI/Event/notification/alertStream`` as they come, keep-alives included (``keepalive``).

        Unparsable parts are skipped (logged once per connection). Raises ``IsapiConnectionError`` when the stream
        ends, breaks, or stays silent ``idle_timeout`` seconds; the caller reconnects with back-off."""
        path = "/ISAPI/Event/notification/alertStream"
        return self.event_stream("GET", path, idle_timeout=idle_timeout, max_part_size=max_part_size)

    async def event_stream(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        json_format: bool = False,
        idle_timeout: float = STREAM_IDLE_TIMEOUT,
        max_part_size: int = DEFAULT_MAX_PART_SIZE,
    ) -> AsyncIterator[HikEvent]:
        """Any multipart event stream (alertStream here, the gateway's subscribeDeviceMgmt) as parsed events."""
        data = None
        content_type = None
        if json_body is not None:
            data = json.dumps(json_body, separators=(",", ":")).encode()
            content_type = "application/json"
        url = self._url(path, None, json_format)
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=self.timeout, sock_read=idle_timeout)
        source = f"{self.base_url}{path}" + (f" devIndex={self.dev_index}" if self.dev_index else "")
        async with self._open(method, path, url, data, content_type, timeout) as response:
            try:
                async with aclosing(self._parse_stream(response, path, source, idle_timeout, max_part_size)) as events:
                    async for event in events:
                        yield event
            finally:
                response.close()  # an event stream never ends cleanly: drop the connection, do not pool it

    async def _parse_stream(
        self,
        response: aiohttp.ClientResponse,
        path: str,
        source: str,
        idle_timeout: float,
        max_part_size: int,
    ) -> AsyncGenerator[HikEvent, None]:
        if response.status != 200:
            body = await _read_limited(response, path)
            raise error_for(path, Reply(response.status, response.headers.get("Content-Type", ""), body))
        stream_type = response.headers.get("Content-Type", "")
        if not stream_type.lower().startswith("multipart/"):
            body = await _read_limited(response, path)
            if looks_html(body):
                raise IsapiConnectionError(f"{path}: an HTML page instead of an event stream", path=path)
            raise IsapiConnectionError(f"{path}: not a multipart stream ({stream_type or 'no type'})", path=path)
        boundary = boundary_from(stream_type)
        reader: MultipartReader | None = None
        if boundary is not None:
            reader = MultipartReader(boundary, max_part_size=max_part_size, source=source)
        preamble = b""
        warned = False
        while True:
            chunk = await _read_chunk(response, path, idle_timeout)
            if not chunk:
                truncated = " in the middle of a part" if reader is not None and reader.pending else ""
                raise IsapiConnectionError(f"{path}: the event stream ended{truncated}", path=path)
            if reader is None:  # no boundary declared: take it from the first "--" line
                preamble += chunk
                boundary = _sniff_boundary(preamble)
                if boundary is None:
                    if len(preamble) > _NO_BOUNDARY_LIMIT:
                        raise IsapiConnectionError(f"{path}: no multipart boundary in the stream", path=path)
                    continue
                reader = MultipartReader(boundary, max_part_size=max_part_size, source=source)
                chunk, preamble = preamble, b""
            for part in reader.feed(chunk):
                try:
                    event = parse_event(part.content_type, part.body)
                except EventParseError as err:
                    self.skipped_parts += 1
                    level = logging.DEBUG if warned else logging.WARNING
                    _LOGGER.log(level, "%s: skipped a part: %s", source, err.reason)
                    warned = True
                    continue
                if event is not None:
                    if self.dev_index and event.dev_index is None:
                        event.dev_index = self.dev_index
                    yield event
            if reader.parts_seen == 0 and reader.junk_bytes > _NO_BOUNDARY_LIMIT:
                raise IsapiConnectionError(
                    f"{path}: {reader.junk_bytes} bytes without the declared boundary {boundary!r}", path=path
                )


# -- helpers ----------------------------------------------------------------------------------------------------------


async def _read_chunk(response: aiohttp.ClientResponse, path: str, idle_timeout: float) -> bytes:
    try:
        return await response.content.readany()
    except (TimeoutError, aiohttp.ServerTimeoutError) as err:
        raise IsapiConnectionError(f"{path}: no data for {idle_timeout:g} s", path=path) from err
    except (aiohttp.ClientError, OSError) as err:
        raise IsapiConnectionError(f"{path}: {_describe(err)}", path=path) from err


async def _read_limited(response: aiohttp.ClientResponse, path: str) -> bytes:
    try:
        return await response.content.read(_ERROR_BODY_LIMIT)
    except (aiohttp.ClientError, TimeoutError, OSError) as err:
        raise IsapiConnectionError(f"{path}: {_describe(err)}", path=path) from err


def _sniff_boundary(data: bytes) -> str | None:
    for line in data.split(b"\n"):
        text = line.strip()
        if text.startswith(b"--") and len(text) > 2 and b" " not in text:
            return text.decode("latin-1").rstrip("-") or None
    return None


def _describe(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return "timed out"
    text = str(err)
    return f"{type(err).__name__}: {text}" if text else type(err).__name__


def _object(path: str, document: Any, key: str) -> dict[str, Any]:
    inner = document.get(key) if isinstance(document, dict) else None
    if not isinstance(inner, dict):
        raise IsapiConnectionError(f"{path}: the answer has no {key} object", path=path)
    return inner


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _xml_escape(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


__all__ = [
    "AcsEventRecord",
    "DeviceInfo",
    "IsapiAuthError",
    "IsapiClient",
    "IsapiConnectionError",
    "IsapiDeviceError",
    "IsapiError",
    "StreamingChannel",
]
