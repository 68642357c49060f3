"""The HQ pages' forms: they parse what a browser posts; the rules stay in the services
(and in the API's serializers, which the dispatch form hands its wire form to)."""

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django import forms
from django.http import Http404
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.models import User
from fieldline.conf import fieldline_settings
from hq.labels import localized
from hq.selectors import SEGMENT_WORDS, region_list
from reports.models import CsvDialect, ExportKind
from stores.models import Grade, Segment, StoreStatus, TradeAreaType
from surveys.models import Equipment, ReviewReason, ReviewStatus, ReviewVerdict
from surveys.services import ReviewRefused
from tasks.models import TaskType
from tasks.services import default_due_date


class ReviewForm(forms.Form):
    verdict = forms.ChoiceField(choices=localized(ReviewVerdict.choices))
    reason = forms.ChoiceField(
        choices=[("", _("reason…")), *localized(ReviewReason.choices)], required=False
    )
    comment = forms.CharField(max_length=5000, required=False, strip=True)

    def reasons(self) -> dict[str, list[str]]:
        """The API's `reasons`: from this page, one reason about the survey as a whole."""
        reason = self.cleaned_data.get("reason")
        return {"general": [reason]} if reason else {}


class SurveyReviewForm(forms.Form):
    """The review page's verdict: a reason per field (`reason.<field>`), for the photos,
    the GPS fix, and any number for the whole survey, plus a comment. Which verdicts need
    which are the review service's rules (surveys.services.review_rules_check)."""

    verdict = forms.ChoiceField(choices=localized(ReviewVerdict.choices), label=_("Verdict"))
    general = forms.MultipleChoiceField(
        choices=localized(ReviewReason.choices),
        required=False,
        label=_("Reasons for the whole survey"),
        widget=forms.CheckboxSelectMultiple,
    )
    comment = forms.CharField(
        max_length=5000,
        required=False,
        strip=True,
        label=_("Comment for the rep"),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(self, *args: Any, items: Sequence[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.items = tuple(items)
        for item in self.items:
            self.fields[f"reason.{item}"] = forms.ChoiceField(
                choices=[("", _("no reason")), *localized(ReviewReason.choices)],
                required=False,
                label=_("Reason"),
            )

    def reason_field(self, item: str):
        return self[f"reason.{item}"]

    def reasons(self) -> dict[str, list[str]]:
        """The API's `reasons`: per item, and `general` for the whole survey."""
        data = self.cleaned_data
        reasons = {item: [data[f"reason.{item}"]] for item in self.items if data[f"reason.{item}"]}
        if data.get("general"):
            reasons["general"] = list(data["general"])
        return reasons


def checkboxes(choices, label: str) -> forms.MultipleChoiceField:
    return forms.MultipleChoiceField(
        choices=choices, required=False, label=label, widget=forms.CheckboxSelectMultiple
    )


class DispatchForm(forms.Form):
    """A store filter and a task, as the dispatch API takes them."""

    region = checkboxes((), _("Region"))
    grade = checkboxes(localized(Grade.choices), _("Grade"))
    segment = checkboxes([(value, SEGMENT_WORDS[value]) for value in Segment.values], _("Segment"))
    status = checkboxes(localized(StoreStatus.choices), _("Store status"))
    trade_area_type = checkboxes(localized(TradeAreaType.choices), _("Trade area"))
    equipment = checkboxes(localized(Equipment.choices), _("Has equipment"))
    footfall_min = forms.IntegerField(min_value=0, required=False, label=_("Footfall from"))
    footfall_max = forms.IntegerField(min_value=0, required=False, label=_("Footfall to"))
    no_survey_days = forms.IntegerField(
        min_value=0, max_value=36_500, required=False, label=_("No survey in (days)")
    )
    task_type = forms.ChoiceField(choices=localized(TaskType.choices), label=_("Task type"))
    title = forms.CharField(max_length=200, label=_("Task title"))
    due_date = forms.DateField(
        label=_("Due"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    priority = forms.TypedChoiceField(
        choices=((1, _("1 (high)")), (2, "2"), (3, _("3 (low)"))),
        coerce=int,
        initial=2,
        label=_("Priority"),
    )
    notes = forms.CharField(
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        label=_("Notes"),
    )
    include_existing = forms.BooleanField(
        required=False,
        label=_("Also send it to stores that already have an open task of this type"),
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
        self.fields["due_date"].initial = default_due_date()
        self.fields["due_date"].help_text = gettext("Offered: %(days)s days from today.") % {
            "days": fieldline_settings.DISPATCH_DUE_DAYS
        }

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


class ComplianceForm(forms.Form):
    """The visit plans page: which region (HQ chooses; a manager has one), rep and period."""

    region = forms.ChoiceField(label=_("Region"), required=False)
    rep = forms.TypedChoiceField(label=_("Rep"), coerce=int, required=False, empty_value=None)
    start = forms.DateField(
        required=False, label=_("From"), widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        required=False, label=_("To"), widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, actor: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        regions = list(region_list(actor=actor))
        self.fields["region"].choices = [(r.code, r.name) for r in regions]
        reps = User.objects.filter(
            role="rep", region__in=[r.code for r in regions], is_active=True
        ).order_by("username")
        self.fields["rep"].choices = [("", _("All reps"))] + [(u.pk, u.username) for u in reps]

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", _("Before the start."))
        if start and end and (end - start).days > 366:
            self.add_error("end", _("At most a year after the start."))
        return data


def add_review_refusal(form: forms.Form, error: ReviewRefused) -> None:
    """A verdict the review service refused, on the form that sent it; a survey out of the
    reviewer's reach is a 404, as on every other page."""
    if error.reason == "not_found":
        raise Http404 from error
    form.add_error(
        None,
        gettext("The survey could not be reviewed: %(why)s")
        % {"why": error.errors or error.reason},
    )
