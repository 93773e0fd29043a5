"""The demo county (贾汪区) and the `regions import` command."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command

from tests.network.snapshot import db_state
from wenming.accounts.models import User
from wenming.core.demo import demo_load
from wenming.core.models import AuditEvent
from wenming.network import selectors
from wenming.network.demo import DEMO_ACCOUNTS, DEMO_PASSWORD
from wenming.network.models import Region, RoleGrant, Unit, UnitKind

COUNTY = "320305000000"


def model_counts() -> dict[str, int]:
    return {
        model._meta.label: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.managed and not model._meta.proxy
    }


@pytest.fixture
def demo(db):
    return demo_load()


def test_demo_loads_the_county(demo):
    county_regions = Region.objects.filter(code__startswith="320305")
    assert county_regions.filter(level=4).count() == 13
    assert county_regions.filter(level=5).count() == 134
    assert Region.objects.count() == 150  # with 江苏省, 徐州市 and 贾汪区
    kinds = {kind: Unit.objects.filter(kind=kind).count() for kind in UnitKind.values}
    assert kinds == {"center": 1, "institute": 13, "station": 134, "point": 3}
    assert demo["network"] == {"regions": 150, "units": 151, "users": 11, "grants": 11}
    assert User.objects.count() == 11
    assert AuditEvent.objects.filter(verb="demo.load").count() == 1


def test_demo_tree_is_linked(demo):
    center = Unit.objects.get(kind=UnitKind.CENTER)
    assert (center.region_id, center.name, center.parent_id) == (
        COUNTY,
        "贾汪区新时代文明实践中心",
        None,
    )
    assert set(
        Unit.objects.filter(kind=UnitKind.INSTITUTE).values_list("parent_id", flat=True)
    ) == {center.pk}
    for station in Unit.objects.filter(kind=UnitKind.STATION).select_related("parent", "region"):
        assert station.parent.kind == UnitKind.INSTITUTE
        assert station.parent.region_id == station.region.parent_id
        assert station.name.endswith("新时代文明实践站")
        assert not station.name.endswith("委会新时代文明实践站")
    assert (
        Unit.objects.get(region_id="320305005204", kind=UnitKind.STATION).name
        == "马庄新时代文明实践站"
    )


def test_demo_accounts_have_their_grants(demo, client):
    for account in DEMO_ACCOUNTS:
        user = User.objects.get_by_phone(account.phone)
        assert user.name == account.name
        assert user.check_password(DEMO_PASSWORD)
        grant = RoleGrant.objects.get(user=user)
        assert (grant.role, grant.region_id, grant.revoked_at) == (
            account.role,
            account.region_code,
            None,
        )
    # Grants at a unit's region are tied to that unit.
    station_admin = RoleGrant.objects.get(user=User.objects.get_by_phone("13800000003"))
    assert station_admin.unit.name == "马庄新时代文明实践站"
    response = client.post("/accounts/login/", {"phone": "13800000001", "password": DEMO_PASSWORD})
    assert response.status_code == 302


def test_demo_load_twice_changes_nothing(demo):
    counts = model_counts()
    state = db_state()
    again = demo_load()
    assert again["network"] == {"regions": 0, "units": 0, "users": 0, "grants": 0}
    assert model_counts() == counts
    assert db_state() == state


def test_demo_station_admin_sees_only_its_village(demo):
    station_admin = User.objects.get_by_phone("13800000003")
    units = list(selectors.unit_list(actor=station_admin))
    assert [u.name for u in units] == ["马庄村文化礼堂新时代文明实践点", "马庄新时代文明实践站"]
    assert {u.region_id for u in units} == {"320305005204"}
    county_admin = User.objects.get_by_phone("13800000001")
    assert selectors.unit_list(actor=county_admin).count() == 151


# ---------------------------------------------------------------- regions import command


def test_regions_import_command(db, tmp_path):
    path = tmp_path / "regions.csv"
    path.write_text(
        "code,name\n32,江苏省\n3203,徐州市\n320305,贾汪区\n320305005,潘安湖街道\n"
        "320305005204,马庄村委会\n",
        encoding="utf-8",
    )
    call_command("regions", "import", str(path))
    assert dict(Region.objects.values_list("code", "name")) == {
        "320000000000": "江苏省",
        "320300000000": "徐州市",
        "320305000000": "贾汪区",
        "320305005000": "潘安湖街道",
        "320305005204": "马庄村委会",
    }
    assert Region.objects.get(code="320305005204").parent_id == "320305005000"
    assert AuditEvent.objects.filter(verb="regions.import").count() == 1
    # Again, with one rename: idempotent except for the rename.
    path.write_text(
        "\ufeffcode,name\n32,江苏省\n3203,徐州市\n320305,贾汪区\n320305005,潘安湖街道\n"
        "320305005204,马庄村\n",
        encoding="utf-8",
    )
    from io import StringIO

    out = StringIO()
    call_command("regions", "import", str(path), stdout=out)
    assert out.getvalue().strip() == "regions: 0 created, 1 renamed, 4 unchanged"
    assert Region.objects.get(code="320305005204").name == "马庄村"
    assert Region.objects.count() == 5


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("code;name\n32;江苏省\n", "区划文件需要 code 和 name 两列。"),
        ("code,name\n32,江苏省\n3203,\n", "第 3 行：名称为空。"),
        ("code,name\n32,江苏省\n3203x,徐州市\n", "第 3 行：区划代码 3203x 不正确。"),
        ("code,name\n32,江苏省\n320305005204,马庄\n", "缺少上级区划 320305005000。"),
        ("code,name\n", "区划文件没有数据。"),
    ],
)
def test_regions_import_command_refuses_malformed_file(db, tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content, encoding="utf-8")
    before = db_state()
    with pytest.raises(CommandError) as exc:
        call_command("regions", "import", str(path))
    assert str(exc.value) == message
    assert db_state() == before


def test_regions_import_command_missing_file(db, tmp_path):
    before = db_state()
    with pytest.raises(CommandError):
        call_command("regions", "import", str(tmp_path / "nope.csv"))
    assert db_state() == before
