"""Record when an activity first became public, and fill it in for existing ones: the
audit log's first publish or approve event; else, for an activity that is public now or
that volunteers signed up to (only a published one takes sign-ups), its last state
change or creation. A cancelled activity with neither was never public and stays empty.
Re-runnable: only empty values are filled."""

from django.db import migrations, models
from django.db.models import Min


def fill_published_at(apps, schema_editor):
    Activity = apps.get_model("activities", "Activity")
    AuditEvent = apps.get_model("core", "AuditEvent")
    SignUp = apps.get_model("activities", "SignUp")
    first_published = dict(
        AuditEvent.objects.filter(
            target_type="activities.activity", verb__in=["activity.publish", "activity.approve"]
        )
        .values("target_id")
        .annotate(at=Min("created_at"))
        .values_list("target_id", "at")
    )
    public = {"published", "ongoing", "finished"}
    signed_up = set(SignUp.objects.values_list("activity_id", flat=True).distinct())
    rows = Activity.objects.filter(published_at__isnull=True).exclude(
        state__in=["draft", "submitted"]
    )
    for activity in rows.iterator():
        at = first_published.get(str(activity.pk))
        if at is None and (activity.state in public or activity.pk in signed_up):
            at = activity.state_changed_at or activity.created_at
        if at is not None:
            Activity.objects.filter(pk=activity.pk).update(published_at=at)


class Migration(migrations.Migration):

    dependencies = [
        ("activities", "0003_calendar_feed"),
        ("core", "0003_audit_actor_do_nothing"),
    ]

    operations = [
        migrations.AddField(
            model_name="activity",
            name="published_at",
            field=models.DateTimeField(
                blank=True, editable=False, null=True, verbose_name="发布时间"
            ),
        ),
        migrations.RunPython(fill_published_at, migrations.RunPython.noop),
    ]
