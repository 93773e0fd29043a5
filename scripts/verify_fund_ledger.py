"""Check a practice fund's public ledger yourself, without the platform.

    python verify_fund_ledger.py entries.csv [PUBLIC_KEY_HEX]

Download the ledger from the fund's public page (基金公示 → 下载账目 CSV). The file has
one row per entry, every field the hash covers, and each entry's hashes; its last rows
(`# checkpoint` lines) are the platform's signed checkpoints. This script:

1. recomputes every entry's SHA-256 (the algorithm below) and checks that each entry
   names the hash of the one before it, and that the numbers run 1, 2, 3 … without a gap;
2. with the platform's public key (shown on the public page), checks each checkpoint's
   Ed25519 signature and that the entry it names is in the file with that hash.

It prints OK, or the first entry that does not check and why, and exits 1 then.

The algorithm (docs/architecture.md, "The practice fund"): an entry's hash is
SHA-256 of the UTF-8 JSON of {"prev": <previous entry's hash, 64 zeros for the first>,
and the entry's fields chain, seq, amount, kind, memo, actor_label, reverses_id,
created_at (UTC, ISO 8601 with microseconds), fund_id, project_id, reference}, with the
keys sorted, no spaces (separators "," and ":"), non-ASCII characters kept as they are,
and null for an empty reverses_id or project_id.

Only the Python standard library is needed for step 1; step 2 needs the `cryptography`
package (pip install cryptography)."""

from __future__ import annotations

import csv
import hashlib
import json
import sys

GENESIS = "0" * 64
INT_FIELDS = ("seq", "amount", "fund_id")
NULLABLE_INT_FIELDS = ("reverses_id", "project_id")
HASHED = (
    "chain", "seq", "amount", "kind", "memo", "actor_label", "reverses_id", "created_at",
    "fund_id", "project_id", "reference",
)  # fmt: skip
CHECKPOINT_VERSION = "wenming-ledger-checkpoint-v1"


def entry_hash(prev: str, row: dict[str, str]) -> str:
    content: dict[str, object] = {}
    for name in HASHED:
        value: object = row[name]
        if name in INT_FIELDS:
            value = int(row[name])
        elif name in NULLABLE_INT_FIELDS:
            value = int(row[name]) if row[name] else None
        content[name] = value
    canonical = json.dumps(
        {"prev": prev, **content}, sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_signature(public_key_hex: str, cp: dict[str, str]) -> bool:
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    statement = "\n".join(
        [CHECKPOINT_VERSION, cp["table"], cp["chain"], cp["seq"], cp["head_hash"],
         cp["signed_at"]]
    ).encode()  # fmt: skip
    try:
        key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_key_hex))
        key.verify(bytes.fromhex(cp["signature"]), statement)
    except (InvalidSignature, ValueError):
        return False
    return True


def verify(path: str, public_key_hex: str = "") -> tuple[bool, str]:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        lines = list(csv.reader(handle))
    header, body = lines[0], lines[1:]
    entries = [
        dict(zip(header, line, strict=True)) for line in body if line and line[0] != "# checkpoint"
    ]
    cps = [line for line in body if line and line[0] == "# checkpoint"]
    prev, expected, hashes = GENESIS, 1, {}
    for row in sorted(entries, key=lambda r: int(r["seq"])):
        seq = int(row["seq"])
        if seq != expected:
            return False, f"entry #{expected} is missing"
        if row["prev_hash"] != prev:
            return False, f"entry #{seq} does not follow #{seq - 1} (broken link)"
        if entry_hash(prev, row) != row["entry_hash"]:
            return False, f"entry #{seq} was altered (its hash does not match)"
        prev, expected = row["entry_hash"], expected + 1
        hashes[seq] = row["entry_hash"]
    for line in cps:
        cp = dict(zip(["_", "table", "chain", "seq", "head_hash", "signed_at", "key_id",
                       "signature"], line, strict=False))  # fmt: skip
        if hashes.get(int(cp["seq"])) != cp["head_hash"]:
            return False, f"checkpoint #{cp['seq']} is not in this ledger"
        if public_key_hex and not check_signature(public_key_hex, cp):
            return False, f"checkpoint #{cp['seq']} has a bad signature"
    signed = "signatures checked" if public_key_hex else "signatures not checked (no key)"
    return True, f"OK: {len(entries)} entries, {len(cps)} checkpoints, {signed}"


def main() -> int:
    if len(sys.argv) < 2:
        print(__doc__)
        return 2
    ok, message = verify(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "")
    print(message)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
