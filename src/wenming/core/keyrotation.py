"""Re-encrypting personal data under the newest data key.

A model that stores personal data encrypted lists its fields in `ENCRYPTED_FIELDS`:
pairs of (ciphertext field, keyed-hash field or None). After an operator puts a new key
first in `WENMING_DATA_KEY` (keeping the old ones after it), `data_key_rotate` rewrites
every ciphertext still under an old key and recomputes its keyed hash under the new key.
Lookups try the hash under every key (`crypto.digests`), so the site keeps working
while this runs; once `data_key_status` reports nothing left, the old keys can go.

Rows are handled in batches, each in its own transaction with the rows locked, so the
job can be interrupted and run again: a row already under the new key is skipped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.apps import apps
from django.db import models, transaction

from wenming.core import crypto
from wenming.core.audit import audit_record

Fields = tuple[tuple[str, str | None], ...]


@dataclass
class RotationCount:
    model: str
    rows: int = 0
    stale: int = 0
    rewritten: int = 0


def encrypted_models() -> list[tuple[type[models.Model], Fields]]:
    found = []
    for model in apps.get_models():
        fields = getattr(model, "ENCRYPTED_FIELDS", None)
        if fields:
            found.append((model, tuple(fields)))
    return sorted(found, key=lambda item: item[0]._meta.label)


def _stale(row: models.Model, fields: Fields) -> bool:
    return any(
        getattr(row, cipher) and crypto.needs_reencryption(getattr(row, cipher))
        for cipher, _digest in fields
    )


def data_key_status() -> list[RotationCount]:
    """How many rows of each model still hold a ciphertext under an old key."""
    counts = []
    for model, fields in encrypted_models():
        count = RotationCount(model._meta.label)
        names = [cipher for cipher, _ in fields]
        for row in model._default_manager.only("pk", *names).iterator(chunk_size=2000):
            count.rows += 1
            count.stale += _stale(row, fields)
        counts.append(count)
    return counts


def data_key_rotate(
    *,
    batch_size: int = 500,
    progress: Callable[[RotationCount], None] | None = None,
) -> list[RotationCount]:
    """Rewrite every ciphertext under an old key with the current key, and its keyed
    hash with the current key's hash. Idempotent and resumable; audited once per run."""
    counts = []
    for model, fields in encrypted_models():
        count = RotationCount(model._meta.label)
        names = [name for pair in fields for name in pair if name]
        manager = model._default_manager
        last_pk = None
        while True:
            with transaction.atomic():
                batch_qs = manager.select_for_update().only("pk", *names).order_by("pk")
                if last_pk is not None:
                    batch_qs = batch_qs.filter(pk__gt=last_pk)
                batch = list(batch_qs[:batch_size])
                if not batch:
                    break
                last_pk = batch[-1].pk
                changed = []
                for row in batch:
                    count.rows += 1
                    if not _stale(row, fields):
                        continue
                    count.stale += 1
                    for cipher, digest_field in fields:
                        token = getattr(row, cipher)
                        if not token:
                            continue
                        plain = crypto.decrypt(token)
                        setattr(row, cipher, crypto.encrypt(plain))
                        if digest_field:
                            setattr(row, digest_field, crypto.digest(plain))
                    changed.append(row)
                if changed:
                    manager.bulk_update(changed, names, batch_size=batch_size)
                    count.rewritten += len(changed)
            if progress:
                progress(count)
        counts.append(count)
    with transaction.atomic():
        audit_record(
            actor=None,
            verb="data_key.rotate",
            target=None,
            region_code="",
            changes={c.model: {"rows": c.rows, "rewritten": c.rewritten} for c in counts},
            note="",
        )
    return counts
