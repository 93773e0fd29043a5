"""The default subcategories of the five work items (configurable afterwards).
Re-runnable: existing names are kept."""

from django.db import migrations

DEFAULT_SUBCATEGORIES = {
    "theory": ["理论宣讲", "读书学习", "党史学习教育"],
    "policy": ["政策宣讲", "法治宣传", "百姓名嘴宣讲"],
    "values": ["道德模范", "好人评选", "志愿服务", "文明家庭"],
    "culture": ["文艺演出", "广场舞", "电影放映", "全民阅读", "体育健身"],
    "customs": ["移风易俗宣传", "红白理事", "文明乡风", "环境整治"],
}


def seed(apps, schema_editor):
    Subcategory = apps.get_model("activities", "Subcategory")
    for item, names in DEFAULT_SUBCATEGORIES.items():
        for index, name in enumerate(names):
            Subcategory.objects.get_or_create(
                work_item=item, name=name, defaults={"sort": (index + 1) * 10}
            )


class Migration(migrations.Migration):
    dependencies = [("activities", "0001_projects_activities_signups")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
