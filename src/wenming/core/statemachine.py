"""One state machine for every domain whose rows move through states: activities,
orders, household events, and the reject-with-reason of records and certificates.

A domain writes its table once:

    MACHINE = StateMachine(
        [Transition("accept", frozenset({S.SUBMITTED}), S.ACCEPTED, _("受理")), ...],
        subject=_("订单"),
    )

and a service that moves a row (already locked with select_for_update) asks
`MACHINE.check(row, action)` (refused: a RuleViolation that names the state and the
move, nothing changed), `MACHINE.reason(t, text)` (required where the table says so),
then `MACHINE.move(row, t, actor=…, verb=…, region_code=…)`, which sets the state, saves
and records the audit event with who, the move and why. Pages ask `allowed(state)` for
their buttons; the services decide.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext as _

from wenming.core.actor import Principal
from wenming.core.audit import audit_record
from wenming.core.errors import RuleViolation

REASON_MAX = 300


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    target: str
    label: str | Promise
    # Who may take it, in the domain's own words ("owner", "manager", "assignee" …):
    # the domain's permissions decide what each means.
    by: str = ""
    reason_required: bool = False
    destructive: bool = False  # the page asks before it (a destructive action asks first)
    # What to say when the required reason is missing (default: 请写明原因。).
    reason_missing: str | Promise = ""
    # What to say when the state does not allow it, with %(state)s (default: the
    # machine's "<subject>当前为“<state>”，不能<label>。").
    refused: str | Promise = ""


class StateMachine(Mapping[str, Transition]):
    """A transition table over a model's state field; a mapping of action → Transition."""

    def __init__(
        self,
        transitions: Iterable[Transition],
        *,
        subject: str | Promise,
        field: str = "state",
        refused_code: str = "bad_state",
        default_by: str = "",
    ) -> None:
        # A transition that names nobody in `by` is taken by `default_by`.
        self._table = {
            t.action: t if t.by or not default_by else dataclasses.replace(t, by=default_by)
            for t in transitions
        }
        self.subject = subject
        self.field = field
        self.refused_code = refused_code

    def __getitem__(self, action: str) -> Transition:
        return self._table[action]

    def __iter__(self) -> Iterator[str]:
        return iter(self._table)

    def __len__(self) -> int:
        return len(self._table)

    def transition(self, action: str) -> Transition:
        """The transition called `action`; an unknown action is a rule violation."""
        try:
            return self._table[action]
        except KeyError:
            raise RuleViolation(_("未知的操作。"), code="bad_action") from None

    def allowed(self, state: str) -> list[Transition]:
        """The transitions out of `state`, in the table's order."""
        return [t for t in self._table.values() if state in t.sources]

    def targets(self, state: str) -> frozenset[str]:
        return frozenset(t.target for t in self.allowed(state))

    def refusal(self, row: models.Model, transition: Transition) -> RuleViolation:
        display = getattr(row, f"get_{self.field}_display")()
        if transition.refused:
            return RuleViolation(
                str(transition.refused) % {"state": display}, code=self.refused_code
            )
        return RuleViolation(
            _("%(subject)s当前为“%(state)s”，不能%(action)s。")
            % {"subject": self.subject, "state": display, "action": transition.label},
            code=self.refused_code,
        )

    def check(self, row: models.Model, action: str) -> Transition:
        """The transition, if the row's current state allows it; else refused."""
        transition = self.transition(action)
        if getattr(row, self.field) not in transition.sources:
            raise self.refusal(row, transition)
        return transition

    def by_target(self, row: models.Model, target: str) -> Transition:
        """The transition from the row's current state to `target`; else refused."""
        state = getattr(row, self.field)
        for transition in self._table.values():
            if transition.target == target and state in transition.sources:
                return transition
        for transition in self._table.values():
            if transition.target == target:
                raise self.refusal(row, transition)
        raise RuleViolation(_("未知的操作。"), code="bad_action")

    @staticmethod
    def reason(transition: Transition, reason: str | None) -> str:
        """The reason, trimmed; required where the table says so."""
        text = " ".join((reason or "").split())[:REASON_MAX]
        if transition.reason_required and not text:
            raise RuleViolation(str(transition.reason_missing or _("请写明原因。")), field="reason")
        return text

    def move(
        self,
        row: models.Model,
        transition: Transition,
        *,
        actor: Principal | None,
        verb: str = "",
        region_code: str = "",
        reason: str = "",
        fields: Mapping[str, Any] | None = None,
        save: bool = True,
        update_fields: Sequence[str] | None = None,
        audit: bool = True,
    ) -> tuple[str, str]:
        """Set the state (and `fields`), save, and audit who, the move and why. The row
        must be locked and checked. `audit=False` where the caller audits the whole step
        itself (a household contact that also answers the event). Returns (before,
        after)."""
        assert verb or not audit, "an audited move needs its verb"
        before = getattr(row, self.field)
        setattr(row, self.field, transition.target)
        for name, value in (fields or {}).items():
            setattr(row, name, value)
        if save:
            row.save(update_fields=update_fields)
        if audit:
            audit_record(
                actor=actor,
                verb=verb,
                target=row,
                region_code=region_code,
                changes={self.field: [before, transition.target]},
                note=reason,
            )
        return before, transition.target
