"""Background jobs of the volunteer Excel import: the check and the import. Each runs
inline for a small file (`run_*`) or as a Huey task for a large one (`*_task`); either
way it moves the Job from queued to running to succeeded or failed."""

from __future__ import annotations

import logging

from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from wenming.accounts.models import User
from wenming.core.errors import ServiceError
from wenming.core.jobs import (
    JobProgress,
    job_fail,
    job_finish,
    job_start,
    upload_delete,
    upload_path,
)
from wenming.core.models import Job, JobStatus
from wenming.volunteers import excel

log = logging.getLogger(__name__)


def _claim(job_id: int, kind: str) -> Job | None:
    job = Job.objects.filter(pk=job_id, kind=kind).select_related("actor").first()
    if job is None or job.status != JobStatus.QUEUED:
        return None  # already run (a retried task) or gone
    job_start(job_id=job.pk)
    return job


def run_check(job_id: int) -> None:
    job = _claim(job_id, excel.KIND_CHECK)
    if job is None:
        return
    actor: User = job.actor
    try:
        result = excel.check_workbook(
            actor=actor,
            path=upload_path(job.params["upload"]),
            progress=JobProgress(job.pk, job.total),
        )
    except ServiceError as exc:
        upload_delete(job.params.get("upload", ""))
        job_fail(job_id=job.pk, error=exc.message)
        return
    except Exception:
        log.exception("volunteer import check %s failed", job.pk)
        upload_delete(job.params.get("upload", ""))
        job_fail(job_id=job.pk, error=_("检查时出错，请稍后重试或联系管理员。"))
        return
    # The side file of valid rows is all the import needs: the workbook goes now.
    upload_delete(job.params["upload"])
    Job.objects.filter(pk=job.pk).update(total=result.rows)
    job_finish(job_id=job.pk, result=result.as_dict(sha256=job.params.get("sha256", "")))


def run_apply(job_id: int) -> None:
    job = _claim(job_id, excel.KIND_APPLY)
    if job is None:
        return
    check_job = Job.objects.get(pk=job.params["check_job"])
    mode = job.params["mode"]
    attempts = 2 if mode == excel.MODE_VALID else 1
    for attempt in range(attempts):
        try:
            result = excel.import_apply(
                actor=job.actor,
                check_job=check_job,
                mode=mode,
                apply_job_id=job.pk,
                progress=JobProgress(job.pk, job.total, detached=True),
            )
        except ServiceError as exc:
            # "valid" mode: a registration that slipped in is skipped on a second try.
            if exc.code == excel.IMPORT_RACE and attempt + 1 < attempts:
                continue
            job_fail(job_id=job.pk, error=exc.message)
            return
        except Exception:
            log.exception("volunteer import %s failed", job.pk)
            job_fail(job_id=job.pk, error=_("导入时出错，没有写入任何一行。请稍后重试。"))
            return
        break
    upload_delete(check_job.result.get("cleaned", ""))
    job_finish(job_id=job.pk, result=result.as_dict(mode=mode, check_job=check_job.pk))


@db_task()
def volunteers_import_check(job_id: int) -> None:
    run_check(job_id)


@db_task()
def volunteers_import_apply(job_id: int) -> None:
    run_apply(job_id)
