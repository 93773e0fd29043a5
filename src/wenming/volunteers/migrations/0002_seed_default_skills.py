"""The default skill list (configurable afterwards). Re-runnable: existing names are kept."""

from django.db import migrations

DEFAULT_SKILLS = [
    "理论宣讲",
    "文艺演出",
    "医疗卫生",
    "科学普及",
    "法律咨询",
    "心理疏导",
    "助老助残",
    "儿童关爱",
    "环境保护",
    "应急救援",
    "摄影摄像",
    "信息技术",
    "农业技术",
    "翻译",
]


def seed(apps, schema_editor):
    Skill = apps.get_model("volunteers", "Skill")
    for index, name in enumerate(DEFAULT_SKILLS):
        Skill.objects.get_or_create(name=name, defaults={"sort": (index + 1) * 10})


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0001_volunteers_and_policies")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
