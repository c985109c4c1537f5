"""The API describes itself (OpenAPI 3.1 from the declarations, Swagger UI from local files) and exposes
Prometheus metrics to platform administrators."""

from __future__ import annotations

import re

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from hub.auth.scope import Role
from hub.core import Hub
from hub.http.routing import declarations_of
from hub.testing.http import ApiClient, UserFactory


async def test_the_openapi_document_declares_every_route(http_hub: Hub, anonymous_api: ApiClient) -> None:
    status, document = await anonymous_api.get("/api/openapi.json")

    assert status == 200
    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] and document["info"]["version"]
    assert set(document["components"]["securitySchemes"]) == {"bearer", "session"}
    for declaration in declarations_of(http_hub.http.app):
        path = re.sub(r"\{(\w+):[^}]*\}", r"{\1}", declaration.path)  # {path:.+} is documented as {path}
        operation = document["paths"][path][declaration.method.lower()]
        assert operation["summary"] == declaration.summary
        assert operation["operationId"] == declaration.handler.__name__
        assert operation["tags"]
        assert operation["security"] == ([] if declaration.public else [{"bearer": []}, {"session": []}])
        names = {parameter["name"] for parameter in operation.get("parameters", []) if parameter["in"] == "path"}
        assert names == set(re.findall(r"\{(\w+)\}", path))
        assert ("requestBody" in operation) == (declaration.body is not None)

    claim = document["paths"]["/api/devices/claim"]["post"]
    schema = claim["requestBody"]["content"]["application/json"]["schema"]
    assert set(schema["required"]) == {"manufacturer", "serial_number"}
    assert claim["x-required-role"] == "admin or higher"
    events = document["paths"]["/api/events"]["get"]
    assert {parameter["name"] for parameter in events["parameters"]} >= {"type", "device_id", "acknowledged", "limit"}
    assert (await anonymous_api.get("/api/openapi.json?version=3.0"))[1]["openapi"] == "3.0.3"


async def test_the_docs_page_renders_from_local_files(anonymous_api: ApiClient) -> None:
    status, page = await anonymous_api.get("/api/docs")
    assert status == 200
    assets = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert assets and all(asset.startswith("/api/docs/static/") for asset in assets)
    for asset in assets:
        async with anonymous_api.session.get(anonymous_api.base_url + asset) as response:
            assert response.status == 200, asset
    assert "http://" not in page and "https://" not in page


async def test_metrics_for_platform_administrators(
    http_hub: Hub, anonymous_api: ApiClient, make_user: UserFactory
) -> None:
    school = await http_hub.tenants.create("school")
    await http_hub.devices.claim(school.id, "Acme", "SN-1")
    await http_hub.devices.connected("Acme", "SN-2")
    http_hub.states.set("lock.gate", "locked", tenant_id=school.id)
    http_hub.health.track("gate", "Gate").report_success(50.0)
    http_hub.bus.fire("access_granted", {"person": "Ada"})
    await http_hub.recorder.commit_barrier()
    _key, secret = await http_hub.auth.create_api_key(
        "prometheus", tenant_id=None, role=Role.VIEWER, created_by=None, platform_admin=True
    )
    tenant_admin = await make_user(http_hub, school, Role.OWNER)
    sockets = [await _signed_in_websocket(anonymous_api, secret) for _ in range(2)]

    assert (await anonymous_api.get("/metrics"))[0] == 401
    assert (await tenant_admin.api.get("/metrics"))[0] == 403
    status, text = await anonymous_api.with_token(secret).get("/metrics")
    assert status == 200

    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }
    assert samples[("gatehouse_events_total", (("event_type", "access_granted"),))] == 1
    assert samples[("gatehouse_states", ())] >= 5
    assert samples[("gatehouse_devices", (("held", "false"), ("integration", "Acme"), ("status", "PENDING")))] == 1
    assert samples[("gatehouse_devices", (("held", "true"), ("integration", "Acme"), ("status", "ACTIVE")))] == 1
    assert samples[("gatehouse_health_devices", (("level", "excellent"),))] == 1
    assert samples[("gatehouse_websocket_connections", ())] == 2
    for socket in sockets:
        await socket.close()
    assert samples[("gatehouse_recorder_rows_total", (("table", "events"),))] >= 1
    assert ("gatehouse_recorder_queue", ()) in samples


async def _signed_in_websocket(api: ApiClient, token: str) -> aiohttp.ClientWebSocketResponse:
    socket = await api.session.ws_connect(api.base_url + "/api/websocket")
    assert (await socket.receive_json())["type"] == "auth_required"
    await socket.send_json({"type": "auth", "access_token": token})
    assert (await socket.receive_json())["type"] == "auth_ok"
    return socket
