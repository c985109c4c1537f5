"""Keyed listeners: one bus listener per event type and key, however many triggers use it."""

from __future__ import annotations

from hub.automation.keyed import listen_keyed


async def test_dispatch_by_value_any_value_and_removal(hub) -> None:
    seen: list[tuple[str, object]] = []
    door1 = listen_keyed(hub, "access", "device_id", ["t1"], lambda event: seen.append(("t1", event.data["n"])))
    both = listen_keyed(hub, "access", "device_id", ["t1", "t2"], lambda event: seen.append(("both", event.data["n"])))
    any_granted = listen_keyed(
        hub,
        "access",
        "device_id",
        None,
        lambda event: seen.append(("any", event.data["n"])),
        lambda event: event.data.get("granted") is True,
    )
    assert hub.bus.listener_counts()["access"] == 1
    hub.bus.fire("access", {"device_id": "t1", "n": 1, "granted": False})
    hub.bus.fire("access", {"device_id": "t2", "n": 2, "granted": True})
    hub.bus.fire("access", {"device_id": ["not", "hashable"], "n": 3, "granted": True})
    hub.bus.fire("access", {"n": 4})
    assert seen == [("t1", 1), ("both", 1), ("both", 2), ("any", 2), ("any", 3)]
    door1()
    both()
    any_granted()
    assert "access" not in hub.bus.listener_counts()
