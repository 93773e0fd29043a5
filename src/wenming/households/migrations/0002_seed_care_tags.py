from django.db import migrations

TAGS = [
    ("empty_nest", "空巢老人", 10),
    ("left_behind_child", "留守儿童", 20),
    ("hardship", "困难家庭", 30),
    ("disability", "残疾人", 40),
    ("veteran", "退役军人", 50),
]


def seed(apps, schema_editor):
    CareTag = apps.get_model("households", "CareTag")
    for code, name, sort in TAGS:
        CareTag.objects.get_or_create(code=code, defaults={"name": name, "sort": sort})


class Migration(migrations.Migration):
    dependencies = [("households", "0001_household_register")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
