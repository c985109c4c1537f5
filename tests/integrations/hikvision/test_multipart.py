"""The incremental multipart parser: parts as soon as complete, and every firmware quirk tolerated."""

from __future__ import annotations

import logging

import pytest

from integrations.hikvision.multipart import MultipartReader, Part, boundary_from, parse_headers

XML = b"<EventNotificationAlert><eventType>VMD</eventType><eventState>active</eventState></EventNotificationAlert>"
JSON = b'{"eventType":"AccessControllerEvent","eventState":"active"}'


def _part(
    body: bytes, *, boundary: str = "MIME_boundary", ctype: str = "application/xml", length: bool = True
) -> bytes:
    head = f"--{boundary}\r\nContent-Type: {ctype}\r\n"
    if length:
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body + b"\r\n"


def _feed_all(reader: MultipartReader, data: bytes, step: int) -> list[Part]:
    parts: list[Part] = []
    for i in range(0, len(data), step):
        parts += reader.feed(data[i : i + step])
    return parts


def test_boundary_from_content_type() -> None:
    assert boundary_from("multipart/mixed; boundary=MIME_boundary") == "MIME_boundary"
    assert boundary_from('multipart/form-data; charset=utf-8; boundary="--abc def"') == "--abc def"
    assert boundary_from("multipart/mixed; Boundary=boundary") == "boundary"
    assert boundary_from("multipart/mixed") is None
    assert boundary_from("application/xml; boundary=") is None


def test_headers_are_lower_cased_and_lines_without_colon_ignored() -> None:
    headers = parse_headers(b"Content-Type: application/xml\r\nX-Odd\r\nContent-Length:  12 \r\n")
    assert headers == {"content-type": "application/xml", "content-length": "12"}


def test_a_part_with_content_length_is_returned_before_the_next_boundary_arrives() -> None:
    reader = MultipartReader("MIME_boundary")
    parts = reader.feed(_part(XML))
    assert len(parts) == 1
    assert parts[0].body == XML
    assert parts[0].content_type == "application/xml"
    assert not reader.pending


def test_every_split_point_gives_the_same_parts() -> None:
    stream = b"".join(
        [
            _part(XML),
            _part(JSON, ctype="application/json", length=False),
            _part(XML, length=False),
            b"--MIME_boundary--\r\n",
        ]
    )
    for step in (1, 2, 3, 7, 64, len(stream)):
        reader = MultipartReader("MIME_boundary")
        parts = _feed_all(reader, stream, step)
        assert [p.body for p in parts] == [XML, JSON, XML], step
        assert reader.closed


def test_boundary_declared_with_leading_dashes_matches_either_form() -> None:
    for declared in ("--MIME_boundary", "MIME_boundary"):
        for written in ("MIME_boundary", "--MIME_boundary"):
            reader = MultipartReader(declared)
            assert [p.body for p in reader.feed(_part(XML, boundary=written))] == [XML], (declared, written)


def test_lf_line_ends_and_junk_before_the_first_boundary() -> None:
    data = b"HTTP junk the device wrote\n\n--boundary\nContent-Type: application/xml\n\n" + XML + b"\n--boundary\n"
    reader = MultipartReader("boundary")
    parts = reader.feed(data)
    assert [p.body for p in parts] == [XML]
    assert reader.junk_bytes > 0


def test_missing_content_length_waits_for_the_next_boundary() -> None:
    reader = MultipartReader("b")
    assert reader.feed(_part(XML, boundary="b", length=False)) == []
    assert reader.pending
    parts = reader.feed(b"--b\r\n")
    assert [p.body for p in parts] == [XML]


def test_content_length_too_long_ends_at_the_next_boundary() -> None:
    wrong = b"--b\r\nContent-Type: application/xml\r\nContent-Length: 5000\r\n\r\n" + XML + b"\r\n"
    reader = MultipartReader("b")
    stream = wrong + _part(JSON, boundary="b") + b"x" * 5000
    parts = reader.feed(stream)
    assert [p.body for p in parts][:2] == [XML, JSON]


