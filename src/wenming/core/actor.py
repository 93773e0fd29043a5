"""What the kernel reads of whoever acts. The kernel names no domain, so it cannot name
the user model (accounts sits above it): `Principal` is the shape it needs, which
`accounts.types.Actor` (a signed-in User or an anonymous visitor) satisfies. None is
the system (the periodic tasks, the demo loader)."""

from __future__ import annotations

from typing import Any, Protocol


class Principal(Protocol):
    @property
    def pk(self) -> Any: ...

    @property
    def is_authenticated(self) -> bool: ...

    @property
    def is_active(self) -> bool: ...
