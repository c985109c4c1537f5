"""Device health over REST: summary, each device, check now and reconnect (operators; reconnect audited)."""

from __future__ import annotations

from hub.auth.scope import Role
from hub.core import Hub
from hub.testing.http import UserFactory


async def test_health_summary_devices_and_actions(http_hub: Hub, make_user: UserFactory) -> None:
    school = await http_hub.tenants.create("school")
    answers = [True]

    async def check() -> bool:
        return answers[-1]

    gate = http_hub.health.track("gate_terminal", "Gate terminal", check=check, tenant_id=school.id, interval=3600)
    gate.report_success(120.0)
    http_hub.health.track("parking_camera", "Parking camera", tenant_id=school.id).report_failure("refused")
    http_hub.health.track("vault", "Vault").report_success(10.0)  # no tenant: not the school's
    viewer = await make_user(http_hub, school, Role.VIEWER)
    operator = await make_user(http_hub, school, Role.OPERATOR)

    status, summary = await viewer.api.get("/api/health/summary")
    assert status == 200
    assert (summary["total"], summary["online"], summary["offline"]) == (2, 1, 1)

    status, devices = await viewer.api.get("/api/health/devices")
    assert [(item["key"], item["level"], item["consecutive_failures"]) for item in devices] == [
        ("gate_terminal", "excellent", 0),
        ("parking_camera", "offline", 1),
    ]

    assert (await viewer.api.post("/api/health/devices/gate_terminal/check-now"))[0] == 403
    answers.append(False)
    status, checked = await operator.api.post("/api/health/devices/gate_terminal/check-now")
    assert (status, checked["level"], checked["last_error"]) == (200, "offline", "check failed")
    answers.append(True)
    status, reconnected = await operator.api.post("/api/health/devices/gate_terminal/reconnect")
    assert (status, reconnected["level"], reconnected["consecutive_failures"]) == (200, "excellent", 0)
    assert (await operator.api.post("/api/health/devices/vault/reconnect"))[0] == 404

    admin = await make_user(http_hub, school, Role.ADMIN)
    _, log = await admin.api.get("/api/audit?action=health.reconnect")
    assert [entry["target"] for entry in log] == ["gate_terminal"]
