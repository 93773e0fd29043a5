"""Background jobs of the volunteer Excel import: the check and the import. Each runs
inline for a small file (`run_*`) or as a Huey task for a large one (`*_task`); either
way it moves the Job from queued to running to succeeded or failed."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from huey.contrib.djhuey import db_task

from wenming.core.errors import ServiceError
from wenming.core.jobs import JobProgress, job_run, upload_delete, upload_path
from wenming.core.models import Job
from wenming.volunteers import excel


def run_check(job_id: int) -> None:
    job_run(
        job_id=job_id,
        kind=excel.KIND_CHECK,
        work=_check,
        failure=_("检查时出错，请稍后重试或联系管理员。"),
        # The side file of valid rows is all the import needs: the workbook goes now.
        cleanup=lambda job: upload_delete(job.params.get("upload", "")),
    )


def _check(job: Job) -> dict[str, Any]:
    result = excel.check_workbook(
        actor=job.actor,
        path=upload_path(job.params["upload"]),
        progress=JobProgress(job.pk, job.total),
    )
    Job.objects.filter(pk=job.pk).update(total=result.rows)
    return result.as_dict(sha256=job.params.get("sha256", ""))


def run_apply(job_id: int) -> None:
    job_run(
        job_id=job_id,
        kind=excel.KIND_APPLY,
        work=_apply,
        failure=_("导入时出错，没有写入任何一行。请稍后重试。"),
    )


def _apply(job: Job) -> dict[str, Any]:
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
            raise
        break
    upload_delete(check_job.result.get("cleaned", ""))
    return result.as_dict(mode=mode, check_job=check_job.pk)


@db_task()
def volunteers_import_check(job_id: int) -> None:
    run_check(job_id)


@db_task()
def volunteers_import_apply(job_id: int) -> None:
    run_apply(job_id)
