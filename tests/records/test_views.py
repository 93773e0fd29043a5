"""The pages: the scan landing (login first, token to pass, one button), the organiser's
QR screen and manual check-in, the roster with bulk confirm and reject, 我的服务记录 with
correction requests, the correction inbox; outsiders 404, read-only 403; constant
query counts on the lists."""

from __future__ import annotations

import datetime as dt
import re

import pytest
import time_machine

from tests.records.helpers import START, activity, signed_up_volunteer, state, token
from tests.shared import queries_for
from wenming.records import services
from wenming.records.checkin import pass_for
from wenming.records.models import Attendance, CorrectionRequest, RecordStatus, ServiceRecord
from wenming.volunteers.models import Volunteer

NOW = START + dt.timedelta(minutes=10)


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def scan_url(act, tok):
    return f"/checkin/{act.pk}/?t={tok}"


def test_anonymous_scan_goes_to_login_with_a_pass(client, act):
    response = client.get(scan_url(act, token(act, NOW)))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")
    assert f"t%3D{pass_for(act.pk, NOW)}" in response["Location"]


@pytest.mark.parametrize(
    "tok", ["forged.123", "", lambda a: token(a, NOW - dt.timedelta(seconds=90))]
)
def test_bad_token_page_says_so_and_changes_nothing(client, login, act, vol, tok):
    login(vol)
    tok = tok(act) if callable(tok) else tok
    before = state()
    response = client.get(scan_url(act, tok))
    assert response.status_code == 400
    assert re.search("二维码(无效|已过期)", response.content.decode())
    response = client.post(f"/checkin/{act.pk}/", {"t": tok, "action": "in"})
    assert response.status_code == 400
    assert state() == before


def test_scan_check_in_then_out(client, login, act, vol):
    login(vol)
    page = client.get(scan_url(act, token(act, NOW))).content.decode()
    assert 'id="scan-button"' in page and "签到" in page
    tok = re.search(r'name="t" value="([^"]+)"', page).group(1)
    assert tok.startswith("p")
    response = client.post(f"/checkin/{act.pk}/", {"t": tok, "action": "in"}, follow=True)
    assert "签到成功" in response.content.decode()
    attendance = Attendance.objects.get()
    assert attendance.checked_in_at == NOW
    # A second post (a replay) is harmless.
    client.post(f"/checkin/{act.pk}/", {"t": tok, "action": "in"})
    assert Attendance.objects.count() == 1
    page = client.get(scan_url(act, tok)).content.decode()
    assert 'name="action" value="out"' in page
    with time_machine.travel(NOW + dt.timedelta(hours=1), tick=False):
        tok = pass_for(act.pk, NOW + dt.timedelta(hours=1))
        response = client.post(f"/checkin/{act.pk}/", {"t": tok, "action": "out"}, follow=True)
    assert "签退成功" in response.content.decode()
    assert ServiceRecord.objects.get().minutes == 60


def test_scan_rule_violation_is_a_message(client, login, cast, act):
    login(cast.station_admin)
    response = client.get(scan_url(act, token(act, NOW)))
    assert "只有已注册的志愿者可以签到" in response.content.decode()
    response = client.post(
        f"/checkin/{act.pk}/", {"t": token(act, NOW), "action": "in"}, follow=True
    )
    assert "只有已注册的志愿者可以签到" in response.content.decode()
    assert not Attendance.objects.exists()


def test_screen_shows_a_qr_that_leads_to_check_in(client, login, cast, act):
    login(cast.station_admin)
    page = client.get(f"/checkin/{act.pk}/screen/").content.decode()
    assert "<svg" in page and 'hx-trigger="every 30s"' in page
    url = re.search(r'data-scan-url="([^"]+)"', page).group(1)
    assert url.startswith("http://testserver/checkin/")
    partial = client.get(f"/checkin/{act.pk}/screen/qr/")
    assert partial.status_code == 200 and b'id="count-in"' in partial.content


