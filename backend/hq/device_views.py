"""The HQ page "Devices": every phone's sync health in the office user's scope, the ones
with changes stuck on them flagged."""

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from hq.access import office_required
from sync.device_selectors import device_health, device_list, stale_filter

DEVICES_PER_PAGE = 50


@require_GET
@office_required
def devices(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    listed = device_list(actor=request.user)
    page = Paginator(listed, DEVICES_PER_PAGE).get_page(request.GET.get("page"))
    health = device_health(devices=listed.filter(pk__in=[d.pk for d in page]), now=now)
    return render(
        request,
        "hq/devices.html",
        {
            "page": page,
            "devices": health,
            "stale_count": listed.filter(stale_filter(now=now)).count(),
        },
    )
