"""The recorder: a system participant that writes tracks to disk."""
