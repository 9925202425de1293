"""The live lesson: one WebSocket session per participant, and one owner task per lesson that
holds its rooms, participants, permissions and subscriptions."""
