"""The append-only join/leave log and participation reports."""
