"""Time the Excel import of volunteers on PostgreSQL: check (read + validate) and apply
(write), separately and together, with peak memory.

    python bench/import_volunteers.py [--rows 100000] [--sqlite] [--profile DIR] [--tracemalloc]

Generates a workbook of synthetic, realistic volunteers for the demo county (贾汪区
320305): Chinese names, checksum-valid ID numbers with plausible birth dates (1% minors
with a guardian), unique mobile numbers, skills, service times, villages of the county.
The workbook is written by a child process, so the peak memory printed (ru_maxrss of
this process) is that of the check and the import alone. The database is a dedicated
one (`wenming_bench_import`), dropped and recreated, migrated, with the demo county
loaded. Target: 100,000 rows in under 60 s and 500 MB. Figures print last, one a line.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import datetime as dt
import json
import os
import pstats
import random
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "src"))

PG_URL = "postgres://postgres@127.0.0.1:5432/wenming_bench_import"
TARGET_SECONDS = 60.0
TARGET_MB = 500.0

SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕"
    "苏卢蒋蔡贾丁魏薛叶阎"
)
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍建国志红文辉鹏飞宇欣怡浩然"
    "子涵梓轩晨曦俊豪雨婷思远嘉"
)
PHONE_PREFIXES = ["135", "136", "137", "138", "139", "150", "151", "152", "157", "158", "159",
                  "182", "183", "187", "188", "130", "131", "132", "155", "156", "185", "186",
                  "133", "153", "180", "181", "189", "177", "199"]  # fmt: skip
POLITICAL = ["群众", "群众", "群众", "中共党员", "共青团员", ""]
SLOTS = ["工作日白天", "工作日晚上", "周末白天", "周末晚上"]


def rss_mb() -> float:
    """Peak resident memory of this process in MB: VmHWM on Linux (ru_maxrss survives
    fork+exec there, so a child would report its parent's peak), else ru_maxrss."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ---------------------------------------------------------------- the workbook (child)


def generate(path: Path, rows: int, seed: int = 20261129) -> None:
    """Write the workbook (write-only, streaming). Runs in a child process."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wenming.settings")
    os.environ.setdefault("WENMING_TESTING", "1")
    import csv

    import django

    django.setup()
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from stdnum.cn import ric

    from wenming.volunteers import excel

    rng = random.Random(seed)
    regions = list(csv.DictReader((ROOT / "src/wenming/data/regions-320305.csv").open()))
    towns = {r["code"]: r["name"] for r in regions if r["code"].endswith("000") and
             r["code"][6:9] != "000"}  # fmt: skip
    villages = [
        f"{towns[r['code'][:9] + '000']}·{r['name']}（{r['code']}）"
        for r in regions
        if not r["code"].endswith("000")
    ]
    skills = ["理论宣讲", "文艺演出", "医疗卫生", "科学普及", "法律咨询", "心理疏导", "助老助残",
              "儿童关爱", "环境保护", "应急救援"]  # fmt: skip
    today = dt.date(2026, 11, 29)
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(excel.SHEET_TITLE)
    ws.append([excel._marked(c) for c in excel.COLUMNS])
    text_format = {excel.COLUMN_INDEX[k] for k in ("phone", "id_number", "guardian_phone")}
    phones = rng.sample(range(100_000_000), rows + rows // 50 + 10)
    base_day = dt.date(1950, 1, 1)
    span = (dt.date(2006, 12, 31) - base_day).days
    for i in range(rows):
        minor = i % 100 == 99
        # Unique (birth date, sequence) pairs; sequences from 500 up, since the demo
        # volunteers use 000–299 and 998–999.
        if minor:
            birth = dt.date(2010, 1, 1) + dt.timedelta(days=i // 100)
            sequence = 900
        else:
            birth = base_day + dt.timedelta(days=(i * 7919) % span)
            sequence = 500 + i // span
        body = f"320305{birth:%Y%m%d}{sequence:03d}"
        number = body + ric.calc_check_digit(body + "0")
        given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
        values = {
            "name": rng.choice(SURNAMES) + given,
            "phone": f"{rng.choice(PHONE_PREFIXES)}{phones[i]:08d}",
            "id_type": "居民身份证",
            "id_number": number,
            "region": rng.choice(villages),
            "skills": "、".join(rng.sample(skills, rng.choice([0, 1, 1, 2, 2, 3]))),
            "availability": "、".join(rng.sample(SLOTS, rng.choice([1, 1, 2]))),
            "political_status": rng.choice(POLITICAL),
            "consent": "是",
        }
        if minor:
            values["guardian_name"] = rng.choice(SURNAMES) + rng.choice(GIVEN) + rng.choice(GIVEN)
            values["guardian_phone"] = f"139{phones[rows + i // 50]:08d}"
            values["guardian_consent"] = "是"
        cells = []
        for index, column in enumerate(excel.COLUMNS):
            cell = WriteOnlyCell(ws, value=values.get(column.key, ""))
            if index in text_format:
                cell.number_format = "@"
            cells.append(cell)
        ws.append(cells)
    del today
    wb.save(path)
    _add_dimension(path, rows + 1, len(excel.COLUMNS))


def _add_dimension(path: Path, rows: int, columns: int) -> None:
    """Write the sheet's <dimension> as Excel, WPS and LibreOffice do (openpyxl's
    write-only mode leaves it out, and a reader then scans the whole sheet for it)."""
    import shutil
    import zipfile

    from openpyxl.utils import get_column_letter

    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename.startswith("xl/worksheets/sheet") and b"<dimension" not in data:
                tag = f'<dimension ref="A1:{get_column_letter(columns)}{rows}"/>'.encode()
                end = data.index(b">", data.index(b"<worksheet")) + 1
                if b"</sheetPr>" in data:
                    end = data.index(b"</sheetPr>") + len(b"</sheetPr>")
                data = data[:end] + tag + data[end:]
            dst.writestr(item, data)
    shutil.move(tmp, path)


# ---------------------------------------------------------------- the benchmark


def setup_django(database_url: str | None) -> None:
    os.environ.update(
        {
            "WENMING_DATA_DIR": tempfile.mkdtemp(prefix="wenming-bench-"),
            "SECRET_KEY": "bench-" + base64.b64encode(os.urandom(30)).decode(),
            "WENMING_DATA_KEY": base64.b64encode(os.urandom(32)).decode(),
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "wenming.settings",
        }
    )
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    else:
        os.environ.pop("DATABASE_URL", None)
    import django

    django.setup()


def profiled(profile_dir: Path | None, name: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    if profile_dir is None:
        return fn(*args, **kwargs)
    profiler = cProfile.Profile()
    result = profiler.runcall(fn, *args, **kwargs)
    out = profile_dir / f"{name}.txt"
    with out.open("w") as fh:
        pstats.Stats(profiler, stream=fh).sort_stats("cumulative").print_stats(40)
        pstats.Stats(profiler, stream=fh).sort_stats("tottime").print_stats(30)
    return result


def measure(
    book: Path, rows: int, profile_dir: Path | None, trace: bool = False
) -> dict[str, float]:
    """Check and import in this (fresh) process, as a job worker would; return figures."""
    from wenming.accounts.models import User
    from wenming.core.jobs import JobProgress, job_create, job_finish, job_start
    from wenming.core.models import Job
    from wenming.volunteers import excel
    from wenming.volunteers.models import Volunteer

    actor = User.objects.get_by_phone("13800000001")  # the demo county admin
    before = Volunteer.objects.count()
    rss_start = rss_mb()
    if trace:
        tracemalloc.start()
    job = job_create(actor=actor, kind=excel.KIND_CHECK, region_code="320305000000",
                     total=rows, params={"upload": "", "sha256": ""})  # fmt: skip
    job_start(job_id=job.pk)
    t0 = time.perf_counter()
    result = profiled(
        profile_dir, "check", excel.check_workbook,
        actor=actor, path=book, progress=JobProgress(job.pk, rows),
    )  # fmt: skip
    check_s = time.perf_counter() - t0
    job_finish(job_id=job.pk, result=result.as_dict(sha256="bench"))
    rss_check = rss_mb()

    job = Job.objects.get(pk=job.pk)
    apply_job = job_create(actor=actor, kind=excel.KIND_APPLY, total=result.valid,
                           params={"check_job": job.pk, "mode": "valid"})  # fmt: skip
    job_start(job_id=apply_job.pk)
    t1 = time.perf_counter()
    applied = profiled(
        profile_dir, "apply", excel.import_apply,
        actor=actor, check_job=job, mode=excel.MODE_VALID, apply_job_id=apply_job.pk,
        progress=JobProgress(apply_job.pk, result.valid, detached=True),
    )  # fmt: skip
    apply_s = time.perf_counter() - t1
    traced = tracemalloc.get_traced_memory()[1] / 1e6 if trace else 0.0
    return {
        "tracemalloc_peak_mb": traced,
        "valid": result.valid,
        "invalid": len(result.invalid_rows),
        "imported": applied.imported,
        "in_database": Volunteer.objects.count() - before,
        "numbered": Volunteer.objects.filter(number__isnull=False).count() - before,
        "check_s": check_s,
        "apply_s": apply_s,
        "rss_start_mb": rss_start,
        "rss_check_mb": rss_check,
        "peak_rss_mb": rss_mb(),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--profile", type=Path, help="write cProfile reports to this folder")
    parser.add_argument("--generate", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--tracemalloc",
        action="store_true",
        help="also report the peak of Python allocations (slows the run about 2x)",
    )
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate(args.generate, args.rows)
        return
    if args.measure:
        import django

        django.setup()
        figures = measure(args.measure, args.rows, args.profile, args.tracemalloc)
        print("FIGURES " + json.dumps(figures))
        return

    workdir = Path(tempfile.mkdtemp(prefix="wenming-bench-import-"))
    book = workdir / "volunteers.xlsx"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, __file__, "--generate", str(book), "--rows", str(args.rows)],
        check=True,
        env={**os.environ, "WENMING_DATA_DIR": str(workdir)},
    )
    generated_s = time.perf_counter() - started
    size_mb = book.stat().st_size / 1e6
    print(f"generated {args.rows:,} rows ({size_mb:.1f} MB) in {generated_s:.1f} s")

    database_url = None if args.sqlite else PG_URL
    if database_url:
        from bench import server

        server.reset_postgres(database_url)
    setup_django(database_url)
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("demo_load", verbosity=0)

    # The check and the import run in a fresh process (as in a job worker), so that its
    # peak memory is theirs, not the migration's or the demo loader's.
    command = [sys.executable, __file__, "--measure", str(book), "--rows", str(args.rows)]
    if args.profile:
        args.profile.mkdir(parents=True, exist_ok=True)
        command += ["--profile", str(args.profile)]
    if args.tracemalloc:
        command.append("--tracemalloc")
    out = subprocess.run(command, check=True, env=dict(os.environ), capture_output=True, text=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("FIGURES "))
    f = json.loads(line.removeprefix("FIGURES "))
    total_s = f["check_s"] + f["apply_s"]
    scale = args.rows / 100_000
    ok = total_s < TARGET_SECONDS * scale and f["peak_rss_mb"] < TARGET_MB
    db = "sqlite" if args.sqlite else "postgresql"
    slow = (
        " (timings slowed by --profile/--tracemalloc)" if args.profile or args.tracemalloc else ""
    )
    print(f"database {db}; workbook {size_mb:.1f} MB; mode valid{slow}")
    print(f"import.rows {args.rows}")
    print(f"import.valid {f['valid']}")
    print(f"import.invalid {f['invalid']}")
    print(f"import.imported {f['imported']}")
    print(f"import.in_database {f['in_database']}")
    print(f"import.numbered {f['numbered']}")
    print(f"import.check_s {f['check_s']:.1f}")
    print(f"import.apply_s {f['apply_s']:.1f}")
    print(f"import.total_s {total_s:.1f}")
    print(f"import.check_rows_per_s {args.rows / f['check_s']:.0f}")
    print(f"import.apply_rows_per_s {f['imported'] / f['apply_s']:.0f}")
    print(f"import.total_rows_per_s {args.rows / total_s:.0f}")
    print(f"import.rss_start_mb {f['rss_start_mb']:.0f}")
    print(f"import.rss_after_check_mb {f['rss_check_mb']:.0f}")
    print(f"import.peak_rss_mb {f['peak_rss_mb']:.0f}")
    if args.tracemalloc:
        print(f"import.tracemalloc_peak_mb {f['tracemalloc_peak_mb']:.0f}")
    verdict = "PASS" if ok else "FAIL"
    target = f"< {TARGET_SECONDS:.0f} s and < {TARGET_MB:.0f} MB per 100,000 rows"
    print(f"import.target {verdict} ({target})")


if __name__ == "__main__":
    main()
