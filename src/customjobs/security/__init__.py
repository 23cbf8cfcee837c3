"""Who may do what: bearer-token authentication, per-project roles, and the one access check.

Transports authenticate at their edge (api/rest/auth.py, api/grpc/auth.py) and every API
method, whatever transport reached it, asks `AccessControl` for its permission on the
project it touches (access.py). Permissions are named as Google names them (permissions.py).
"""