@pytest.mark.parametrize(
    ("who", "status"),
    [("outsider", 404), ("supervisor", 403), ("team_leader", 403), ("volunteer", 404)],
)
@pytest.mark.parametrize(
    "path",
    ["/checkin/{id}/screen/", "/checkin/{id}/screen/qr/", "/records/activity/{id}/"],
)
def test_organiser_pages_refuse_others(client, login, cast, act, who, status, path):
    login(getattr(cast, who))
    assert client.get(path.format(id=act.pk)).status_code == status


@pytest.mark.parametrize(("who", "status"), [("outsider", 404), ("supervisor", 403)])
def test_organiser_posts_refuse_others_and_change_nothing(
    client, login, cast, act, vol, who, status
):
    v = Volunteer.objects.get(user=vol)
    services.attendance_check_in(actor=vol, activity=act, token=token(act, NOW))
    services.attendance_check_out(actor=vol, activity=act, token=token(act, NOW))
    record = ServiceRecord.objects.get()
    login(getattr(cast, who))
    before = state()
    posts = [
        (f"/checkin/{act.pk}/manual/", {"volunteer": v.pk, "action": "in", "reason": "x"}),
        (f"/records/activity/{act.pk}/confirm/", {"record": record.pk}),
        (f"/records/{record.pk}/reject/", {"reason": "x"}),
    ]
    for path, data in posts:
        assert client.post(path, data).status_code == (404 if who == "outsider" else 403), path
    assert state() == before


def test_manual_check_in_out_from_the_screen(client, login, cast, act, vol):
    v = Volunteer.objects.get(user=vol)
    login(cast.station_admin)
    response = client.post(
        f"/checkin/{act.pk}/manual/", {"volunteer": v.pk, "action": "in", "reason": ""}, follow=True
    )
    assert "请选择志愿者并填写原因" in response.content.decode()
    assert not Attendance.objects.exists()
    client.post(
        f"/checkin/{act.pk}/manual/", {"volunteer": v.pk, "action": "in", "reason": "手机没电"}
    )
    with time_machine.travel(NOW + dt.timedelta(minutes=30), tick=False):
        client.post(
            f"/checkin/{act.pk}/manual/", {"volunteer": v.pk, "action": "out", "reason": "代签退"}
        )
    a = Attendance.objects.get()
    assert (a.checked_in_how, a.checked_out_how, a.manual_reason) == ("manual", "manual", "代签退")
    assert ServiceRecord.objects.get().minutes == 30


def served(act, user, minutes):
    services.attendance_check_in(actor=user, activity=act, token=token(act, NOW))
    out = NOW + dt.timedelta(minutes=minutes)
    services.attendance_check_out(actor=user, activity=act, token=token(act, out), now=out)


def test_roster_bulk_confirm_and_reject(client, login, cast, act):
    users = [signed_up_volunteer(cast.county_admin, act, n) for n in (1, 2, 3)]
    for n, u in enumerate(users):
        served(act, u, 30 * (n + 1))
    login(cast.station_admin)
    page = client.get(f"/records/activity/{act.pk}/").content.decode()
    assert "待确认 3 条" in page
    ids = list(ServiceRecord.objects.order_by("id").values_list("pk", flat=True))
    client.post(f"/records/{ids[2]}/reject/", {"reason": "未实际参加"})
    response = client.post(f"/records/activity/{act.pk}/confirm/", {"record": ids[:2]}, follow=True)
    assert "已确认 2 条服务记录" in response.content.decode()
    assert list(ServiceRecord.objects.order_by("id").values_list("status", flat=True)) == [
        RecordStatus.CONFIRMED,
        RecordStatus.CONFIRMED,
        RecordStatus.REJECTED,
    ]
    assert [Volunteer.objects.get(user=u).confirmed_minutes for u in users] == [30, 60, 0]


_queries = queries_for


def test_roster_query_count_is_constant(client, login, cast, act):
    login(cast.station_admin)
    served(act, signed_up_volunteer(cast.county_admin, act, 1), 30)
    one = _queries(client, f"/records/activity/{act.pk}/")
    for n in range(2, 6):
        served(act, signed_up_volunteer(cast.county_admin, act, n), 30)
    assert _queries(client, f"/records/activity/{act.pk}/") == one
    assert _queries(client, f"/checkin/{act.pk}/screen/") <= one + 2


