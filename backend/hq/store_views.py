"""A store's page in HQ: where it is, who owns it, its surveys and its open tasks."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from hq.access import office_required
from hq.selectors import SEGMENT_WORDS, store_page


@require_GET
@office_required
def store_detail(request: HttpRequest, pk) -> HttpResponse:
    page = store_page(actor=request.user, store_id=pk)
    if page is None:
        raise Http404
    segment = SEGMENT_WORDS.get(page.store.segment) if page.store.segment else None
    return render(request, "hq/store.html", {"page": page, "store": page.store, "segment": segment})
