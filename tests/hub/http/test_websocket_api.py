"""The WebSocket API over a real socket, with raw JSON: the auth phase, the commands, subscriptions, errors with
Home Assistant's codes, tenant isolation and robustness against garbage and slow clients."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest
import voluptuous as vol

from hub.auth.scope import Role
from hub.core import Hub, ServiceCall
from hub.http import VERSION, websocket_api
from hub.tenants import Tenant
from hub.testing import HubFactory, wait_for

# ------------------------------------------------------------------------------------------------ fixtures


@dataclass
class Site:
    """A hub with two tenants, their entities and a service, and one API key per kind of caller."""

    hub: Hub
    url: str
    acme: Tenant
    globex: Tenant
    keys: dict[str, str]


@pytest.fixture
async def site(hub_factory: HubFactory) -> Site:
    hub = await hub_factory(http=True, config={"gatehouse": {"name": "Lakeside School", "time_zone": "Europe/Paris"}})
    acme = await hub.tenants.create("acme", "Acme Security")
    globex = await hub.tenants.create("globex", "Globex")
    hub.states.set("lock.acme_gate", "locked", {"friendly_name": "Gate"}, tenant_id=acme.id)
    hub.states.set("sensor.acme_temperature", "21", {"unit_of_measurement": "°C"}, tenant_id=acme.id)
    hub.states.set("lock.globex_door", "locked", tenant_id=globex.id)
    hub.states.set("sensor.hub_load", "0.1")  # the hub's own: platform administrators only

    def open_lock(call: ServiceCall) -> dict[str, Any]:
        for entity_id in call.entity_ids:
            hub.states.set(entity_id, "unlocked", context=call.context)
        return {"opened": list(call.entity_ids)}

    hub.services.register("lock", "open", open_lock, vol.Schema({vol.Optional("duration", default=5): int}))
    keys = {}
    for name, tenant, role in [
        ("acme_operator", acme, Role.OPERATOR),
        ("acme_viewer", acme, Role.VIEWER),
        ("globex_operator", globex, Role.OPERATOR),
    ]:
        _, keys[name] = await hub.auth.create_api_key(name, tenant_id=tenant.id, role=role, created_by=None)
    _, keys["platform"] = await hub.auth.create_api_key(
        "platform", tenant_id=None, role=Role.OWNER, created_by=None, platform_admin=True
    )
    return Site(hub, f"{hub.http.url}/api/websocket", acme, globex, keys)


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


class Client:
    """A raw protocol client: numbered commands, and messages unpacked from coalesced array frames."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.last_id = 0
        self.pending: deque[dict[str, Any]] = deque()
        self.frames: list[Any] = []

    async def send(self, msg_type: str, **fields: Any) -> int:
        self.last_id += 1
        await self.ws.send_json({"id": self.last_id, "type": msg_type, **fields})
        return self.last_id

    async def receive(self, timeout: float = 5.0) -> dict[str, Any]:
        """The next message, in order."""
        return await self.take(lambda message: True, timeout)

    async def take(self, wanted: Callable[[dict[str, Any]], bool], timeout: float = 5.0) -> dict[str, Any]:
        """The first message ``wanted`` accepts; the others stay queued, in order, for later calls."""
        for message in self.pending:
            if wanted(message):
                self.pending.remove(message)
                return message
        while True:
            frame = await self.ws.receive(timeout=timeout)
            assert frame.type == aiohttp.WSMsgType.TEXT, f"expected a message, got {frame!r}"
            data = json.loads(frame.data)
            self.frames.append(data)
            for message in data if isinstance(data, list) else [data]:
                self.pending.append(message)
            for message in self.pending:
                if wanted(message):
                    self.pending.remove(message)
                    return message

    async def result(self, msg_id: int) -> dict[str, Any]:
        """The result of command ``msg_id``."""
        return await self.take(lambda message: message["type"] == "result" and message["id"] == msg_id)

    async def command(self, msg_type: str, **fields: Any) -> Any:
        """Send and expect success: the result."""
        reply = await self.result(await self.send(msg_type, **fields))
        assert reply["success"], reply
        return reply["result"]

    async def error(self, msg_type: str, **fields: Any) -> dict[str, Any]:
        reply = await self.result(await self.send(msg_type, **fields))
        assert reply["success"] is False, reply
        return reply["error"]

    async def event(self, subscription: int) -> Any:
        message = await self.take(lambda message: message["type"] == "event" and message["id"] == subscription)
        return message["event"]

    async def nothing_more(self, subscription: int) -> None:
        """Nothing arrives for ``subscription`` before the answer to a ping sent now."""
        ping = await self.send("ping")
        await self.take(lambda message: message["id"] == ping)
        assert [message for message in self.pending if message["id"] == subscription] == []


