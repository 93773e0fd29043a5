"""Volunteer registration, review, profile edits and reveals: the rules, the scope,
and that a refused action writes nothing. The helpers here are shared by the other
volunteer tests."""

from __future__ import annotations

import datetime as dt
import threading
from typing import Any

import pytest
from django.db import connection
from stdnum.cn import ric

from tests.conftest import make_user, phone_code
from wenming.accounts.models import User
from wenming.core import crypto
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.models import AuditEvent
from wenming.core.roles import Role
from wenming.volunteers import services
from wenming.volunteers.models import RegistrationPolicy, Skill, Volunteer, VolunteerStatus

VILLAGE = "320305005204"
TODAY = dt.date(2026, 6, 1)


def id_number(birth: str = "19900101", seq: str = "123", county: str = "320305") -> str:
    base = county + birth + seq
    return base + ric.calc_check_digit(base + "0")


def reg_input(**overrides: Any) -> services.RegistrationInput:
    values: dict[str, Any] = {
        "name": "张三",
        "phone": "13712340000",
        "id_type": "ric",
        "id_number": id_number(),
        "region_code": VILLAGE,
        "consent": True,
    }
    values.update(overrides)
    return services.RegistrationInput(**values)


def register(actor: Any, n: int = 0, **overrides: Any) -> Volunteer:
    """Staff registration of the n-th synthetic volunteer."""
    values: dict[str, Any] = {
        "name": f"志愿者{n}",
        "phone": f"1371234{n:04d}",
        "id_number": id_number(seq=f"{n % 1000:03d}"),
    }
    values.update(overrides)
    return services.volunteer_register(
        actor=actor, data=reg_input(**values), self_service=False, today=TODAY
    )


def counts() -> tuple[int, int, int]:
    return Volunteer.objects.count(), User.objects.count(), AuditEvent.objects.count()


def refused(actor: Any, data: services.RegistrationInput, *, self_service: bool = False):
    before = counts()
    with pytest.raises(RuleViolation) as exc:
        services.volunteer_register(actor=actor, data=data, self_service=self_service, today=TODAY)
    assert counts() == before
    return exc.value


# ---------------------------------------------------------------- registration rules


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"id_number": id_number()[:-1] + ("0" if id_number()[-1] != "0" else "1")},
            "id_number",
            "身份证号码校验位不正确，请核对最后一位。",
        ),
        (
            {"id_number": id_number(birth="19900231")},
            "id_number",
            "身份证号码中的出生日期或格式不正确。",
        ),
        ({"id_number": id_number(birth="20300101")}, "id_number", "身份证号码中的出生日期不正确。"),
        ({"id_number": id_number()[:17]}, "id_number", "身份证号码应为 18 位。"),
        ({"id_number": ""}, "id_number", "请填写证件号码。"),
        ({"id_type": "visa"}, "id_type", "证件类型不正确。"),
        ({"name": "  "}, "name", "请填写姓名。"),
        ({"phone": "12345"}, "phone", "手机号码格式不正确。"),
        (
            {"consent": False},
            "consent",
            "请阅读并同意隐私声明：未经您同意，我们不会公开您的个人信息。",
        ),
        ({"region_code": "320305005999"}, "region", "请选择所在的村（社区）或乡镇（街道）。"),
        ({"region_code": "320305000000"}, "region", "请选择所在的村（社区）或乡镇（街道）。"),
        ({"skill_ids": [999_999]}, "skills", "技能不正确。"),
        ({"availability": ["midnight"]}, "availability", "服务时间不正确。"),
        ({"political_status": "king"}, "political_status", "政治面貌不正确。"),
        ({"service_region_codes": ["320305009999"]}, "service_regions", "服务区域不正确。"),
    ],
)
def test_registration_rules(cast, overrides, field, message):
    exc = refused(cast.county_admin, reg_input(**overrides))
    assert (exc.field, exc.message) == (field, message)


