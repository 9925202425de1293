"""WHIP and WHEP peers' presence is their media connection: it begins when media connects, and a
peer whose connection fails, closes, never connects or falls silent leaves, as a dropped page does."""
from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sfu.transport import WebRtcTransport
    from signaling.participant import Participant

log = logging.getLogger(__name__)


class PeerWatch:
    """The liveness part of a lesson's room (a part of LessonRoom)."""

    def _transport_state(self, participant: Participant, transport: WebRtcTransport, state: str) -> None:
        """A WHIP or WHEP peer's connection is its presence: it begins when media connects and
        ends when the connection fails or closes (a page's presence is its WebSocket)."""
        if participant.left or participant.via == "ws" or transport.closed:
            return
        if state == "connected":
            self._finish(self.attend(participant))
        elif state in ("failed", "closed"):
            if state == "failed":
                log.info("lesson %s: %s session %s of user %s: media connection failed (%s)", self.lesson.id,
                         participant.via, participant.id, participant.user_id,
                         "ICE" if transport.pc.iceConnectionState == "failed" else f"DTLS {transport.pc.dtls_failure}")
            self._vanished(participant, transport)

    def _vanished(self, participant: Participant, transport: WebRtcTransport) -> None:
        silent = transport.silent_for()
        at = datetime.now(UTC) - timedelta(seconds=silent) if silent is not None else None
        if self._remove(participant, "disconnected", at):
            log.info("lesson %s: %s peer %s (user %s) vanished", self.lesson.id, participant.via, participant.id,
                     participant.user_id)
            self._finish(self._after_leave(participant, "disconnected"))

    async def _watch_peers(self) -> None:
        """WHIP and WHEP peers that never connect, or fall silent, leave."""
        interval = max(0.2, min(5.0, self.media.peer_silence.total_seconds() / 3,
                                self.media.connect_timeout.total_seconds() / 3))
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(interval)

            def check() -> None:
                now = loop.time()
                for participant in list(self.participants.values()):
                    transport = participant.send_transport or participant.recv_transport
                    if participant.via == "ws" or transport is None:
                        continue
                    silent = transport.silent_for()  # None: its media never connected
                    if silent is None:
                        if now - participant.created_at > self.media.connect_timeout.total_seconds():
                            self._vanished(participant, transport)
                    elif silent > self.media.peer_silence.total_seconds():
                        self._vanished(participant, transport)

            self.actor.post(check)
