"""Logging in by phone, lockout, logout, password change, and personal data at rest."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt, AccessLog
from django.conf import settings
from django.contrib.auth.hashers import check_password, identify_hasher, make_password
from django.db import connection
from django.test.utils import override_settings

from tests.conftest import PASSWORD, make_user
from wenming.accounts.backends import axes_username
from wenming.accounts.models import User
from wenming.core import crypto
from wenming.core.models import AuditEvent

LOGIN = "/accounts/login/"
WRONG = "手机号码或密码不正确。"
LOCKED = "暂时无法登录"


@pytest.fixture
def user(db) -> User:
    return make_user("13912345678", "王小明")


def _post_login(client, phone: str, password: str, **extra):
    return client.post(LOGIN, {"phone": phone, "password": password}, **extra)


def _session_user_id(client) -> str | None:
    return client.session.get("_auth_user_id")


# ---------------------------------------------------------------- logging in


@pytest.mark.parametrize(
    "spelling",
    [
        "13912345678",
        "139 1234 5678",
        " 13912345678 ",
        "139-1234-5678",
        "+8613912345678",
        "+86 139 1234 5678",
        "+86-139-1234-5678",
    ],
)
def test_login_by_any_common_spelling_of_the_phone(user, client, spelling):
    response = _post_login(client, spelling, PASSWORD)
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _session_user_id(client) == str(user.pk)
    event = AuditEvent.objects.get(verb="user.login")
    assert event.actor_id == user.pk
    assert event.target_id == str(user.pk)


def test_login_page_renders_for_anonymous(db, client):
    response = client.get(LOGIN)
    assert response.status_code == 200
    assert 'name="phone"' in response.content.decode()


def test_logged_in_user_visiting_login_goes_home(user, client):
    client.force_login(user, backend="wenming.accounts.backends.PhonePasswordBackend")
    response = client.get(LOGIN)
    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/audit/", "/audit/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
    ],
)
def test_login_redirects_only_to_safe_next(user, client, target, expected):
    response = client.post(LOGIN, {"phone": "13912345678", "password": PASSWORD, "next": target})
    assert response.status_code == 302
    assert response["Location"] == expected


@pytest.mark.parametrize(
    ("phone", "password"),
    [
        ("13912345678", "wrong-password"),  # wrong password
        ("13912345679", PASSWORD),  # unknown phone
        ("12345", PASSWORD),  # not a phone number
        ("abc", PASSWORD),
    ],
)
def test_failed_login_says_so_in_chinese_without_telling_which(user, client, phone, password):
    response = _post_login(client, phone, password)
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert _session_user_id(client) is None
    assert not AuditEvent.objects.filter(verb="user.login").exists()


def test_empty_form_is_refused(db, client):
    response = client.post(LOGIN, {"phone": "", "password": ""})
    assert response.status_code == 200
    assert _session_user_id(client) is None
    assert not AccessAttempt.objects.exists()  # nothing to count


def test_inactive_user_cannot_log_in(user, client):
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = _post_login(client, "13912345678", PASSWORD)
    assert response.status_code == 200
    assert WRONG in response.content.decode()
    assert _session_user_id(client) is None


def test_deactivated_user_is_logged_out_on_next_request(user, client):
    _post_login(client, "13912345678", PASSWORD)
    User.objects.filter(pk=user.pk).update(is_active=False)
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


# ---------------------------------------------------------------- lockout


def _fail(client, times: int, phone: str = "13912345678", **extra) -> list[int]:
    return [_post_login(client, phone, "wrong-password", **extra).status_code for _ in range(times)]


def test_lockout_after_the_failure_limit(user, client):
    assert settings.AXES_FAILURE_LIMIT == 5
    statuses = _fail(client, 5)
    assert statuses == [200, 200, 200, 200, 429]
    # Now even the right password is refused, with the lockout page.
    response = _post_login(client, "139 1234 5678", PASSWORD)
    assert response.status_code == 429
    text = response.content.decode()
    assert LOCKED in text
    assert WRONG not in text
    assert _session_user_id(client) is None
    assert not AuditEvent.objects.filter(verb="user.login").exists()


def test_lockout_is_per_number_and_address(user, client):
    other = make_user("13912345670", "李四")
    _fail(client, 5, REMOTE_ADDR="10.0.0.1")
    # Same number from another address, and another number from the same address, work.
    assert _post_login(client, "13912345678", PASSWORD, REMOTE_ADDR="10.0.0.2").status_code == 302
    client.logout()
    assert _post_login(client, "13912345670", PASSWORD, REMOTE_ADDR="10.0.0.1").status_code == 302
    assert _session_user_id(client) == str(other.pk)
    client.logout()
    assert _post_login(client, "13912345678", PASSWORD, REMOTE_ADDR="10.0.0.1").status_code == 429


def test_lockout_counts_any_spelling_of_the_number_together(user, client):
    for spelling in ["13912345678", "139 1234 5678", "+8613912345678", "139-1234-5678"]:
        assert _post_login(client, spelling, "wrong").status_code == 200
    assert _post_login(client, "+86 139 1234 5678", "wrong").status_code == 429
    assert AccessAttempt.objects.count() == 1


def test_lockout_ends_after_the_cool_off(user, client):
    start = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        _fail(client, 5)
    with time_machine.travel(start + dt.timedelta(minutes=10), tick=False):
        assert _post_login(client, "13912345678", PASSWORD).status_code == 429
    with time_machine.travel(start + dt.timedelta(minutes=30), tick=False):
        assert _post_login(client, "13912345678", PASSWORD).status_code == 302
        assert _session_user_id(client) == str(user.pk)


def test_success_resets_the_failure_count(user, client):
    _fail(client, 4)
    assert AccessAttempt.objects.get().failures_since_start == 4
    assert _post_login(client, "13912345678", PASSWORD).status_code == 302
    assert not AccessAttempt.objects.exists()
    client.logout()
    assert _fail(client, 4) == [200, 200, 200, 200]


def test_lockout_record_stores_the_keyed_hash_of_the_number(user, client):
    _fail(client, 2)
    attempt = AccessAttempt.objects.get()
    assert attempt.username == crypto.digest("13912345678")
    assert attempt.failures_since_start == 2
    assert axes_username(None, {"phone": "+86 139 1234 5678"}) == attempt.username
    # After a successful login axes passes the user's USERNAME_FIELD (the digest itself):
    # it must map to the same record, or a success would not reset the failures.
    assert axes_username(None, {"phone": user.phone_digest}) == attempt.username


def test_lockout_record_never_stores_the_phone_number(user, client):
    _fail(client, 3, phone="139 1234 5678")
    _fail(client, 1, phone="13912345678")
    assert AccessAttempt.objects.count() == 1
    rows = list(AccessAttempt.objects.values())
    # A successful login writes no axes access-log row (our audit log has it).
    assert _post_login(client, "+86 139 1234 5678", PASSWORD).status_code == 302
    assert AccessLog.objects.count() == 0
    assert len(rows) == 1
    for row in rows:
        for column, value in row.items():
            text = str(value).replace(" ", "").replace("-", "")
            assert "13912345678" not in text, column


# ---------------------------------------------------------------- logout


def test_logout_needs_post(user, client):
    _post_login(client, "13912345678", PASSWORD)
    response = client.get("/accounts/logout/")
    assert response.status_code == 405
    assert _session_user_id(client) == str(user.pk)
    response = client.post("/accounts/logout/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert _session_user_id(client) is None


def test_logout_needs_csrf(user, db):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user, backend="wenming.accounts.backends.PhonePasswordBackend")
    assert strict.post("/accounts/logout/").status_code == 403
    assert strict.session.get("_auth_user_id") == str(user.pk)


# ---------------------------------------------------------------- password change

NEW = "Fresh-pass-2027"
PASSWORD_URL = "/accounts/password/"


@pytest.fixture
def logged_in(user, client):
    assert _post_login(client, "13912345678", PASSWORD).status_code == 302
    return client


def _change(client, old: str, new: str, new2: str | None = None):
    return client.post(
        PASSWORD_URL,
        {"old_password": old, "new_password": new, "new_password2": new if new2 is None else new2},
    )


def _assert_unchanged(user: User) -> None:
    fresh = User.objects.get(pk=user.pk)
    assert fresh.password == user.password
    assert fresh.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(verb="user.password_change").exists()


def test_password_page_needs_login(db, client):
    response = client.get(PASSWORD_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


def test_password_change_wrong_old_password(user, logged_in):
    response = _change(logged_in, "not-my-password", NEW)
    assert response.status_code == 200
    assert response.context["form"].errors == {"old_password": ["原密码不正确。"]}
    _assert_unchanged(user)


def test_password_change_mismatch(user, logged_in):
    response = _change(logged_in, PASSWORD, NEW, NEW + "x")
    assert response.status_code == 200
    assert response.context["form"].errors == {"new_password2": ["两次输入的新密码不一致。"]}
    _assert_unchanged(user)


def test_password_change_same_as_old(user, logged_in):
    response = _change(logged_in, PASSWORD, PASSWORD)
    assert response.status_code == 200
    assert response.context["form"].errors == {"new_password": ["新密码不能与原密码相同。"]}
    _assert_unchanged(user)


@pytest.mark.parametrize(
    ("new", "fragment"),
    [
        ("Ab3-xyz", "8"),  # too short: the message names the minimum
        ("20260504183012", "数字"),  # all digits
        ("password123", "常见"),  # too common
    ],
)
def test_password_change_weak_passwords(user, logged_in, new, fragment):
    response = _change(logged_in, PASSWORD, new)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert list(errors) == ["new_password"]
    assert fragment in " ".join(errors["new_password"])
    _assert_unchanged(user)


def test_password_change_success(user, logged_in, client):
    response = _change(logged_in, PASSWORD, NEW)
    assert response.status_code == 302
    assert response["Location"] == "/"
    # Still logged in (the session hash was updated).
    assert _session_user_id(logged_in) == str(user.pk)
    assert logged_in.get(PASSWORD_URL).status_code == 200
    event = AuditEvent.objects.get(verb="user.password_change")
    assert (event.actor_id, event.target_id) == (user.pk, str(user.pk))
    assert event.ip == "127.0.0.1"

    logged_in.post("/accounts/logout/")
    assert WRONG in _post_login(client, "13912345678", PASSWORD).content.decode()
    assert _post_login(client, "13912345678", NEW).status_code == 302


def test_password_change_logs_out_other_sessions(user, logged_in):
    from django.test import Client

    other = Client()
    assert _post_login(other, "13912345678", PASSWORD).status_code == 302
    assert _change(logged_in, PASSWORD, NEW).status_code == 302
    response = other.get(PASSWORD_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN)


# ---------------------------------------------------------------- personal data at rest


def test_phone_is_encrypted_at_rest(db):
    user = make_user("13912345678", "王小明")
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM accounts_user")
        rows = cursor.fetchall()
    dump = repr(rows)
    assert "王小明" in dump  # the query did read the row
    for fragment in ("13912345678", "12345678", "1391234"):
        assert fragment not in dump
    assert user.phone_masked == "139****5678"
    assert user.phone == "13912345678"
    assert user.phone_digest == crypto.digest("13912345678")
    assert str(user) == "王小明（139****5678）"


def test_phone_is_unique_whatever_the_spelling(db):
    from wenming.accounts.services import user_create
    from wenming.core.errors import RuleViolation

    user_create(actor=None, phone="13912345678", name="甲", password=PASSWORD)
    with pytest.raises(RuleViolation) as info:
        user_create(actor=None, phone="+86 139 1234 5678", name="乙", password=PASSWORD)
    assert info.value.message == "该手机号码已注册。"
    assert User.objects.count() == 1


def test_get_by_phone_refuses_garbage(user):
    for raw in ["", "abc", "1391234567", None]:
        with pytest.raises(User.DoesNotExist):
            User.objects.get_by_phone(raw)  # type: ignore[arg-type]
    assert User.objects.get_by_phone("+86 139-1234-5678").pk == user.pk


def test_argon2_is_the_production_hasher():
    hashers = settings.PASSWORD_HASHERS
    assert "django.contrib.auth.hashers.Argon2PasswordHasher" in hashers
    # Tests put a fast hasher first; right after it comes Argon2.
    assert hashers[hashers.index("django.contrib.auth.hashers.MD5PasswordHasher") + 1] == (
        "django.contrib.auth.hashers.Argon2PasswordHasher"
    )


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_argon2_hashes_and_checks():
    encoded = make_password(PASSWORD)
    assert encoded.startswith("argon2$argon2id$")
    assert identify_hasher(encoded).algorithm == "argon2"
    assert check_password(PASSWORD, encoded)
    assert not check_password(PASSWORD + "x", encoded)


def test_password_rules_speak_chinese(db):
    from django.contrib.auth import password_validation
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as info:
        password_validation.validate_password("3141")
    assert info.value.messages == ["密码太短，至少需要 8 位。", "密码不能全是数字。"]


def test_attempts_during_a_lockout_do_not_restart_the_cool_off(user, client):
    """Trying again (even with the right password) during a lockout neither counts nor
    restarts the cool-off, so a neighbour behind the same NAT cannot keep it on."""
    start = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        _fail(client, 5)
    for minutes in (5, 10, 14):
        with time_machine.travel(start + dt.timedelta(minutes=minutes), tick=False):
            assert _post_login(client, "13912345678", "wrong-password").status_code == 429
            assert _post_login(client, "13912345678", PASSWORD).status_code == 429
    assert AccessAttempt.objects.get().failures_since_start == 5
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert _post_login(client, "13912345678", PASSWORD).status_code == 302
        assert _session_user_id(client) == str(user.pk)


def test_one_address_spraying_many_numbers_meets_a_ceiling(user, client, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 6
    start = dt.datetime(2026, 5, 4, 9, 0, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        # Six numbers, one failure each: no single number is locked out.
        for n in range(6):
            assert _post_login(client, f"1371234000{n}", "wrong").status_code == 200
        # The seventh try from this address is refused before any password is checked,
        # the right one included, and is not counted.
        response = _post_login(client, "13912345678", PASSWORD)
        assert response.status_code == 429
        assert "这个网络的登录失败次数过多" in response.content.decode()
        assert _session_user_id(client) is None
        # Another address is not affected.
        assert (
            _post_login(client, "13912345678", PASSWORD, REMOTE_ADDR="10.0.0.9").status_code == 302
        )
    client.logout()
    with time_machine.travel(start + dt.timedelta(seconds=settings.LOGIN_IP_WINDOW), tick=False):
        assert _post_login(client, "13912345678", PASSWORD).status_code == 302
