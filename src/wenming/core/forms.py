from __future__ import annotations

from typing import Any, ClassVar

from django import forms

from wenming.core.errors import RuleViolations, ServiceError


class StyledFormMixin:
    """Gives every widget its Bootstrap class and marks invalid fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Do not touch self.errors here: it would validate before subclasses finish
        # setting up their fields (choices); full_clean marks invalid fields instead.
        for field in self.fields.values():  # type: ignore[attr-defined]
            widget = field.widget
            if isinstance(widget, forms.CheckboxInput):
                css = "form-check-input"
            elif isinstance(widget, forms.Select):
                css = "form-select"
            else:
                css = "form-control"
            widget.attrs["class"] = (widget.attrs.get("class", "") + " " + css).strip()

    def full_clean(self) -> None:
        super().full_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            if name in self.fields:  # type: ignore[attr-defined]
                widget = self.fields[name].widget  # type: ignore[attr-defined]
                if "is-invalid" not in widget.attrs.get("class", ""):
                    widget.attrs["class"] = widget.attrs.get("class", "") + " is-invalid"


class ServiceErrorsMixin:
    """Put what a service refused on the fields it names (or on the form): one
    RuleViolation, or every one of a RuleViolations. `FIELD_MAP` renames a service's
    field to the form's (`project_id` → `project`). A field that already shows an
    error keeps that one."""

    FIELD_MAP: ClassVar[dict[str, str]] = {}

    def add_rule_violation(self, exc: ServiceError) -> None:
        for one in exc.violations if isinstance(exc, RuleViolations) else [exc]:
            name = self.FIELD_MAP.get(one.field or "", one.field or "")
            target = name if name in self.fields else None  # type: ignore[attr-defined]
            if target is None or target not in self.errors:  # type: ignore[attr-defined]
                self.add_error(target, one.message)  # type: ignore[attr-defined]
