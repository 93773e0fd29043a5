from typing import ClassVar

from django.db import models

from wenming.core.ledger import LedgerEntry


class Entry(LedgerEntry):
    """A points account's entries: one extra field, covered by the hash."""

    reference = models.CharField(max_length=40, blank=True)

    HASHED_FIELDS: ClassVar[tuple[str, ...]] = (*LedgerEntry.HASHED_FIELDS, "reference")

    class Meta(LedgerEntry.Meta):
        pass
