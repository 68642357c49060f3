from rest_framework import pagination

from fieldline.query_params import refuse_unknown_query_params


class PageNumberPagination(pagination.PageNumberPagination):
    """`?page=` with `?page_size=` up to 1000: lists are never unbounded.

    Every paginated list passes here, so here an unknown query parameter is refused (a
    misspelt filter would otherwise answer the whole list as if it matched)."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000

    def paginate_queryset(self, queryset, request, view=None):
        if view is not None:
            refuse_unknown_query_params(request, view)
        return super().paginate_queryset(queryset, request, view)
