"""Encryption of personal data at rest, keyed digests, key rotation and masking."""

from __future__ import annotations

import base64
import os

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test.utils import override_settings
from hypothesis import given
from hypothesis import strategies as st

from tests.conftest import PASSWORD
from wenming.accounts.models import User
from wenming.core import crypto
from wenming.core.crypto import DecryptionError


def _key() -> str:
    return base64.b64encode(os.urandom(32)).decode()


OLD, NEW = _key(), _key()


@given(st.text(max_size=200))
def test_round_trip(plaintext):
    token = crypto.encrypt(plaintext)
    assert crypto.decrypt(token) == plaintext
    assert not crypto.needs_reencryption(token)


def test_ciphertext_is_randomized_and_hides_the_plaintext():
    a, b = crypto.encrypt("13900000001"), crypto.encrypt("13900000001")
    assert a != b
    assert "13900000001" not in a
    assert crypto.decrypt(a) == crypto.decrypt(b) == "13900000001"


def test_round_trip_of_chinese_text():
    assert crypto.decrypt(crypto.encrypt("江苏省徐州市贾汪区马庄村")) == "江苏省徐州市贾汪区马庄村"


def _flip(token: str, index: int) -> str:
    raw = bytearray(base64.urlsafe_b64decode(token))
    raw[index] ^= 0x01
    return base64.urlsafe_b64encode(bytes(raw)).decode()


@pytest.mark.parametrize(
    ("index", "message"),
    [
        (0, "not a ciphertext"),  # version byte
        (1, "no key for this ciphertext"),  # key id
        (6, "ciphertext does not verify"),  # nonce
        (20, "ciphertext does not verify"),  # sealed data
        (-1, "ciphertext does not verify"),  # tag
    ],
)
def test_tampered_ciphertext_raises(index, message):
    token = crypto.encrypt("320305199001011234")
    with pytest.raises(DecryptionError, match=message):
        crypto.decrypt(_flip(token, index))


@pytest.mark.parametrize(
    "junk",
    ["", "abc", "not base64 at all!", "AAAA", base64.urlsafe_b64encode(b"\x01" * 20).decode()],
)
def test_junk_is_not_a_ciphertext(junk):
    with pytest.raises(DecryptionError):
        crypto.decrypt(junk)


def test_truncated_ciphertext_raises():
    token = crypto.encrypt("13900000001")
    raw = base64.urlsafe_b64decode(token)
    with pytest.raises(DecryptionError):
        crypto.decrypt(base64.urlsafe_b64encode(raw[:-1]).decode())


def test_digest_is_stable_keyed_and_hex():
    assert crypto.digest("13900000001") == crypto.digest("13900000001")
    assert crypto.digest("13900000001") != crypto.digest("13900000002")
    assert len(crypto.digest("x")) == 64
    int(crypto.digest("x"), 16)
    with override_settings(WENMING_DATA_KEY=OLD):
        under_old = crypto.digest("13900000001")
    with override_settings(WENMING_DATA_KEY=NEW):
        under_new = crypto.digest("13900000001")
    assert under_old != under_new


def test_key_rotation():
    with override_settings(WENMING_DATA_KEY=OLD):
        old_token = crypto.encrypt("13900000001")
        old_digest = crypto.digest("13900000001")
        assert crypto.digests("13900000001") == [old_digest]
        assert not crypto.needs_reencryption(old_token)

    with override_settings(WENMING_DATA_KEY=f"{NEW}, {OLD}"):
        # Old data still decrypts; new data is written under the new key.
        assert crypto.decrypt(old_token) == "13900000001"
        assert crypto.needs_reencryption(old_token)
        new_token = crypto.encrypt("13900000001")
        assert not crypto.needs_reencryption(new_token)
        new_digest = crypto.digest("13900000001")
        assert new_digest != old_digest
        assert crypto.digests("13900000001") == [new_digest, old_digest]

    with override_settings(WENMING_DATA_KEY=NEW):
        # Once the old key is gone, data under it no longer decrypts.
        assert crypto.decrypt(new_token) == "13900000001"
        with pytest.raises(DecryptionError, match="no key"):
            crypto.decrypt(old_token)


def test_users_are_found_and_log_in_during_a_rotation(db, client):
    with override_settings(WENMING_DATA_KEY=OLD):
        user = User.objects.create_user("13900000001", "老用户", PASSWORD)
    with override_settings(WENMING_DATA_KEY=f"{NEW},{OLD}"):
        assert User.objects.get_by_phone("139 0000 0001").pk == user.pk
        assert User.objects.get(pk=user.pk).phone == "13900000001"
        response = client.post("/accounts/login/", {"phone": "13900000001", "password": PASSWORD})
        assert response.status_code == 302
    with override_settings(WENMING_DATA_KEY=NEW), pytest.raises(User.DoesNotExist):
        User.objects.get_by_phone("13900000001")


@pytest.mark.parametrize(
    "raw",
    [
        "not-base64!",
        base64.b64encode(b"too short").decode(),
        base64.b64encode(os.urandom(33)).decode(),
        " , ,",
    ],
)
def test_bad_keys_are_refused(raw):
    with override_settings(WENMING_DATA_KEY=raw), pytest.raises(ImproperlyConfigured):
        crypto.encrypt("x")


def test_without_a_key_a_development_key_comes_from_the_secret():
    with override_settings(WENMING_DATA_KEY="", SECRET_KEY="a" * 40):
        token = crypto.encrypt("x")
        first = crypto.digest("x")
    with override_settings(WENMING_DATA_KEY="", SECRET_KEY="b" * 40):
        assert crypto.digest("x") != first
        with pytest.raises(DecryptionError):
            crypto.decrypt(token)


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("138123", "******"),
        ("", ""),
        ("+85291234567", "+85*****4567"),
    ],
)
def test_mask_phone(phone, masked):
    assert crypto.mask_phone(phone) == masked


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("320305199001011234", "3203**********1234"),
        ("3203051", "*******"),
        ("", ""),
    ],
)
def test_mask_id_number(number, masked):
    assert crypto.mask_id_number(number) == masked


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_masked_phone_keeps_only_head_and_tail(phone):
    masked = crypto.mask_phone(phone)
    assert len(masked) == 11
    assert masked[:3] == phone[:3] and masked[-4:] == phone[-4:]
    assert masked[3:7] == "****"


@pytest.mark.parametrize("junk", ["", "not base64!", "AAAA", "QUJD"])
def test_needs_reencryption_refuses_junk_with_decryption_error(junk):
    with pytest.raises(crypto.DecryptionError):
        crypto.needs_reencryption(junk)


def test_a_malformed_data_key_fails_the_system_check(settings):
    from wenming.core.checks import data_key_is_usable

    settings.WENMING_DATA_KEY = "not-a-key"
    errors = data_key_is_usable(None)
    assert [e.id for e in errors] == ["wenming.E001"]
    settings.WENMING_DATA_KEY = base64.b64encode(b"k" * 32).decode()
    assert data_key_is_usable(None) == []
