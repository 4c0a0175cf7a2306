"""Pagination for lists that can reach the whole company (100,000 customers and more).

An exact ``COUNT(*)`` reads every visible row, which costs an admin's list more than the
page itself. These paginators count only as far as the page needs: up to ``COUNT_CAP``
rows, or to one page past the requested one when that is deeper. Beyond it, the total is
shown as "1,000+" and "Next" keeps working, page after page. (Counting 10,000 rows of a
manager's 25,000 still cost ~40 ms on the 100,000-customer benchmark; 1,000 cost ~3 ms.)
"""

from functools import cached_property, partial

from django.core.paginator import Paginator
from rest_framework.pagination import PageNumberPagination

COUNT_CAP = 1_000
# No list has this many pages; beyond it the page is simply "not found". The cap keeps the
# count's LIMIT a number every database takes (SQLite refused ``?page=99999999999999999999``).
MAX_PAGE = 1_000_000


def _page_number(value) -> int:
    try:
        return min(max(int(value), 1), MAX_PAGE)
    except (TypeError, ValueError):
        return 1


class CappedCountPaginator(Paginator):
    """``count`` stops at the cap (``count_is_capped`` then says there are more)."""

    def __init__(self, object_list, per_page, *, page_number=None, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        # Deep pages count one page past themselves, so "Next" stays reachable.
        self.count_limit = max(COUNT_CAP, (_page_number(page_number) + 1) * int(per_page))

    @cached_property
    def _counted(self) -> int:
        """Rows up to one past the limit: one query says both the count and whether it is capped."""
        return self.object_list.order_by().values("pk")[: self.count_limit + 1].count()

    @property
    def count(self) -> int:
        return min(self._counted, self.count_limit)

    @property
    def count_is_capped(self) -> bool:
        return self._counted > self.count_limit


class CappedCountPagination(PageNumberPagination):
    """The API's page-number pagination with the same capped count; the answer says
    ``"count_is_capped": true`` when ``count`` is a lower bound."""

    def paginate_queryset(self, queryset, request, view=None):
        self.django_paginator_class = partial(
            CappedCountPaginator, page_number=request.query_params.get(self.page_query_param)
        )
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_is_capped"] = self.page.paginator.count_is_capped
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["count_is_capped"] = {"type": "boolean", "example": False}
        return schema
