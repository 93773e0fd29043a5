"""core.statemachine: the one transition table every domain uses."""

from __future__ import annotations

import pytest

from wenming.core.errors import RuleViolation
from wenming.core.statemachine import StateMachine, Transition

DOOR = StateMachine(
    [
        Transition("open", frozenset({"closed"}), "opened", "开门"),
        Transition("close", frozenset({"opened"}), "closed", "关门", by="keeper"),
        Transition(
            "lock", frozenset({"closed"}), "locked", "锁门", reason_required=True,
            reason_missing="请说明为什么锁门。",
        ),
    ],
    subject="门",
    default_by="anyone",
)  # fmt: skip

STATES = {"closed": "关着", "opened": "开着", "locked": "锁着"}


class Door:
    def __init__(self, state: str) -> None:
        self.state = state
        self.saved = 0

    def get_state_display(self) -> str:
        return STATES[self.state]

    def save(self, update_fields=None) -> None:
        self.saved += 1


def test_the_table_is_a_mapping_with_default_actors():
    assert list(DOOR) == ["open", "close", "lock"] and len(DOOR) == 3
    assert DOOR["open"].by == "anyone" and DOOR["close"].by == "keeper"
    assert [t.action for t in DOOR.allowed("closed")] == ["open", "lock"]
    assert DOOR.targets("closed") == {"opened", "locked"}
    assert DOOR.allowed("locked") == []


def test_a_move_the_state_allows():
    door = Door("closed")
    transition = DOOR.check(door, "open")
    assert DOOR.move(door, transition, actor=None, audit=False) == ("closed", "opened")
    assert door.state == "opened" and door.saved == 1


def test_a_refused_move_names_the_state_and_changes_nothing():
    door = Door("opened")
    with pytest.raises(RuleViolation) as caught:
        DOOR.check(door, "lock")
    assert caught.value.message == "门当前为“开着”，不能锁门。"
    assert caught.value.code == "bad_state"
    assert door.state == "opened" and door.saved == 0
    with pytest.raises(RuleViolation, match="未知的操作"):
        DOOR.check(door, "fly")


def test_by_target():
    assert DOOR.by_target(Door("opened"), "closed").action == "close"
    with pytest.raises(RuleViolation, match="不能锁门"):
        DOOR.by_target(Door("opened"), "locked")
    with pytest.raises(RuleViolation, match="未知的操作"):
        DOOR.by_target(Door("opened"), "gone")


def test_reasons():
    assert DOOR.reason(DOOR["lock"], "  下班了 \n 锁上 ") == "下班了 锁上"
    assert DOOR.reason(DOOR["open"], None) == ""
    with pytest.raises(RuleViolation) as caught:
        DOOR.reason(DOOR["lock"], "   ")
    assert caught.value.message == "请说明为什么锁门。" and caught.value.field == "reason"
    assert len(DOOR.reason(DOOR["lock"], "长" * 1000)) == 300


def test_an_audited_move_needs_a_verb():
    door = Door("closed")
    with pytest.raises(AssertionError):
        DOOR.move(door, DOOR["open"], actor=None, save=False)
    assert door.state == "closed"
