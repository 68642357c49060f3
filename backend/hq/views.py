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
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format, number_format
from django.utils.translation import gettext, gettext_lazy, ngettext
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from fieldline.conf import fieldline_settings
from fieldline.replicas import replica_view
from hq.access import office_required
from hq.charts import bar_chart, line_chart
from hq.csp import map_policy
from hq.forms import (
    AnalyticsForm,
    ComplianceForm,
    DispatchForm,
    ExportForm,
    ReviewForm,
    add_review_refusal,
)
from hq.selectors import (
    MapBand,
    MapStore,
    map_stores,
    order_days,
    same_name_counts,
    segment_sizes,
    store_search,
    stores_needing_survey,
)
from planning.selectors import overloaded_days, plan_compliance
from planning.services import region_rules
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
from surveys.services import ReviewInvalid, ReviewRefused, survey_review
from tasks.selectors import dispatch_list
from tasks.serializers import StoreSelectionSerializer, TaskTemplateSerializer
from tasks.services import dispatch_preview, dispatch_tasks

GROUP_TITLES = {
    GroupBy.REGION: gettext_lazy("By region"),
    GroupBy.REP: gettext_lazy("By rep"),
    GroupBy.TRADE_AREA_TYPE: gettext_lazy("By trade-area type"),
}
LIST_LIMIT = 20
STORE_PAGE = 25