async def connect(session: aiohttp.ClientSession, site: Site, key: str = "acme_operator") -> Client:
    ws = await session.ws_connect(site.url)
    assert await ws.receive_json() == {"type": "auth_required", "ha_version": VERSION}
    await ws.send_json({"type": "auth", "access_token": site.keys[key]})
    assert await ws.receive_json() == {"type": "auth_ok", "ha_version": VERSION}
    return Client(ws)


async def closed(ws: aiohttp.ClientWebSocketResponse, timeout: float = 5.0) -> int | None:
    """Read until the server closes; the close code."""
    while True:
        frame = await ws.receive(timeout=timeout)
        if frame.type in (aiohttp.WSMsgType.CLOSE, aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.CLOSING):
            return ws.close_code
        if frame.type == aiohttp.WSMsgType.ERROR:
            return ws.close_code


# -------------------------------------------------------------------------------------------------- auth


async def test_an_api_key_or_an_access_token_authenticates(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    user = await site.hub.auth.create_user("olga", "correct horse battery", tenant_id=site.acme.id, role="viewer")
    tokens = await site.hub.auth.login(user.username, "correct horse battery", address="127.0.0.1")
    ws = await session.ws_connect(site.url)
    await ws.receive_json()
    await ws.send_json({"type": "auth", "access_token": tokens.access_token})
    assert (await ws.receive_json())["type"] == "auth_ok"
    assert websocket_api.open_connections(site.hub) == 2
    await ws.close()
    await client.ws.close()
    await wait_for(lambda: websocket_api.open_connections(site.hub) == 0)


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ({"type": "auth", "access_token": "not-a-token"}, "Invalid access token"),
        ({"type": "auth"}, "access_token: required"),
        ({"type": "login", "access_token": "x"}, "type: "),
        ("not json at all", "not valid JSON"),
    ],
)
async def test_a_bad_auth_message_is_refused_and_closed(
    site: Site, session: aiohttp.ClientSession, message: Any, expected: str
) -> None:
    ws = await session.ws_connect(site.url)
    await ws.receive_json()
    await (ws.send_str(message) if isinstance(message, str) else ws.send_json(message))
    reply = await ws.receive_json()
    assert reply["type"] == "auth_invalid"
    assert expected in reply["message"]
    assert await closed(ws) == aiohttp.WSCloseCode.POLICY_VIOLATION
    assert websocket_api.open_connections(site.hub) == 0


async def test_a_revoked_api_key_is_refused(site: Site, session: aiohttp.ClientSession) -> None:
    key, secret = await site.hub.auth.create_api_key("gone", tenant_id=site.acme.id, role="viewer", created_by=None)
    await site.hub.auth.revoke_api_key(key.id)
    ws = await session.ws_connect(site.url)
    await ws.receive_json()
    await ws.send_json({"type": "auth", "access_token": secret})
    assert (await ws.receive_json())["type"] == "auth_invalid"


