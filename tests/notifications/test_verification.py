"""Self-registration proves the phone by a text-message code before anything is created
or told; answers never reveal whether a number or an ID number is held; sending codes
is limited per number and per address."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.contrib.auth.models import AnonymousUser

from tests.conftest import make_user, phone_code
from tests.volunteers.test_services import TODAY, id_number, reg_input
from wenming.accounts.models import User
from wenming.core.errors import RuleViolation
from wenming.core.models import AuditEvent
from wenming.notifications import verification
from wenming.notifications.models import OutboxMessage
from wenming.volunteers import services
from wenming.volunteers.models import Volunteer

PHONE = "13712340000"
NEUTRAL = (
    "无法用该证件号码在网上完成注册。请核对号码；如确认无误，请带证件到所在村（社区）"
    "新时代文明实践站办理。"
)


def counts() -> tuple[int, int, int]:
    return Volunteer.objects.count(), User.objects.count(), AuditEvent.objects.count()


def anonymous_register(**overrides):
    return services.volunteer_register(
        actor=AnonymousUser(),
        data=reg_input(password="Long-enough-2026", **overrides),
        self_service=True,
        today=TODAY,
    )


@pytest.mark.parametrize("code", ["", "12345", "abcdef"])
def test_without_the_right_code_nothing_is_created(net, code):
    real = phone_code(PHONE)
    before = counts()
    with pytest.raises(RuleViolation) as exc:
        anonymous_register(phone_code=code if code != real else "000000")
    assert exc.value.field == "code"
    assert counts() == before


def test_with_the_code_the_login_is_created_and_the_code_is_spent(net):
    code = phone_code(PHONE)
    volunteer = anonymous_register(phone_code=code)
    assert volunteer.user is not None
    with pytest.raises(RuleViolation) as exc:
        verification.phone_code_check(phone=PHONE, purpose=verification.REGISTER, code=code)
    assert exc.value.message == "验证码已失效，请重新获取。"


def test_a_code_for_another_number_does_not_serve(net):
    code = phone_code("13712340001")
    before = counts()
    with pytest.raises(RuleViolation):
        anonymous_register(phone_code=code)
    assert counts() == before


def test_five_wrong_guesses_kill_the_code(net):
    code = phone_code(PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(4):
        with pytest.raises(RuleViolation, match="验证码不正确"):
            verification.phone_code_check(phone=PHONE, purpose=verification.REGISTER, code=wrong)
    with pytest.raises(RuleViolation, match="错误次数过多"):
        verification.phone_code_check(phone=PHONE, purpose=verification.REGISTER, code=wrong)
    with pytest.raises(RuleViolation, match="已失效"):
        verification.phone_code_check(phone=PHONE, purpose=verification.REGISTER, code=code)


def test_the_code_expires(net):
    start = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        code = phone_code(PHONE)
    later = start + dt.timedelta(seconds=verification.CODE_TTL + 1)
    with time_machine.travel(later, tick=False), pytest.raises(RuleViolation, match="已失效"):
        verification.phone_code_check(phone=PHONE, purpose=verification.REGISTER, code=code)


def test_a_held_id_number_gets_the_neutral_answer_and_spends_the_code(net):
    services.volunteer_register(
        actor=AnonymousUser(),
        data=reg_input(
            phone="13712340009", password="Long-enough-2026", phone_code=phone_code("13712340009")
        ),
        self_service=True,
        today=TODAY,
    )
    code = phone_code(PHONE)
    before = counts()
    with pytest.raises(RuleViolation) as exc:
        anonymous_register(phone_code=code)  # the same ID number
    assert (exc.value.field, exc.value.message) == ("id_number", NEUTRAL)
    assert counts() == before
    with pytest.raises(RuleViolation, match="已失效"):
        verification.phone_code_check(phone=PHONE, purpose=verification.REGISTER, code=code)


def test_staff_registration_needs_no_code_and_keeps_its_plain_message(cast):
    from tests.volunteers.test_services import register

    register(cast.county_admin, 1, id_number=id_number(seq="321"))
    with pytest.raises(RuleViolation) as exc:
        register(cast.county_admin, 2, id_number=id_number(seq="321"))
    assert exc.value.message == "该证件号码已经注册过志愿者。"


# ---------------------------------------------------------------- sending limits


def test_one_code_a_minute_per_number(net):
    start = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        verification.phone_code_send(phone=PHONE, purpose="register", ip="1.1.1.1")
        with pytest.raises(RuleViolation, match="1 分钟后"):
            verification.phone_code_send(phone=PHONE, purpose="register", ip="2.2.2.2")
    with time_machine.travel(start + dt.timedelta(seconds=61), tick=False):
        verification.phone_code_send(phone=PHONE, purpose="register", ip="2.2.2.2")
    assert OutboxMessage.objects.filter(verb="phone.code").count() == 2


def test_a_daily_ceiling_per_number(net, settings):
    start = dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    for n in range(settings.PHONE_CODE_DAILY):
        with time_machine.travel(start + dt.timedelta(minutes=2 * n), tick=False):
            verification.phone_code_send(phone=PHONE, purpose="register", ip=f"10.0.0.{n}")
    later = start + dt.timedelta(minutes=30)
    with time_machine.travel(later, tick=False), pytest.raises(RuleViolation, match="次数已达上限"):
        verification.phone_code_send(phone=PHONE, purpose="register", ip="10.0.1.1")


def test_an_hourly_ceiling_per_address(net, settings):
    for n in range(settings.PHONE_CODE_IP_HOURLY):
        verification.phone_code_send(phone=f"137123{n:05d}", purpose="register", ip="9.9.9.9")
    before = OutboxMessage.objects.count()
    with pytest.raises(RuleViolation, match="此网络"):
        verification.phone_code_send(phone="13812349999", purpose="register", ip="9.9.9.9")
    assert OutboxMessage.objects.count() == before


# ---------------------------------------------------------------- the page


def test_the_code_page_answers_the_same_for_held_and_free_numbers(client, cast):
    make_user("13712345678", "已有账号")
    held = client.post("/volunteers/register/code/", {"phone": "13712345678"})
    free = client.post("/volunteers/register/code/", {"phone": "13712345679"})
    assert held.status_code == free.status_code == 200
    strip = lambda r: r.content.decode().replace("5678", "").replace("5679", "")  # noqa: E731
    assert strip(held) == strip(free)
    assert "sandbox-code" not in held.content.decode()  # not the demo: no code on the page


def test_the_demo_shows_the_sandbox_code(client, net, settings):
    settings.DEMO = True
    response = client.post("/volunteers/register/code/", {"phone": PHONE})
    code = OutboxMessage.objects.get(verb="phone.code").text.split("验证码是 ")[1][:6]
    assert f"验证码：{code}" in response.content.decode()


def test_a_bad_number_gets_a_clear_error(client, net):
    response = client.post("/volunteers/register/code/", {"phone": "123"})
    assert response.status_code == 400
    assert "手机号码格式不正确" in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_the_registration_page_refuses_without_the_code(client, net):
    from tests.volunteers.test_registration_pages import form_data

    before = counts()
    response = client.post("/volunteers/register/", form_data(net, code=""))
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == ["请填写短信验证码。"]
    assert counts() == before


def test_the_page_shows_refusals_to_htmx(client, net):
    """htmx swaps no 4xx answer by default, so the button's refusal comes as 200."""
    response = client.post("/volunteers/register/code/", {"phone": "123"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert "手机号码格式不正确" in response.content.decode()
    assert 'role="alert"' in response.content.decode()
