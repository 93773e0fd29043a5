"""The activity page, 我的 and the staff activity list lead to check-in and the records
pages, each only for the people who can use them."""

from __future__ import annotations


def test_organiser_sees_checkin_and_records_links(cast, login, act):
    body = login(cast.station_admin).get(f"/activities/{act.pk}/").content.decode()
    assert f'href="/checkin/{act.pk}/' in body or 'id="activity-checkin-screen"' in body
    assert 'id="activity-records"' in body


def test_read_only_and_volunteers_do_not(cast, login, act, vol):
    for who in ("supervisor", "volunteer"):
        body = login(getattr(cast, who)).get(f"/activities/{act.pk}/").content.decode()
        assert 'id="activity-checkin-screen"' not in body
        assert 'id="activity-records"' not in body


def test_me_links_to_my_records(login, vol):
    body = login(vol).get("/volunteers/me/").content.decode()
    assert 'id="my-records-link"' in body


def test_manage_list_links_to_corrections(cast, login):
    body = login(cast.station_admin).get("/activities/manage/").content.decode()
    assert 'id="corrections-link"' in body


def test_me_and_records_link_to_certificates(login, vol):
    client = login(vol)
    assert 'id="my-certificates-link"' in client.get("/volunteers/me/").content.decode()
    assert 'id="records-certificates-link"' in client.get("/records/mine/").content.decode()


def test_certificates_nav_for_staff_and_verify_in_footer(cast, login, client):
    assert 'id="footer-verify"' in client.get("/activities/").content.decode()
    assert 'id="nav-certificates"' in login(cast.station_admin).get("/").content.decode()
    assert 'id="nav-certificates"' not in login(cast.volunteer).get("/").content.decode()