def test_my_records_and_correction_request(client, login, cast, net, act, vol):
    served(act, vol, 45)
    record = ServiceRecord.objects.get()
    services.record_confirm(actor=cast.station_admin, record=record)
    login(vol)
    page = client.get("/records/mine/").content.decode()
    assert "累计确认服务时长 0.8 小时" in page and act.title in page and "申请更正" in page
    one = _queries(client, "/records/mine/")
    for n in range(3):
        other = activity(cast.county_admin, net.station, title=f"活动{n}")
        from tests.records.helpers import sign_up

        sign_up(other, vol)
        served(other, vol, 20)
    assert _queries(client, "/records/mine/") == one
    response = client.post(
        f"/records/{record.pk}/correction/",
        {"reason": "实际服务 1 小时", "proposed_hours": "1"},
        follow=True,
    )
    assert "已提交更正申请" in response.content.decode()
    c = CorrectionRequest.objects.get()
    assert (c.proposed_minutes, c.status) == (60, "open")
    # Someone else's record does not exist for this volunteer.
    stranger = signed_up_volunteer(cast.county_admin, act, 9)
    login(stranger)
    before = state()
    assert client.post(f"/records/{record.pk}/correction/", {"reason": "x"}).status_code == 404
    assert state() == before


def test_correction_inbox_and_answer(client, login, cast, act, vol):
    served(act, vol, 45)
    record = ServiceRecord.objects.get()
    services.record_confirm(actor=cast.station_admin, record=record)
    c = services.correction_request(actor=vol, record=record, reason="少记了", proposed_minutes=90)
    login(cast.outsider)
    assert "少记了" not in client.get("/records/corrections/").content.decode()
    assert (
        client.post(
            f"/records/corrections/{c.pk}/answer/", {"decision": "accept", "answer": "x"}
        ).status_code
        == 404
    )
    login(cast.station_admin)
    assert "少记了" in client.get("/records/corrections/").content.decode()
    client.post(
        f"/records/corrections/{c.pk}/answer/",
        {"decision": "accept", "answer": "核实属实", "hours": ""},
    )
    c.refresh_from_db()
    assert c.status == "accepted"
    assert Volunteer.objects.get(user=vol).confirmed_minutes == 90
    login(vol)
    page = client.get("/records/mine/").content.decode()
    assert "冲正" in page and "核实属实" in page


def test_mine_for_a_non_volunteer(client, login, cast):
    login(cast.station_admin)
    assert "您还不是注册志愿者" in client.get("/records/mine/").content.decode()


def test_team_leader_answers_corrections_of_the_teams_activities(
    client, login, cast, net, act, vol
):
    from wenming.volunteers.models import Membership, Team, TeamType

    team = Team.objects.create(
        name="马庄志愿服务队", team_type=TeamType.objects.create(name="综合"), unit=net.station,
        region=net.village,
    )  # fmt: skip
    act.team = team
    act.save(update_fields=["team"])
    leader = signed_up_volunteer(cast.county_admin, act, 7)
    Membership.objects.create(
        team=team, volunteer=Volunteer.objects.get(user=leader), role="leader", status="active"
    )
    served(act, vol, 45)
    record = ServiceRecord.objects.get()
    login(leader)
    assert client.get(f"/records/activity/{act.pk}/").status_code == 200
    client.post(f"/records/activity/{act.pk}/confirm/", {"record": record.pk})
    c = services.correction_request(actor=vol, record=record, reason="少记了", proposed_minutes=60)
    assert "少记了" in client.get("/records/corrections/").content.decode()
    api = client.get("/api/records").json()["items"]
    assert record.pk in [r["id"] for r in api]
    client.post(f"/records/corrections/{c.pk}/answer/", {"decision": "reject", "answer": "无误"})
    c.refresh_from_db()
    assert (c.status, c.answered_by_id) == ("rejected", leader.pk)
