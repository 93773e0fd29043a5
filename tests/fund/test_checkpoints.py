"""Signed checkpoints and `wenming ledger verify`: a tampered entry is named, and even a
whole-table rewrite with every hash recomputed no longer matches the signed heads."""

from __future__ import annotations

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, transaction

from tests.conftest import make_user
from tests.fund.test_services import give
from wenming.core import checkpoints
from wenming.core.models import LedgerCheckpoint
from wenming.core.roles import Role
from wenming.fund import services
from wenming.fund.models import FundEntry


@pytest.fixture
def fund(net):
    manager = make_user("13600000001", "孙基金", Role.FUND_MANAGER, "320305000000", net.center)
    fund = services.fund_create(actor=manager, unit_id=net.center.pk, name="基金")
    for n in range(4):
        give(manager, fund, 1_000 * (n + 1))
    fund.manager = manager  # type: ignore[attr-defined]
    return fund


def _drop_trigger(table: str) -> None:
    on = f" ON {table}" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only{on}")


def test_a_checkpoint_signs_the_head_once(fund):
    cp = checkpoints.checkpoint(FundEntry, fund.chain)
    assert cp is not None and cp.seq == 4
    assert cp.head_hash == FundEntry.objects.get(seq=4).entry_hash
    assert checkpoints.signature_ok(cp)
    assert checkpoints.checkpoint(FundEntry, fund.chain) is None  # nothing new to sign
    give(fund.manager, fund, 5)
    assert checkpoints.checkpoint(FundEntry, fund.chain).seq == 5
    assert checkpoints.verify(FundEntry, fund.chain).ok
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerCheckpoint.objects.filter(pk=cp.pk).update(head_hash="0" * 64)


def test_a_signature_made_with_another_key_is_refused(fund, settings):
    cp = checkpoints.checkpoint(FundEntry, fund.chain)
    settings.WENMING_LEDGER_KEY = "A" * 43 + "="  # 32 other bytes
    assert not checkpoints.signature_ok(cp)
    report = checkpoints.verify(FundEntry, fund.chain)
    assert (report.ok, report.verification.reason) == (False, "bad_checkpoint_signature")


def test_a_whole_table_rewrite_no_longer_matches_the_checkpoint(fund):
    """Someone with the database's keys changes entry 2 and recomputes every hash after
    it: the chain is consistent again, but the signed head at #4 is not in it."""
    checkpoints.checkpoint(FundEntry, fund.chain)
    _drop_trigger("fund_fundentry")
    prev = FundEntry.objects.get(seq=1).entry_hash
    for entry in FundEntry.objects.filter(seq__gte=2).order_by("seq"):
        entry.prev_hash = prev
        if entry.seq == 2:
            entry.amount = 1
        entry.entry_hash = entry.compute_hash()
        FundEntry.objects.filter(pk=entry.pk).update(
            amount=entry.amount, prev_hash=entry.prev_hash, entry_hash=entry.entry_hash
        )
        prev = entry.entry_hash
    report = checkpoints.verify(FundEntry, fund.chain)
    assert (report.ok, report.verification.first_bad_seq) == (False, 4)
    assert report.verification.reason == "checkpoint_mismatch"


def test_the_command_names_the_first_broken_entry(fund):
    from io import StringIO

    out = StringIO()
    call_command("ledger", "checkpoint", stdout=out)
    assert "signed #4" in out.getvalue()
    call_command("ledger", "verify", stdout=(out := StringIO()))
    assert "OK fund_fundentry" in out.getvalue() and "4 entries, 1 checkpoints" in out.getvalue()
    _drop_trigger("fund_fundentry")
    FundEntry.objects.filter(seq=3).update(amount=999)
    with pytest.raises(CommandError, match="1 chain"):
        call_command("ledger", "verify", stdout=(out := StringIO()))
    assert "BROKEN fund_fundentry" in out.getvalue() and "#3 (altered)" in out.getvalue()


def test_the_public_page_shows_the_checkpoint(client, fund):
    cp = checkpoints.checkpoint(FundEntry, fund.chain)
    page = client.get(f"/fund/public/{fund.pk}/").content.decode()
    assert cp.signature in page and checkpoints.public_key_hex() in page


def _script():
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "scripts" / "verify_fund_ledger.py"
    spec = importlib.util.spec_from_file_location("verify_fund_ledger", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_downloaded_ledger_checks_with_the_standalone_script(client, fund, tmp_path):
    services.donation_refund(
        actor=fund.manager, donation=fund.donations.order_by("id").first(), reason="登记错误"
    )
    checkpoints.checkpoint(FundEntry, fund.chain)
    response = client.get(f"/fund/public/{fund.pk}/entries.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode()
    path = tmp_path / "ledger.csv"
    path.write_text(text, encoding="utf-8")
    script, key = _script(), checkpoints.public_key_hex()
    ok, message = script.verify(str(path), key)
    assert ok, message
    assert "5 entries, 1 checkpoints, signatures checked" in message
    # A changed amount, a wrong key: each is found.
    lines = text.splitlines()
    tampered = tmp_path / "tampered.csv"
    tampered.write_text("\n".join([lines[0], lines[1], lines[2].replace(",2000,", ",2001,"),
                                   *lines[3:]]), encoding="utf-8")  # fmt: skip
    assert script.verify(str(tampered), key) == (
        False,
        "entry #2 was altered (its hash does not match)",
    )
    other_key = "00" * 32
    ok, message = script.verify(str(path), "ab" * 32 if key != "ab" * 32 else other_key)
    assert not ok and "bad signature" in message


def test_chains_reads_one_row_per_chain(fund):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        assert checkpoints.chains(FundEntry) == [fund.chain]
    assert '"seq"' not in ctx.captured_queries[0]["sql"]
