"""Board documents: ops, snapshots, rendering."""
