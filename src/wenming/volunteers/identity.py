"""ID numbers: validation, normal form, and what a mainland ID number tells (birth date,
gender). Messages are what a person at the registration desk needs to read."""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass

from django.utils.translation import gettext as _
from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import InvalidChecksum, InvalidComponent, InvalidFormat, InvalidLength

from wenming.core import regions as rc
from wenming.core.errors import RuleViolation
from wenming.volunteers.models import Gender, IdType

_OTHER_FORMATS = {
    IdType.HK_MACAO: re.compile(r"[HM][0-9]{8,10}"),
    IdType.TAIWAN: re.compile(r"[0-9]{8}"),
    IdType.PASSPORT: re.compile(r"[A-Z0-9]{5,20}"),
}


@dataclass(frozen=True)
class Identity:
    id_type: str
    number: str
    birth_date: dt.date | None
    gender: str  # "" when the number does not say


def _validate_ric(number: str) -> str:
    """ric.validate without its birth-place-by-birth-year check: that check refuses a
    county code created after the holder's birth year, yet people hold the code of the
    place their number was issued (贾汪区 320305 dates from 1983, its older residents
    carry it too). The code must still name a known county."""
    number = ric.compact(number)
    if len(number) != 18:
        raise InvalidLength()
    if not (number[:-1].isascii() and number[:-1].isdigit()):
        raise InvalidFormat()
    if number[-1] != ric.calc_check_digit(number):
        raise InvalidChecksum()
    ric.get_birth_date(number)  # InvalidComponent for an impossible date
    if not _is_known_county(rc.county_prefix(number)):  # an ID number starts with it
        raise InvalidComponent()
    return number


@functools.lru_cache(maxsize=4096)
def _is_known_county(code: str) -> bool:
    """Whether a 6-digit code names a county (cached: a bulk import asks for the same
    few codes thousands of times, and the lookup walks a large table)."""
    places = numdb.get("cn/loc").info(code)
    return any("county" in props for _part, props in places)


def parse_identity(id_type: str, raw: str, *, today: dt.date | None = None) -> Identity:
    number = re.sub(r"\s+", "", raw or "").upper()
    if id_type not in IdType.values:
        raise RuleViolation(_("证件类型不正确。"), field="id_type")
    if not number:
        raise RuleViolation(_("请填写证件号码。"), field="id_number")
    if id_type == IdType.RIC:
        try:
            number = _validate_ric(number)
        except InvalidLength as exc:
            raise RuleViolation(_("身份证号码应为 18 位。"), field="id_number") from exc
        except InvalidChecksum as exc:
            raise RuleViolation(
                _("身份证号码校验位不正确，请核对最后一位。"), field="id_number"
            ) from exc
        except (InvalidComponent, InvalidFormat) as exc:
            raise RuleViolation(
                _("身份证号码中的出生日期或格式不正确。"), field="id_number"
            ) from exc
        birth = ric.get_birth_date(number)
        if birth > (today or dt.date.today()):
            raise RuleViolation(_("身份证号码中的出生日期不正确。"), field="id_number")
        gender = Gender.MALE if int(number[16]) % 2 == 1 else Gender.FEMALE
        return Identity(id_type, number, birth, gender)
    if not _OTHER_FORMATS[IdType(id_type)].fullmatch(number):
        raise RuleViolation(_("证件号码格式不正确。"), field="id_number")
    return Identity(id_type, number, None, "")


def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))