MINOR = id_number(birth="20100101")


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"guardian_phone": "13712349999", "guardian_consent": True},
            "guardian_name",
            "未满 18 周岁，请填写监护人姓名。",
        ),
        (
            {"guardian_name": "张父", "guardian_consent": True},
            "guardian_phone",
            "请填写手机号码。",
        ),
        (
            {"guardian_name": "张父", "guardian_phone": "13712349999"},
            "guardian_consent",
            "未满 18 周岁，需要监护人同意后才能注册。",
        ),
    ],
)
def test_minor_needs_guardian(cast, overrides, field, message):
    exc = refused(cast.county_admin, reg_input(id_number=MINOR, **overrides))
    assert (exc.field, exc.message) == (field, message)


def test_minor_with_guardian_registers_and_age_uses_today(cast):
    volunteer = services.volunteer_register(
        actor=cast.county_admin,
        data=reg_input(
            id_number=MINOR,
            guardian_name="张父",
            guardian_phone="137 1234 9999",
            guardian_consent=True,
        ),
        self_service=False,
        today=TODAY,
    )
    assert volunteer.is_minor
    assert volunteer.guardian_name == "张父"
    assert volunteer.guardian_consent_at is not None
    assert volunteer.guardian_phone_masked == "137****9999"
    assert crypto.decrypt(volunteer.guardian_phone_cipher) == "13712349999"
    # The day after the 18th birthday, no guardian is needed.
    adult = services.volunteer_register(
        actor=cast.county_admin,
        data=reg_input(id_number=id_number(birth="20080601", seq="124"), phone="13712340001"),
        self_service=False,
        today=TODAY,
    )
    assert not adult.is_minor
    assert adult.guardian_consent_at is None


def test_eighteenth_birthday_tomorrow_is_still_minor(cast):
    exc = refused(cast.county_admin, reg_input(id_number=id_number(birth="20080602", seq="124")))
    assert exc.field == "guardian_name"


def test_happy_path_derives_birth_gender_and_number(cast):
    volunteer = services.volunteer_register(
        actor=cast.county_admin,
        data=reg_input(
            skill_ids=list(Skill.objects.values_list("pk", flat=True)[:2]),
            availability=["weekend_day", "weekday_evening", "weekend_day"],
            political_status="cpc",
        ),
        self_service=False,
        today=TODAY,
    )
    volunteer.refresh_from_db()
    assert volunteer.birth_date == dt.date(1990, 1, 1)
    assert volunteer.gender == "m"  # the 17th digit (3) is odd
    assert volunteer.number == f"320305{volunteer.pk:08d}"
    assert volunteer.status == VolunteerStatus.ACTIVE
    assert volunteer.unit == cast_station(volunteer)
    assert volunteer.user is None
    assert volunteer.availability == ["weekday_evening", "weekend_day"]
    assert volunteer.skills.count() == 2
    assert volunteer.id_masked == crypto.mask_id_number(id_number())
    assert volunteer.phone_masked == "137****0000"
    assert crypto.decrypt(volunteer.id_cipher) == id_number()
    event = AuditEvent.objects.get(verb="volunteer.register")
    assert event.actor == cast.county_admin
    assert event.changes["status"] == [None, "active"]
    assert id_number() not in str(event.changes)


def cast_station(volunteer: Volunteer):
    from wenming.network.models import Unit

    return Unit.objects.get(name="马庄新时代文明实践站")


def test_female_from_even_digit(cast):
    volunteer = register(cast.county_admin, 2, id_number=id_number(seq="122"))
    assert volunteer.gender == "f"


def test_registration_needs_approval_by_policy(cast, net):
    RegistrationPolicy.objects.create(unit=net.station, approval_required=True)
    pending = register(cast.county_admin, 1)
    assert pending.status == VolunteerStatus.PENDING
    other = register(cast.county_admin, 2, region_code="320305005200")
    assert other.status == VolunteerStatus.ACTIVE  # another station, no policy


