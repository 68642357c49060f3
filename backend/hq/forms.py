"""The HQ pages' forms: they parse what a browser posts; the rules stay in the services
(and in the API's serializers, which the dispatch form hands its wire form to)."""

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from hq.labels import localized
from hq.selectors import region_list
from reports.models import CsvDialect, ExportKind
from stores.models import Grade, Segment, StoreStatus, TradeAreaType
from surveys.models import Equipment, ReviewReason, ReviewStatus, ReviewVerdict
from tasks.models import TaskType


class ReviewForm(forms.Form):
    verdict = forms.ChoiceField(choices=ReviewVerdict.choices)
    reason = forms.ChoiceField(choices=[("", "reason…"), *ReviewReason.choices], required=False)
    comment = forms.CharField(max_length=5000, required=False, strip=True)

    def reasons(self) -> dict[str, list[str]]:
        """The API's `reasons`: from this page, one reason about the survey as a whole."""
        reason = self.cleaned_data.get("reason")
        return {"general": [reason]} if reason else {}


def checkboxes(choices, label: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices, required=False, label=label, widget=forms.CheckboxSelectMultiple
    )


class DispatchForm(forms.Form):
    """A store filter and a task, as the dispatch API takes them."""

    region = checkboxes((), "Region")
    grade = checkboxes(Grade.choices, "Grade")
    segment = checkboxes(Segment.choices, "Segment")
    status = checkboxes(StoreStatus.choices, "Store status")
    trade_area_type = checkboxes(TradeAreaType.choices, "Trade area")
    equipment = checkboxes(Equipment.choices, "Has equipment")
    footfall_min = forms.IntegerField(min_value=0, required=False, label="Footfall from")
    footfall_max = forms.IntegerField(min_value=0, required=False, label="Footfall to")
    no_survey_days = forms.IntegerField(
        min_value=0, max_value=36_500, required=False, label="No survey in (days)"
    )
    task_type = forms.ChoiceField(choices=TaskType.choices, label="Task type")
    title = forms.CharField(max_length=200, label="Task title")
    due_date = forms.DateField(
        required=False, label="Due", widget=forms.DateInput(attrs={"type": "date"})
    )
    priority = forms.TypedChoiceField(
        choices=((1, "1 (high)"), (2, "2"), (3, "3 (low)")), coerce=int, initial=2
    )
    notes = forms.CharField(
        max_length=5000, required=False, widget=forms.Textarea(attrs={"rows": 2})
    )

    SELECTION_FIELDS = (
        "region",
        "grade",
        "segment",
        "status",
        "trade_area_type",
        "equipment",
        "footfall_min",
        "footfall_max",
        "no_survey_days",
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = [(r.code, r.name) for r in region_list(actor=actor)]

    def selection_wire(self) -> dict[str, Any]:
        """The `filter` object of `POST /api/tasks/dispatch` (criteria left empty omitted)."""
        data = self.cleaned_data
        return {
            name: data[name]
            for name in self.SELECTION_FIELDS
            if data.get(name) not in (None, "", [])
        }

    def task_wire(self) -> dict[str, Any]:
        data = self.cleaned_data
        due: dt.date | None = data.get("due_date")
        return {
            "type": data["task_type"],
            "title": data["title"],
            "due_date": due.isoformat() if due else None,
            "priority": data["priority"],
            "notes": data.get("notes", ""),
        }


class ExportForm(forms.Form):
    """An export to run in the background: its kind, a region, the status filter each kind
    offers here, and for CSV whether it is for a spreadsheet (`dialect`)."""

    kind = forms.ChoiceField(choices=ExportKind.choices, label=_("Export"))
    region = forms.ChoiceField(choices=(), required=False, label=_("Region"))
    review_status = forms.ChoiceField(
        choices=[("", _("any review status")), *localized(ReviewStatus.choices)],
        required=False,
        label=_("Review status"),
    )
    store_status = forms.ChoiceField(
        choices=[("", _("any store status")), *localized(StoreStatus.choices)],
        required=False,
        label=_("Store status"),
    )
    dialect = forms.ChoiceField(
        choices=[
            (CsvDialect.STANDARD, _("Comma-separated (programs, most spreadsheets)")),
            (CsvDialect.EXCEL, _("For Excel: semicolons, decimal commas (German Excel)")),
        ],
        initial=CsvDialect.STANDARD,
        required=False,
        widget=forms.RadioSelect,
        label=_("CSV format"),
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = [(r.code, r.name) for r in region_list(actor=actor)]
        self.fields["region"].choices = [("", _("all your regions")), *regions]

    def filters(self) -> dict[str, str]:
        data = self.cleaned_data
        filters = {"region": data["region"]} if data.get("region") else {}
        if data["kind"] == ExportKind.SURVEYS_CSV:
            if data["review_status"]:
                filters["review_status"] = data["review_status"]
        elif data["store_status"]:
            filters["status"] = data["store_status"]
        return filters

    def csv_dialect(self) -> str:
        return self.cleaned_data.get("dialect") or CsvDialect.STANDARD


class AnalyticsForm(forms.Form):
    until = forms.DateField(
        required=False, label=_("Up to"), widget=forms.DateInput(attrs={"type": "date"})
    )
