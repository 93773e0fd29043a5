from __future__ import annotations

import logging

from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from wenming.households.services import OverdueResult, overdue_scan

log = logging.getLogger(__name__)


@db_periodic_task(crontab(minute="*/10"))
def households_overdue_alerts() -> OverdueResult:
    """Every 10 minutes: alert contact persons, then stations, about events not
    contacted in time and tagged households not visited within their cadence. Each
    overdue alerts once per level, however often this runs."""
    return overdue_scan()


def run_import(job_id: int) -> None:
    """Check the uploaded file and, when every row is right, import it (all or none)."""
    from django.utils.translation import gettext as _

    from wenming.core.errors import ServiceError
    from wenming.core.jobs import job_fail, job_finish, job_start, upload_delete, upload_path
    from wenming.core.models import Job, JobStatus
    from wenming.households import excel

    job = Job.objects.filter(pk=job_id, kind=excel.KIND_IMPORT).select_related("actor").first()
    if job is None or job.status != JobStatus.QUEUED:
        return
    job_start(job_id=job.pk)
    token = job.params.get("upload", "")
    try:
        checked = excel.check_workbook(actor=job.actor, path=upload_path(token))
        imported = 0
        if not checked.errors:
            imported = excel.import_apply(actor=job.actor, inputs=checked.inputs)
    except ServiceError as exc:
        job_fail(job_id=job.pk, error=exc.message)
        return
    except Exception:
        log.exception("household import %s failed", job.pk)
        job_fail(job_id=job.pk, error=_("导入时出错，没有写入任何一行。请稍后重试。"))
        return
    finally:
        upload_delete(token)
    Job.objects.filter(pk=job.pk).update(total=checked.rows, done=checked.rows)
    job_finish(
        job_id=job.pk,
        result={
            "rows": checked.rows,
            "imported": imported,
            "errors_total": len(checked.errors),
            "errors": [[e.row, e.column, e.message] for e in checked.errors[:500]],
        },
    )


@db_task()
def households_import(job_id: int) -> None:
    run_import(job_id)
