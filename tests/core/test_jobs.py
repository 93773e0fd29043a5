"""Background jobs: the lifecycle, throttled progress, only the starter sees a job, the
database refuses an unknown status, and the hourly purge of old uploads and jobs."""

from __future__ import annotations

import datetime as dt
import os
import time

import pytest
from django.db import IntegrityError, connections, transaction
from django.utils import timezone

from wenming.core import jobs
from wenming.core.errors import NotFound
from wenming.core.models import Job
from wenming.core.tasks import purge_jobs_and_uploads


def test_lifecycle_and_percent(cast):
    job = jobs.job_create(actor=cast.county_admin, kind="test.kind", total=200)
    assert (job.status, job.percent, job.finished) == ("queued", 0, False)
    jobs.job_progress(job_id=job.pk, done=50)  # not running yet: left alone
    job.refresh_from_db()
    assert job.done == 0
    jobs.job_start(job_id=job.pk)
    jobs.job_progress(job_id=job.pk, done=50)
    job.refresh_from_db()
    assert (job.status, job.done, job.percent) == ("running", 50, 25)
    assert job.started_at is not None
    jobs.job_finish(job_id=job.pk, result={"n": 1})
    jobs.job_progress(job_id=job.pk, done=60)  # finished: left alone
    job.refresh_from_db()
    assert (job.status, job.done, job.percent, job.result) == ("succeeded", 200, 100, {"n": 1})
    assert job.finished and job.finished_at is not None


def test_fail_keeps_the_message(cast):
    job = jobs.job_create(actor=cast.county_admin, kind="test.kind")
    jobs.job_start(job_id=job.pk)
    jobs.job_fail(job_id=job.pk, error="出错了" * 300)
    job.refresh_from_db()
    assert job.status == "failed" and len(job.error) == 500


def test_progress_is_throttled(cast, django_assert_num_queries):
    job = jobs.job_create(actor=cast.county_admin, kind="test.kind", total=1000)
    jobs.job_start(job_id=job.pk)
    progress = jobs.JobProgress(job.pk, 1000)
    assert progress.step() == 10  # 1%
    with django_assert_num_queries(100):
        for done in range(1, 1001):
            progress(done)
    assert jobs.JobProgress(None, 10**7).step() == jobs.PROGRESS_MAX_STEP
    job.refresh_from_db()
    assert job.done == 991


def test_detached_progress_on_sqlite_waits_for_the_commit(cast, django_assert_num_queries):
    job = jobs.job_create(actor=cast.county_admin, kind="test.kind", total=10)
    jobs.job_start(job_id=job.pk)
    if transaction.get_connection().vendor != "sqlite":
        pytest.skip("SQLite only")
    with django_assert_num_queries(0):
        jobs.job_progress(job_id=job.pk, done=5, detached=True)
    job.refresh_from_db()
    assert job.done == 0  # the import's transaction holds SQLite's only write lock


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_detached_progress_shows_while_the_transaction_is_open(cast):
    """On PostgreSQL the progress of a job that writes in one long transaction is
    written through a second connection, so the bar moves before the commit."""
    job = jobs.job_create(actor=cast.county_admin, kind="test.kind", total=10)
    jobs.job_start(job_id=job.pk)
    with transaction.atomic():
        Job.objects.create(actor=cast.county_admin, kind="test.other")  # an open write
        jobs.job_progress(job_id=job.pk, done=7, detached=True)
        main = connections["default"]
        other = type(main)(dict(main.settings_dict), "default")
        try:
            with other.cursor() as cursor:
                cursor.execute("SELECT done, error FROM core_job WHERE id = %s", [job.pk])
                seen = cursor.fetchone()
                cursor.execute("SELECT count(*) FROM core_job")
                others = cursor.fetchone()
        finally:
            other.close()
    assert seen == (7, "") and others == (1,)  # the open write is not visible yet


def test_only_the_starter_sees_a_job(cast):
    job = jobs.job_create(actor=cast.county_admin, kind="test.kind")
    assert jobs.job_get(actor=cast.county_admin, job_id=job.pk) == job
    for other in (cast.institute_admin, cast.sysadmin, cast.outsider, None):
        with pytest.raises(NotFound):
            jobs.job_get(actor=other, job_id=job.pk)
    with pytest.raises(NotFound):
        jobs.job_get(actor=cast.county_admin, job_id=job.pk, kinds=["other.kind"])


def test_database_refuses_an_unknown_status(cast):
    job = jobs.job_create(actor=cast.county_admin, kind="test.kind")
    with pytest.raises(IntegrityError), transaction.atomic():
        Job.objects.filter(pk=job.pk).update(status="paused")


def test_uploads_have_random_names_and_are_deleted(settings):
    token, sha, size = jobs.upload_save([b"abc", b"def"])
    path = jobs.upload_path(token)
    assert path.parent == settings.DATA_DIR / "uploads"
    assert path.read_bytes() == b"abcdef" and size == 6 and len(sha) == 64
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    jobs.upload_delete(token)
    assert not path.exists()
    for bad in ("../secrets.json", "", "A" * 32):
        with pytest.raises(NotFound):
            jobs.upload_path(bad)


def test_failed_writer_leaves_no_file():
    with pytest.raises(RuntimeError), jobs.UploadWriter() as out:
        out.write(b"partial")
        raise RuntimeError
    assert not jobs.upload_path(out.token).exists()


def test_hourly_purge_of_old_uploads_and_jobs(cast):
    old_token, _sha, _size = jobs.upload_save([b"old"])
    new_token, _sha, _size = jobs.upload_save([b"new"])
    day_ago = time.time() - 25 * 3600
    os.utime(jobs.upload_path(old_token), (day_ago, day_ago))
    old_job = jobs.job_create(actor=cast.county_admin, kind="test.kind")
    running = jobs.job_create(actor=cast.county_admin, kind="test.kind")
    recent = jobs.job_create(actor=cast.county_admin, kind="test.kind")
    jobs.job_finish(job_id=old_job.pk, result={})
    jobs.job_finish(job_id=recent.pk, result={})
    jobs.job_start(job_id=running.pk)
    month_ago = timezone.now() - dt.timedelta(days=31)
    Job.objects.filter(pk__in=[old_job.pk, running.pk]).update(created_at=month_ago)

    result = purge_jobs_and_uploads.call_local()
    assert result == jobs.JobPurgeResult(uploads=1, jobs=1)
    assert not jobs.upload_path(old_token).exists()
    assert jobs.upload_path(new_token).exists()
    assert set(Job.objects.values_list("pk", flat=True)) == {running.pk, recent.pk}
