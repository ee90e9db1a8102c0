"""Persistence: the SQLite event store, the storage guard and shared SQLite file helpers."""
