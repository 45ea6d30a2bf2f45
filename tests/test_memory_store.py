"""Tests of ``MemoryStore``: the shipped contract, plus what only it promises."""

from __future__ import annotations

from userimport.persistence import UserStore
from userimport.stores.memory import MemoryStore
from userimport.testing import UserStoreContract


class TestMemoryStore(UserStoreContract):
    """MemoryStore passes the contract every adapter must pass."""

    def make_store(self) -> UserStore:
        return MemoryStore()
