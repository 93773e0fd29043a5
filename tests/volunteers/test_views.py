"""The volunteer pages: scope, masking, search and filters, review and reveal, and
that personal numbers are never stored in plaintext anywhere."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.conftest import make_user
from tests.volunteers.test_services import counts, id_number, reg_input, register
from wenming.core.models import AuditEvent
from wenming.core.roles import Role
from wenming.volunteers import services
from wenming.volunteers.models import RegistrationPolicy, Skill, Volunteer, VolunteerStatus

ID = id_number(seq="123")
PHONE = "13712340000"
VIEWERS = [
    "sysadmin",
    "county_admin",
    "institute_admin",
    "station_admin",
    "supervisor",
    "team_leader",
]


@pytest.fixture
def volunteer(cast):
    return register(cast.county_admin, 0, id_number=ID, phone=PHONE, name="张三")


def names(response) -> list[str]:
    return [v.name for v in response.context["page"].object_list]


# ---------------------------------------------------------------- access


def test_anonymous_is_sent_to_login(client, volunteer):
    for url in ("/volunteers/", f"/volunteers/{volunteer.pk}/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith("/accounts/login/")


@pytest.mark.parametrize("who", VIEWERS)
def test_list_and_detail_show_masked_numbers_only(cast, login, volunteer, who):
    client = login(getattr(cast, who))
    for url in ("/volunteers/", f"/volunteers/{volunteer.pk}/"):
        response = client.get(url)
        assert response.status_code == 200
        body = response.content.decode()
        assert "张三" in body
        assert ID not in body and PHONE not in body
        assert volunteer.number in body
    detail = client.get(f"/volunteers/{volunteer.pk}/").content.decode()
    assert volunteer.id_masked in detail and volunteer.phone_masked in detail


@pytest.mark.parametrize("who", ["outsider", "volunteer"])
def test_outsider_does_not_see_the_volunteer(cast, login, volunteer, who):
    client = login(getattr(cast, who))
    assert client.get(f"/volunteers/{volunteer.pk}/").status_code == 404
    response = client.get("/volunteers/")
    if who == "outsider":
        assert names(response) == []
    else:
        assert response.status_code == 403


def test_list_scoping_per_role(cast, login, volunteer):
    register(cast.county_admin, 1, name="唐庄人", region_code="320305005200")
    register(cast.county_admin, 2, name="青山泉人", region_code="320305102200")
    expected = {
        "sysadmin": {"张三", "唐庄人", "青山泉人"},
        "county_admin": {"张三", "唐庄人", "青山泉人"},
        "supervisor": {"张三", "唐庄人", "青山泉人"},
        "institute_admin": {"张三", "唐庄人"},
        "team_leader": {"张三", "唐庄人"},
        "station_admin": {"张三"},
        "outsider": set(),
    }
    for who, seen in expected.items():
        response = login(getattr(cast, who)).get("/volunteers/")
        assert set(names(response)) == seen, who


# ---------------------------------------------------------------- search and filters


@pytest.fixture
def crowd(cast, volunteer):
    skill = Skill.objects.get(name="医疗卫生")
    register(cast.county_admin, 1, name="李四", skill_ids=[skill.pk])
    register(cast.county_admin, 2, name="王五")
    RegistrationPolicy.objects.create(unit=Volunteer.objects.first().unit, approval_required=True)
    register(cast.county_admin, 3, name="李六")
    Volunteer.objects.filter(name="王五").update(star_level=3)
    return skill


def test_search_and_filters(cast, login, crowd, volunteer):
    client = login(cast.county_admin)
    li4 = Volunteer.objects.get(name="李四")

    def found(query: str) -> set[str]:
        return set(names(client.get(f"/volunteers/?{query}")))

    assert found("q=李") == {"李四", "李六"}
    assert found(f"q={li4.number}") == {"李四"}
    assert found("q=13712340002") == {"王五"}  # the exact phone, through its hash
    assert found("q=137 1234 0002") == {"王五"}
    assert found("q=1371234") == set()  # part of a phone number finds nothing
    assert found("status=pending") == {"李六"}
    assert found(f"skill={crowd.pk}") == {"李四"}
    assert found("star=3") == {"王五"}
    assert found("star=0") == {"张三", "李四", "李六"}
    assert found("star=9") == {"张三", "李四", "王五", "李六"}  # junk is ignored
    assert found("region=320305005204&status=active") == {"张三", "李四", "王五"}
    assert found("region=320305102") == set()


def test_list_queries_are_constant(cast, login):
    client = login(cast.county_admin)
    skill = Skill.objects.first()
    for n in range(5):
        register(cast.county_admin, n, skill_ids=[skill.pk])
    client.get("/volunteers/")  # warm caches (session, grants)
    with CaptureQueriesContext(connection) as five:
        assert client.get("/volunteers/").status_code == 200
    for n in range(5, 40):
        register(cast.county_admin, n, skill_ids=[skill.pk])
    with CaptureQueriesContext(connection) as forty:
        response = client.get("/volunteers/")
    assert response.status_code == 200
    assert len(forty) == len(five)


# ---------------------------------------------------------------- review


@pytest.fixture
def pending(cast, net):
    RegistrationPolicy.objects.create(unit=net.station, approval_required=True)
    return register(cast.county_admin, 5, name="待审")


def test_review_page_approves(cast, login, pending):
    client = login(cast.station_admin)
    assert "审核注册" in client.get(f"/volunteers/{pending.pk}/").content.decode()
    response = client.post(f"/volunteers/{pending.pk}/review/", {"decision": "approve"})
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.status == VolunteerStatus.ACTIVE


def test_review_page_reject_without_note_changes_nothing(cast, login, pending):
    client = login(cast.station_admin)
    before = counts()
    response = client.post(f"/volunteers/{pending.pk}/review/", {"decision": "reject"}, follow=True)
    assert "不通过时请写明原因。" in response.content.decode()
    assert counts() == before
    pending.refresh_from_db()
    assert pending.status == VolunteerStatus.PENDING


@pytest.mark.parametrize(("who", "status"), [("supervisor", 403), ("outsider", 404)])
def test_review_page_denied(cast, login, pending, who, status):
    client = login(getattr(cast, who))
    assert "审核注册" not in client.get(f"/volunteers/{pending.pk}/").content.decode()
    before = counts()
    response = client.post(f"/volunteers/{pending.pk}/review/", {"decision": "approve"})
    assert response.status_code == status
    assert counts() == before
    pending.refresh_from_db()
    assert pending.status == VolunteerStatus.PENDING


# ---------------------------------------------------------------- reveal


@pytest.mark.parametrize("who", ["county_admin", "institute_admin"])
@pytest.mark.parametrize(("what", "value"), [("id_number", ID), ("phone", PHONE)])
def test_reveal_page(cast, login, volunteer, who, what, value):
    client = login(getattr(cast, who))
    assert "查看完整号码" in client.get(f"/volunteers/{volunteer.pk}/").content.decode()
    response = client.post(
        f"/volunteers/{volunteer.pk}/reveal/", {"what": what, "reason": "电话回访"}
    )
    assert response.status_code == 200
    assert value in response.content.decode()
    assert response.headers["Cache-Control"] == "no-store"
    event = AuditEvent.objects.get(verb="volunteer.reveal")
    assert (event.actor, event.changes, event.note) == (
        getattr(cast, who),
        {"field": what},
        "电话回访",
    )
    # Not kept anywhere: the next page shows the masked form again.
    assert value not in client.get(f"/volunteers/{volunteer.pk}/").content.decode()


def test_reveal_needs_a_reason(cast, login, volunteer):
    client = login(cast.county_admin)
    before = counts()
    response = client.post(f"/volunteers/{volunteer.pk}/reveal/", {"what": "phone"})
    assert response.status_code == 302
    assert counts() == before


@pytest.mark.parametrize(
    ("who", "status"),
    [("station_admin", 403), ("supervisor", 403), ("team_leader", 403), ("outsider", 404)],
)
def test_reveal_page_denied(cast, login, volunteer, who, status):
    client = login(getattr(cast, who))
    assert "查看完整号码" not in client.get(f"/volunteers/{volunteer.pk}/").content.decode()
    before = counts()
    response = client.post(
        f"/volunteers/{volunteer.pk}/reveal/", {"what": "id_number", "reason": "看看"}
    )
    assert response.status_code == status
    assert ID not in response.content.decode()
    assert counts() == before


# ---------------------------------------------------------------- encryption at rest


def test_no_plaintext_numbers_at_rest(cast, login, net):
    RegistrationPolicy.objects.create(unit=net.station, approval_required=True)
    guardian = "13712349999"
    minor_id = id_number(birth="20100101", seq="456")
    self_user = make_user(PHONE, "张三", Role.VOLUNTEER, "320305005204")
    v = services.volunteer_register(
        actor=self_user,
        data=reg_input(id_number=ID),
        self_service=True,
    )
    minor = register(
        cast.county_admin,
        7,
        id_number=minor_id,
        guardian_name="家长",
        guardian_phone=guardian,
        guardian_consent=True,
    )
    services.volunteer_review(actor=cast.county_admin, volunteer=v, approve=True)
    services.volunteer_update(actor=cast.county_admin, volunteer=minor, phone="13712347777")
    client = login(cast.county_admin)
    client.get("/volunteers/")
    client.get(f"/volunteers/?q={PHONE}")
    client.get(f"/volunteers/{v.pk}/")
    for what in ("id_number", "phone"):
        for target in (v, minor):
            response = client.post(
                f"/volunteers/{target.pk}/reveal/", {"what": what, "reason": "核对"}
            )
            assert response.status_code == 200
    secrets = [ID, PHONE, minor_id, guardian, "13712340007", "13712347777"]
    with connection.cursor() as cursor:
        for table in (
            "volunteers_volunteer",
            "accounts_user",
            "core_auditevent",
            "django_session",
        ):
            cursor.execute(f"SELECT * FROM {table}")
            dump = repr(cursor.fetchall())
            for secret in secrets:
                assert secret not in dump, (table, secret)
    assert AuditEvent.objects.filter(verb="volunteer.reveal").count() == 4