def test_content_length_too_short_gives_a_cut_body_and_the_stream_continues() -> None:
    short = b"--b\r\nContent-Length: 10\r\n\r\n" + XML + b"\r\n"
    reader = MultipartReader("b")
    parts = reader.feed(short + _part(JSON, boundary="b"))
    assert [p.body for p in parts] == [XML[:10], JSON]


def test_oversized_part_is_skipped_with_one_log_line_and_the_stream_continues(caplog: pytest.LogCaptureFixture) -> None:
    big = b"\xff\xd8" + b"\x00" * 2000
    caplog.set_level(logging.WARNING)
    for length in (True, False):
        caplog.clear()
        reader = MultipartReader("b", max_part_size=1000)
        stream = _part(big, boundary="b", ctype="image/jpeg", length=length) + _part(XML, boundary="b") + b"--b\r\n"
        parts = _feed_all(reader, stream, 300)
        assert [p.body for p in parts] == [XML], length
        assert reader.skipped == 1
        assert len([r for r in caplog.records if "over the 1000 byte limit" in r.getMessage()]) == 1


def test_wrong_boundary_yields_nothing_and_warns_once(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    reader = MultipartReader("expected")
    parts: list[Part] = []
    for _ in range(100):
        parts += reader.feed(_part(XML, boundary="other"))
    assert parts == []
    assert reader.junk_bytes > 8 * 1024
    assert len([r for r in caplog.records if "outside any part" in r.getMessage()]) == 1
    # and the buffer does not grow without bound
    assert len(reader._buf) < 1024


def test_a_part_with_another_boundary_between_good_parts_is_skipped_and_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    reader = MultipartReader("b")
    stream = _part(XML, boundary="b") + _part(JSON, boundary="zz") + _part(JSON, boundary="b")
    stream += _part(XML, boundary="zz") + _part(XML, boundary="b")
    assert [p.body for p in _feed_all(reader, stream, 50)] == [XML, JSON, XML]
    assert len([r for r in caplog.records if "outside any part" in r.getMessage()]) == 1


def test_junk_before_the_first_part_is_not_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    reader = MultipartReader("b")
    assert [p.body for p in reader.feed(b"HTTP/1.1 200 OK\r\n\r\n" + _part(XML, boundary="b"))] == [XML]
    assert caplog.records == []


def test_truncated_stream_leaves_a_pending_part() -> None:
    reader = MultipartReader("b")
    data = _part(XML, boundary="b")
    assert reader.feed(data[:-20]) == []
    assert reader.pending
    assert reader.feed_eof() == []


def test_form_data_with_closing_boundary_without_final_line_end() -> None:
    body = (
        b'--X\r\nContent-Disposition: form-data; name="event_log"\r\nContent-Type: application/json\r\n\r\n'
        + JSON
        + b'\r\n--X\r\nContent-Disposition: form-data; name="Picture"; filename="pic.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe0JPEGDATA\r\n--X--"
    )
    reader = MultipartReader("X")
    parts = reader.feed(body) + reader.feed_eof()
    assert [(p.name, p.filename) for p in parts] == [("event_log", None), ("Picture", "pic.jpg")]
    assert parts[1].body == b"\xff\xd8\xff\xe0JPEGDATA"
    assert reader.closed


def test_boundary_text_inside_a_body_word_is_not_a_boundary() -> None:
    body = b"<a>--bx is not it, nor is --b-- inline</a>"
    reader = MultipartReader("b")
    parts = reader.feed(_part(body, boundary="b", length=False) + b"--b\r\n")
    assert [p.body for p in parts] == [body]


def test_part_without_headers() -> None:
    reader = MultipartReader("b")
    assert [p.body for p in reader.feed(b"--b\r\n\r\n" + JSON + b"\r\n--b\r\n")] == [JSON]
    assert reader.feed(b"\r\n")[:0] == []


def test_empty_boundary_is_refused() -> None:
    with pytest.raises(ValueError, match="empty"):
        MultipartReader("--")