async def test_no_auth_message_in_time_closes_the_connection(
    site: Site, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(websocket_api, "AUTH_TIMEOUT", 0.2)
    ws = await session.ws_connect(site.url)
    await ws.receive_json()
    assert await closed(ws) == aiohttp.WSCloseCode.POLICY_VIOLATION


# --------------------------------------------------------------------------------------- message handling


async def test_ping_supported_features_and_config(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    ping = await client.send("ping")
    assert await client.receive() == {"id": ping, "type": "pong"}
    assert await client.command("supported_features", features={"coalesce_messages": 1}) is None
    config = await client.command("get_config")
    assert config["location_name"] == "Lakeside School"
    assert config["time_zone"] == "Europe/Paris"
    assert config["version"] == VERSION
    assert config["state"] == "RUNNING"
    assert "demo" in config["components"]


async def test_errors_carry_home_assistants_codes(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    assert (await client.error("get_weather"))["code"] == "unknown_command"
    await client.ws.send_json({"id": client.last_id, "type": "ping"})
    reply = await client.receive()
    assert reply["error"] == {"code": "id_reuse", "message": "Identifier values have to increase."}
    error = await client.error("call_service", service="open")
    assert error["code"] == "invalid_format"
    assert "domain" in error["message"] and error["fields"] == {"domain": "required"}
    error = await client.error("call_service", domain="lock", service="open", target={"area_id": "hall"})
    assert error["fields"] == {"target.area_id": "unknown key"}
    error = await client.error("get_states", verbose=True)
    assert error["code"] == "invalid_format" and "verbose" in error["message"]
    error = await client.error("unsubscribe_events", subscription="one")
    assert "subscription" in error["message"]
    assert (await client.error("unsubscribe_events", subscription=999))["code"] == "not_found"


async def test_garbage_gets_an_error_and_the_connection_carries_on(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    await client.ws.send_str("{not json")
    reply = await client.receive()
    assert reply["success"] is False and reply["error"]["code"] == "invalid_format"
    assert "not valid JSON" in reply["error"]["message"]
    await client.ws.send_json([1, "two"])
    for _ in range(2):
        assert (await client.receive())["error"]["code"] == "invalid_format"
    await client.ws.send_json({"type": "ping"})
    assert (await client.receive())["error"]["message"] == "Message incorrectly formatted: id: required"
    await client.ws.send_json({"id": 50})
    assert (await client.receive())["error"] == {
        "code": "invalid_format",
        "message": "Message incorrectly formatted: type: required",
        "fields": {"type": "required"},
    }
    await client.ws.send_json({"id": -3, "type": "ping"})
    assert (await client.receive())["error"]["code"] == "invalid_format"
    client.last_id = 50
    ping = await client.send("ping")
    assert await client.receive() == {"id": ping, "type": "pong"}


async def test_several_messages_in_one_frame_are_all_answered(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    await client.ws.send_json([{"id": 1, "type": "ping"}, {"id": 2, "type": "get_states"}])
    assert await client.receive() == {"id": 1, "type": "pong"}
    assert (await client.receive())["id"] == 2


async def test_binary_and_oversized_frames_close_the_connection(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    await client.ws.send_bytes(b"\x00\x01")
    assert await closed(client.ws) == aiohttp.WSCloseCode.UNSUPPORTED_DATA
    client = await connect(session, site)
    with contextlib.suppress(ConnectionError):  # the hub drops the connection while the frame is still going out
        await client.ws.send_str(json.dumps({"id": 1, "type": "ping", "padding": "x" * (5 * 1024 * 1024)}))
        await closed(client.ws)
    client = await connect(session, site)  # the hub is fine
    assert (await client.command("get_config"))["state"] == "RUNNING"


# ------------------------------------------------------------------------------------------------- reads


async def test_get_states_shows_only_the_callers_tenant(site: Site, session: aiohttp.ClientSession) -> None:
    acme = await connect(session, site)
    states = await acme.command("get_states")
    assert [state["entity_id"] for state in states] == ["lock.acme_gate", "sensor.acme_temperature"]
    gate = states[0]
    assert gate["state"] == "locked" and gate["attributes"] == {"friendly_name": "Gate"}
    assert gate["last_changed"].endswith("+00:00") and set(gate) >= {"last_updated", "context"}
    platform = await connect(session, site, "platform")
    every = {state["entity_id"] for state in await platform.command("get_states")}
    assert every == {"lock.acme_gate", "sensor.acme_temperature", "lock.globex_door", "sensor.hub_load"}


async def test_get_services_lists_fields(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site, "acme_viewer")
    services = await client.command("get_services")
    assert services["lock"]["open"]["fields"] == {"duration": {"required": False, "description": ""}}


# ----------------------------------------------------------------------------------------- subscriptions


async def test_subscribe_events_serialises_state_changed_as_home_assistant(
    site: Site, session: aiohttp.ClientSession
) -> None:
    client = await connect(session, site)
    subscription = await client.send("subscribe_events", event_type="state_changed")
    assert (await client.result(subscription))["result"] is None
    site.hub.states.set("lock.acme_gate", "unlocked", {"friendly_name": "Gate"})
    event = await client.event(subscription)
    assert event["event_type"] == "state_changed" and event["origin"] == "LOCAL"
    assert event["time_fired"].endswith("+00:00")
    assert event["data"]["entity_id"] == "lock.acme_gate"
    assert event["data"]["old_state"]["state"] == "locked"
    assert event["data"]["new_state"]["state"] == "unlocked"
    assert set(event["context"]) == {"id", "parent_id", "user_id"}


async def test_unsubscribe_stops_the_events(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    subscription = await client.send("subscribe_events")
    await client.result(subscription)
    site.hub.bus.fire("door_forced", {"door": "gate"}, tenant_id=site.acme.id)
    assert (await client.event(subscription))["data"] == {"door": "gate"}
    assert await client.command("unsubscribe_events", subscription=subscription) is None
    site.hub.bus.fire("door_forced", {"door": "gate"}, tenant_id=site.acme.id)
    await client.nothing_more(subscription)


async def test_a_tenant_never_sees_another_tenants_events(site: Site, session: aiohttp.ClientSession) -> None:
    acme, globex = await connect(session, site), await connect(session, site, "globex_operator")
    events = await acme.send("subscribe_events")
    entities = await acme.send("subscribe_entities")
    await acme.result(events)
    await acme.result(entities)
    assert set((await acme.event(entities))["a"]) == {"lock.acme_gate", "sensor.acme_temperature"}
    globex_events = await globex.send("subscribe_events", event_type="state_changed")
    await globex.result(globex_events)

    site.hub.states.set("lock.globex_door", "unlocked")
    site.hub.bus.fire("door_forced", {"door": "back"}, tenant_id=site.globex.id)
    site.hub.states.set("sensor.hub_load", "0.9")
    site.hub.states.set("sensor.acme_temperature", "22", {"unit_of_measurement": "°C"})
    assert (await globex.event(globex_events))["data"]["entity_id"] == "lock.globex_door"

    first = await acme.event(events)
    assert first["data"]["entity_id"] == "sensor.acme_temperature"
    changed = site.hub.states.get("sensor.acme_temperature")
    assert changed is not None
    assert await acme.event(entities) == {
        "c": {"sensor.acme_temperature": {"+": {"s": "22", "lc": changed.last_changed}}}
    }
    await acme.nothing_more(events)
    error = await acme.error("call_service", domain="lock", service="open", target={"entity_id": "lock.globex_door"})
    assert error["code"] == "not_found"
    assert site.hub.states.get("lock.globex_door").state == "unlocked"  # type: ignore[union-attr]


async def test_subscribe_entities_sends_home_assistants_compressed_diffs(
    site: Site, session: aiohttp.ClientSession
) -> None:
    client = await connect(session, site)
    subscription = await client.send("subscribe_entities", entity_ids=["lock.acme_gate", "lock.acme_side"])
    await client.result(subscription)
    gate = site.hub.states.get("lock.acme_gate")
    assert gate is not None
    first = await client.event(subscription)
    assert first == {"a": {"lock.acme_gate": {"s": "locked", "a": {"friendly_name": "Gate"}, "lc": gate.last_changed}}}

    site.hub.states.set("sensor.acme_temperature", "25")  # not asked for
    site.hub.states.set("lock.acme_gate", "locked", {"friendly_name": "Gate", "battery": 80})
    updated = site.hub.states.get("lock.acme_gate")
    assert updated is not None
    assert await client.event(subscription) == {
        "c": {"lock.acme_gate": {"+": {"lu": updated.last_updated, "a": {"battery": 80}}}}
    }
    site.hub.states.set("lock.acme_gate", "unlocked", {"battery": 80})
    diff = (await client.event(subscription))["c"]["lock.acme_gate"]
    assert diff["+"]["s"] == "unlocked" and "lc" in diff["+"] and "lu" not in diff["+"]
    assert diff["-"] == {"a": ["friendly_name"]}

    site.hub.states.set("lock.acme_side", "locked", tenant_id=site.acme.id)
    added = await client.event(subscription)
    assert added["a"]["lock.acme_side"]["s"] == "locked"
    site.hub.states.remove("lock.acme_side")
    assert await client.event(subscription) == {"r": ["lock.acme_side"]}


async def test_an_entity_moving_between_tenants_appears_and_disappears(
    site: Site, session: aiohttp.ClientSession
) -> None:
    client = await connect(session, site)
    subscription = await client.send("subscribe_entities")
    await client.result(subscription)
    await client.event(subscription)
    site.hub.states.set("lock.globex_door", "locked", tenant_id=site.acme.id)
    assert (await client.event(subscription))["a"]["lock.globex_door"]["s"] == "locked"
    site.hub.states.set("lock.globex_door", "locked", tenant_id=site.globex.id)
    assert await client.event(subscription) == {"r": ["lock.globex_door"]}


async def test_coalesced_frames_when_the_client_asks_for_them(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    await client.command("supported_features", features={"coalesce_messages": 1})
    subscription = await client.send("subscribe_events", event_type="state_changed")
    await client.result(subscription)
    for value in range(20):
        site.hub.states.set("sensor.acme_temperature", str(value))
    received = [(await client.event(subscription))["data"]["new_state"]["state"] for _ in range(20)]
    assert received == [str(value) for value in range(20)]
    assert any(isinstance(frame, list) and len(frame) > 1 for frame in client.frames)


# ------------------------------------------------------------------------------------------------ services


async def test_call_service_returns_context_and_response(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    subscription = await client.send("subscribe_events", event_type="state_changed")
    await client.result(subscription)
    result = await client.command(
        "call_service", domain="lock", service="open", target={"entity_id": "lock.acme_gate"}, return_response=True
    )
    assert result["response"] == {"opened": ["lock.acme_gate"]}
    event = await client.event(subscription)
    assert event["data"]["new_state"]["state"] == "unlocked"
    assert event["context"]["id"] == result["context"]["id"]
    assert result["context"]["user_id"] is None  # an API key has no user
    plain = await client.command("call_service", domain="lock", service="open", service_data={"duration": 3})
    assert plain["response"] is None


async def test_call_service_errors(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    missing = await client.error("call_service", domain="lock", service="explode")
    assert missing["code"] == "not_found"
    bad = await client.error("call_service", domain="lock", service="open", service_data={"duration": "long"})
    assert bad["code"] == "invalid_format" and "duration" in bad["fields"]
    viewer = await connect(session, site, "acme_viewer")
    denied = await viewer.error("call_service", domain="lock", service="open", target={"entity_id": "lock.acme_gate"})
    assert denied["code"] == "unauthorized"
    assert site.hub.states.get("lock.acme_gate").state == "locked"  # type: ignore[union-attr]


async def test_a_service_call_is_audited(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    await client.command("call_service", domain="lock", service="open", target={"entity_id": "lock.acme_gate"})
    entries = await site.hub.auth.audit.entries(tenant_id=site.acme.id, action="service.call")
    assert entries and entries[0].target == "lock.open"


# ------------------------------------------------------------------------------------------------ triggers


async def test_subscribe_trigger_state_and_event(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    trigger = [
        {"platform": "state", "entity_id": ["lock.acme_gate", "lock.globex_door"], "to": "unlocked"},
        {"trigger": "event", "event_type": "access_granted", "event_data": {"door": "gate"}, "id": "badge"},
    ]
    subscription = await client.send("subscribe_trigger", trigger=trigger)
    assert (await client.result(subscription))["success"]

    site.hub.states.set("lock.globex_door", "unlocked")  # another tenant's: never fires
    site.hub.states.set("lock.acme_gate", "locked", {"battery": 5})  # attribute only: no
    site.hub.states.set("lock.acme_gate", "unlocked")
    fired = await client.event(subscription)
    state_trigger = fired["variables"]["trigger"]
    assert state_trigger["platform"] == "state" and state_trigger["entity_id"] == "lock.acme_gate"
    assert state_trigger["from_state"]["state"] == "locked" and state_trigger["to_state"]["state"] == "unlocked"
    assert state_trigger["id"] == "0" and state_trigger["idx"] == "0"
    assert set(fired["context"]) == {"id", "parent_id", "user_id"}

    site.hub.bus.fire("access_granted", {"door": "side"}, tenant_id=site.acme.id)
    site.hub.bus.fire("access_granted", {"door": "gate", "person": "Ann"}, tenant_id=site.globex.id)
    site.hub.bus.fire("access_granted", {"door": "gate", "person": "Bob"}, tenant_id=site.acme.id)
    event_trigger = (await client.event(subscription))["variables"]["trigger"]
    assert event_trigger["id"] == "badge" and event_trigger["platform"] == "event"
    assert event_trigger["event"]["data"] == {"door": "gate", "person": "Bob"}

    await client.command("unsubscribe_events", subscription=subscription)
    site.hub.states.set("lock.acme_gate", "locked")
    site.hub.states.set("lock.acme_gate", "unlocked")
    await client.nothing_more(subscription)


@pytest.mark.parametrize(
    ("trigger", "expected"),
    [
        ({"platform": "teleport", "at": "07:00"}, "unknown trigger type 'teleport'"),
        ({"platform": "state"}, "trigger.entity_id: required"),
        ([{"platform": "event", "event_type": "x"}, {"platform": "sun"}], "trigger[1].platform"),
        ({"platform": "state", "entity_id": "lock.a", "for": "soon"}, "trigger.for: invalid duration 'soon'"),
    ],
)
async def test_subscribe_trigger_rejects_what_it_cannot_do(
    site: Site, session: aiohttp.ClientSession, trigger: Any, expected: str
) -> None:
    client = await connect(session, site)
    error = await client.error("subscribe_trigger", trigger=trigger)
    assert error["code"] == "invalid_format"
    assert expected in error["message"]


# --------------------------------------------------------------------------------------------- robustness


async def test_a_slow_client_is_dropped_and_others_keep_receiving(
    site: Site, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(websocket_api, "MAX_PENDING_MESSAGES", 200)
    slow, fast = await connect(session, site), await connect(session, site)
    slow_subscription = await slow.send("subscribe_events", event_type="state_changed")
    await slow.result(slow_subscription)
    fast_subscription = await fast.send("subscribe_events", event_type="state_changed")
    await fast.result(fast_subscription)
    assert websocket_api.open_connections(site.hub) == 2

    padding = "x" * 16384  # 2,000 changes of 16 KiB fill every socket buffer of a client that stops reading
    received: list[str] = []

    async def read_fast() -> None:
        while len(received) < 2000:
            received.append((await fast.event(fast_subscription))["data"]["new_state"]["state"])

    reader = asyncio.create_task(read_fast())
    for value in range(2000):
        site.hub.states.set("sensor.acme_temperature", str(value), {"padding": padding})
        if value % 20 == 0:
            await asyncio.sleep(0.001)
    await asyncio.wait_for(reader, 20)
    assert received == [str(value) for value in range(2000)]
    await wait_for(lambda: websocket_api.open_connections(site.hub) == 1, timeout=10)
    assert sum("too slow" in record.getMessage() for record in caplog.records) == 1
    assert (await fast.command("get_config"))["state"] == "RUNNING"


async def test_hub_stop_closes_connections(site: Site, session: aiohttp.ClientSession) -> None:
    client = await connect(session, site)
    await client.command("subscribe_events")
    stopping = asyncio.create_task(site.hub.stop())
    assert await closed(client.ws) == aiohttp.WSCloseCode.GOING_AWAY
    await stopping
