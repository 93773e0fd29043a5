"""Background jobs: a row per job for its progress bar and result, and the uploaded files
the jobs read.

A job belongs to the user who started it: `job_get` shows it to them only (anyone else
gets 404). Progress is a cheap conditional UPDATE, throttled by `JobProgress` to about
every 1% (at most every 2,000 items). A job that writes inside one long transaction
still reports progress on PostgreSQL through a second, autocommit connection; on SQLite
the write lock is held by the transaction, so the bar moves when it commits.

Uploaded files live under DATA_DIR/uploads with a random name (never the user's file
name), are deleted when the job no longer needs them, and at the latest by the hourly
purge after UPLOAD_MAX_AGE.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from wenming.core.actor import Principal
from wenming.core.errors import NotFound, ServiceError
from wenming.core.models import Job, JobStatus

log = logging.getLogger(__name__)

UPLOAD_MAX_AGE = dt.timedelta(hours=24)
JOB_MAX_AGE = dt.timedelta(days=30)
PROGRESS_MAX_STEP = 2000
_TOKEN_RE = re.compile(r"[0-9a-f]{32}")


# ---------------------------------------------------------------- uploads


def uploads_dir() -> Path:
    path = Path(settings.DATA_DIR) / "uploads"
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def upload_path(token: str) -> Path:
    """The file of an upload token (a random hex name: nothing a user typed)."""
    if not _TOKEN_RE.fullmatch(token or ""):
        raise NotFound(_("找不到上传的文件，请重新上传。"))
    return uploads_dir() / token


def upload_save(chunks: Iterable[bytes]) -> tuple[str, str, int]:
    """Store an upload under a random name: (token, sha256 hex, size in bytes)."""
    with UploadWriter() as out:
        for chunk in chunks:
            out.write(chunk)
    return out.token, out.sha256, out.size


class UploadWriter:
    """Write a file under a random upload name bit by bit (`with UploadWriter() as w:
    w.write(b"...")`), hashing as it goes; a failure removes the partial file."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self.size = 0
        self._digest = hashlib.sha256()
        path = uploads_dir() / self.token
        self._file = path.open("xb")
        path.chmod(0o600)

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def write(self, data: bytes) -> None:
        self._digest.update(data)
        self.size += len(data)
        self._file.write(data)

    def __enter__(self) -> UploadWriter:
        return self

    def __exit__(self, kind: Any, exc: Any, tb: Any) -> None:
        self._file.close()
        if exc is not None:
            upload_delete(self.token)


def upload_delete(*tokens: str) -> None:
    for token in tokens:
        if token and _TOKEN_RE.fullmatch(token):
            (uploads_dir() / token).unlink(missing_ok=True)


# ---------------------------------------------------------------- jobs


def job_create(
    *,
    actor: Principal,
    kind: str,
    region_code: str = "",
    total: int = 0,
    params: dict[str, Any] | None = None,
) -> Job:
    return Job.objects.create(
        kind=kind,
        actor_id=actor.pk,
        region_code=region_code,
        total=total,
        params=params or {},
    )


def job_start(*, job_id: int, total: int | None = None) -> None:
    fields: dict[str, Any] = {"status": JobStatus.RUNNING, "started_at": timezone.now()}
    if total is not None:
        fields["total"] = total
    Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(**fields)


def _side_update(job_id: int, done: int, total: int | None) -> None:
    """The UPDATE on a second autocommit connection, visible while the caller's
    transaction is still open (PostgreSQL only; see the module docstring)."""
    main = connections[DEFAULT_DB_ALIAS]
    side = type(main)(dict(main.settings_dict), DEFAULT_DB_ALIAS)
    try:
        with side.cursor() as cursor:
            if total is None:
                cursor.execute(
                    "UPDATE core_job SET done = %s WHERE id = %s AND status = %s",
                    [done, job_id, JobStatus.RUNNING],
                )
            else:
                cursor.execute(
                    "UPDATE core_job SET done = %s, total = %s WHERE id = %s AND status = %s",
                    [done, total, job_id, JobStatus.RUNNING],
                )
    finally:
        side.close()


def job_progress(
    *, job_id: int, done: int, total: int | None = None, detached: bool = False
) -> None:
    """Record progress: one conditional UPDATE (a finished job is left alone).

    `detached`: the caller holds a long transaction open, which would hide the UPDATE
    until it commits; write through a second connection instead (PostgreSQL), or not
    at all (SQLite, where that transaction holds the only write lock)."""
    if detached:
        if connection.vendor == "postgresql":
            _side_update(job_id, done, total)
        return
    fields: dict[str, Any] = {"done": done}
    if total is not None:
        fields["total"] = total
    Job.objects.filter(pk=job_id, status=JobStatus.RUNNING).update(**fields)


