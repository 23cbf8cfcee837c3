"""Web access to running replicas: their URIs, interactive shells on a PTY, and the dashboard port."""
