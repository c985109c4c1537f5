"""``subscribe_trigger`` on the WebSocket API uses the engine's trigger platforms: every type, ``for`` included,
scoped to the caller's tenant."""

from __future__ import annotations

import aiohttp

from hub.auth.scope import Role


async def _connect(session: aiohttp.ClientSession, hub, token: str) -> aiohttp.ClientWebSocketResponse:
    ws = await session.ws_connect(f"{hub.http.url}/api/websocket")
    assert (await ws.receive_json())["type"] == "auth_required"
    await ws.send_json({"type": "auth", "access_token": token})
    assert (await ws.receive_json())["type"] == "auth_ok"
    return ws


async def test_template_and_state_for_triggers_over_websocket(http_hub, make_user, api_session) -> None:
    acme = await http_hub.tenants.create("acme")
    globex = await http_hub.tenants.create("globex")
    operator = await make_user(http_hub, acme, Role.OPERATOR)
    http_hub.states.set("sensor.people", "1", tenant_id=acme.id)
    http_hub.states.set("sensor.vault", "1", tenant_id=globex.id)
    ws = await _connect(api_session, http_hub, operator.access_token)
    trigger = [
        {"trigger": "template", "value_template": "{{ states('sensor.people') | int > 3 }}", "id": "crowd"},
        {"trigger": "state", "entity_id": "sensor.people", "to": "9", "for": {"milliseconds": 50}, "id": "held"},
        {"trigger": "template", "value_template": "{{ states('sensor.vault') | int > 3 }}", "id": "spy"},
    ]
    await ws.send_json({"id": 1, "type": "subscribe_trigger", "trigger": trigger})
    assert (await ws.receive_json(timeout=5))["success"] is True

    http_hub.states.set("sensor.vault", "9", tenant_id=globex.id)  # another tenant's: never fires
    http_hub.states.set("sensor.people", "9", tenant_id=acme.id)
    first = (await ws.receive_json(timeout=5))["event"]["variables"]["trigger"]
    second = (await ws.receive_json(timeout=5))["event"]["variables"]["trigger"]
    assert (first["id"], first["platform"]) == ("crowd", "template")
    assert first["to_state"]["state"] == "9" and isinstance(first["to_state"]["last_changed"], str)
    assert (second["id"], second["for"]) == ("held", 0.05)
    await ws.close()
