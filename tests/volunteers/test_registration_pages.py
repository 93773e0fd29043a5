"""The registration pages: self-registration (new account, or logged in), staff
registration, the villages fragment, and 我的. Refused registrations show the rule's
message on the page and write nothing."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from stdnum.cn import ric

from tests.conftest import phone_code
from wenming.accounts.models import User
from wenming.core.errors import RuleViolation
from wenming.core.models import AuditEvent
from wenming.volunteers.models import (
    Availability,
    RegistrationPolicy,
    Skill,
    Volunteer,
    VolunteerStatus,
)

pytestmark = pytest.mark.django_db


def id_number(birth: str = "19900101", seq: str = "123") -> str:
    base = "320305" + birth + seq
    return base + ric.calc_check_digit(base + "0")


def text(response) -> str:
    return html_lib.unescape(re.sub(r"\s+", " ", response.content.decode()))


def form_data(net, **overrides) -> dict:
    data = {
        "name": "王小明",
        "phone": "13812345678",
        "id_type": "ric",
        "id_number": id_number(),
        "town": net.town.code,
        "village": net.village.code,
        "skill_ids": [Skill.objects.order_by("pk").first().pk],
        "availability": [Availability.WEEKEND_DAY],
        "service_region_codes": [net.village2.code],
        "political_status": "",
        "password": "Xin-mima-2026",
        "consent": "on",
    }
    data.update(overrides)
    if data.get("password") is not None and "code" not in data:
        try:
            data["code"] = phone_code(data["phone"])
        except RuleViolation:  # a refusal on the phone itself: no code can be sent
            data["code"] = "000000"
    return {k: v for k, v in data.items() if v is not None}


def counts() -> tuple[int, int, int]:
    return Volunteer.objects.count(), User.objects.count(), AuditEvent.objects.count()


# ---------------------------------------------------------------- self-registration


def test_register_page_is_public_and_lists_towns(client, net):
    response = client.get("/volunteers/register/")
    assert response.status_code == 200
    page = text(response)
    assert "志愿者注册" in page and "登录密码" in page
    assert "《志愿服务条例》第二十条" in page
    assert "未满 18 周岁需填写" in page
    assert net.town.name in page and net.other_town.name in page
    assert 'hx-get="/volunteers/regions/"' in page
    # Without a chosen town there are no villages to choose yet.
    village_select = re.search(r'<select name="village".*?</select>', page).group(0)
    assert village_select.count("<option") == 1 and "请先选择乡镇（街道）" in village_select


def test_self_registration_creates_account_logs_in_and_shows_number(client, net):
    before = counts()
    response = client.post("/volunteers/register/", form_data(net))
    assert response.status_code == 302
    assert response["Location"] == "/volunteers/register/done/"
    assert counts() == (before[0] + 1, before[1] + 1, before[2] + 3)  # user, volunteer, login
    volunteer = Volunteer.objects.get()
    assert volunteer.name == "王小明"
    assert volunteer.region_id == net.village.code
    assert volunteer.unit == net.station
    assert volunteer.status == VolunteerStatus.ACTIVE
    assert volunteer.availability == [Availability.WEEKEND_DAY]
    assert list(volunteer.service_regions.all()) == [net.village2]
    assert volunteer.user is not None and volunteer.user.check_password("Xin-mima-2026")
    assert volunteer.gender == "m" and str(volunteer.birth_date) == "1990-01-01"

    done = client.get("/volunteers/register/done/")
    page = text(done)
    assert volunteer.number in page
    assert "已注册" in page and "接下来" in page
    assert done.context["user"] == volunteer.user  # logged in
    assert '<a class="nav-link" href="/volunteers/me/">我的</a>' in done.content.decode()


def test_self_registration_pending_when_unit_requires_review(client, net):
    RegistrationPolicy.objects.create(unit=net.station, approval_required=True)
    client.post("/volunteers/register/", form_data(net))
    page = text(client.get("/volunteers/register/done/"))
    assert "待审核" in page and "审核后" in page


def test_town_only_registers_at_the_town(client, net):
    client.post("/volunteers/register/", form_data(net, village=""))
    assert Volunteer.objects.get().unit == net.institute


def test_logged_in_user_is_linked_without_password(login, cast, net):
    client = login(cast.volunteer)  # 13900000006, no volunteer record yet
    page = client.get("/volunteers/register/")
    assert "登录密码" not in text(page)
    assert page.context["form"].initial["name"] == "志愿者"
    users = User.objects.count()
    response = client.post(
        "/volunteers/register/", form_data(net, phone="139 0000 0006", password=None)
    )
    assert response.status_code == 302
    assert User.objects.count() == users
    assert Volunteer.objects.get().user == cast.volunteer
    # Already a volunteer: the register page sends them to 我的.
    again = client.get("/volunteers/register/")
    assert again.status_code == 302 and again["Location"] == "/volunteers/me/"


def test_logged_in_user_needs_their_own_phone(login, cast, net):
    client = login(cast.volunteer)
    before = counts()
    response = client.post("/volunteers/register/", form_data(net, password=None))
    assert response.status_code == 200
    assert "手机号码需与登录账号一致。" in text(response)
    assert response.context["form"].errors["phone"] == ["手机号码需与登录账号一致。"]
    assert counts() == before


def _existing(net) -> None:
    from wenming.volunteers.services import RegistrationInput, volunteer_register

    volunteer_register(
        actor=None,
        data=RegistrationInput(
            name="李四",
            phone="13700000001",
            id_type="ric",
            id_number=id_number(seq="456"),
            region_code=net.village.code,
            consent=True,
            password="Li-si-mima-2026",
            phone_code=phone_code("13700000001"),
        ),
        self_service=True,
    )
    # As if registered long ago: the per-number code limits start afresh.
    from django.core.cache import cache

    cache.clear()


REFUSALS = [
    ({"name": ""}, "name", "请填写姓名。"),
    ({"phone": "123"}, "phone", "手机号码格式不正确。"),
    ({"phone": "13700000001"}, "phone", "该手机号码已经注册过志愿者。"),
    (
        {"id_number": id_number()[:-1] + "X"},
        "id_number",
        "身份证号码校验位不正确，请核对最后一位。",
    ),
    (
        {"id_number": id_number(seq="456")},
        "id_number",
        "无法用该证件号码在网上完成注册。请核对号码；如确认无误，请带证件到所在村（社区）"
        "新时代文明实践站办理。",
    ),
    ({"id_type": "passport", "id_number": "E12345678"}, "birth_date", "请填写出生日期。"),
    (
        {"id_type": "passport", "id_number": "E12345678", "birth_date": "1980-05-05"},
        "gender",
        "请选择性别。",
    ),
    ({"town": ""}, "town", "请选择所在的村（社区）或乡镇（街道）。"),
    (
        {"id_number": id_number(birth="20150101")},
        "guardian_name",
        "未满 18 周岁，请填写监护人姓名。",
    ),
    (
        {
            "id_number": id_number(birth="20150101"),
            "guardian_name": "王大",
            "guardian_phone": "13811112222",
        },
        "guardian_consent",
        "未满 18 周岁，需要监护人同意后才能注册。",
    ),
    (
        {"id_number": id_number(birth="20150101"), "guardian_name": "王大", "guardian_phone": "12"},
        "guardian_phone",
        "手机号码格式不正确。",
    ),
    (
        {"consent": None},
        "consent",
        "请阅读并同意隐私声明：未经您同意，我们不会公开您的个人信息。",
    ),
    ({"password": ""}, "password", "请设置登录密码。"),
    ({"password": "short"}, "password", None),
]


@pytest.mark.parametrize(("overrides", "field", "message"), REFUSALS)
def test_refused_registration_shows_the_message_and_writes_nothing(
    client, net, overrides, field, message
):
    _existing(net)
    before = counts()
    response = client.post("/volunteers/register/", form_data(net, **overrides))
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert field in errors, errors
    if message:
        assert errors[field] == [message]
        assert message in text(response)
    assert counts() == before
    assert "_auth_user_id" not in client.session


def test_minor_with_guardian_consent_registers(client, net):
    client.post(
        "/volunteers/register/",
        form_data(
            net,
            id_number=id_number(birth="20150101"),
            guardian_name="王大",
            guardian_phone="13811112222",
            guardian_consent="on",
        ),
    )
    volunteer = Volunteer.objects.get()
    assert volunteer.is_minor and volunteer.guardian_name == "王大"


def test_entered_values_survive_a_refusal(client, net):
    response = client.post("/volunteers/register/", form_data(net, consent=None))
    page = response.content.decode()
    assert 'value="王小明"' in page
    # The chosen town's villages are listed, the chosen one selected.
    assert f'<option value="{net.village.code}" selected>' in page


# ---------------------------------------------------------------- the villages fragment


def test_villages_fragment_lists_the_villages_of_a_town(client, net):
    response = client.get("/volunteers/regions/", {"town": net.town.code})
    assert response.status_code == 200
    options = re.findall(r'<option value="(\d*)">([^<]*)</option>', response.content.decode())
    assert options == [
        ("", "请选择村（社区）"),
        (net.village2.code, net.village2.name),
        (net.village.code, net.village.name),
    ]


@pytest.mark.parametrize("town", ["", "junk", "320305005", "999999999999"])
def test_villages_fragment_with_a_bad_town_lists_none(client, net, town):
    response = client.get("/volunteers/regions/", {"town": town})
    assert response.status_code == 200
    assert response.content.decode().count("<option") == 1


# ---------------------------------------------------------------- staff registration


def test_staff_registration(login, cast, net):
    client = login(cast.station_admin)
    page = text(client.get("/volunteers/new/"))
    assert "登记志愿者" in page and "登录密码" not in page
    town_select = re.search(r'<select name="town".*?</select>', page).group(0)
    assert net.town.name in town_select
    assert net.other_town.name not in town_select  # outside the station's scope
    users = User.objects.count()
    audits = AuditEvent.objects.count()
    response = client.post("/volunteers/new/", form_data(net, password=None))
    volunteer = Volunteer.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/volunteers/{volunteer.pk}/"
    assert volunteer.user is None
    assert User.objects.count() == users
    assert AuditEvent.objects.count() == audits + 1
    event = AuditEvent.objects.latest("pk")
    assert event.verb == "volunteer.register" and event.actor == cast.station_admin
    detail = text(client.get(response["Location"]))
    assert f"已登记志愿者 王小明，编号 {volunteer.number}。" in detail


def test_staff_outside_their_scope_is_refused_on_the_region(login, cast, net):
    client = login(cast.station_admin)
    before = counts()
    response = client.post(
        "/volunteers/new/", form_data(net, village=net.village2.code, password=None)
    )
    assert response.status_code == 200
    assert response.context["form"].errors["town"] == ["该地区不在您的管辖范围内，不能在此登记。"]
    assert counts() == before


# Staff at the desk see the plain reason a held ID number is refused; only the
# anonymous page keeps it neutral.
STAFF_REFUSALS = [
    (o, f, "该证件号码已经注册过志愿者。" if m and m.startswith("无法用该证件号码") else m)
    for o, f, m in REFUSALS[:-2]
]


@pytest.mark.parametrize(("overrides", "field", "message"), STAFF_REFUSALS)
def test_refused_staff_registration_shows_the_message_and_writes_nothing(
    login, cast, net, overrides, field, message
):
    _existing(net)
    client = login(cast.county_admin)
    before = counts()
    response = client.post("/volunteers/new/", form_data(net, password=None, **overrides))
    assert response.status_code == 200
    assert response.context["form"].errors[field] == [message]
    assert message in text(response)
    assert counts() == before


def test_volunteer_list_links_to_staff_registration(login, cast):
    assert (
        'href="/volunteers/new/"' in login(cast.county_admin).get("/volunteers/").content.decode()
    )
    assert (
        'href="/volunteers/new/"' not in login(cast.supervisor).get("/volunteers/").content.decode()
    )


@pytest.mark.parametrize("method", ["get", "post"])
def test_supervisor_is_refused_staff_registration(login, cast, net, method):
    client = login(cast.supervisor)
    before = counts()
    response = getattr(client, method)("/volunteers/new/", form_data(net, password=None))
    assert response.status_code == 403
    assert counts() == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_anonymous_staff_registration_goes_to_login(client, net, method):
    before = counts()
    response = getattr(client, method)("/volunteers/new/", form_data(net))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert counts() == before


# ---------------------------------------------------------------- 我的


def test_my_page_without_a_volunteer_record_invites_to_register(login, cast):
    client = login(cast.volunteer)
    response = client.get("/volunteers/me/")
    page = text(response)
    assert "您还不是注册志愿者。" in page and 'href="/volunteers/register/"' in page
    assert 'href="/volunteers/me/">我的' not in response.content.decode()


def test_my_page_anonymous_goes_to_login(client):
    response = client.get("/volunteers/me/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_my_page_shows_and_edits_the_profile(client, net):
    client.post("/volunteers/register/", form_data(net))
    volunteer = Volunteer.objects.get()
    page = text(client.get("/volunteers/me/"))
    assert volunteer.number in page
    assert volunteer.id_masked in page and volunteer.phone_masked in page
    assert "13812345678" not in page and id_number() not in page
    assert "0.0 小时" in page and "周末白天" in page and net.village2.name in page

    skills = list(Skill.objects.order_by("pk")[:2])
    audits = AuditEvent.objects.count()
    response = client.post(
        "/volunteers/me/",
        {
            "skill_ids": [s.pk for s in skills],
            "availability": [Availability.WEEKDAY_EVENING, Availability.WEEKEND_DAY],
            "service_region_codes": [net.town.code],
            "political_status": "cyl",
        },
    )
    assert response.status_code == 302 and response["Location"] == "/volunteers/me/"
    volunteer.refresh_from_db()
    assert set(volunteer.skills.all()) == set(skills)
    assert volunteer.availability == [Availability.WEEKDAY_EVENING, Availability.WEEKEND_DAY]
    assert list(volunteer.service_regions.all()) == [net.town]
    assert volunteer.political_status == "cyl"
    assert AuditEvent.objects.count() == audits + 1
    assert AuditEvent.objects.latest("pk").verb == "volunteer.update"
    assert "已保存。" in text(client.get("/volunteers/me/"))


def test_my_page_refuses_unknown_choices_and_changes_nothing(client, net):
    client.post("/volunteers/register/", form_data(net))
    before = counts()
    response = client.post("/volunteers/me/", {"availability": ["midnight"]})
    assert response.status_code == 200
    assert "availability" in response.context["form"].errors
    assert Volunteer.objects.get().availability == [Availability.WEEKEND_DAY]
    assert counts() == before


def test_nav_link_after_a_fresh_login(client, net):
    client.post("/volunteers/register/", form_data(net))
    client.post("/accounts/logout/")
    client.post("/accounts/login/", {"phone": "13812345678", "password": "Xin-mima-2026"})
    assert 'href="/volunteers/me/">我的' in client.get("/").content.decode()


def test_nav_flag_is_looked_up_once_for_an_older_session(client, net):
    from wenming.core.context_processors import VOLUNTEER_SESSION_KEY

    client.post("/volunteers/register/", form_data(net))
    session = client.session
    del session[VOLUNTEER_SESSION_KEY]
    session.save()
    assert 'href="/volunteers/me/">我的' in client.get("/").content.decode()
    assert client.session[VOLUNTEER_SESSION_KEY] is True


def test_landing_links_to_registration(client, net):
    assert 'href="/volunteers/register/"' in client.get("/").content.decode()