def test_town_without_station_registers_with_the_institute(cast, net):
    volunteer = register(cast.county_admin, 1, region_code="320305005000")
    assert volunteer.unit == net.institute


def test_duplicate_id_number(cast):
    seq = next(f"{n:03d}" for n in range(1000) if id_number(seq=f"{n:03d}").endswith("X"))
    with_x = id_number(seq=seq)
    register(cast.county_admin, 1, id_number=with_x)
    for variant in (with_x, with_x.lower(), f" {with_x[:6]} {with_x[6:14]} {with_x[14:].lower()} "):
        exc = refused(cast.county_admin, reg_input(id_number=variant, phone="13712349998"))
        assert (exc.field, exc.message) == ("id_number", "该证件号码已经注册过志愿者。")


def test_duplicate_phone(cast):
    register(cast.county_admin, 1)
    exc = refused(
        cast.county_admin,
        reg_input(phone="+86 137-1234-0001", id_number=id_number(seq="555")),
    )
    assert (exc.field, exc.message) == ("phone", "该手机号码已经注册过志愿者。")


# ---------------------------------------------------------------- self-service


def test_self_service_creates_a_login(net):
    from django.contrib.auth.models import AnonymousUser

    volunteer = services.volunteer_register(
        actor=AnonymousUser(),
        data=reg_input(password="Long-enough-2026", phone_code=phone_code("13712340000")),
        self_service=True,
        today=TODAY,
    )
    user = User.objects.get_by_phone("13712340000")
    assert volunteer.user == user
    assert user.name == "张三"
    assert user.check_password("Long-enough-2026")
    assert volunteer.status == VolunteerStatus.ACTIVE
    assert AuditEvent.objects.get(verb="volunteer.register").note == "self"


def test_self_service_without_password_is_refused(net):
    from django.contrib.auth.models import AnonymousUser

    exc = refused(
        AnonymousUser(), reg_input(phone_code=phone_code("13712340000")), self_service=True
    )
    assert exc.field == "password"


def test_self_service_logged_in_links_the_actor(cast):
    user = make_user("13712340000", "张三")
    volunteer = services.volunteer_register(
        actor=user, data=reg_input(), self_service=True, today=TODAY
    )
    assert volunteer.user == user
    assert User.objects.filter(name="张三").count() == 1


def test_self_service_logged_in_with_other_phone_is_refused(cast):
    user = make_user("13712340000", "张三")
    exc = refused(user, reg_input(phone="13712340009"), self_service=True)
    assert (exc.field, exc.message) == ("phone", "手机号码需与登录账号一致。")


def test_self_service_twice_is_refused(cast):
    user = make_user("13712340000", "张三")
    services.volunteer_register(actor=user, data=reg_input(), self_service=True, today=TODAY)
    exc = refused(user, reg_input(id_number=id_number(seq="777")), self_service=True)
    assert exc.field == "phone"


# ---------------------------------------------------------------- staff scope


@pytest.mark.parametrize(
    ("who", "region", "error"),
    [
        ("outsider", VILLAGE, NotFound),
        ("supervisor", VILLAGE, Forbidden),
        ("team_leader", VILLAGE, Forbidden),
        ("volunteer", VILLAGE, NotFound),
        ("station_admin", "320305005200", NotFound),
        ("institute_admin", "320305102200", NotFound),
    ],
)
def test_staff_registration_scope(cast, who, region, error):
    before = counts()
    with pytest.raises(error):
        register(getattr(cast, who), 1, region_code=region)
    assert counts() == before


@pytest.mark.parametrize("who", ["sysadmin", "county_admin", "institute_admin", "station_admin"])
def test_staff_registration_in_scope(cast, who):
    volunteer = register(getattr(cast, who), 1)
    assert volunteer.region_id == VILLAGE


