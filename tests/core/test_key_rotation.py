"""Data-key rotation: after a new key is put first, `rotate_data_key` re-encrypts every
ID and phone number under it, lookups and logins keep working before, during and after,
and the old key can then be dropped."""

from __future__ import annotations

import base64
import io

import pytest
from django.core.management import call_command
from django.test import override_settings

from tests.conftest import PASSWORD, make_user
from tests.volunteers.test_services import register
from wenming.accounts.models import User
from wenming.core import crypto
from wenming.core.keyrotation import data_key_rotate, data_key_status
from wenming.core.models import AuditEvent
from wenming.volunteers.models import Volunteer

OLD = base64.b64encode(b"o" * 32).decode()
NEW = base64.b64encode(b"n" * 32).decode()


def key_id(token: str) -> bytes:
    return base64.urlsafe_b64decode(token.encode())[1:5]


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_data_key", *args, stdout=out)
    return out.getvalue()


@pytest.fixture
def old_key(settings):
    settings.WENMING_DATA_KEY = OLD


@pytest.fixture
def people(old_key, cast):
    user = make_user("13900001111", "甲")
    volunteer = register(cast.station_admin, 1, guardian_phone="")
    return user, volunteer


@pytest.mark.django_db
def test_rotation_round_trip(people, client):
    user, volunteer = people
    with override_settings(WENMING_DATA_KEY=OLD):
        old_ids = {key_id(User.objects.get(pk=user.pk).phone_cipher)}
        id_plain = crypto.decrypt(Volunteer.objects.get(pk=volunteer.pk).id_cipher)

    with override_settings(WENMING_DATA_KEY=f"{NEW},{OLD}"):
        new_id = crypto.keyring()[0].key_id
        assert new_id not in old_ids
        # Before the rotation: old rows still found and still log in.
        assert User.objects.get_by_phone("13900001111").pk == user.pk
        assert "under an old key" in run("--check")
        assert sum(c.stale for c in data_key_status()) >= 2

        audits = AuditEvent.objects.filter(verb="data_key.rotate").count()
        out = run()
        assert "done" in out
        assert AuditEvent.objects.filter(verb="data_key.rotate").count() == audits + 1

        u = User.objects.get(pk=user.pk)
        v = Volunteer.objects.get(pk=volunteer.pk)
        for token in (u.phone_cipher, v.id_cipher, v.phone_cipher):
            assert key_id(token) == new_id
        assert u.phone_digest == crypto.digest("13900001111")
        assert v.id_digest == crypto.digest(id_plain)
        assert sum(c.stale for c in data_key_status()) == 0
        # A second run rewrites nothing.
        assert all(c.rewritten == 0 for c in data_key_rotate())

    # The old key is gone: everything still decrypts, finds and logs in.
    with override_settings(WENMING_DATA_KEY=NEW):
        assert crypto.decrypt(Volunteer.objects.get(pk=volunteer.pk).id_cipher) == id_plain
        assert User.objects.get_by_phone("13900001111").pk == user.pk
        assert Volunteer.objects.filter(id_digest__in=crypto.digests(id_plain)).count() == 1
        assert (
            client.post(
                "/accounts/login/", {"phone": "13900001111", "password": PASSWORD}
            ).status_code
            == 302
        )


@pytest.mark.django_db
def test_without_rotation_the_old_key_cannot_be_dropped(people):
    user, _ = people
    with override_settings(WENMING_DATA_KEY=NEW), pytest.raises(crypto.DecryptionError):
        crypto.decrypt(User.objects.get(pk=user.pk).phone_cipher)


@pytest.mark.django_db
def test_generate_prints_a_usable_key():
    key = run("--generate").strip()
    assert len(base64.b64decode(key, validate=True)) == 32
    with override_settings(WENMING_DATA_KEY=key):
        assert crypto.decrypt(crypto.encrypt("x")) == "x"
