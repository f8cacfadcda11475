"""/healthz: is this deployment working? The database and the broker reachable, and the board
recomputed lately (checks.py); a JSON answer for compose health checks and monitoring
(views.py, urls.py). It names no host, URL or secret."""
