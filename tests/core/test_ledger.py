"""core.ledger on a concrete subclass (tests.ledger_app.Entry): appends chain, the chain
verifies, a reversal is the only correction, the database refuses edits, and a changed
entry shows on verification; on PostgreSQL, concurrent appends never share a place."""

from __future__ import annotations

import threading

import pytest
from django.db import DatabaseError, connection, transaction

from tests.ledger_app.models import Entry
from wenming.core.errors import RuleViolation
from wenming.core.ledger import (
    GENESIS,
    ledger_append,
    ledger_balance,
    ledger_reverse,
    ledger_verify,
)


def _append(amount: int, chain: str = "account:1", **kw) -> Entry:
    return ledger_append(Entry, chain=chain, amount=amount, kind="earn", **kw)


def test_appends_chain_and_verify(db):
    a = _append(100, reference="A-1")
    b = _append(-30, memo="兑换毛巾")
    _append(5, chain="account:2")
    assert (a.seq, b.seq) == (1, 2)
    assert a.prev_hash == GENESIS and b.prev_hash == a.entry_hash
    assert ledger_balance(Entry, chain="account:1") == 70
    assert ledger_verify(Entry, chain="account:1").ok
    assert ledger_verify(Entry, chain="account:1").entries == 2


def test_the_hash_is_recomputable_by_anyone(db):
    """Plain SHA-256 over canonical JSON: no key is needed to check an entry."""
    import hashlib
    import json

    e = _append(42, reference="R")
    content = json.dumps(
        {"prev": e.prev_hash, **e.content()},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=str,
    )
    assert hashlib.sha256(content.encode()).hexdigest() == e.entry_hash
    assert e.content()["reference"] == "R"  # the subclass's own field is covered


def test_a_reversal_is_the_only_correction(db):
    e = _append(100)
    r = ledger_reverse(Entry, entry=e, memo="录错了")
    assert (r.amount, r.reverses_id, r.seq) == (-100, e.pk, 2)
    assert ledger_balance(Entry, chain="account:1") == 0
    before = list(Entry.objects.values())
    for bad in (
        lambda: ledger_reverse(Entry, entry=e, memo="再冲一次"),
        lambda: ledger_reverse(Entry, entry=r, memo="冲正的冲正"),
        lambda: ledger_reverse(Entry, entry=_fresh(e), memo=""),
    ):
        with pytest.raises(RuleViolation):
            bad()
    assert list(Entry.objects.values()) == before
    assert ledger_verify(Entry, chain="account:1").ok


def _fresh(entry: Entry) -> Entry:
    return Entry.objects.get(pk=entry.pk)


@pytest.mark.parametrize("amount", [1.5, "10", True])
def test_amounts_are_integers(db, amount):
    with pytest.raises(RuleViolation):
        _append(amount)
    assert not Entry.objects.exists()


def test_the_database_refuses_edits(db):
    e = _append(100)
    with pytest.raises(DatabaseError), transaction.atomic():
        Entry.objects.filter(pk=e.pk).update(amount=1_000_000)
    assert _fresh(e).amount == 100


@pytest.mark.parametrize("how", ["altered", "missing", "broken_link"])
def test_verification_finds_a_changed_chain(db, how):
    entries = [_append(n) for n in (10, 20, 30)]
    table = Entry._meta.db_table
    with connection.cursor() as cursor:
        # As an attacker with database access would: the trigger out of the way first.
        if connection.vendor == "postgresql":
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(f"DROP TRIGGER {table}_append_only ON {table}")
        else:
            cursor.execute(f"DROP TRIGGER {table}_append_only")
        if how == "altered":
            cursor.execute(f"UPDATE {table} SET amount = 99 WHERE id = %s", [entries[1].pk])
        elif how == "missing":
            cursor.execute(f"DELETE FROM {table} WHERE id = %s", [entries[1].pk])
        else:
            cursor.execute(
                f"UPDATE {table} SET prev_hash = %s WHERE id = %s", [GENESIS, entries[2].pk]
            )
    result = ledger_verify(Entry, chain="account:1")
    assert not result.ok
    assert (result.first_bad_seq, result.reason) == ((2, how) if how == "altered" else (3, how))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_take_distinct_places():
    from django.db import connections

    start = threading.Barrier(12)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            _append(n + 1, reference=f"T{n}")
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(Entry.objects.values_list("seq", flat=True)) == list(range(1, 13))
    assert ledger_balance(Entry, chain="account:1") == sum(range(1, 13))
    assert ledger_verify(Entry, chain="account:1").ok
