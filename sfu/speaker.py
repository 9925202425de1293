"""Active speaker from the RFC 6464 audio-level header extension: the loudest voice, held for a
moment so the highlight does not flicker between two people talking over each other."""
from __future__ import annotations

import time
from dataclasses import dataclass, field

SILENCE_DBOV = 127
SPEAKING_DBOV = 50
"""Louder than -50 dBov counts as speech."""
SMOOTHING = 0.3


@dataclass
class SpeakerDetector:
    hold_seconds: float = 1.0
    levels: dict[str, float] = field(default_factory=dict)
    """Smoothed -dBov per producer key (lower is louder)."""
    current: str | None = None
    _since: float = 0.0

    def add(self, key: str, level: int) -> None:
        old = self.levels.get(key, float(SILENCE_DBOV))
        self.levels[key] = old + SMOOTHING * (level - old)

    def remove(self, key: str) -> None:
        self.levels.pop(key, None)
        if self.current == key:
            self.current = None

    def decay(self) -> None:
        for key in self.levels:
            self.levels[key] += SMOOTHING * (SILENCE_DBOV - self.levels[key])

    def evaluate(self, now: float | None = None) -> str | None:
        """The current speaker key (or None), after this tick."""
        now = time.monotonic() if now is None else now
        loudest = min(self.levels.items(), key=lambda kv: kv[1], default=None)
        candidate = loudest[0] if loudest is not None and loudest[1] < SPEAKING_DBOV else None
        if candidate != self.current and (self.current is None or now - self._since >= self.hold_seconds
                                          or self.levels.get(self.current, SILENCE_DBOV) >= SPEAKING_DBOV):
            self.current = candidate
            self._since = now
        return self.current