@require_GET
@office_required
@replica_view
def dashboard(request: HttpRequest) -> HttpResponse:
    needing = stores_needing_survey(actor=request.user)
    split = needing.aggregate(
        with_task=Count("pk", filter=Q(survey_task_open=True)),
        without_task=Count("pk", filter=Q(survey_task_open=False)),
    )
    q = request.GET.get("q", "")[:200]
    stores = Paginator(store_search(actor=request.user, q=q), STORE_PAGE).get_page(
        request.GET.get("stores_page")
    )
    same_name = same_name_counts(actor=request.user, names=[store.name for store in stores])
    return render(
        request,
        "hq/dashboard.html",
        {
            "reports": [
                (GROUP_TITLES[group], completeness_report(actor=request.user, group_by=group))
                for group in GroupBy
            ],
            "stale_days": fieldline_settings.STALE_SURVEY_DAYS,
            "needing_count": split["with_task"] + split["without_task"],
            "needing_without_task_count": split["without_task"],
            "needing_with_task_count": split["with_task"],
            "needing_without_task": needing.filter(survey_task_open=False).select_related("owner")[
                :LIST_LIMIT
            ],
            "needing_with_task": needing.filter(survey_task_open=True).select_related("owner")[
                :LIST_LIMIT
            ],
            "export_form": ExportForm(actor=request.user),
            "q": q,
            "stores": stores,
            "store_rows": [(store, same_name.get(store.name, 1)) for store in stores],
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
@replica_view
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
@replica_view
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
    except ReviewInvalid as error:
        for messages_ in error.errors.values():
            for message in messages_:
                form.add_error(None, message)
        return render_review_list(request, form=form, status=400, failed=str(pk))
    except ReviewRefused as error:
        add_review_refusal(form, error)
        return render_review_list(request, form=form, status=400, failed=str(pk))
    verdict = dict(ReviewForm.base_fields["verdict"].choices)[form.cleaned_data["verdict"]]
    messages.success(
        request,
        gettext("%(verdict)s: the survey of %(store)s.")
        % {"verdict": verdict, "store": survey.store.name},
    )
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
    include_existing = form.cleaned_data["include_existing"]
    if request.POST.get("action") != "dispatch":
        preview = dispatch_preview(
            actor=request.user,
            selection=selection_input.selection(),
            task_type=form.cleaned_data["task_type"],
            include_existing=include_existing,
        )
        return render_dispatch(request, form=form, preview=preview)
    made = dispatch_tasks(
        actor=request.user,
        selection=selection_input.selection(),
        selection_wire=form.selection_wire(),
        template=template_input.template(),
        include_existing=include_existing,
    )
    message = ngettext(
        "Dispatched %(count)d task.", "Dispatched %(count)d tasks.", made.task_count
    ) % {"count": made.task_count}
    if made.skipped_existing:
        message += " " + ngettext(
            "%(count)d store skipped: it already has an open task of this type.",
            "%(count)d stores skipped: they already have an open task of this type.",
            made.skipped_existing,
        ) % {"count": made.skipped_existing}
    messages.success(request, message)
    return redirect("hq:dispatch-detail", pk=made.pk)


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
@replica_view
def analytics(request: HttpRequest) -> HttpResponse:
    form = AnalyticsForm(request.GET)
    if not form.is_valid():
        return render(request, "hq/analytics.html", {"form": form}, status=400)
    # By default up to yesterday: today's orders are still coming in, and a day half over
    # would always look like a drop.
    until = form.cleaned_data.get("until") or timezone.localdate() - dt.timedelta(days=1)
    days = fieldline_settings.ANALYTICS_CHART_DAYS
    sizes = segment_sizes(actor=request.user)
    amount_axis = gettext("Orders per day, %(currency)s") % {
        "currency": fieldline_settings.CURRENCY
    }
    regions = [
        (
            series.region,
            line_chart(
                [(d.date, d.amount, d.flagged, d.change) for d in series.days],
                axis_title=amount_axis,
            ),
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
            "segment_chart": bar_chart(
                [(s.short, s.stores) for s in sizes], axis_title=gettext("Stores")
            ),
            "regions": regions,
            "drop": fieldline_settings.ANOMALY_DROP,
            "min_baseline": fieldline_settings.ANOMALY_MIN_BASELINE,
        },
    )


@require_http_methods(["GET", "POST"])
@office_required
@replica_view
def exports(request: HttpRequest) -> HttpResponse:
    """Your background exports; posting the form starts one."""
    form = ExportForm(request.POST or None, actor=request.user)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                job = export_job_create(
                    actor=request.user,
                    kind=form.cleaned_data["kind"],
                    filters=form.filters(),
                    dialect=form.csv_dialect(),
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
            "status_label": job.get_status_display(),
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
            {
                "message": gettext("This export is not done yet (%(status)s).")
                % {"status": job.get_status_display()}
            },
            status=409,
        )


@require_GET
@office_required
def plans(request: HttpRequest) -> HttpResponse:
    """Visit plan compliance: planned, done and GPS-verified visits by week, rep and grade,
    and the days of the plan ahead that no longer fit."""
    form = ComplianceForm(request.GET or None, actor=request.user)
    if form.is_bound and not form.is_valid():
        return render(request, "hq/plans.html", {"form": form}, status=400)
    data = form.cleaned_data if form.is_bound else {}
    choices = [code for code, _name in form.fields["region"].choices]
    region = data.get("region") or request.user.region_id or (choices[0] if choices else None)
    if region is None:
        return render(request, "hq/plans.html", {"form": form, "region": None})
    today = timezone.localdate()
    end = data.get("end") or today
    start = data.get("start") or end - dt.timedelta(days=27)
    rep = data.get("rep")
    compliance = plan_compliance(region=region, rep=rep, start=start, end=end)
    weeks = compliance.by_week
    names = dict(User.objects.filter(region_id=region).values_list("pk", "username"))
    return render(
        request,
        "hq/plans.html",
        {
            "form": form,
            "region": region,
            "compliance": compliance,
            "week_chart": bar_chart(
                [(row.key[5:], round((row.rate or 0) * 100)) for row in weeks],
                axis_title=gettext("Verified visits, % of planned"),
            ),
            "reps": [(compliance.rep_names.get(row.key, "–"), row) for row in compliance.by_rep],
            "rules": region_rules(region),
            "overloads": [
                (names.get(day.rep, str(day.rep)), day)
                for day in overloaded_days(
                    region=region, rep=rep, start=today, end=today + dt.timedelta(days=27)
                )
            ],
        },
    )
