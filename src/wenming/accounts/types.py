"""Who a service acts for, as one type for every service and selector signature.

`Actor` is whoever makes the request: a signed-in `User`, or an anonymous visitor (a
resident ordering through the public page, anyone reading the public activity list).
`Actor | None` where the system acts too (the periodic tasks, the demo loader). A
service that stores who acted does so after its permission check has refused anonymous
visitors, and says so with `user_of(actor)`."""

from __future__ import annotations

from typing import TypeAlias

from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext as _

from wenming.accounts.models import User
from wenming.core.errors import Forbidden

Actor: TypeAlias = User | AnonymousUser


def user_of(actor: Actor | None) -> User:
    """The signed-in person behind `actor`; anyone else is refused (403)."""
    if isinstance(actor, User) and actor.is_authenticated:
        return actor
    raise Forbidden(_("请先登录。"))


def user_or_none(actor: Actor | None) -> User | None:
    """The signed-in person behind `actor`, or None (an anonymous visitor, the system)."""
    return actor if isinstance(actor, User) and actor.is_authenticated else None


def user_id_of(actor: Actor | None) -> int:
    """The actor's user id, or 0 (no row has it) for an anonymous visitor or the system."""
    user = user_or_none(actor)
    return int(user.pk) if user is not None else 0
