"""The kernel's port to the tenancy it enforces but does not own.

Role grants and region names live in the network app (`RoleGrant`, `Region`), which sits
above the kernel; the kernel asks through this port and network plugs its answers in at
start (`network/domain.py`), so that `core` imports no domain (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import NamedTuple


class RegionName(NamedTuple):
    code: str
    name: str


@dataclass(frozen=True)
class Tenancy:
    # A user's live grants: [(role, 12-digit region code)], in one query.
    grants_of_user: Callable[[int], list[tuple[str, str]]]
    # The names of regions, ordered by code; unknown codes are left out.
    region_names: Callable[[Iterable[str]], list[RegionName]]


_current: Tenancy | None = None


def use(tenancy: Tenancy) -> None:
    global _current
    _current = tenancy


def current() -> Tenancy:
    if _current is None:  # pragma: no cover - network is always installed
        raise RuntimeError("no tenancy: the network app did not plug in (network/domain.py)")
    return _current
