"""Encrypted backups of a RouteCare database and the keys that read it (`routecare backup`,
`routecare restore`). The archive format is in ``archive.py``, what differs between SQLite and
PostgreSQL in ``databases.py``, the two operations in ``actions.py``."""
