"""Signed checkpoints of the ledgers (`core.ledger`): what certificate-transparency logs
do, for a county's public money.

A checkpoint says "chain C of table T had N entries, the last with hash H, at time S",
signed with the platform's Ed25519 key (`WENMING_LEDGER_KEY`: 32 random bytes, base64;
without it the key is derived from SECRET_KEY, fine for the demo and tests, not for a
county). Checkpoints are published (the fund's public page, the API), so that a rewrite
of a whole ledger table by someone with database access, who recomputes every hash,
still shows: the rewritten chain no longer passes through the published heads.

`verify(model, chain)` recomputes the chain (`ledger_verify`) and checks every stored
checkpoint against it and against its signature; the `wenming ledger verify` command
runs it over every ledger the domains register."""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from wenming.core.ledger import LedgerEntry, Verification, ledger_verify
from wenming.core.models import LedgerCheckpoint

VERSION = "wenming-ledger-checkpoint-v1"


@lru_cache(maxsize=4)
def _private_key(secret: str, configured: str) -> Ed25519PrivateKey:
    if configured:
        seed = base64.b64decode(configured)
        if len(seed) != 32:
            raise ValueError("WENMING_LEDGER_KEY must be 32 bytes, base64-encoded")
    else:
        seed = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"wenming:ledger").derive(
            secret.encode()
        )
    return Ed25519PrivateKey.from_private_bytes(seed)


def private_key() -> Ed25519PrivateKey:
    return _private_key(settings.SECRET_KEY, getattr(settings, "WENMING_LEDGER_KEY", ""))


def public_key_bytes() -> bytes:
    return private_key().public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)


def public_key_hex() -> str:
    return public_key_bytes().hex()


def key_id() -> str:
    """A short name of the key (the first 8 bytes of the public key, hex)."""
    return public_key_hex()[:16]


def signed_at_text(cp: LedgerCheckpoint) -> str:
    """The signing time as the statement has it: UTC, ISO 8601 with microseconds."""
    return cp.signed_at.astimezone(dt.UTC).isoformat(timespec="microseconds")


def statement(cp: LedgerCheckpoint) -> bytes:
    """What is signed: one field per line, in a fixed order."""
    fields = [VERSION, cp.table, cp.chain, str(cp.seq), cp.head_hash, signed_at_text(cp)]
    return "\n".join(fields).encode()


def signature_ok(cp: LedgerCheckpoint, public_key: bytes | None = None) -> bool:
    key = Ed25519PublicKey.from_public_bytes(public_key or public_key_bytes())
    try:
        key.verify(bytes.fromhex(cp.signature), statement(cp))
    except (InvalidSignature, ValueError):
        return False
    return True


def checkpoint(model: type[LedgerEntry], chain: str) -> LedgerCheckpoint | None:
    """Sign the chain's head now; None when the chain is empty or its head is already
    signed (a checkpoint a day changes nothing on a quiet day)."""
    table = model._meta.db_table
    head = model._default_manager.filter(chain=chain).order_by("-seq").first()
    if head is None:
        return None
    if LedgerCheckpoint.objects.filter(table=table, chain=chain, seq=head.seq).exists():
        return None
    cp = LedgerCheckpoint(
        table=table,
        chain=chain,
        seq=head.seq,
        head_hash=head.entry_hash,
        signed_at=timezone.now(),
        key_id=key_id(),
    )
    cp.signature = private_key().sign(statement(cp)).hex()
    try:
        with transaction.atomic():
            cp.save(force_insert=True)
    except IntegrityError:  # signed by a concurrent run a moment ago
        return None
    return cp


def latest(model: type[LedgerEntry], chain: str) -> LedgerCheckpoint | None:
    return (
        LedgerCheckpoint.objects.filter(table=model._meta.db_table, chain=chain)
        .order_by("-seq")
        .first()
    )


@dataclass(frozen=True)
class Report:
    table: str
    chain: str
    verification: Verification
    checkpoints: int

    @property
    def ok(self) -> bool:
        return self.verification.ok


def verify(model: type[LedgerEntry], chain: str) -> Report:
    """The chain recomputed, then every checkpoint of it: signed by this platform's key,
    and naming an entry that is still there with the same hash."""
    table = model._meta.db_table
    result = ledger_verify(model, chain=chain)
    checkpoints = list(LedgerCheckpoint.objects.filter(table=table, chain=chain).order_by("seq"))
    if result.ok:
        hashes = dict(
            model._default_manager.filter(
                chain=chain, seq__in=[cp.seq for cp in checkpoints]
            ).values_list("seq", "entry_hash")
        )
        for cp in checkpoints:
            if not signature_ok(cp):
                result = Verification(False, result.entries, cp.seq, "bad_checkpoint_signature")
                break
            if hashes.get(cp.seq) != cp.head_hash:
                result = Verification(False, result.entries, cp.seq, "checkpoint_mismatch")
                break
    return Report(table, chain, result, len(checkpoints))


def chains(model: type[LedgerEntry]) -> list[str]:
    """The ledger's chains. Ordered by the chain alone: the model's default ordering
    would put `seq` into the DISTINCT and read every entry."""
    return list(model._default_manager.order_by("chain").values_list("chain", flat=True).distinct())
