"""One exception type for rule violations, turned into one error shape by one handler.

Services raise:
- `RuleViolation` when an input breaks a business rule (HTTP 400 in the API, a form
  error on pages); nothing has been written.
- `NotFound` when the target does not exist *or is outside the actor's scope* (404:
  an outsider must not learn that it exists).
- `Forbidden` when the actor can see the target but may not change it (403), e.g. a
  read-only supervisor.
"""

from __future__ import annotations

from django.utils.functional import Promise


class ServiceError(Exception):
    status = 400
    default_code = "invalid"

    def __init__(
        self, message: str | Promise, *, code: str | None = None, field: str | None = None
    ):
        super().__init__(str(message))
        self.message = str(message)
        self.code = code or self.default_code
        self.field = field


class RuleViolation(ServiceError):
    status = 400
    default_code = "rule_violation"


class NotFound(ServiceError):
    status = 404
    default_code = "not_found"


class Forbidden(ServiceError):
    status = 403
    default_code = "forbidden"


class RuleViolations(RuleViolation):
    """Several rule violations at once, one per field, so a form can show them all in
    one go (an elderly resident should not fix one error per submit). It is also the
    first of them, for callers that show one."""

    def __init__(self, violations: list[RuleViolation]):
        assert violations
        first = violations[0]
        super().__init__(first.message, code=first.code, field=first.field)
        self.violations = violations
