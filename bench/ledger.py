"""Time the fund ledger on PostgreSQL: concurrent appends and a full verify.

    python bench/ledger.py [--writers 16] [--appends 4000] [--entries 1000000]

1. Appends: `--writers` threads (each its own connection) book `--appends` donations in
   all through the real service (`fund.services.donation_record`: chain lock, receipt
   number, ledger entry, donation, audit event), into one fund. Target: at least 500
   entries a second, and the chain unforked (verified afterwards).
2. Verify: a second fund's chain of `--entries` entries (written directly, hashes and
   links computed as the service does) is recomputed by `core.checkpoints.verify`.
   Target for 1,000,000 entries: under 15 s and under 300 MB peak memory.

The database is a dedicated one (`wenming_bench_ledger`), dropped and recreated. Figures
print last, one a line, with the load average.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

PG_URL = "postgres://postgres@127.0.0.1:5432/wenming_bench_ledger"
TARGET_APPENDS_PER_S = 500.0
TARGET_VERIFY_S = 15.0
TARGET_VERIFY_MB = 300.0


def reset_peak() -> None:
    """Start the peak-memory count afresh (Linux: 5 → /proc/self/clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def peak_mb() -> float:
    """This process's peak resident memory since reset_peak() (VmHWM), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def setup() -> None:
    from bench import server

    server.reset_postgres(PG_URL)
    os.environ.update(
        {
            "WENMING_DATA_DIR": tempfile.mkdtemp(prefix="wenming-bench-ledger-"),
            "SECRET_KEY": "bench-" + base64.b64encode(os.urandom(30)).decode(),
            "WENMING_DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "wenming.settings",
            "DATABASE_URL": PG_URL,
            "DB_CONN_MAX_AGE": "0",
        }
    )
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def make_funds() -> tuple[object, object, object]:
    from wenming.accounts.models import User
    from wenming.core.roles import Role
    from wenming.fund import services
    from wenming.network.models import RoleGrant, Unit, UnitKind
    from wenming.network.services import regions_import

    regions_import(
        actor=None,
        rows=[("320000000000", "江苏省"), ("320300000000", "徐州市"), ("320305000000", "贾汪区")],
    )
    center = Unit.objects.create(kind=UnitKind.CENTER, name="中心", region_id="320305000000")
    manager = User.objects.create_user("13600000001", "孙基金", "Bench-pass-2026")
    RoleGrant.objects.create(
        user=manager, role=Role.FUND_MANAGER, region_id="320305000000", unit=center
    )
    busy = services.fund_create(actor=manager, unit_id=center.pk, name="并发基金")
    long = services.fund_create(actor=manager, unit_id=center.pk, name="长账基金")
    return manager, busy, long


def appends(manager: object, fund: object, writers: int, total: int) -> tuple[float, int]:
    from django.db import connections

    from wenming.fund import services

    per_writer = total // writers
    start = threading.Barrier(writers + 1)
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            start.wait()
            for i in range(per_writer):
                services.donation_record(
                    actor=manager,  # type: ignore[arg-type]
                    fund=fund,  # type: ignore[arg-type]
                    data=services.DonationInput(
                        amount=100 + i,
                        donor_kind="individual",
                        channel="bank",
                        donor_name=f"捐赠人{n}-{i}",
                    ),
                )
        except BaseException as exc:
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    start.wait()
    began = time.perf_counter()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    if errors:
        raise SystemExit(f"append errors: {errors[:3]}")
    return elapsed, per_writer * writers


def long_chain(fund: object, entries: int) -> float:
    """Write `entries` linked entries straight into the table (as the service would,
    without the per-entry locks), in batches; returns the seconds it took."""
    from django.utils import timezone

    from wenming.core.ledger import GENESIS
    from wenming.fund.models import FundEntry

    began = time.perf_counter()
    prev, batch, now = GENESIS, [], timezone.now()
    for seq in range(1, entries + 1):
        entry = FundEntry(
            chain=fund.chain,  # type: ignore[attr-defined]
            seq=seq,
            amount=100 + seq % 997,
            kind="donation",
            memo=f"捐赠 JJ-{seq:07d}",
            actor_label="孙基金 (#1)",
            created_at=now + dt.timedelta(microseconds=seq),
            prev_hash=prev,
            fund=fund,
            reference=f"JJ-{seq:07d}",
        )
        entry.entry_hash = entry.compute_hash()
        prev = entry.entry_hash
        batch.append(entry)
        if len(batch) == 5000:
            FundEntry.objects.bulk_create(batch)
            batch = []
    if batch:
        FundEntry.objects.bulk_create(batch)
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--appends", type=int, default=4000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    setup()
    from wenming.core import checkpoints
    from wenming.fund.models import FundEntry

    manager, busy, long = make_funds()

    elapsed, booked = appends(manager, busy, args.writers, args.appends)
    busy_report = checkpoints.verify(FundEntry, busy.chain)  # type: ignore[attr-defined]
    if not busy_report.ok or busy_report.verification.entries != booked:
        raise SystemExit(f"the chain forked or lost entries: {busy_report}")

    written_s = long_chain(long, args.entries)
    import gc

    gc.collect()
    reset_peak()
    began = time.perf_counter()
    report = checkpoints.verify(FundEntry, long.chain)  # type: ignore[attr-defined]
    verify_s = time.perf_counter() - began
    verify_mb = peak_mb()
    if not report.ok:
        raise SystemExit(f"the long chain does not verify: {report}")

    rate = booked / elapsed
    scale = args.entries / 1_000_000
    load = os.getloadavg()
    print(f"wrote the {args.entries:,}-entry chain in {written_s:.1f} s (setup, not timed)")
    print(f"ledger.appends {booked} by {args.writers} writers, chain unforked")
    print(f"ledger.appends_per_s {rate:.0f} (target >= {TARGET_APPENDS_PER_S:.0f})")
    print(f"ledger.verify_entries {report.verification.entries}")
    print(f"ledger.verify_s {verify_s:.1f} (target < {TARGET_VERIFY_S * scale:.1f})")
    print(f"ledger.verify_rss_mb {verify_mb:.0f} (target < {TARGET_VERIFY_MB:.0f})")
    print(f"load_average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    ok = (
        rate >= TARGET_APPENDS_PER_S
        and verify_s < TARGET_VERIFY_S * scale
        and verify_mb < TARGET_VERIFY_MB
    )
    print(f"ledger.targets_met {ok}")


if __name__ == "__main__":
    main()
