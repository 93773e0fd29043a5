"""Who a unit's page lists as its staff."""

from tests.conftest import make_user
from wenming.core.roles import Role
from wenming.network.selectors import unit_staff


def test_a_point_lists_only_grants_made_at_the_point(cast, net):
    keeper = make_user("13700000011", "礼堂管理员", Role.STATION_ADMIN, net.village.code, net.point)
    at_point = {g.user_id for g in unit_staff(actor=cast.county_admin, unit=net.point)}
    at_station = {g.user_id for g in unit_staff(actor=cast.county_admin, unit=net.station)}
    assert at_point == {keeper.pk}
    # The station shows its own admin; the point's keeper belongs to the point.
    assert at_station == {cast.station_admin.pk}


def test_volunteers_and_residents_are_not_staff(cast, net):
    resident = make_user("13700000012", "居民", Role.RESIDENT, net.village.code)
    staff = {g.user_id for g in unit_staff(actor=cast.county_admin, unit=net.station)}
    assert cast.volunteer.pk not in staff
    assert resident.pk not in staff
