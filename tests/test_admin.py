"""The Django admin: system admins only, read-only, scoped like everything else."""

import pytest

from tests.conftest import make_user
from wenming.core.roles import Role
from wenming.network.models import Unit


def test_county_admin_cannot_enter_admin(cast, login):
    client = login(cast.county_admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_anonymous_is_sent_to_admin_login(client, net):
    response = client.get("/admin/network/unit/")
    assert response.status_code == 302


def test_sysadmin_sees_all_units_of_its_province(cast, net, login):
    client = login(cast.sysadmin)
    response = client.get("/admin/network/unit/")
    assert response.status_code == 200
    text = response.content.decode()
    assert net.other_center.name in text and net.center.name in text


def test_county_sysadmin_sees_only_its_county(net, login):
    admin = make_user("13700000001", "县系统管理员", Role.SYSADMIN, "320305000000")
    client = login(admin)
    response = client.get("/admin/network/unit/")
    assert response.status_code == 200
    text = response.content.decode()
    assert net.center.name in text
    assert net.other_center.name not in text
    # An object outside the scope is not found, not shown.
    outside = client.get(f"/admin/network/unit/{net.other_center.pk}/change/")
    assert outside.status_code in (302, 404)
    if outside.status_code == 302:  # Django redirects to the index with a message
        assert outside["Location"].startswith("/admin/")


@pytest.mark.parametrize("path", ["/admin/network/unit/add/", "/admin/core/auditevent/add/"])
def test_admin_is_read_only(cast, login, path):
    client = login(cast.sysadmin)
    before = Unit.objects.count()
    response = client.post(path, {"name": "x"})
    assert response.status_code == 403
    assert Unit.objects.count() == before


def test_admin_change_page_has_no_save_button(cast, net, login):
    client = login(cast.sysadmin)
    response = client.get(f"/admin/network/unit/{net.center.pk}/change/")
    assert response.status_code == 200
    assert 'name="_save"' not in response.content.decode()
    response = client.post(f"/admin/network/unit/{net.center.pk}/change/", {"name": "改名"})
    assert response.status_code == 403
    net.center.refresh_from_db()
    assert net.center.name == "贾汪区新时代文明实践中心"
