"""One WebSocket session per participant: join, SDP, room commands (issue 3)."""
