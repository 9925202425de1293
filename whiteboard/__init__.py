"""The whiteboard: board documents changed by validated ops (document), their op log and snapshots
in the database (store), rendering and slides."""
