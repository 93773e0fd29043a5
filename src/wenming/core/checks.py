"""System checks: catch a malformed personal-data key at start-up (and in
`check --deploy`), not at the first encryption."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.core.exceptions import ImproperlyConfigured


@checks.register(checks.Tags.security, deploy=False)
def data_key_is_usable(app_configs: Any, **kwargs: Any) -> list[checks.CheckMessage]:
    from wenming.core import crypto

    try:
        crypto.keyring()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="wenming.E001", hint="see docs/operations.md")]
    return []
