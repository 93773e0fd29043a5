from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from huey import crontab
from huey.contrib.djhuey import db_periodic_task, db_task

from wenming.core.jobs import JobProgress, job_run, upload_delete, upload_path
from wenming.core.models import Job
from wenming.households import excel
from wenming.households.services import OverdueResult, overdue_scan


@db_periodic_task(crontab(minute="*/10"))
def households_overdue_alerts() -> OverdueResult:
    """Every 10 minutes: alert contact persons, then stations, about events not
    contacted in time and tagged households not visited within their cadence. Each
    overdue alerts once per level, however often this runs."""
    return overdue_scan()


def run_import(job_id: int) -> None:
    """Check the uploaded file and, when every row is right, import it (all or none)."""
    job_run(
        job_id=job_id,
        kind=excel.KIND_IMPORT,
        work=_import,
        failure=_("导入时出错，没有写入任何一行。请稍后重试。"),
        cleanup=lambda job: upload_delete(job.params.get("upload", "")),
    )


def _import(job: Job) -> dict[str, Any]:
    checked = excel.check_workbook(
        actor=job.actor,
        path=upload_path(job.params.get("upload", "")),
        progress=JobProgress(job.pk, 0),
    )
    imported = 0
    if not checked.errors:
        imported = excel.import_apply(actor=job.actor, inputs=checked.inputs)
    Job.objects.filter(pk=job.pk).update(total=checked.rows, done=checked.rows)
    return {
        "rows": checked.rows,
        "imported": imported,
        "errors_total": len(checked.errors),
        "errors": [[e.row, e.column, e.message] for e in checked.errors[:500]],
    }


@db_task()
def households_import(job_id: int) -> None:
    run_import(job_id)
