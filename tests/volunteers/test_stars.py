"""Star levels: thresholds, policies per jurisdiction (the nearest wins), recompute."""

from __future__ import annotations

import pytest

from tests.conftest import make_user
from tests.volunteers.test_services import counts, id_number, reg_input, register
from wenming.core.errors import Forbidden, NotFound, RuleViolation
from wenming.core.models import AuditEvent
from wenming.core.roles import Role
from wenming.volunteers import services
from wenming.volunteers import stars as star_rules
from wenming.volunteers.models import StarPolicy, Volunteer

DEFAULT = star_rules.DEFAULT_STAR_HOURS


@pytest.mark.parametrize(
    ("minutes", "level"),
    [
        (0, 0),
        (100 * 60 - 1, 0),
        (100 * 60, 1),  # exactly 100 hours: one star
        (300 * 60 - 1, 1),
        (300 * 60, 2),
        (600 * 60, 3),
        (1000 * 60, 4),
        (1500 * 60 - 1, 4),
        (1500 * 60, 5),
        (10_000 * 60, 5),
    ],
)
def test_star_level_for(minutes, level):
    assert star_rules.star_level_for(minutes, DEFAULT) == level


def set_minutes(volunteer: Volunteer, hours: float) -> None:
    Volunteer.objects.filter(pk=volunteer.pk).update(confirmed_minutes=int(hours * 60))


def stars() -> dict[str, int]:
    return dict(Volunteer.objects.values_list("name", "star_level"))


@pytest.fixture
def people(cast):
    """Three volunteers in 贾汪区 (two villages, one town) and one in 泉山区."""
    a = register(cast.county_admin, 1)
    b = register(cast.county_admin, 2, region_code="320305102200")
    c = register(cast.county_admin, 3, region_code="320305005000")
    d = services.volunteer_register(
        actor=cast.outsider,
        data=reg_input(
            name="志愿者4",
            phone="13712340004",
            id_number=id_number(county="320311", seq="004"),
            region_code="320311001001",
        ),
        self_service=False,
    )
    for volunteer, hours in ((a, 25), (b, 120), (c, 5), (d, 25)):
        set_minutes(volunteer, hours)
    return a, b, c, d


def test_policy_set_recomputes_its_subtree(cast, people):
    policy = services.star_policy_set(
        actor=cast.county_admin, region_code="320305000000", thresholds=[10, 20, 30, 40, 50]
    )
    assert policy.thresholds == [10, 20, 30, 40, 50]
    assert stars() == {"志愿者1": 2, "志愿者2": 5, "志愿者3": 0, "志愿者4": 0}
    event = AuditEvent.objects.get(verb="volunteer.star_policy")
    assert event.changes == {"thresholds": [None, [10, 20, 30, 40, 50]]}
    # Changing it again keeps one policy and records the old value.
    services.star_policy_set(
        actor=cast.county_admin, region_code="320305000000", thresholds=[1, 2, 3, 4, 200]
    )
    assert StarPolicy.objects.count() == 1
    assert stars() == {"志愿者1": 4, "志愿者2": 4, "志愿者3": 4, "志愿者4": 0}
    last = AuditEvent.objects.filter(verb="volunteer.star_policy").latest("pk")
    assert last.changes == {"thresholds": [[10, 20, 30, 40, 50], [1, 2, 3, 4, 200]]}


def test_nested_deeper_policy_wins(cast, people):
    services.star_policy_set(
        actor=cast.county_admin, region_code="320305000000", thresholds=[10, 20, 30, 40, 50]
    )
    services.star_policy_set(
        actor=cast.sysadmin, region_code="320000000000", thresholds=[24, 500, 600, 700, 800]
    )
    # 贾汪区 keeps its own policy; 泉山区 takes the province's.
    assert stars() == {"志愿者1": 2, "志愿者2": 5, "志愿者3": 0, "志愿者4": 1}
    assert star_rules.star_thresholds_for("320305005204") == (10, 20, 30, 40, 50)
    assert star_rules.star_thresholds_for("320311001001") == (24, 500, 600, 700, 800)
    assert star_rules.star_thresholds_for("330000000000") == DEFAULT


@pytest.mark.parametrize(
    "thresholds",
    [
        [1, 2, 3, 4],
        [1, 2, 3, 4, 5, 6],
        [0, 2, 3, 4, 5],
        [-1, 2, 3, 4, 5],
        [1, 2, 2, 4, 5],
        [5, 4, 3, 2, 1],
    ],
)
def test_policy_thresholds_rules(cast, people, thresholds):
    before = (counts(), stars())
    with pytest.raises(RuleViolation) as exc:
        services.star_policy_set(
            actor=cast.county_admin, region_code="320305000000", thresholds=thresholds
        )
    assert (exc.value.field, exc.value.message) == (
        "thresholds",
        "请填写 5 个逐级递增的正整数小时数。",
    )
    assert (counts(), stars()) == before
    assert not StarPolicy.objects.exists()


def test_policy_only_at_province_city_or_county(cast, people):
    before = counts()
    with pytest.raises(Forbidden) as exc:
        services.star_policy_set(
            actor=cast.county_admin, region_code="320305005000", thresholds=[1, 2, 3, 4, 5]
        )
    assert exc.value.message == "星级标准只能按省、市、县（区）设置。"
    assert counts() == before
    assert not StarPolicy.objects.exists()


@pytest.mark.parametrize(
    ("who", "region", "error"),
    [
        ("outsider", "320305000000", NotFound),
        ("supervisor", "320305000000", Forbidden),
        ("institute_admin", "320305000000", NotFound),
        ("county_admin", "320300000000", NotFound),
    ],
)
def test_policy_scope(cast, people, who, region, error):
    before = (counts(), stars())
    with pytest.raises(error):
        services.star_policy_set(
            actor=getattr(cast, who), region_code=region, thresholds=[1, 2, 3, 4, 5]
        )
    assert (counts(), stars()) == before
    assert not StarPolicy.objects.exists()


def test_hours_changed_updates_the_star(cast):
    volunteer = register(cast.county_admin, 1)
    services.volunteer_hours_changed(volunteer_id=volunteer.pk, delta_minutes=100 * 60 - 1)
    volunteer.refresh_from_db()
    assert (volunteer.confirmed_minutes, volunteer.star_level) == (5999, 0)
    services.volunteer_hours_changed(volunteer_id=volunteer.pk, delta_minutes=1)
    volunteer.refresh_from_db()
    assert (volunteer.confirmed_minutes, volunteer.star_level) == (6000, 1)
    services.volunteer_hours_changed(volunteer_id=volunteer.pk, delta_minutes=-60)
    volunteer.refresh_from_db()
    assert (volunteer.confirmed_minutes, volunteer.star_level) == (5940, 0)


def test_hours_changed_uses_the_nearest_policy(cast):
    services.star_policy_set(
        actor=cast.county_admin, region_code="320305000000", thresholds=[1, 2, 3, 4, 5]
    )
    volunteer = register(cast.county_admin, 1)
    services.volunteer_hours_changed(volunteer_id=volunteer.pk, delta_minutes=180)
    volunteer.refresh_from_db()
    assert volunteer.star_level == 3


def test_resident_cannot_set_policy(cast):
    resident = make_user("13712348888", "群众", Role.RESIDENT, "320305005204")
    with pytest.raises(NotFound):
        services.star_policy_set(
            actor=resident, region_code="320305000000", thresholds=[1, 2, 3, 4, 5]
        )
