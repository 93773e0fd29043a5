# The fund manager and store keeper roles (issue 11).

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('network', '0002_unit_coordinates'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='rolegrant',
            name='grant_role_known',
        ),
        migrations.AlterField(
            model_name='rolegrant',
            name='role',
            field=models.CharField(choices=[('sysadmin', '系统管理员'), ('county_admin', '中心管理员'), ('institute_admin', '所管理员'), ('station_admin', '站管理员'), ('team_leader', '队长'), ('volunteer', '志愿者'), ('resident', '群众'), ('supervisor', '督导（市/省文明办，只读）'), ('media_editor', '融媒体编辑'), ('fund_manager', '基金管理员'), ('store_keeper', '爱心超市管理员')], max_length=32, verbose_name='角色'),
        ),
        migrations.AddConstraint(
            model_name='rolegrant',
            constraint=models.CheckConstraint(condition=models.Q(('role__in', ['sysadmin', 'county_admin', 'institute_admin', 'station_admin', 'team_leader', 'volunteer', 'resident', 'supervisor', 'media_editor', 'fund_manager', 'store_keeper'])), name='grant_role_known'),
        ),
    ]
