"""Form fields that let the admin edit kefu's list and mapping values as what they are:
rows of opening intervals per weekday, one e-mail address per line, channels as boxes to
tick, payment milestones as rows. They only parse; each form then applies the same check
the YAML loader applies (:mod:`kefu.calendars.validation`, :mod:`kefu.contracts.documents`),
so a value the admin accepts is one the loader would accept."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

from django import forms
from django.core.exceptions import ValidationError

WEEKDAY_LABELS = (
    ("mon", "周一 Mon"),
    ("tue", "周二 Tue"),
    ("wed", "周三 Wed"),
    ("thu", "周四 Thu"),
    ("fri", "周五 Fri"),
    ("sat", "周六 Sat"),
    ("sun", "周日 Sun"),
)
_SEPARATORS = re.compile(r"[\s,，、;；]+")


def split_items(text: str) -> list[str]:
    """``"09:00-12:00, 13:30-18:00"`` → two items; commas (also Chinese ones), spaces and
    new lines all separate."""
    return [item for item in _SEPARATORS.split(text.strip()) if item]


class LinesField(forms.CharField):
    """A list of strings, one per line in a text box; ``item_check`` cleans each item (and
    raises ValidationError naming it)."""

    widget = forms.Textarea(attrs={"rows": 3, "cols": 50})

    def __init__(self, *, item_check: Callable[[str], str] | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.item_check = item_check

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value)
        items = [line.strip() for line in str(text).splitlines() if line.strip()]
        return [self.item_check(item) for item in items] if self.item_check else items


class IntervalsField(forms.CharField):
    """One day's opening intervals typed as ``09:00-12:00, 13:30-18:00``; empty is closed."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text", "例 / e.g. 09:00-12:00, 13:30-18:00；留空为休息 / empty: closed"
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        return split_items(str(super().to_python(value)))


class WeeklyHoursWidget(forms.MultiWidget):
    template_name = "kefu/widgets/weekly_hours.html"

    def __init__(self) -> None:
        super().__init__(
            widgets={
                day: forms.TextInput(attrs={"size": 34, "placeholder": "休息 / closed"})
                for day, _label in WEEKDAY_LABELS
            }
        )

    def decompress(self, value: Any) -> list[str]:
        weekly = value if isinstance(value, dict) else {}
        return [", ".join(weekly.get(day) or []) for day, _label in WEEKDAY_LABELS]

    def get_context(self, name: str, value: Any, attrs: Any) -> dict[str, Any]:
        context = super().get_context(name, value, attrs)
        for sub, (_day, label) in zip(context["widget"]["subwidgets"], WEEKDAY_LABELS, strict=True):
            sub["label"] = label
        return context


class WeeklyHoursField(forms.MultiValueField):
    """``mon``…``sun`` → intervals, as seven rows; a day left empty is closed (and left out
    of the mapping, as in the YAML)."""

    widget = WeeklyHoursWidget

    def __init__(self, **kwargs: Any) -> None:
        # Never "required" here: the form's check says what a week with no hours lacks.
        kwargs["required"] = False
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        super().__init__(
            fields=[forms.CharField(required=False) for _day in WEEKDAY_LABELS],
            require_all_fields=False,
            **kwargs,
        )

    def compress(self, data_list: Sequence[str]) -> dict[str, list[str]]:
        values = list(data_list or [""] * len(WEEKDAY_LABELS))
        return {
            day: split_items(text or "")
            for (day, _label), text in zip(WEEKDAY_LABELS, values, strict=True)
            if split_items(text or "")
        }


class ChoicesListField(forms.MultipleChoiceField):
    """A list of codes from a fixed set, as boxes to tick."""

    widget = forms.CheckboxSelectMultiple

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("encoder", None)
        kwargs.pop("decoder", None)
        kwargs.pop("max_length", None)
        super().__init__(**kwargs)


class RowsField(forms.CharField):
    """A list of records typed one per line, columns separated by ``|``: ``parse`` turns a
    line's columns into the record (raising ValueError with what is wrong), ``show`` turns a
    record back into a line."""

    widget = forms.Textarea(attrs={"rows": 4, "cols": 60})

    def __init__(
        self,
        *,
        parse: Callable[[list[str]], dict[str, Any]],
        show: Callable[[dict[str, Any]], str],
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("required", False)
        super().__init__(**kwargs)
        self.parse, self.show = parse, show

    def prepare_value(self, value: Any) -> Any:
        if isinstance(value, list | tuple):
            return "\n".join(self.show(row) for row in value)
        return value

    def to_python(self, value: Any) -> list[dict[str, Any]]:  # type: ignore[override]
        rows = []
        lines = str(super().to_python(value)).splitlines()
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                rows.append(self.parse([cell.strip() for cell in line.split("|")]))
            except (ValueError, TypeError) as exc:
                raise ValidationError(f"第 {number} 行 / line {number}: {exc}") from exc
        return rows
