"""The team pages (志愿服务队): find and list teams, a team's page, create and edit,
join, decide requests, leave, remove, leaders. Views parse input and call the services
and selectors in teams.py; the rules and the scope live there."""

from __future__ import annotations

from typing import Any, NamedTuple

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from wenming.core import regions as rc
from wenming.core.access import has_perm, prefixes_for, subtree_q
from wenming.core.errors import Forbidden, RuleViolation
from wenming.core.paging import paginate, querystring_without_page
from wenming.core.registry import TEAM_PAGE, panels_for
from wenming.core.roles import Perm
from wenming.network.models import Region
from wenming.volunteers import teams
from wenming.volunteers.forms import int_or_none
from wenming.volunteers.models import Membership, MembershipStatus, Team, Volunteer
from wenming.volunteers.own import volunteer_of
from wenming.volunteers.teams.forms import ReasonForm, TeamForm

MEMBERS_PER_PAGE = 50
# The team page shows its latest public activities; the rest are on the activity list.


class TeamFilters(NamedTuple):
    search: str
    team_type_id: int | None
    region_prefix: str
    unit_id: int | None


def _digits(raw: str, limit: int = 12) -> str:
    return "".join(c for c in raw if c.isascii() and c.isdigit())[:limit]


def _own_volunteer(request: HttpRequest) -> Volunteer | None:
    return volunteer_of(request.user, only=("pk", "region_id"))


def _town_choices(request: HttpRequest, volunteer: Volunteer | None) -> list[tuple[str, str]]:
    """Towns to filter by: those under the actor's view scope, or the volunteer's county."""
    prefixes = list(prefixes_for(request.user, Perm.VOLUNTEER_VIEW))
    if volunteer is not None:
        prefixes.append(rc.county_prefix(volunteer.region_id))
    if not prefixes:
        return []
    query = Q(pk__in=[])
    for prefix in prefixes:
        query |= subtree_q("code", prefix)
    return list(
        Region.objects.filter(query, level=rc.Level.TOWN)
        .order_by("code")
        .values_list("code", "name")
    )


@login_required
@require_GET
def team_list(request: HttpRequest) -> HttpResponse:
    """Staff see the teams of their scope; a volunteer finds the teams of their county."""
    volunteer = _own_volunteer(request)
    staff = has_perm(request.user, Perm.VOLUNTEER_VIEW)
    if not staff and volunteer is None:
        raise Forbidden(_("注册成为志愿者后才能查看和加入服务队。"))
    filters = TeamFilters(
        search=request.GET.get("q", "").strip()[:50],
        team_type_id=int_or_none(request.GET.get("type")),
        region_prefix=_digits(request.GET.get("region", "")),
        unit_id=int_or_none(request.GET.get("unit")),
    )
    page = paginate(request, teams.team_list(actor=request.user, **filters._asdict()))
    mine: dict[int, str] = {}
    if volunteer is not None:
        mine = dict(
            Membership.objects.filter(
                volunteer=volunteer, status__in=teams.OPEN_STATUSES
            ).values_list("team_id", "status")
        )
    for team in page:  # the page's rows, evaluated once
        team.my_status = mine.get(team.pk, "")
        team.hours = round(team.member_minutes / 60, 1)
    return render(
        request,
        "volunteers/teams/team_list.html",
        {
            "page": page,
            "filters": filters,
            "types": teams.team_types(),
            "towns": _town_choices(request, volunteer),
            "region_town": rc.town_prefix(filters.region_prefix),
            "qs": querystring_without_page(request),
            "staff": staff,
            "can_create": has_perm(request.user, Perm.VOLUNTEER_MANAGE),
        },
    )


def _detail_context(request: HttpRequest, team: Team) -> dict[str, Any]:
    access = teams.team_access(actor=request.user, team=team)
    members = paginate(request, teams.team_members(access=access), MEMBERS_PER_PAGE)
    return {
        # Other domains' cards on the team's page (its activities), core.registry.
        "panels": panels_for(TEAM_PAGE, request, team),
        "team": team,
        "access": access,
        "members": members,
        "page": members,
        "qs": querystring_without_page(request),
        "pending": list(teams.team_pending(access=access)),
        "hours": round((team.member_minutes or 0) / 60, 1),  # type: ignore[attr-defined]
        "membership_history": (
            list(teams.memberships_of(volunteer=access.volunteer).filter(team=team)[:5])
            if access.volunteer is not None
            else []
        ),
    }


@login_required
@require_GET
def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = teams.team_get(actor=request.user, team_id=team_id)
    return render(request, "volunteers/teams/team_detail.html", _detail_context(request, team))


def _form_page(request: HttpRequest, form: TeamForm, team: Team | None = None) -> HttpResponse:
    return render(request, "volunteers/teams/team_form.html", {"form": form, "team": team})


@login_required
@require_http_methods(["GET", "POST"])
def team_create(request: HttpRequest) -> HttpResponse:
    if not has_perm(request.user, Perm.VOLUNTEER_MANAGE):
        raise Forbidden(_("您没有新建服务队的权限。"))
    units = list(teams.team_units(actor=request.user)[:1000])
    initial = {"unit_id": request.GET.get("unit", "")}
    form = TeamForm(request.POST or None, initial=initial, units=units, editing=False)
    if request.method == "POST" and form.is_valid():
        try:
            team = teams.team_create(actor=request.user, **form.service_fields())
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            messages.success(request, _("已新建服务队“%(name)s”。") % {"name": team.name})
            return redirect("teams:detail", team_id=team.pk)
    return _form_page(request, form)


