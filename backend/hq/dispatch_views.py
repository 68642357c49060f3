"""A dispatch's own page: what it sent to whom, how far its tasks are, and cancelling it
through the same service as `POST /api/tasks/dispatches/{id}/cancel`."""

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext, ngettext
from django.views.decorators.http import require_GET, require_POST

from hq.access import office_required
from hq.labels import localized
from tasks.models import OPEN_TASK_STATUSES, TaskStatus, TaskType
from tasks.selectors import dispatch_list, dispatch_status_counts, dispatch_task_list
from tasks.services import CANCELLABLE, DispatchAlreadyCancelled, dispatch_cancel

TASKS_SHOWN = 100


@require_GET
@office_required
def dispatch_detail(request: HttpRequest, pk) -> HttpResponse:
    dispatch = get_object_or_404(
        dispatch_list(actor=request.user).select_related("created_by", "cancelled_by"), pk=pk
    )
    counts = dispatch_status_counts(dispatch=dispatch)
    labels = dict(localized(TaskStatus.choices))
    return render(
        request,
        "hq/dispatch_detail.html",
        {
            "dispatch": dispatch,
            "task_type": dict(TaskType.choices).get(
                dispatch.task_template.get("type"), dispatch.task_template.get("type")
            ),
            "counts": [(status, labels[status], n) for status, n in counts.items()],
            "open_count": sum(counts[s] for s in OPEN_TASK_STATUSES),
            "cancellable": sum(counts[s] for s in CANCELLABLE),
            "tasks": dispatch_task_list(dispatch=dispatch)[:TASKS_SHOWN],
            "shown": TASKS_SHOWN,
            "filter_items": [
                (name, ", ".join(map(str, value)) if isinstance(value, list) else value)
                for name, value in dispatch.store_filter.items()
            ],
        },
    )


@require_POST
@office_required
def dispatch_cancel_view(request: HttpRequest, pk) -> HttpResponse:
    """Cancel every task of the dispatch nobody has started, through the sync engine, so
    the reps' phones drop them on their next sync."""
    dispatch = get_object_or_404(dispatch_list(actor=request.user), pk=pk)
    try:
        cancelled = dispatch_cancel(actor=request.user, dispatch=dispatch)
    except DispatchAlreadyCancelled:
        messages.error(request, gettext("This dispatch was already cancelled."))
    else:
        messages.success(
            request,
            ngettext(
                "Dispatch cancelled: %(count)d open task cancelled.",
                "Dispatch cancelled: %(count)d open tasks cancelled.",
                cancelled,
            )
            % {"count": cancelled},
        )
    return redirect("hq:dispatch-detail", pk=dispatch.pk)
