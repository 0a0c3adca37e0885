"""A least-recently-used cache bounded in bytes (not in entries), with an optional share per owner.

A 10,000-path, four-regime result holds hundreds of MB of daily histories while a 500-path one
holds a few MB, so a cache that counts entries cannot bound memory. This one measures each value
(`size_of`: numpy buffers, pandas frames, dataclasses such as `Result`, containers) and evicts the
least recently used entries until the total fits. An owner (e.g. a browser session) may hold at
most `owner_share` of the budget, so one user's heavy runs cannot push out everyone else's.

Pure Python and thread-safe: the app's sessions share one instance; the engine's batch tools can
use it too.
"""

from __future__ import annotations

import dataclasses
import sys
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

import numpy as np


def size_of(value: Any, _seen: set[int] | None = None) -> int:
    """Bytes held by `value`, counting each numpy buffer once (views of one array share it)."""
    seen = set() if _seen is None else _seen
    if id(value) in seen:
        return 0
    seen.add(id(value))
    if isinstance(value, np.ndarray):
        base = value
        while isinstance(base.base, np.ndarray):
            base = base.base
        if base is not value:
            return size_of(base, seen)
        return int(value.nbytes) + sys.getsizeof(value) - (int(value.nbytes) if value.flags.owndata else 0)
    if hasattr(value, "memory_usage") and hasattr(value, "columns"):  # a pandas DataFrame
        return int(value.memory_usage(deep=True, index=True).sum())
    if hasattr(value, "memory_usage") and hasattr(value, "dtype"):  # a pandas Series or Index
        return int(value.memory_usage(deep=True))
    if isinstance(value, bytes | bytearray | str):
        return sys.getsizeof(value)
    if isinstance(value, dict):
        return sys.getsizeof(value) + sum(size_of(k, seen) + size_of(v, seen) for k, v in value.items())
    if isinstance(value, list | tuple | set | frozenset):
        return sys.getsizeof(value) + sum(size_of(v, seen) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return sys.getsizeof(value) + sum(size_of(getattr(value, f.name), seen) for f in dataclasses.fields(value))
    return sys.getsizeof(value)


@dataclasses.dataclass
class _Entry:
    value: Any
    size: int
    owner: Hashable | None


class ByteLRU:
    """get/put with a byte budget; values larger than the budget (or an owner's share) are not kept."""

    def __init__(self, max_bytes: int, *, owner_share: float = 1.0) -> None:
        if max_bytes <= 0 or not 0.0 < owner_share <= 1.0:
            raise ValueError("max_bytes must be positive and owner_share in (0, 1]")
        self.max_bytes = int(max_bytes)
        self.owner_share = float(owner_share)
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._bytes = 0
        self._by_owner: dict[Hashable, int] = {}
        self._lock = threading.Lock()
        self.hits = self.misses = self.evictions = self.refused = 0

    @property
    def bytes(self) -> int:
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._entries

    def get(self, key: Hashable, default: Any = None) -> Any:
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return default
            self._entries.move_to_end(key)
            self.hits += 1
            return entry.value

    def _drop(self, key: Hashable) -> None:
        entry = self._entries.pop(key)
        self._bytes -= entry.size
        if entry.owner is not None:
            self._by_owner[entry.owner] -= entry.size
            if not self._by_owner[entry.owner]:
                del self._by_owner[entry.owner]

    def put(self, key: Hashable, value: Any, *, owner: Hashable | None = None, size: int | None = None) -> bool:
        """Keep `value` under `key`; returns False when it is too large to keep at all."""
        nbytes = size_of(value) if size is None else int(size)
        owner_limit = self.max_bytes * self.owner_share
        with self._lock:
            if key in self._entries:
                self._drop(key)
            if nbytes > self.max_bytes or (owner is not None and nbytes > owner_limit):
                self.refused += 1
                return False
            if owner is not None:  # first the owner's own oldest entries, down to its share
                for old in [k for k, e in self._entries.items() if e.owner == owner]:
                    if self._by_owner.get(owner, 0) + nbytes <= owner_limit:
                        break
                    self._drop(old)
                    self.evictions += 1
            while self._bytes + nbytes > self.max_bytes and self._entries:
                self._drop(next(iter(self._entries)))
                self.evictions += 1
            self._entries[key] = _Entry(value, nbytes, owner)
            self._bytes += nbytes
            if owner is not None:
                self._by_owner[owner] = self._by_owner.get(owner, 0) + nbytes
            return True

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any], *, owner: Hashable | None = None) -> Any:
        """The cached value, or `compute()` kept for next time (computed outside the lock)."""
        sentinel = object()
        value = self.get(key, sentinel)
        if value is sentinel:
            value = compute()
            self.put(key, value, owner=owner)
        return value

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._by_owner.clear()
            self._bytes = 0

    def stats(self) -> dict[str, int]:
        with self._lock:
            return {"entries": len(self._entries), "bytes": self._bytes, "max_bytes": self.max_bytes,
                    "hits": self.hits, "misses": self.misses, "evictions": self.evictions, "refused": self.refused}
