"""The HQ pages: parse the request, call the apps' selectors and services, render.

Every page is scoped like the API (a manager sees their region, HQ everything); every
write goes through the same service as its API endpoint.
"""

import datetime as dt
import json
import uuid
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from fieldline.conf import fieldline_settings
from hq.access import office_required
from hq.charts import bar_chart, line_chart
from hq.csp import map_policy
from hq.forms import AnalyticsForm, DispatchForm, ExportForm, ReviewForm
from hq.selectors import (
    MapBand,
    MapStore,
    map_stores,
    order_days,
    segment_sizes,
    stores_needing_survey,
)
from reports.models import ExportKind
from reports.selectors import GroupBy, completeness_report, export_job_list, export_job_progress
from reports.services import (
    ExportFiltersInvalid,
    ExportNotReady,
    export_job_create,
    export_job_file,
)
from surveys.models import ReviewReason
from surveys.selectors import review_queue, survey_list
from surveys.services import ReviewRefused, survey_review
from tasks.selectors import dispatch_list
from tasks.serializers import StoreSelectionSerializer, TaskTemplateSerializer
from tasks.services import dispatch_preview, dispatch_tasks

GROUP_TITLES = {
    GroupBy.REGION: "By region",
    GroupBy.REP: "By rep",
    GroupBy.TRADE_AREA_TYPE: "By trade-area type",
}
LIST_LIMIT = 20


@require_GET
@office_required
def dashboard(request: HttpRequest) -> HttpResponse:
    needing = stores_needing_survey(actor=request.user)
    return render(
        request,
        "hq/dashboard.html",
        {
            "reports": [
                (GROUP_TITLES[group], completeness_report(actor=request.user, group_by=group))
                for group in GroupBy
            ],
            "stale_days": fieldline_settings.STALE_SURVEY_DAYS,
            "needing_count": needing.count(),
            "needing": needing.select_related("owner")[:LIST_LIMIT],
            "export_form": ExportForm(),
        },
    )


@require_GET
@office_required
def store_map(request: HttpRequest) -> HttpResponse:
    conf = fieldline_settings
    response = render(
        request,
        "hq/map.html",
        {
            "legend": MapBand.LEGEND,
            "tiles": {
                "url": conf.MAP_TILES_URL,
                "attribution": conf.MAP_TILES_ATTRIBUTION,
                "max_zoom": conf.MAP_TILES_MAX_ZOOM,
            },
            "labels": {
                "stores": gettext("%(count)s stores."),
                "one_store": gettext("1 store."),
                "failed": gettext("The stores could not be loaded (%(error)s)."),
                "all": gettext("all"),
                "owner": gettext("Owner"),
                "last_survey": gettext("Last survey"),
                "open": gettext("Open the store"),
                "cluster": gettext("%(count)s stores here: zoom in"),
            },
        },
    )
    response["Content-Security-Policy"] = map_policy()
    return response


STORE_PLACEHOLDER = uuid.UUID(int=0)


def store_url_pattern() -> str:
    """Where a store's link goes, with `{id}` for its id: its HQ page, or the admin's where
    there is none."""
    try:
        url = reverse("hq:store", args=[STORE_PLACEHOLDER])
    except NoReverseMatch:
        url = reverse("admin:stores_store_change", args=[STORE_PLACEHOLDER])
    return url.replace(str(STORE_PLACEHOLDER), "{id}")


def survey_label(store: MapStore) -> str:
    """The popup's "last survey": when (local time) and how complete, in words."""
    if store.captured_at is None:
        return gettext("none")
    when = date_format(timezone.localtime(store.captured_at), "SHORT_DATETIME_FORMAT")
    if store.score is None:
        return gettext("%(when)s, no template to score it") % {"when": when}
    return gettext("%(when)s, %(score)s %% complete") % {
        "when": when,
        "score": number_format(round(store.score * 100)),
    }


@require_GET
@office_required
def store_map_data(request: HttpRequest) -> JsonResponse:
    """The map's stores as GeoJSON, with the band each is coloured by and what its popup
    says (owner, last survey and its score, a link to the store)."""
    pattern = store_url_pattern()
    features = [
        {
            "type": "Feature",
            "id": str(store.id),
            "geometry": {"type": "Point", "coordinates": [store.lon, store.lat]},
            "properties": {
                "name": store.name,
                "region": store.region,
                "owner": store.owner,
                "score": store.score,
                "captured_at": store.captured_at.isoformat() if store.captured_at else None,
                "survey": survey_label(store),
                "band": store.band,
                "url": pattern.replace("{id}", str(store.id)),
            },
        }
        for store in map_stores(actor=request.user)
    ]
    return JsonResponse({"type": "FeatureCollection", "features": features})


def owner_names(owner_ids: set[int]) -> dict[int, str]:
    return dict(User.objects.filter(pk__in=owner_ids).values_list("pk", "username"))


@require_GET
@office_required
def review_list(request: HttpRequest) -> HttpResponse:
    return render_review_list(request, form=None, status=200)


def render_review_list(
    request: HttpRequest, *, form: ReviewForm | None, status: int, failed: str = ""
) -> HttpResponse:
    page = Paginator(review_queue(actor=request.user), 50).get_page(request.GET.get("page"))
    names = owner_names({row["store__owner_id"] for row in page if row["store__owner_id"]})
    entries = [{**row, "owner": names.get(row["store__owner_id"], "")} for row in page]
    return render(
        request,
        "hq/review_queue.html",
        {
            "page": page,
            "entries": entries,
            "form": form,
            "failed": failed,
            "reasons": ReviewReason.choices,
        },
        status=status,
    )