# ---------------------------------------------------------------- concurrency


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_registration_of_one_id_number(cast):
    threads_n = 8
    barrier = threading.Barrier(threads_n)
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(n: int) -> None:
        try:
            actor = User.objects.get(pk=cast.county_admin.pk)
            data = reg_input(name=f"并发{n}", phone=f"1371234{n:04d}")
            barrier.wait(timeout=10)
            try:
                services.volunteer_register(actor=actor, data=data, self_service=False, today=TODAY)
                result = "ok"
            except RuleViolation as exc:
                result = exc.field or ""
            with lock:
                outcomes.append(result)
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in range(threads_n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert sorted(set(outcomes) - {"ok"}) == ["id_number"]
    assert Volunteer.objects.count() == 1
    assert AuditEvent.objects.filter(verb="volunteer.register").count() == 1


# ---------------------------------------------------------------- review


@pytest.fixture
def pending(cast, net):
    RegistrationPolicy.objects.create(unit=net.station, approval_required=True)
    return register(cast.county_admin, 1)


def test_review_approve(cast, pending):
    volunteer = services.volunteer_review(actor=cast.station_admin, volunteer=pending, approve=True)
    volunteer.refresh_from_db()
    assert volunteer.status == VolunteerStatus.ACTIVE
    assert volunteer.reviewed_by == cast.station_admin
    assert volunteer.reviewed_at is not None
    event = AuditEvent.objects.get(verb="volunteer.review")
    assert event.changes == {"status": ["pending", "active"]}


def test_review_reject_needs_note(cast, pending):
    before = counts()
    with pytest.raises(RuleViolation) as exc:
        services.volunteer_review(actor=cast.station_admin, volunteer=pending, approve=False)
    assert (exc.value.field, exc.value.message) == ("note", "不通过时请写明原因。")
    assert counts() == before
    pending.refresh_from_db()
    assert pending.status == VolunteerStatus.PENDING
    services.volunteer_review(
        actor=cast.station_admin, volunteer=pending, approve=False, note=" 信息不实 "
    )
    pending.refresh_from_db()
    assert (pending.status, pending.review_note) == (VolunteerStatus.REJECTED, "信息不实")


def test_review_only_pending(cast):
    active = register(cast.county_admin, 1)
    before = counts()
    with pytest.raises(RuleViolation) as exc:
        services.volunteer_review(actor=cast.county_admin, volunteer=active, approve=True)
    assert exc.value.message == "只能审核待审核的注册。"
    assert counts() == before


@pytest.mark.parametrize(
    ("who", "error"),
    [("outsider", NotFound), ("supervisor", Forbidden), ("team_leader", Forbidden)],
)
def test_review_scope(cast, pending, who, error):
    before = counts()
    with pytest.raises(error):
        services.volunteer_review(actor=getattr(cast, who), volunteer=pending, approve=True)
    assert counts() == before
    pending.refresh_from_db()
    assert pending.status == VolunteerStatus.PENDING


# ---------------------------------------------------------------- update


@pytest.fixture
def linked(cast):
    """A volunteer registered by themselves (the cast's volunteer login)."""
    cast.volunteer.refresh_from_db()
    return services.volunteer_register(
        actor=cast.volunteer,
        data=reg_input(phone="13900000006", name="志愿者"),
        self_service=True,
        today=TODAY,
    )


def test_self_edits_own_profile(cast, linked):
    skill = Skill.objects.first()
    services.volunteer_update(
        actor=cast.volunteer,
        volunteer=linked,
        skill_ids=[skill.pk],
        availability=["weekend_day"],
        political_status="cyl",
        service_region_codes=["320305005000"],
    )
    linked.refresh_from_db()
    assert list(linked.skills.all()) == [skill]
    assert linked.availability == ["weekend_day"]
    assert linked.political_status == "cyl"
    event = AuditEvent.objects.get(verb="volunteer.update")
    assert event.note == "self"
    assert event.changes["political_status"] == ["", "cyl"]
    assert event.changes["skill_ids"] == [[], [skill.pk]]
    assert event.changes["service_region_codes"] == [[], ["320305005000"]]


def test_self_may_not_edit_name_or_phone(cast, linked):
    before = counts()
    with pytest.raises(RuleViolation) as exc:
        services.volunteer_update(actor=cast.volunteer, volunteer=linked, name="李四")
    assert exc.value.message == "不能修改这些信息：name"
    assert counts() == before
    linked.refresh_from_db()
    assert linked.name == "志愿者"


def test_staff_edits_name_and_phone(cast, linked):
    services.volunteer_update(
        actor=cast.station_admin, volunteer=linked, name="李四", phone="13712345555"
    )
    linked.refresh_from_db()
    assert (linked.name, linked.phone_masked) == ("李四", "137****5555")
    assert crypto.decrypt(linked.phone_cipher) == "13712345555"
    event = AuditEvent.objects.get(verb="volunteer.update")
    assert event.changes == {"name": ["志愿者", "李四"], "phone": ["139****0006", "137****5555"]}
    assert "13712345555" not in str(event.changes)


def test_staff_phone_must_stay_unique(cast, linked):
    other = register(cast.county_admin, 3)
    before = counts()
    with pytest.raises(RuleViolation) as exc:
        services.volunteer_update(actor=cast.county_admin, volunteer=other, phone="13900000006")
    assert (exc.value.field, exc.value.message) == ("phone", "该手机号码已经注册过志愿者。")
    assert counts() == before
    # Its own number again is fine (and changes nothing, so no audit).
    services.volunteer_update(actor=cast.county_admin, volunteer=other, phone="13712340003")
    assert counts() == before


def test_update_without_change_is_not_audited(cast, linked):
    before = counts()
    services.volunteer_update(actor=cast.volunteer, volunteer=linked, political_status="")
    assert counts() == before


def test_staff_may_not_edit_id_number(cast, linked):
    with pytest.raises(RuleViolation):
        services.volunteer_update(actor=cast.county_admin, volunteer=linked, id_number="x")


@pytest.mark.parametrize(
    ("who", "error"),
    [("outsider", NotFound), ("supervisor", Forbidden), ("resident", NotFound)],
)
def test_update_scope(cast, linked, who, error):
    if who == "resident":
        actor = make_user("13712348888", "群众", Role.RESIDENT, VILLAGE)
    else:
        actor = getattr(cast, who)
    before = counts()
    with pytest.raises(error):
        services.volunteer_update(actor=actor, volunteer=linked, political_status="cpc")
    assert counts() == before
    linked.refresh_from_db()
    assert linked.political_status == ""


# ---------------------------------------------------------------- reveal


@pytest.mark.parametrize(("what", "value"), [("id_number", id_number()), ("phone", "13712340000")])
@pytest.mark.parametrize("who", ["county_admin", "institute_admin", "sysadmin"])
def test_reveal_for_reveal_roles(cast, what, value, who):
    volunteer = register(cast.county_admin, 0, id_number=id_number(), phone="13712340000")
    actor = getattr(cast, who)
    assert services.volunteer_reveal(
        actor=actor, volunteer=volunteer, what=what, reason="回访"
    ) == (value)
    event = AuditEvent.objects.get(verb="volunteer.reveal")
    assert (event.actor, event.changes, event.note) == (actor, {"field": what}, "回访")
    assert value not in str(event.changes) + event.note + event.target_label


@pytest.mark.parametrize(
    ("who", "error"),
    [
        ("station_admin", Forbidden),
        ("supervisor", Forbidden),
        ("team_leader", Forbidden),
        ("outsider", NotFound),
        ("volunteer", NotFound),
    ],
)
def test_reveal_refused(cast, who, error):
    volunteer = register(cast.county_admin, 1)
    before = counts()
    with pytest.raises(error):
        services.volunteer_reveal(actor=getattr(cast, who), volunteer=volunteer, what="phone")
    assert counts() == before


def test_reveal_unknown_field(cast):
    volunteer = register(cast.county_admin, 1)
    with pytest.raises(RuleViolation):
        services.volunteer_reveal(actor=cast.county_admin, volunteer=volunteer, what="name")
