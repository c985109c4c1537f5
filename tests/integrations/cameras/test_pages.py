"""The cameras integration's dashboard pages through the hub's real HTTP server and a real session log-in: the
configured cameras with their health, the add-camera wizard, the discovery page; roles and French."""

from __future__ import annotations

from pathlib import Path

import aiohttp

from hub.core import Hub
from hub.tenants import Tenant
from hub.testing import HubFactory
from integrations.cameras.const import DOMAIN

PASSWORD = "correct horse battery"


async def start(hub_factory: HubFactory) -> tuple[Hub, Tenant]:
    hub = await hub_factory(http=True, config={"gatehouse": {"name": "Lakeside School"}})
    tenant = await hub.tenants.create("school", "Lakeside School")
    for role in ("viewer", "operator", "admin"):
        await hub.auth.create_user(role, PASSWORD, tenant_id=tenant.id, role=role, name=f"Ana {role}")
    return hub, tenant


async def get(hub: Hub, username: str, path: str, *, lang: str | None = None) -> tuple[int, str]:
    # unsafe=True: the hub is on 127.0.0.1, and aiohttp's jar drops cookies of IP hosts otherwise.
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        body = {"username": username, "password": PASSWORD, "session": True}
        async with session.post(hub.http.url + "/api/auth/login", json=body) as response:
            assert response.status == 200, await response.text()
        headers = {"Accept-Language": lang} if lang else {}
        async with session.get(hub.http.url + path, allow_redirects=False, headers=headers) as response:
            return response.status, await response.text()


async def test_the_setup_page_lists_cameras_with_their_health(
    hub_factory: HubFactory, video_file: Path, tmp_path: Path
) -> None:
    hub, tenant = await start(hub_factory)
    entry = await hub.config_entries.add(DOMAIN, {"url": str(video_file), "name": "Replay <gate>"}, tenant_id=tenant.id)
    missing = await hub.config_entries.add(DOMAIN, {"url": str(tmp_path / "gone.mp4"), "name": "Gone"},
                                           tenant_id=tenant.id)  # fmt: skip
    await missing.runtime_data.health.check_now()
    other = await hub.tenants.create("other", "Other")
    await hub.config_entries.add(DOMAIN, {"url": str(video_file), "name": "Not yours"}, tenant_id=other.id)

    status, html = await get(hub, "viewer", "/cameras/setup")
    assert status == 200, html
    assert 'href="/cameras/setup"' in html  # the header links the page
    assert "Replay &lt;gate&gt;" in html and "<gate>" not in html  # names are escaped
    assert f'data-entry-id="{entry.entry_id}"' in html and "Not yours" not in html
    assert 'href="/cameras/camera.replay_gate"' in html  # the core's live view
    assert "does not exist" in html  # the health error of the missing file
    assert "Video file" in html
    assert 'data-reconnect="' not in html and 'data-remove-entry="' not in html  # a viewer has no actions
    assert 'id="add-camera-link"' not in html

    status, html = await get(hub, "admin", "/cameras/setup")
    assert 'data-remove-entry="' in html and 'data-reconnect="' in html and 'id="add-camera-link"' in html


async def test_the_wizard_and_discovery_pages_are_for_administrators(hub_factory: HubFactory) -> None:
    hub, _ = await start(hub_factory)
    for path in ("/cameras/add", "/cameras/discovery"):
        status, _ = await get(hub, "operator", path)
        assert status == 403, path
    status, html = await get(hub, "admin", "/cameras/add?host=192.0.2.5&manufacturer=dahua")
    assert status == 200, html
    assert 'id="detect-form"' in html and 'id="camera-form"' in html and "/static/cameras/add.js" in html
    assert 'value="192.0.2.5"' in html and '<option value="dahua" selected>' in html
    assert "Hikvision" in html and "Google Nest (cloud only)" in html
    status, html = await get(hub, "admin", "/cameras/discovery")
    assert status == 200 and 'id="scan-form"' in html and 'id="onvif-form"' in html
    assert "554, 8554, 80" in html


async def test_the_pages_speak_french(hub_factory: HubFactory) -> None:
    hub, _ = await start(hub_factory)
    status, html = await get(hub, "admin", "/cameras/add", lang="fr")
    assert status == 200
    assert "Ajouter une caméra" in html and "Détection automatique" in html
    status, html = await get(hub, "admin", "/cameras/setup", lang="fr")
    assert "Configuration des caméras" in html


async def test_the_static_scripts_are_served(hub_factory: HubFactory) -> None:
    hub, _ = await start(hub_factory)
    async with aiohttp.ClientSession() as session:
        for name in ("setup.js", "add.js", "discovery.js"):
            async with session.get(f"{hub.http.url}/static/cameras/{name}") as response:
                assert response.status == 200, name
                assert "/api/" in await response.text()
