"""Message validation: every malformed message is refused with a named reason."""
from __future__ import annotations

import json

import pytest

from signaling import messages as m
from signaling.errors import BadMessage, TooLarge
from signaling.sdp import media_sections


@pytest.mark.parametrize("text", [
    "nope", "[]", "1", '{"no": "type"}', '{"type": "publish"}', '{"type": "join", "token": ""}',
    '{"type": "mute", "source": "camera", "muted": "yes"}', '{"type": "ping", "id": -1}',
    '{"type": "ping", "extra": 1}', '{"type": "permit", "participant_id": "p1", "source": "camera"}',
    '{"type": "subscribe", "producer_ids": []}',
    json.dumps({"type": "publish", "sdp": "v=0", "tracks": [{"mid": "0", "source": "mic"}] * 9}),
])
def test_malformed_messages_are_refused(text: str) -> None:
    with pytest.raises(BadMessage):
        m.parse(text)


def test_oversized_messages_are_refused() -> None:
    with pytest.raises(TooLarge):
        m.parse(json.dumps({"type": "ping", "pad": "x" * m.MAX_MESSAGE_BYTES}))


def test_valid_messages_parse_to_their_types() -> None:
    assert isinstance(m.parse('{"type": "join", "id": 1, "token": "t"}'), m.Join)
    publish = m.parse(json.dumps({"type": "publish", "id": 2, "sdp": "v=0", "tracks": [{"mid": "0", "source": "screen"}]}))
    assert isinstance(publish, m.Publish) and publish.tracks[0].source == "screen"
    assert m.request_id('{"type": "fly", "id": 7}') == 7
    assert m.request_id('{"id": true}') is None


def test_media_sections_reads_mids_and_kinds_in_order() -> None:
    sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\na=mid:a0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\na=mid:v1\r\n" \
          "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:d2\r\n"
    assert media_sections(sdp) == [("a0", "audio"), ("v1", "video")]
