"""Staff correct a volunteer's profile, suspend and restore them: the rules, the scope,
and that a refused action changes nothing."""

from __future__ import annotations

import pytest

from tests.volunteers.test_services import id_number, register
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.models import AuditEvent
from wenming.volunteers import services
from wenming.volunteers.models import Volunteer, VolunteerStatus

ID = id_number(seq="321")


@pytest.fixture
def volunteer(cast):
    return register(cast.county_admin, 0, id_number=ID, phone="13712340000", name="张三")


def state(v: Volunteer) -> tuple:
    v = Volunteer.objects.get(pk=v.pk)
    return v.name, v.phone_digest, v.status, AuditEvent.objects.count()


# ---------------------------------------------------------------- services


def test_suspend_and_restore(cast, volunteer):
    v = services.volunteer_set_active(
        actor=cast.station_admin, volunteer=volunteer, active=False, reason="重复登记"
    )
    assert v.status == VolunteerStatus.SUSPENDED
    event = AuditEvent.objects.filter(verb="volunteer.suspend").get()
    assert event.note == "重复登记" and event.changes == {"status": ["active", "suspended"]}
    v = services.volunteer_set_active(
        actor=cast.station_admin, volunteer=v, active=True, reason="核实无误"
    )
    assert v.status == VolunteerStatus.ACTIVE
    assert AuditEvent.objects.filter(verb="volunteer.restore").count() == 1


@pytest.mark.parametrize(
    ("who", "active", "reason", "error"),
    [
        ("station_admin", False, "  ", RuleViolation),  # no reason
        ("station_admin", True, "恢复", RuleViolation),  # not suspended
        ("supervisor", False, "停用", Forbidden),  # read-only
        ("team_leader", False, "停用", Forbidden),  # read-only
        ("outsider", False, "停用", NotFound),  # other county
        ("volunteer", False, "停用", NotFound),  # no staff role
    ],
)
def test_suspend_refused_changes_nothing(cast, volunteer, who, active, reason, error):
    before = state(volunteer)
    with pytest.raises(error):
        services.volunteer_set_active(
            actor=getattr(cast, who), volunteer=volunteer, active=active, reason=reason
        )
    assert state(volunteer) == before


def test_pending_cannot_be_suspended(cast, volunteer):
    Volunteer.objects.filter(pk=volunteer.pk).update(status=VolunteerStatus.PENDING)
    before = state(volunteer)
    with pytest.raises(RuleViolation):
        services.volunteer_set_active(
            actor=cast.county_admin, volunteer=volunteer, active=False, reason="x"
        )
    assert state(volunteer) == before


# ---------------------------------------------------------------- pages


def test_edit_page_corrects_name_and_phone(cast, login, volunteer):
    client = login(cast.station_admin)
    page = client.get(f"/volunteers/{volunteer.pk}/edit/")
    assert page.status_code == 200
    assert "13712340000" not in page.content.decode()
    response = client.post(
        f"/volunteers/{volunteer.pk}/edit/",
        {"name": "张叁", "phone": "13812345678", "availability": ["weekend_day"]},
    )
    assert response.status_code == 302
    v = Volunteer.objects.get(pk=volunteer.pk)
    assert (v.name, v.phone_masked, v.availability) == ("张叁", "138****5678", ["weekend_day"])
    assert AuditEvent.objects.filter(verb="volunteer.update", target_id=str(v.pk)).exists()


def test_edit_page_blank_phone_keeps_the_number(cast, login, volunteer):
    client = login(cast.station_admin)
    client.post(f"/volunteers/{volunteer.pk}/edit/", {"name": "张叁", "phone": ""})
    v = Volunteer.objects.get(pk=volunteer.pk)
    assert v.name == "张叁" and v.phone_digest == volunteer.phone_digest


def test_edit_page_bad_phone_shows_error_and_changes_nothing(cast, login, volunteer):
    client = login(cast.station_admin)
    before = state(volunteer)
    response = client.post(f"/volunteers/{volunteer.pk}/edit/", {"name": "张叁", "phone": "123"})
    assert response.status_code == 200
    assert "手机号码格式不正确" in response.content.decode()
    assert state(volunteer) == before


def test_edit_page_duplicate_phone_refused(cast, login, volunteer):
    other = register(cast.county_admin, 7)
    client = login(cast.station_admin)
    before = state(volunteer)
    response = client.post(
        f"/volunteers/{volunteer.pk}/edit/", {"name": "张三", "phone": "13712340007"}
    )
    assert response.status_code == 200
    assert "已经注册过志愿者" in response.content.decode()
    assert state(volunteer) == before
    assert other.phone_masked == "137****0007"


@pytest.mark.parametrize(("who", "status"), [("supervisor", 403), ("outsider", 404)])
def test_edit_and_suspend_pages_denied(cast, login, volunteer, who, status):
    client = login(getattr(cast, who))
    before = state(volunteer)
    assert client.get(f"/volunteers/{volunteer.pk}/edit/").status_code == status
    assert client.post(f"/volunteers/{volunteer.pk}/edit/", {"name": "坏人"}).status_code == status
    response = client.post(f"/volunteers/{volunteer.pk}/active/", {"active": "0", "reason": "x"})
    assert response.status_code == status
    assert state(volunteer) == before


def test_suspend_page(cast, login, volunteer):
    client = login(cast.county_admin)
    detail = client.get(f"/volunteers/{volunteer.pk}/").content.decode()
    assert 'id="active-form"' in detail and "data-confirm" in detail
    response = client.post(f"/volunteers/{volunteer.pk}/active/", {"active": "0", "reason": "重复"})
    assert response.status_code == 302
    assert Volunteer.objects.get(pk=volunteer.pk).status == VolunteerStatus.SUSPENDED
    # No reason: refused with a message, nothing changed.
    before = state(volunteer)
    response = client.post(f"/volunteers/{volunteer.pk}/active/", {"active": "1", "reason": ""})
    assert response.status_code == 302
    assert state(volunteer) == before


def test_detail_shows_star_level(cast, login, volunteer):
    Volunteer.objects.filter(pk=volunteer.pk).update(star_level=3)
    body = login(cast.county_admin).get(f"/volunteers/{volunteer.pk}/").content.decode()
    assert 'id="star-level">3 ★' in body
