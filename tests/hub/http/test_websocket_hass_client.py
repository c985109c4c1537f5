"""Acceptance: Home Assistant's own Python client (hass-client) talks to Gatehouse's WebSocket API.

Nothing of ours runs on the client side: if hass-client can sign in, read states, follow state changes in both of
Home Assistant's subscription forms and call a service, we speak Home Assistant's protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from hass_client import HomeAssistantClient
from hass_client.exceptions import AuthenticationFailed, FailedCommand

from hub.auth.scope import Role
from hub.core import Hub, ServiceCall
from hub.http import VERSION
from hub.testing import HubFactory


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


@pytest.fixture
async def school(hub_factory: HubFactory) -> tuple[Hub, str]:
    """A hub with a tenant's door and a signed-in operator's access token (a JWT, as from /api/auth/login)."""
    hub = await hub_factory(http=True, config={"gatehouse": {"name": "Lakeside School"}})
    school = await hub.tenants.create("lakeside", "Lakeside School")
    other = await hub.tenants.create("hillside", "Hillside School")
    hub.states.set("lock.staff_door", "locked", {"friendly_name": "Staff door"}, tenant_id=school.id)
    hub.states.set("lock.hillside_gate", "locked", tenant_id=other.id)

    def open_door(call: ServiceCall) -> None:
        for entity_id in call.entity_ids:
            hub.states.set(entity_id, "unlocked", {"friendly_name": "Staff door"}, context=call.context)

    hub.services.register("lock", "open", open_door)
    await hub.auth.create_user("officer", "a long enough password", tenant_id=school.id, role=Role.OPERATOR)
    tokens = await hub.auth.login("officer", "a long enough password", address="127.0.0.1")
    return hub, tokens.access_token


async def test_hass_client_reads_follows_and_calls(school: tuple[Hub, str], session: aiohttp.ClientSession) -> None:
    hub, token = school
    async with HomeAssistantClient(f"{hub.http.url}/api/websocket", token, session) as client:
        assert client.version == VERSION
        states = await client.get_states()
        assert [state["entity_id"] for state in states] == ["lock.staff_door"]
        assert states[0]["attributes"]["friendly_name"] == "Staff door"
        config = await client.get_config()
        assert config["location_name"] == "Lakeside School" and config["state"] == "RUNNING"
        assert "open" in (await client.get_services())["lock"]

        events: asyncio.Queue[Any] = asyncio.Queue()
        entity_updates: asyncio.Queue[Any] = asyncio.Queue()
        stop_events = await client.subscribe_events(events.put_nowait, "state_changed")
        stop_entities = await client.subscribe_entities(entity_updates.put_nowait, ["lock.staff_door"])
        first = await asyncio.wait_for(entity_updates.get(), 5)
        assert first["a"]["lock.staff_door"]["s"] == "locked"

        result = await client.call_service("lock", "open", target={"entity_id": "lock.staff_door"})
        assert set(result["context"]) >= {"id", "user_id"}

        event = await asyncio.wait_for(events.get(), 5)
        assert event["event_type"] == "state_changed"
        assert event["data"]["new_state"]["state"] == "unlocked"
        assert event["context"]["id"] == result["context"]["id"]
        assert event["context"]["user_id"] == result["context"]["user_id"] is not None
        change = await asyncio.wait_for(entity_updates.get(), 5)
        assert change["c"]["lock.staff_door"]["+"]["s"] == "unlocked"

        with pytest.raises(FailedCommand, match="not found"):
            await client.call_service("lock", "open", target={"entity_id": "lock.hillside_gate"})
        hub.states.set("lock.hillside_gate", "unlocked")  # another tenant's: never reaches this client
        await client.get_config()  # a round trip: anything sent before its result has arrived
        await asyncio.sleep(0.05)  # hass-client hands messages to callbacks with call_soon
        assert events.empty() and entity_updates.empty()

        stop_events()
        stop_entities()
        await client.get_config()


async def test_hass_client_with_a_bad_token_fails_authentication(
    school: tuple[Hub, str], session: aiohttp.ClientSession
) -> None:
    hub, _ = school
    client = HomeAssistantClient(f"{hub.http.url}/api/websocket", "forged", session)
    with pytest.raises(AuthenticationFailed, match="Invalid access token"):
        await client.connect()
