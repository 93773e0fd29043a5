"""Personal data at rest: AES-256-GCM for values we must read back (ID numbers, phone
numbers), and a keyed hash (HMAC-SHA256) beside them so that they can be unique and
searched by exact match without decrypting.

Keys come from `WENMING_DATA_KEY`: comma-separated base64 keys of 32 bytes. The first
encrypts; every key decrypts (a ciphertext names its key by a 4-byte id), so a new key
can be put first and old rows re-encrypted later (`wenming rotate_data_key`). Lookups by
digest try the digest under every key, so they keep working during a rotation.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from functools import lru_cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_VERSION = b"\x01"


class DecryptionError(ValueError):
    pass


@dataclass(frozen=True)
class DataKey:
    key_id: bytes
    enc_key: bytes
    mac_key: bytes


def _derive(master: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=b"wenming:" + purpose).derive(master)


def _make_key(master: bytes) -> DataKey:
    if len(master) != 32:
        raise ImproperlyConfigured("each WENMING_DATA_KEY entry must be 32 bytes, base64-encoded")
    return DataKey(
        key_id=hashlib.sha256(master).digest()[:4],
        enc_key=_derive(master, b"encrypt"),
        mac_key=_derive(master, b"digest"),
    )


@lru_cache(maxsize=8)
def _keyring(raw: str, fallback_secret: str) -> tuple[DataKey, ...]:
    if not raw:
        # Development and tests only (settings refuse production without a key).
        return (_make_key(hashlib.sha256(b"wenming-dev:" + fallback_secret.encode()).digest()),)
    keys = []
    for part in raw.split(","):
        part = part.strip()
        if not part:
            continue
        try:
            master = base64.b64decode(part, validate=True)
        except ValueError as exc:
            raise ImproperlyConfigured("WENMING_DATA_KEY entries must be base64") from exc
        keys.append(_make_key(master))
    if not keys:
        raise ImproperlyConfigured("WENMING_DATA_KEY is empty")
    return tuple(keys)


def keyring() -> tuple[DataKey, ...]:
    return _keyring(settings.WENMING_DATA_KEY, settings.SECRET_KEY)


@lru_cache(maxsize=8)
def _aead(enc_key: bytes) -> AESGCM:
    return AESGCM(enc_key)


def encrypt(plaintext: str) -> str:
    key = keyring()[0]
    nonce = os.urandom(12)
    sealed = _aead(key.enc_key).encrypt(nonce, plaintext.encode(), key.key_id)
    return base64.urlsafe_b64encode(_VERSION + key.key_id + nonce + sealed).decode()


def decrypt(token: str) -> str:
    try:
        raw = base64.urlsafe_b64decode(token.encode())
    except ValueError as exc:
        raise DecryptionError("not a ciphertext") from exc
    if len(raw) < 1 + 4 + 12 + 16 or raw[:1] != _VERSION:
        raise DecryptionError("not a ciphertext")
    key_id, nonce, sealed = raw[1:5], raw[5:17], raw[17:]
    for key in keyring():
        if key.key_id == key_id:
            try:
                return AESGCM(key.enc_key).decrypt(nonce, sealed, key_id).decode()
            except Exception as exc:  # InvalidTag: tampered or wrong key
                raise DecryptionError("ciphertext does not verify") from exc
    raise DecryptionError("no key for this ciphertext")


def needs_reencryption(token: str) -> bool:
    try:
        raw = base64.urlsafe_b64decode(token.encode())
    except ValueError as exc:
        raise DecryptionError("not a ciphertext") from exc
    if len(raw) < 5 or raw[:1] != _VERSION:
        raise DecryptionError("not a ciphertext")
    return raw[1:5] != keyring()[0].key_id


def digest(value: str) -> str:
    """The keyed hash of a normalized value under the current key (hex, 64 chars)."""
    return hmac.new(keyring()[0].mac_key, value.encode(), hashlib.sha256).hexdigest()


def digests(value: str) -> list[str]:
    """The keyed hash under every key: look up with `__in` during a key rotation."""
    return [hmac.new(k.mac_key, value.encode(), hashlib.sha256).hexdigest() for k in keyring()]


def mask_name(name: str) -> str:
    """A person's name as pages, exports and the public verify page show it: the family
    name's first character, then one * for every other character; a one-character name
    is only *. 张三 → 张*, 张小三 → 张**, 欧阳小明 → 欧***, 李 → *. (One format for every
    domain: certificates, orders and households each had their own.)"""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*"
    return name[0] + "*" * (len(name) - 1)


def mask_phone(phone: str) -> str:
    """138****5678"""
    if len(phone) < 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]


def mask_id_number(number: str) -> str:
    """3203**********1234"""
    if len(number) < 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]
