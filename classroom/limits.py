"""How often one user may do one thing: at most `limit` times in any `window` seconds."""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field


@dataclass
class RateWindow:
    limit: int
    window: float
    """Seconds."""
    _times: dict[int, deque[float]] = field(default_factory=dict)

    def take(self, user_id: int, now: float) -> float:
        """Count one more for `user_id` at `now` (any monotonic clock, seconds) and return 0, or,
        when over the limit, count nothing and return the seconds until one is allowed again."""
        times = self._times.setdefault(user_id, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) >= self.limit:
            return max(0.001, self.window - (now - times[0]))
        times.append(now)
        return 0.0
