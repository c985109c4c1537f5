"""The agent protocol's parser: every message shape an agent may send, and a field-named error for the others."""

from __future__ import annotations

import json

import pytest

from integrations.stations import protocol
from integrations.stations.protocol import Ack, Heartbeat, ProtocolError, Validate, parse_agent_message


def parse(message: object) -> protocol.AgentMessage:
    return parse_agent_message(json.dumps(message))


def test_a_heartbeat_carries_remaining_time_and_code_or_nulls_when_idle() -> None:
    assert parse({"type": "heartbeat", "remaining": 1800, "code": "ABC234"}) == Heartbeat(1800, "ABC234")
    assert parse({"type": "heartbeat", "remaining": None, "code": None}) == Heartbeat(None, None)
    assert parse({"type": "heartbeat"}) == Heartbeat(None, None)
    assert parse({"type": "heartbeat", "remaining": 12.7, "code": " abc-234 "}) == Heartbeat(12, "ABC234")


def test_the_seeds_french_names_are_accepted_from_old_agents() -> None:
    assert parse({"type": "heartbeat", "temps_restant": 1800, "code": "ABC234"}) == Heartbeat(1800, "ABC234")
    assert parse({"action": "heartbeat", "temps_restant": 60}) == Heartbeat(60, None)
    # the canonical name wins when an agent sends both
    assert parse({"type": "heartbeat", "remaining": 5, "temps_restant": 900}) == Heartbeat(5, None)


def test_validate_and_ack() -> None:
    assert parse({"type": "validate", "code": "xyz789"}) == Validate("XYZ789")
    assert parse({"type": "ack", "id": "a1b2"}) == Ack("a1b2")


@pytest.mark.parametrize(
    ("message", "code", "field"),
    [
        ({"type": "heartbeat", "remaining": "1800"}, "invalid_message", "remaining"),
        ({"type": "heartbeat", "remaining": True}, "invalid_message", "remaining"),
        ({"type": "heartbeat", "remaining": -1}, "invalid_message", "remaining"),
        ({"type": "heartbeat", "remaining": 10**9}, "invalid_message", "remaining"),
        ({"type": "heartbeat", "temps_restant": "beaucoup"}, "invalid_message", "remaining"),
        ({"type": "heartbeat", "code": 123456}, "invalid_message", "code"),
        ({"type": "heartbeat", "code": "A" * 33}, "invalid_message", "code"),
        ({"type": "validate"}, "invalid_message", "code"),
        ({"type": "validate", "code": "   "}, "invalid_message", "code"),
        ({"type": "validate", "code": ["ABC234"]}, "invalid_message", "code"),
        ({"type": "ack"}, "invalid_message", "id"),
        ({"type": "ack", "id": 7}, "invalid_message", "id"),
        ({"remaining": 10}, "invalid_message", "type"),
        ({"type": 3}, "invalid_message", "type"),
        ({"type": "reboot"}, "unknown_type", "type"),
        ([1, 2], "invalid_message", None),
    ],
)
def test_bad_messages_name_the_field_at_fault(message: object, code: str, field: str | None) -> None:
    with pytest.raises(ProtocolError) as caught:
        parse(message)
    assert caught.value.code == code
    assert caught.value.field == field
    error = caught.value.as_message()
    assert error["type"] == "error" and error["error"] == code and error["field"] == field
    if field is not None:
        assert error["message"].startswith(f"{field}:")


def test_text_that_is_not_json_is_an_invalid_json_error() -> None:
    with pytest.raises(ProtocolError) as caught:
        parse_agent_message("{heartbeat")
    assert caught.value.code == "invalid_json"
    assert "not valid JSON" in caught.value.message


def test_hub_messages_carry_absolute_state_and_an_id() -> None:
    session = protocol.session_message("s1", "ABC234", "2026-11-22T10:00:00+00:00", 1800)
    add_time = protocol.add_time_message("s1", 600, "2026-11-22T10:10:00+00:00", 2400)
    close = protocol.close_session_message("s1", "expired")
    assert session["type"] == "session" and session["remaining"] == 1800 and session["ends_at"].startswith("2026")
    assert add_time["seconds"] == 600 and add_time["remaining"] == 2400 and add_time["ends_at"].endswith("+00:00")
    assert close == {"type": "close_session", "id": close["id"], "session_id": "s1", "reason": "expired"}
    assert len({session["id"], add_time["id"], close["id"]}) == 3
    limited = protocol.error_message("rate_limited", "wait", field="code", retry_after=299.6)
    assert limited["retry_after"] == 300 and json.loads(protocol.dumps(limited)) == limited
