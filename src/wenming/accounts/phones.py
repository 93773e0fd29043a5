"""Phone numbers: one normal form (the 11-digit mainland mobile number, or the national
number for other valid numbers) so that the keyed hash of a number is stable."""

from __future__ import annotations

import re

import phonenumbers
from django.utils.translation import gettext as _

from wenming.core.errors import RuleViolation


def _mainland_mobile_re() -> re.Pattern[str]:
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("CN")
    mobile = metadata.mobile if metadata is not None else None
    assert mobile is not None and mobile.national_number_pattern
    return re.compile(mobile.national_number_pattern)


# The common case, an 11-digit mainland mobile number, without a full parse (a bulk
# import normalizes 100,000 of them): the same metadata pattern that is_valid_number
# applies, so the answer is the same.
_MAINLAND_MOBILE = _mainland_mobile_re()


def normalize_phone(raw: str) -> str:
    text = (raw or "").strip().replace(" ", "").replace("-", "")
    if len(text) == 11 and text.isascii() and _MAINLAND_MOBILE.fullmatch(text):
        return text
    if not text:
        raise RuleViolation(_("请填写手机号码。"), field="phone")
    try:
        number = phonenumbers.parse(text, "CN")
    except phonenumbers.NumberParseException as exc:
        raise RuleViolation(_("手机号码格式不正确。"), field="phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise RuleViolation(_("手机号码格式不正确。"), field="phone")
    if number.country_code == 86:
        return str(number.national_number)
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
