"""The web edge: REST API, pages, static UI, auth, health and metrics."""
