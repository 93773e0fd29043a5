"""The default team types (configurable afterwards). Re-runnable: existing names are kept."""

from django.db import migrations

DEFAULT_TEAM_TYPES = [
    "理论宣讲",
    "文化文艺",
    "医疗卫生",
    "科学普及",
    "法律服务",
    "助老助残",
    "环境保护",
    "平安建设",
    "应急救援",
    "其他",
]


def seed(apps, schema_editor):
    TeamType = apps.get_model("volunteers", "TeamType")
    for index, name in enumerate(DEFAULT_TEAM_TYPES):
        TeamType.objects.get_or_create(name=name, defaults={"sort": (index + 1) * 10})


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0003_teams")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