@dataclass
class JobProgress:
    """Call with the running count; writes about every 1% (at most every 2,000)."""

    job_id: int | None
    total: int
    detached: bool = False
    _next: int = 0

    def step(self) -> int:
        return max(1, min(PROGRESS_MAX_STEP, self.total // 100 or 1))

    def begin(self, total: int) -> None:
        """The total is known (a file's declared rows): record it, with nothing done."""
        self.total = total
        if self.job_id is not None:
            job_progress(job_id=self.job_id, done=0, total=total, detached=self.detached)

    def __call__(self, done: int) -> None:
        if self.job_id is None or done < self._next:
            return
        self._next = done + self.step()
        job_progress(job_id=self.job_id, done=done, detached=self.detached)


def job_finish(*, job_id: int, result: dict[str, Any]) -> None:
    Job.objects.filter(pk=job_id).update(
        status=JobStatus.SUCCEEDED,
        result=result,
        finished_at=timezone.now(),
        error="",
    )
    Job.objects.filter(pk=job_id, total__gt=0).update(done=F("total"))


def job_fail(*, job_id: int, error: str, result: dict[str, Any] | None = None) -> None:
    fields: dict[str, Any] = {
        "status": JobStatus.FAILED,
        "error": error[:500],
        "finished_at": timezone.now(),
    }
    if result is not None:
        fields["result"] = result
    Job.objects.filter(pk=job_id).update(**fields)


def job_get(*, actor: Principal | None, job_id: int, kinds: Iterable[str] | None = None) -> Job:
    """A job of the actor's own (anyone else's does not exist for them: 404)."""
    qs = Job.objects.filter(pk=job_id, actor_id=getattr(actor, "pk", None))
    if kinds is not None:
        qs = qs.filter(kind__in=list(kinds))
    job = qs.first() if getattr(actor, "is_authenticated", False) else None
    if job is None:
        raise NotFound(_("找不到该任务。"))
    return job


def job_claim(*, job_id: int, kind: str) -> Job | None:
    """The queued job of this kind, now started; None when it already ran (a retried
    task) or is gone."""
    job = Job.objects.filter(pk=job_id, kind=kind).select_related("actor").first()
    if job is None or job.status != JobStatus.QUEUED:
        return None
    job_start(job_id=job.pk)
    return job


def job_run(
    *,
    job_id: int,
    kind: str,
    work: Callable[[Job], dict[str, Any]],
    failure: str,
    cleanup: Callable[[Job], None] | None = None,
) -> None:
    """The life of a background job (an import's check or apply): claim it, run `work`,
    and record its result. A ServiceError fails the job with its message (a bad file,
    a rule); anything else is logged and fails it with `failure` (said in Chinese to the
    person who started it). `cleanup` runs whatever happened (delete the upload)."""
    job = job_claim(job_id=job_id, kind=kind)
    if job is None:
        return
    try:
        result = work(job)
    except ServiceError as exc:
        job_fail(job_id=job.pk, error=exc.message)
    except Exception:
        log.exception("job %s (%s) failed", job.pk, kind)
        job_fail(job_id=job.pk, error=failure)
    else:
        job_finish(job_id=job.pk, result=result)
    finally:
        if cleanup is not None:
            cleanup(job)


# ---------------------------------------------------------------- housekeeping


@dataclass(frozen=True)
class JobPurgeResult:
    uploads: int
    jobs: int


def purge_old_jobs_and_uploads(*, now: dt.datetime | None = None) -> JobPurgeResult:
    """Delete upload files older than UPLOAD_MAX_AGE and finished jobs older than
    JOB_MAX_AGE (their results may name rows of a file that is gone)."""
    now = now or timezone.now()
    cutoff = (now - UPLOAD_MAX_AGE).timestamp()
    uploads = 0
    for path in uploads_dir().iterdir():
        if _TOKEN_RE.fullmatch(path.name) and path.stat().st_mtime < cutoff:
            path.unlink(missing_ok=True)
            uploads += 1
    jobs, _deleted = Job.objects.filter(
        created_at__lt=now - JOB_MAX_AGE,
        status__in=[JobStatus.SUCCEEDED, JobStatus.FAILED],
    ).delete()
    return JobPurgeResult(uploads, jobs)
