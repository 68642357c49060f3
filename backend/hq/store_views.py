"""A store's page in HQ: where it is, who owns it, its surveys and its open tasks."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from hq.access import office_required
from hq.selectors import store_page


@require_GET
@office_required
def store_detail(request: HttpRequest, pk) -> HttpResponse:
    page = store_page(actor=request.user, store_id=pk)
    if page is None:
        raise Http404
    return render(request, "hq/store.html", {"page": page, "store": page.store})