@require_POST
@office_required
def review_submit(request: HttpRequest, pk) -> HttpResponse:
    """A verdict from the queue, through the same service as `POST /api/surveys/{id}/review`."""
    survey = get_object_or_404(survey_list(actor=request.user), pk=pk)
    form = ReviewForm(request.POST)
    if not form.is_valid():
        return render_review_list(request, form=form, status=400, failed=str(pk))
    try:
        survey_review(
            actor=request.user,
            survey=survey,
            verdict=form.cleaned_data["verdict"],
            reasons=form.reasons(),
            comment=form.cleaned_data["comment"],
        )
    except ReviewRefused as error:
        if error.reason == "not_found":
            raise Http404 from error
        form.add_error(None, f"The survey could not be reviewed: {error.errors or error.reason}")
        return render_review_list(request, form=form, status=400, failed=str(pk))
    verdict = dict(ReviewForm.base_fields["verdict"].choices)[form.cleaned_data["verdict"]]
    messages.success(request, f"{verdict}: the survey of {survey.store.name}.")
    return redirect("hq:review-queue")


@require_http_methods(["GET", "POST"])
@office_required
def dispatch(request: HttpRequest) -> HttpResponse:
    """A store filter and a task: "Preview" shows the count and a sample (a dry run),
    "Dispatch" creates the tasks through the dispatch service."""
    if request.method == "GET":
        form = DispatchForm(initial=request.GET.dict(), actor=request.user)
        return render_dispatch(request, form=form)
    form = DispatchForm(request.POST, actor=request.user)
    if not form.is_valid():
        return render_dispatch(request, form=form, status=400)
    selection_input = StoreSelectionSerializer(data=form.selection_wire())
    template_input = TaskTemplateSerializer(data=form.task_wire())
    for serializer in (selection_input, template_input):
        if not serializer.is_valid():
            for name, errors in serializer.errors.items():
                field = "task_type" if name == "type" else name
                form.add_error(field if field in form.fields else None, errors)
    if not form.is_valid():
        return render_dispatch(request, form=form, status=400)
    if request.POST.get("action") != "dispatch":
        preview = dispatch_preview(actor=request.user, selection=selection_input.selection())
        return render_dispatch(request, form=form, preview=preview)
    made = dispatch_tasks(
        actor=request.user,
        selection=selection_input.selection(),
        selection_wire=form.selection_wire(),
        template=template_input.template(),
    )
    messages.success(request, f"Dispatched {made.task_count} task(s).")
    return redirect("hq:dispatch")


def render_dispatch(
    request: HttpRequest, *, form: DispatchForm, preview: Any = None, status: int = 200
) -> HttpResponse:
    return render(
        request,
        "hq/dispatch.html",
        {
            "form": form,
            "preview": preview,
            "dispatches": dispatch_list(actor=request.user).select_related("created_by")[:10],
        },
        status=status,
    )


@require_GET
@office_required
def analytics(request: HttpRequest) -> HttpResponse:
    form = AnalyticsForm(request.GET)
    if not form.is_valid():
        return render(request, "hq/analytics.html", {"form": form}, status=400)
    # By default up to yesterday: today's orders are still coming in, and a day half over
    # would always look like a drop.
    until = form.cleaned_data.get("until") or timezone.localdate() - dt.timedelta(days=1)
    days = fieldline_settings.ANALYTICS_CHART_DAYS
    sizes = segment_sizes(actor=request.user)
    regions = [
        (
            series.region,
            line_chart([(d.date, d.amount, d.flagged, d.change) for d in series.days]),
            series,
        )
        for series in order_days(actor=request.user, until=until, days=days)
    ]
    return render(
        request,
        "hq/analytics.html",
        {
            "form": form,
            "until": until,
            "first": until - dt.timedelta(days=days - 1),
            "sizes": sizes,
            "segment_chart": bar_chart([(s.label, s.stores) for s in sizes]),
            "regions": regions,
            "drop": fieldline_settings.ANOMALY_DROP,
        },
    )


@require_http_methods(["GET", "POST"])
@office_required
def exports(request: HttpRequest) -> HttpResponse:
    """Your background exports; posting the form starts one."""
    form = ExportForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = export_job_create(
                    actor=request.user, kind=form.cleaned_data["kind"], filters=form.filters()
                )
            except ExportFiltersInvalid as error:
                form.add_error(None, json.dumps(error.errors))
            else:
                return redirect("hq:export-job", pk=job.pk)
        status = 400
    jobs = export_job_list(actor=request.user)[:20]
    return render(
        request,
        "hq/exports.html",
        {
            "form": form,
            "jobs": [(job, export_job_progress(job=job)) for job in jobs],
            "kinds": dict(ExportKind.choices),
        },
        status=status,
    )


@require_GET
@office_required
def export_job(request: HttpRequest, pk) -> HttpResponse:
    job = get_object_or_404(export_job_list(actor=request.user), pk=pk)
    return render(
        request,
        "hq/export_job.html",
        {"job": job, "progress": export_job_progress(job=job), "kinds": dict(ExportKind.choices)},
    )


@require_GET
@office_required
def export_job_status(request: HttpRequest, pk) -> JsonResponse:
    """What the job page polls: status and progress."""
    job = get_object_or_404(export_job_list(actor=request.user), pk=pk)
    return JsonResponse(
        {
            "status": job.status,
            "rows_done": job.rows_done,
            "rows_total": job.rows_total,
            "progress": export_job_progress(job=job),
            "error": job.error,
        }
    )


@require_GET
@office_required
def export_job_download(request: HttpRequest, pk) -> HttpResponse:
    job = get_object_or_404(export_job_list(actor=request.user), pk=pk)
    try:
        return export_job_file(job=job)
    except ExportNotReady:
        return render(
            request,
            "hq/refused.html",
            {"message": f"This export is {job.get_status_display().lower()}, not done yet."},
            status=409,
        )