@login_required
@require_http_methods(["GET", "POST"])
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    team = teams.team_get(actor=request.user, team_id=team_id)
    if not teams.team_access(actor=request.user, team=team).can_manage:
        raise Forbidden(_("您只能查看该服务队，不能修改。"))
    units = list(teams.team_units(actor=request.user)[:1000])
    if team.unit_id not in {u.pk for u in units}:
        units.insert(0, team.unit)
    initial = {
        "name": team.name,
        "team_type_id": team.team_type_id,
        "unit_id": str(team.unit_id),
        "description": team.description,
        "is_active": team.is_active,
    }
    form = TeamForm(request.POST or None, initial=initial, units=units, editing=True)
    if request.method == "POST" and form.is_valid():
        try:
            teams.team_update(actor=request.user, team=team, **form.service_fields())
        except RuleViolation as exc:
            form.add_rule_violation(exc)
        else:
            messages.success(request, _("已保存。"))
            return redirect("teams:detail", team_id=team.pk)
    return _form_page(request, form, team)


# ---------------------------------------------------------------- membership


def _done(request: HttpRequest, team_id: int, call: Any, success: str) -> HttpResponse:
    """Run a service; a rule violation becomes a message on the team page."""
    try:
        call()
    except RuleViolation as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, success)
    return redirect("teams:detail", team_id=team_id)


@login_required
@require_POST
def team_join(request: HttpRequest, team_id: int) -> HttpResponse:
    team = teams.team_get(actor=request.user, team_id=team_id)
    return _done(
        request,
        team.pk,
        lambda: teams.team_join_request(actor=request.user, team=team),
        _("已提交入队申请，请等待队长审核。"),
    )


@login_required
@require_POST
def membership_approve(request: HttpRequest, membership_id: int) -> HttpResponse:
    m = teams.membership_get(actor=request.user, membership_id=membership_id)
    return _done(
        request,
        m.team_id,
        lambda: teams.membership_approve(actor=request.user, membership=m),
        _("已批准 %(name)s 入队。") % {"name": m.volunteer.name},
    )


@login_required
@require_POST
def membership_reject(request: HttpRequest, membership_id: int) -> HttpResponse:
    m = teams.membership_get(actor=request.user, membership_id=membership_id)
    form = ReasonForm(request.POST)
    reason = form.cleaned_data["reason"] if form.is_valid() else ""
    return _done(
        request,
        m.team_id,
        lambda: teams.membership_reject(actor=request.user, membership=m, reason=reason),
        _("已拒绝 %(name)s 的入队申请。") % {"name": m.volunteer.name},
    )


@login_required
@require_http_methods(["GET", "POST"])
def membership_remove(request: HttpRequest, membership_id: int) -> HttpResponse:
    """A confirmation page with the (required) reason, then the removal."""
    m = teams.membership_get(actor=request.user, membership_id=membership_id)
    access = teams.team_access(actor=request.user, team=m.team)
    # Checked before the form: a read-only viewer gets 403 even for an incomplete POST.
    if not access.can_decide:
        raise Forbidden(_("您没有权限移出队员。"))
    form = ReasonForm(request.POST or None, required=True, label=_("移出原因"))
    if request.method == "POST" and form.is_valid():
        try:
            teams.membership_remove(
                actor=request.user, membership=m, reason=form.cleaned_data["reason"]
            )
        except RuleViolation as exc:
            form.add_error("reason" if exc.field == "reason" else None, exc.message)
        else:
            messages.success(request, _("已将 %(name)s 移出服务队。") % {"name": m.volunteer.name})
            return redirect("teams:detail", team_id=m.team_id)
    return render(
        request, "volunteers/teams/membership_remove.html", {"form": form, "m": m, "team": m.team}
    )


@login_required
@require_http_methods(["GET", "POST"])
def team_leave(request: HttpRequest, team_id: int) -> HttpResponse:
    """The member's own leaving (or withdrawing a request), after a confirmation page."""
    team = teams.team_get(actor=request.user, team_id=team_id)
    access = teams.team_access(actor=request.user, team=team)
    if access.membership is None:
        messages.info(request, _("您不在该服务队中。"))
        return redirect("teams:detail", team_id=team.pk)
    form = ReasonForm(request.POST or None, label=_("退出原因（可不填）"))
    if request.method == "POST" and form.is_valid():
        pending = access.membership.status == MembershipStatus.PENDING
        try:
            teams.team_leave(
                actor=request.user,
                membership=access.membership,
                reason=form.cleaned_data["reason"],
            )
        except RuleViolation as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("已撤回入队申请。") if pending else _("您已退出该服务队。"))
            return redirect("teams:detail", team_id=team.pk)
    return render(
        request,
        "volunteers/teams/team_leave.html",
        {"form": form, "team": team, "membership": access.membership},
    )


@login_required
@require_POST
def leader_set(request: HttpRequest, membership_id: int) -> HttpResponse:
    """Staff appoint a member as leader (action=appoint) or dismiss one (action=dismiss)."""
    m = teams.membership_get(actor=request.user, membership_id=membership_id)
    if request.POST.get("action") == "dismiss":
        return _done(
            request,
            m.team_id,
            lambda: teams.leader_dismiss(actor=request.user, membership=m),
            _("已免去 %(name)s 的队长职务。") % {"name": m.volunteer.name},
        )
    return _done(
        request,
        m.team_id,
        lambda: teams.leader_appoint(actor=request.user, team=m.team, volunteer=m.volunteer),
        _("已任命 %(name)s 为队长。") % {"name": m.volunteer.name},
    )
