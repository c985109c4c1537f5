"""``GatewaySimulator``: a Hik Device Gateway (REFERENCE.md §2a) in front of simulated devices.

It holds devices by ``devIndex`` (a gateway-made UUID, not the EhomeID), answers deviceList (paged, Filter),
addDevice / modDevice / delDevice, passes any ISAPI request carrying ``devIndex=<uuid>`` through to that device
(a real HTTP request with Digest to the device simulator, streamed back), and streams every online device's
events tagged with ``devIndex`` on ``subscribeDeviceMgmt`` with heartbeats.

An ISUP device appears when ``add_simulated_device`` attaches a simulator (as if it registered with its EhomeID
and key): if the EhomeID was added through addDevice with another key, it stays offline (the key check fails,
ISUP callback 3 -> 9). Shapes the reference does not give are this simulator's own and documented in
``docs/integrations/hikvision.md`` ("Simulator"): heartbeat parts are
``{"eventType": "heartBeat", "dateTime": ..., "subscribeID": ...}``; ``send_webhook`` signs with the contract's
``X-Gatehouse-*`` headers; device status changes post ``{"eventType": "deviceStatus", "dateTime", "Device": {...}}``
(the deviceList ``Device`` object) when a webhook URL is set.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from aiohttp import DigestAuthMiddleware, web
from yarl import URL

from ..webhook_signature import HEADER_SIGNATURE, HEADER_TIMESTAMP, sign
from .auth import DeviceAuth
from .device import IsapiDeviceSimulator
from .documents import (
    IsapiRequestError,
    as_list,
    bad_parameter,
    document,
    integer,
    isapi_errors,
    json_response,
    read_json,
    response_status,
)
from .events import DeviceIdentity, SimEvent, event_json, multipart_part
from .streams import PartStream, serve_stream

_LOGGER = logging.getLogger(__name__)

DEV_TYPES = {"access": "AccessControl", "camera": "encodingDev", "nvr": "encodingDev"}
DEVICE_MGMT = "/ISAPI/ContentMgmt/DeviceMgmt/"
SUBSCRIBE = "/ISAPI/Event/notification/subscribeDeviceMgmt"
_NATIVE_WITH_DEV_INDEX = frozenset({"/ISAPI/System/streamMedia"})
_HOP_HEADERS = frozenset({"content-length", "transfer-encoding", "connection", "keep-alive", "date", "server"})


@dataclass(slots=True)
class GatewayDevice:
    """One device the gateway knows."""

    dev_index: str
    name: str
    dev_type: str
    protocol: str  # "ehomeV5" or "ISAPI"
    ehome_id: str | None = None
    key: str | None = None
    online: bool = False
    sim: IsapiDeviceSimulator | None = None
    address: str | None = None  # ISAPI devices added by address: base URL
    username: str = ""
    password: str = ""
    detach: Callable[[], None] | None = None
    auth: DigestAuthMiddleware | None = field(default=None, repr=False)
    auth_key: tuple[str, str] | None = None

    @property
    def reachable(self) -> bool:
        if not self.online:
            return False
        return self.sim.running if self.sim is not None else self.address is not None

    def base_url(self) -> str | None:
        if self.sim is not None:
            return self.sim.url
        return self.address

    def credentials(self) -> tuple[str, str]:
        if self.sim is not None:
            return self.sim.username, self.sim.password
        return self.username, self.password


@dataclass(slots=True)
class Subscription:
    sub_id: str
    stream: PartStream
    heartbeat: float


class GatewaySimulator:
    """A simulated Hik Device Gateway on ``url``; an async context manager (or ``start()`` / ``stop()``)."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        username: str = "admin",
        password: str = "Passw0rd!",
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        heartbeat_interval: float = 10.0,
        rtsp_port: int = 554,
        lock_after_failures: int = 5,
    ) -> None:
        self.host = host
        self.rtsp_port = rtsp_port
        self.webhook_url = webhook_url
        self.webhook_secret = webhook_secret
        self.heartbeat_interval = heartbeat_interval
        self.auth = DeviceAuth(
            username, password, realm="HikDeviceGateway", scheme="digest", lock_after_failures=lock_after_failures
        )
        self.devices: dict[str, GatewayDevice] = {}
        self._by_sim: dict[int, GatewayDevice] = {}  # id(simulator) -> its entry, for forwarding events
        self.requests: dict[str, int] = {}
        self.webhook_statuses: list[int] = []  # HTTP status of each webhook sent (0: not delivered)
        self._port = port
        self._bound_port = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._subscriptions: dict[str, Subscription] = {}
        self._sub_ids = itertools.count(1)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._identity = DeviceIdentity(host, port, "44:19:b6:00:00:01", "HDG0000000001", "Hik Device Gateway")

    # ---------------------------------------------------------------------------------------- life cycle

    @property
    def port(self) -> int:
        return self._bound_port or self._port

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def username(self) -> str:
        return self.auth.username

    @property
    def password(self) -> str:
        return self.auth.password

    async def start(self) -> None:
        app = web.Application(middlewares=[isapi_errors, self._authenticate, self._passthrough_middleware])
        router = app.router
        router.add_post(DEVICE_MGMT + "deviceList", self._device_list)
        router.add_post(DEVICE_MGMT + "addDevice", self._add_device)
        router.add_put(DEVICE_MGMT + "modDevice", self._mod_device)
        router.add_post(DEVICE_MGMT + "delDevice", self._del_device)
        router.add_put(DEVICE_MGMT + "delDevice", self._del_device)
        router.add_post(SUBSCRIBE, self._subscribe)
        router.add_get(SUBSCRIBE + "/{id}/queryStatus", self._query_subscription)
        router.add_delete("/ISAPI/Event/notification/unSubscribeDeviceMgmt/{id}", self._unsubscribe)
        router.add_post("/ISAPI/System/streamMedia", self._stream_media)
        router.add_get("/ISAPI/System/deviceInfo", self._device_info)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self._port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self._bound_port = int(sockets[0].getsockname()[1]) if sockets else self._port
        self._identity = DeviceIdentity(self.host, self.port, "44:19:b6:00:00:01", "HDG0000000001", "Gateway")
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None, sock_connect=5))

    async def stop(self) -> None:
        for subscription in list(self._subscriptions.values()):
            subscription.stream.close()
        for task in list(self._tasks):
            task.cancel()
        for device in self.devices.values():
            if device.detach is not None:
                device.detach()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> GatewaySimulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ---------------------------------------------------------------------------------------- test API

    def add_simulated_device(
        self,
        sim: IsapiDeviceSimulator,
        ehome_id: str,
        *,
        key: str | None = None,
        online: bool = True,
        name: str | None = None,
    ) -> str:
        """Attach ``sim`` as the ISUP device ``ehome_id`` (registering with ``key``); returns its devIndex."""
        device = next((d for d in self.devices.values() if d.ehome_id == ehome_id), None)
        if device is None:
            device = GatewayDevice(
                dev_index=_new_dev_index(),
                name=name or sim.name,
                dev_type=DEV_TYPES[sim.kind],
                protocol="ehomeV5",
                ehome_id=ehome_id,
                key=key,
            )
            self.devices[device.dev_index] = device
        key_ok = device.key is None or key is None or device.key == key
        if device.detach is not None:
            device.detach()
        device.sim = sim
        device.detach = sim.add_listener(self._forward)
        self._by_sim[id(sim)] = device
        self._set_online(device, online and key_ok)
        return device.dev_index

    def set_online(self, dev_index: str, online: bool) -> None:
        self._set_online(self.devices[dev_index], online)

    def dev_index_of(self, ehome_id: str) -> str | None:
        return next((d.dev_index for d in self.devices.values() if d.ehome_id == ehome_id), None)

    async def send_webhook(
        self, payload: Mapping[str, Any], *, timestamp: int | None = None, secret: str | None = None
    ) -> int:
        """POST ``payload`` to ``webhook_url`` signed with the shared secret; returns the HTTP status.
        ``timestamp`` and ``secret`` override the real ones (to test stale and forged webhooks)."""
        if not self.webhook_url:
            raise ValueError("this gateway has no webhook_url")
        body = json.dumps(payload, separators=(",", ":")).encode()
        stamp = int(time.time()) if timestamp is None else timestamp
        headers = {"Content-Type": "application/json", HEADER_TIMESTAMP: str(stamp)}
        key = secret if secret is not None else self.webhook_secret
        if key:
            headers[HEADER_SIGNATURE] = sign(key, stamp, body)
        session = self._session or aiohttp.ClientSession()
        try:
            timeout = aiohttp.ClientTimeout(total=10)
            async with session.post(self.webhook_url, data=body, headers=headers, timeout=timeout) as reply:
                await reply.read()
                status = reply.status
        except (aiohttp.ClientError, TimeoutError) as err:
            _LOGGER.warning("webhook to %s failed: %s", self.webhook_url, err)
            status = 0
        finally:
            if session is not self._session:
                await session.close()
        self.webhook_statuses.append(status)
        return status

    # ---------------------------------------------------------------------------------------- state

    def _set_online(self, device: GatewayDevice, online: bool) -> None:
        changed = device.online != online
        device.online = online
        if changed and self.webhook_url and self._runner is not None:
            self._spawn(self.send_webhook(self._status_payload(device)))

    def _status_payload(self, device: GatewayDevice) -> dict[str, Any]:
        return {"eventType": "deviceStatus", "dateTime": _now_text(), "Device": self._device_fields(device)}

    def _spawn(self, coroutine: Any) -> None:
        task = asyncio.get_running_loop().create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _device_fields(self, device: GatewayDevice) -> dict[str, Any]:
        sim = device.sim
        fields: dict[str, Any] = {
            "devIndex": device.dev_index,
            "devName": device.name,
            "devMode": sim.model if sim is not None else "",
            "devType": device.dev_type,
            "protocolType": device.protocol,
            "devStatus": "online" if device.reachable else "offline",
            "activeStatus": "active",
            "videoChannelNum": sim.channels if sim is not None and sim.kind != "access" else 0,
            "ISAPIPortBound": device.protocol == "ISAPI",
            "ISAPIUserBound": device.protocol == "ISAPI",
        }
        if device.ehome_id is not None:
            fields["EhomeParams"] = {"EhomeID": device.ehome_id}
        if device.address is not None:
            fields["ISAPIParams"] = {"address": device.address}
        return fields

    def _forward(self, sim: IsapiDeviceSimulator, event: SimEvent) -> None:
        if not self._subscriptions or event.keepalive:
            return
        device = self._by_sim.get(id(sim))
        if device is None or not device.reachable:
            return
        payload = event_json(sim.identity, event)
        payload["devIndex"] = device.dev_index
        if device.ehome_id is not None:
            payload["deviceID"] = device.ehome_id
        part = multipart_part("MIME_boundary", "application/json", json.dumps(payload).encode())
        for subscription in list(self._subscriptions.values()):
            subscription.stream.offer(event.seq, part)

    # ---------------------------------------------------------------------------------------- HTTP

    @web.middleware
    async def _authenticate(self, request: web.Request, handler: Callable[[web.Request], Any]) -> web.StreamResponse:
        self.requests[request.path] = self.requests.get(request.path, 0) + 1
        refusal = self.auth.check(request)
        if refusal is not None:
            return refusal
        response: web.StreamResponse = await handler(request)
        return response

    @web.middleware
    async def _passthrough_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if "devIndex" in request.query and request.path not in _NATIVE_WITH_DEV_INDEX:
            return await self._passthrough(request, self._device(request.query["devIndex"]))
        response: web.StreamResponse = await handler(request)
        return response

    def _device(self, dev_index: str) -> GatewayDevice:
        device = self.devices.get(dev_index)
        if device is None:
            raise IsapiRequestError(6, "badDevIndex", f"devIndex {dev_index} is not on this gateway", http_status=404)
        if not device.reachable:
            raise IsapiRequestError(4, "deviceOffline", f"device {dev_index} is offline", http_status=503)
        return device

    async def _passthrough(self, request: web.Request, device: GatewayDevice) -> web.StreamResponse:
        assert self._session is not None
        base = device.base_url()
        assert base is not None
        query = [(key, value) for key, value in request.query.items() if key != "devIndex"]
        target = URL(base).with_path(request.path).with_query(query)
        credentials = device.credentials()
        if device.auth is None or device.auth_key != credentials:
            device.auth, device.auth_key = DigestAuthMiddleware(*credentials), credentials
        headers = {"Content-Type": request.headers["Content-Type"]} if "Content-Type" in request.headers else {}
        body = await request.read()
        try:
            reply = await self._session.request(
                request.method, target, data=body, headers=headers, middlewares=(device.auth,)
            )
        except (aiohttp.ClientError, TimeoutError) as err:
            raise IsapiRequestError(4, "deviceOffline", f"device did not answer: {err}", http_status=503) from None
        response = web.StreamResponse(status=reply.status)
        for name, value in reply.headers.items():
            if name.lower() not in _HOP_HEADERS and name.lower() != "www-authenticate":
                response.headers[name] = value
        try:
            await response.prepare(request)
            async for chunk in reply.content.iter_any():
                await response.write(chunk)
            await response.write_eof()
        except (aiohttp.ClientPayloadError, ConnectionError):
            if request.transport is not None:
                request.transport.close()  # the device's side broke: break ours the same way
        finally:
            reply.release()
        return response

    async def _device_info(self, request: web.Request) -> web.Response:
        return document(
            request,
            "DeviceInfo",
            {
                "deviceName": "Hik Device Gateway",
                "deviceID": "hdg-" + self._identity.serial,
                "model": "HikDeviceGateway",
                "serialNumber": self._identity.serial,
                "macAddress": self._identity.mac_address,
                "firmwareVersion": "V1.8.0",
                "firmwareReleasedDate": "build 240101",
                "deviceType": "DeviceGateway",
            },
        )

    async def _device_list(self, request: web.Request) -> web.Response:
        search = await read_json(request, "SearchDescription")
        position = integer(search, "position", 0)
        wanted = integer(search, "maxResult", 100, minimum=1)
        matches = [d for d in self.devices.values() if _passes(self._device_fields(d), search.get("Filter"))]
        page = matches[position : position + wanted]
        return json_response(
            {
                "SearchResult": {
                    "numOfMatches": len(page),
                    "totalMatches": len(matches),
                    "MatchList": [{"Device": self._device_fields(device)} for device in page],
                }
            }
        )

    async def _add_device(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        entries = as_list(body.get("DeviceInList"))
        if not entries:
            raise bad_parameter("DeviceInList")
        results = []
        for index, entry in enumerate(entries):
            raw = entry.get("Device") if isinstance(entry, Mapping) else None
            if not isinstance(raw, Mapping):
                raise bad_parameter(f"DeviceInList[{index}].Device")
            results.append({"Device": await self._add_one(raw, index)})
        return json_response({"DeviceOutList": results})

    async def _add_one(self, raw: Mapping[str, Any], index: int) -> dict[str, Any]:
        protocol = raw.get("protocolType")
        name = str(raw.get("devName") or "")
        dev_type = str(raw.get("devType") or "AccessControl")
        if protocol == "ehomeV5":
            params = raw.get("EhomeParams")
            if not isinstance(params, Mapping) or not params.get("EhomeID"):
                raise bad_parameter(f"DeviceInList[{index}].Device.EhomeParams.EhomeID")
            if not params.get("EhomeKey"):
                raise bad_parameter(f"DeviceInList[{index}].Device.EhomeParams.EhomeKey")
            ehome_id = str(params["EhomeID"])
            result: dict[str, Any] = {"EhomeParams": {"EhomeID": ehome_id}, "devName": name, "protocolType": protocol}
            if self.dev_index_of(ehome_id) is not None:
                return {**result, "status": "failed", "errorMsg": "deviceAlreadyExist"}
            device = GatewayDevice(
                _new_dev_index(), name or ehome_id, dev_type, "ehomeV5", ehome_id, str(params["EhomeKey"])
            )
        elif protocol == "ISAPI":
            params = raw.get("ISAPIParams")
            if not isinstance(params, Mapping) or not params.get("address"):
                raise bad_parameter(f"DeviceInList[{index}].Device.ISAPIParams.address")
            port = integer(params, "portNo", 80, minimum=1)
            address = f"http://{params['address']}:{port}"
            result = {"ISAPIParams": {"address": params["address"]}, "devName": name, "protocolType": protocol}
            device = GatewayDevice(_new_dev_index(), name or address, dev_type, "ISAPI", address=address, online=True)
            device.username = str(params.get("userName", "admin"))
            device.password = str(params.get("password", ""))
        else:
            raise bad_parameter(f"DeviceInList[{index}].Device.protocolType", "must be ehomeV5 or ISAPI")
        self.devices[device.dev_index] = device
        if self.webhook_url:
            self._spawn(self.send_webhook(self._status_payload(device)))
        return {**result, "devIndex": device.dev_index, "status": "success"}

    async def _mod_device(self, request: web.Request) -> web.Response:
        info = await read_json(request, "DeviceInfo")
        dev_index = info.get("devIndex")
        device = self.devices.get(str(dev_index))
        if device is None:
            raise IsapiRequestError(6, "badDevIndex", f"devIndex {dev_index} is not on this gateway", http_status=404)
        if info.get("devName"):
            device.name = str(info["devName"])
        params = info.get("EhomeParams")
        if isinstance(params, Mapping):
            device.ehome_id = str(params.get("EhomeID") or device.ehome_id)
            device.key = str(params.get("EhomeKey") or device.key)
        return response_status(request)

    async def _del_device(self, request: web.Request) -> web.Response:
        body = await read_json(request)
        indexes = body.get("DevIndexList")
        if not isinstance(indexes, list) or not indexes:
            raise bad_parameter("DevIndexList")
        for dev_index in indexes:
            device = self.devices.pop(str(dev_index), None)
            if device is not None and device.detach is not None:
                device.detach()
                self._by_sim.pop(id(device.sim), None)
        return response_status(request)

    async def _stream_media(self, request: web.Request) -> web.Response:
        device = self._device(request.query.get("devIndex", ""))
        body = await read_json(request)
        inner = body.get("StreamInfo")
        info: Mapping[str, Any] = inner if isinstance(inner, Mapping) else body
        channel = str(info.get("id") or info.get("channelID") or "101")
        if not channel.isdigit():
            raise bad_parameter("StreamInfo.id", "is not a channel such as 101")
        if int(channel) < 100:  # a channel number: pick its main or sub stream
            channel = str(int(channel) * 100 + (2 if info.get("streamType") == "sub" else 1))
        url = f"rtsp://{self.host}:{self.rtsp_port}/ISAPI/streaming/{device.dev_index}/channels/{channel}"
        return json_response({"streamUrl": url})

    async def _subscribe(self, request: web.Request) -> web.StreamResponse:
        body = await read_json(request)
        inner = body.get("SubscribeDeviceMgmt", body.get("SubscribeEvent"))
        settings: Mapping[str, Any] = inner if isinstance(inner, Mapping) else {}
        try:
            heartbeat = float(settings.get("heartbeat", self.heartbeat_interval))
        except (TypeError, ValueError):
            raise bad_parameter("SubscribeDeviceMgmt.heartbeat", "is not a number") from None
        if not 0 < heartbeat <= 300:
            raise bad_parameter("SubscribeDeviceMgmt.heartbeat", "must be 1..300 seconds")
        sub_id = str(next(self._sub_ids))
        subscription = Subscription(sub_id, PartStream(), heartbeat)
        self._subscriptions[sub_id] = subscription
        subscription.stream.offer(-1, self._heartbeat(sub_id))  # the first part says the subscription is live
        try:
            return await serve_stream(
                request, subscription.stream, keepalive=lambda: self._heartbeat(sub_id), keepalive_interval=heartbeat
            )
        finally:
            self._subscriptions.pop(sub_id, None)

    def _heartbeat(self, sub_id: str) -> bytes:
        payload = {"eventType": "heartBeat", "dateTime": _now_text(), "subscribeID": sub_id}
        return multipart_part("MIME_boundary", "application/json", json.dumps(payload).encode())

    async def _query_subscription(self, request: web.Request) -> web.Response:
        sub_id = request.match_info["id"]
        subscription = self._subscriptions.get(sub_id)
        status = {
            "id": sub_id,
            "status": "subscribed" if subscription is not None else "unsubscribed",
            "heartbeat": subscription.heartbeat if subscription is not None else 0,
            "devNum": sum(1 for device in self.devices.values() if device.reachable),
        }
        return json_response({"SubscribeDeviceMgmtStatus": status})

    async def _unsubscribe(self, request: web.Request) -> web.Response:
        subscription = self._subscriptions.pop(request.match_info["id"], None)
        if subscription is None:
            raise bad_parameter("id", "is not an open subscription")
        subscription.stream.close()
        return response_status(request)

    def disconnect_subscriptions(self) -> None:
        """Cut every subscribeDeviceMgmt stream (the gateway restarting, seen from the hub)."""
        for subscription in list(self._subscriptions.values()):
            subscription.stream.abort()

    @property
    def subscription_count(self) -> int:
        return len(self._subscriptions)


def _passes(fields: Mapping[str, Any], filter_: Any) -> bool:
    """deviceList's ``Filter``: key (name or EhomeID contains), devType, protocolType[], devStatus[]."""
    if not isinstance(filter_, Mapping):
        return True
    key = str(filter_.get("key") or "").lower()
    if key:
        ehome = str(fields.get("EhomeParams", {}).get("EhomeID", "")).lower()
        if key not in str(fields["devName"]).lower() and key not in ehome:
            return False
    if filter_.get("devType") and filter_["devType"] != fields["devType"]:
        return False
    protocols = as_list(filter_.get("protocolType"))
    if protocols and fields["protocolType"] not in protocols:
        return False
    statuses = as_list(filter_.get("devStatus"))
    return not statuses or fields["devStatus"] in statuses


def _new_dev_index() -> str:
    return str(uuid.uuid4()).upper()


def _now_text() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


__all__ = ["GatewayDevice", "GatewaySimulator"]
