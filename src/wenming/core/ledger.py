"""A tamper-evident, append-only ledger: the base that the fund, the points store and
the time bank subclass.

Each entry belongs to a chain (one account: a fund, a person's points) and carries its
place in it (`seq`), the hash of the entry before it and its own hash: SHA-256 over the
entry's fields as canonical JSON. Anyone holding the entries can recompute the chain
(no key is needed to check it), so a changed, removed or inserted entry shows. The
database refuses updates (an `append_only` trigger in each subclass's migration), a
mistake is put right by a reversing entry, never by an edit, and two appends to one
chain cannot take the same place (a unique constraint, retried).

Subclasses add their own fields and name them in HASHED_FIELDS so they are covered."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

from django.db import IntegrityError, models, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.core.errors import RuleViolation

GENESIS = "0" * 64
APPEND_RETRIES = 5


class LedgerEntry(models.Model):
    chain = models.CharField(max_length=64, db_index=True)
    seq = models.PositiveBigIntegerField()
    amount = models.BigIntegerField()  # integer fen or points; negative goes out
    kind = models.CharField(max_length=30)
    memo = models.CharField(max_length=200, blank=True)
    actor_label = models.CharField(max_length=200, blank=True)
    reverses_id: int | None
    reverses = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    created_at = models.DateTimeField(default=timezone.now)
    prev_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64, unique=True)

    HASHED_FIELDS: ClassVar[tuple[str, ...]] = (
        "chain", "seq", "amount", "kind", "memo", "actor_label", "reverses_id", "created_at",
    )  # fmt: skip

    class Meta:
        abstract = True
        ordering: ClassVar = ["chain", "seq"]
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["chain", "seq"], name="%(app_label)s_%(class)s_one_per_place"
            ),
        ]

    def content(self) -> dict[str, Any]:
        """What the hash covers, as JSON-ready values."""
        values: dict[str, Any] = {}
        for name in self.HASHED_FIELDS:
            value = getattr(self, name)
            if isinstance(value, dt.datetime):
                value = value.astimezone(dt.UTC).isoformat(timespec="microseconds")
            values[name] = value
        return values

    def compute_hash(self) -> str:
        canonical = json.dumps(
            {"prev": self.prev_hash, **self.content()},
            sort_keys=True,
            ensure_ascii=False,
            separators=(",", ":"),
            default=str,
        )
        return hashlib.sha256(canonical.encode()).hexdigest()


E = TypeVar("E", bound=LedgerEntry)


def ledger_append(
    model: type[E],
    *,
    chain: str,
    amount: int,
    kind: str,
    memo: str = "",
    actor_label: str = "",
    reverses: E | None = None,
    **extra: Any,
) -> E:
    """Append one entry at the end of `chain`. Concurrent appends to one chain queue on
    a transaction-scoped advisory lock of the chain on PostgreSQL (SQLite writes one at
    a time anyway), so even the first entries of a new chain take their places in turn;
    the unique (chain, seq) constraint is the guarantee, retried if ever hit."""
    if not isinstance(amount, int) or isinstance(amount, bool):
        raise RuleViolation(_("金额须为整数。"), field="amount")
    for _attempt in range(APPEND_RETRIES):
        try:
            with transaction.atomic():
                ledger_lock(model, chain)
                last = (
                    model._default_manager.select_for_update()
                    .filter(chain=chain)
                    .order_by("-seq")
                    .only("seq", "entry_hash")
                    .first()
                )
                entry = model(
                    chain=chain,
                    seq=(last.seq + 1) if last else 1,
                    amount=amount,
                    kind=kind,
                    memo=memo[:200],
                    actor_label=actor_label[:200],
                    reverses=reverses,
                    created_at=timezone.now(),
                    prev_hash=last.entry_hash if last else GENESIS,
                    **extra,
                )
                entry.entry_hash = entry.compute_hash()
                entry.save(force_insert=True)
                return entry
        except IntegrityError:
            if reverses is not None and model._default_manager.filter(reverses=reverses).exists():
                raise RuleViolation(_("该笔记录已经冲正过了。"), code="already_reversed") from None
            continue  # another append took the place: read the new end and try again
    raise RuleViolation(_("记账繁忙，请稍后再试。"), code="busy")


def ledger_lock(model: type[LedgerEntry], chain: str) -> None:
    """Hold the chain for the rest of the transaction (PostgreSQL; SQLite writes one at
    a time): a check of the balance and the append that depends on it cannot interleave
    with another append to the chain."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"{model._meta.db_table}:{chain}"],
            )


def ledger_reverse(
    model: type[E], *, entry: E, memo: str, actor_label: str = "", **extra: Any
) -> E:
    """Put a mistake right: a new entry of the opposite amount that names the one it
    reverses (at most once; a reversal is not itself reversed)."""
    if not memo.strip():
        raise RuleViolation(_("冲正须写明原因。"), field="memo")
    if getattr(entry, "reverses_id", None) is not None:
        raise RuleViolation(_("冲正记录不能再冲正。"), code="reversal")
    if model._default_manager.filter(reverses=entry).exists():
        raise RuleViolation(_("该笔记录已经冲正过了。"), code="already_reversed")
    return ledger_append(
        model,
        chain=entry.chain,
        amount=-entry.amount,
        kind=entry.kind,
        memo=memo,
        actor_label=actor_label,
        reverses=entry,
        **extra,
    )


def ledger_balance(model: type[LedgerEntry], *, chain: str) -> int:
    return int(
        model._default_manager.filter(chain=chain).aggregate(total=Sum("amount"))["total"] or 0
    )


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""


def ledger_verify(model: type[LedgerEntry], *, chain: str) -> Verification:
    """Recompute the chain from its first entry: every place filled in order, every
    entry pointing at the one before, every hash matching its content."""
    prev, expected_seq, count = GENESIS, 1, 0
    for entry in (
        model._default_manager.filter(chain=chain).order_by("seq").iterator(chunk_size=2000)
    ):
        count += 1
        if entry.seq != expected_seq:
            return Verification(False, count, entry.seq, "missing")
        if entry.prev_hash != prev:
            return Verification(False, count, entry.seq, "broken_link")
        if entry.compute_hash() != entry.entry_hash:
            return Verification(False, count, entry.seq, "altered")
        prev, expected_seq = entry.entry_hash, expected_seq + 1
    return Verification(True, count)
