"""Tests of the SQL adapter (a package, so that spawned worker processes can import
the worker functions of :mod:`sql.workers` by name)."""
