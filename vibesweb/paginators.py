"""Admin pagination that stays fast on tables of millions of rows."""

from __future__ import annotations

from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.functional import cached_property

from vibesweb.db import index_probes


class CappedCountPaginator(Paginator):
    """Counts at most CAP rows (`SELECT COUNT(*) FROM (... LIMIT CAP+1)`).

    An exact COUNT(*) over a million persons costs more than the whole page budget
    (SPEC section 9: < 300 ms); past CAP rows the changelist shows CAP+1 results and
    pages up to there, and marketers narrow down with search and filters.

    With `window` set (the unfiltered rows, ordered by `-<window_field>` like the list),
    a page is first read among the rows at or after the WINDOW-th row of `window`: a
    range of the ordering's index, whatever the filters. The rows of the list in that
    range are a prefix of the list (every later row sorts after them), so if the range
    holds the whole page it is the page. Otherwise the page is read as usual. This keeps
    a filter the planner cannot estimate (PostgreSQL keeps no statistics for JSON
    values: it prices two custom field conditions at 0.5% x 0.5% and sorts every
    matching row of the company instead of walking the index for 50) to a bounded walk.
    """

    CAP = 100_000
    WINDOW = 10_000
    window: QuerySet | None = None
    window_field = "updated_at"

    # Ids including every row of the list, few (a tag's persons): the count reads them
    # and probes each in the list by primary key, as index probes (see `index_probes`;
    # PostgreSQL hashed them against every person of the company), instead of checking
    # every row of the company when fewer than CAP match.
    driver: QuerySet | None = None

    @cached_property
    def count(self) -> int:
        # Unordered: the count needs no sort, only the first CAP+1 matching rows.
        if self.driver is None:
            return self.object_list.order_by()[: self.CAP + 1].count()
        model = self.object_list.model
        inside = self.object_list.order_by().filter(pk=OuterRef("pk"))
        rows = model._default_manager.filter(Exists(inside), pk__in=self.driver).order_by()
        with index_probes():
            return rows.values("pk")[: self.CAP + 1].count()

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self._rows(bottom, top), number, self)

    def _rows(self, bottom: int, top: int):
        rows = self.object_list[bottom:top]
        if self.window is None or top <= bottom or top > self.WINDOW:
            return rows
        edge = list(
            self.window.order_by(f"-{self.window_field}").values_list(self.window_field, flat=True)[
                self.WINDOW - 1 : self.WINDOW
            ]
        )
        if not edge:
            return rows  # fewer rows than the window: nothing to bound
        first = list(self.object_list.filter(**{f"{self.window_field}__gte": edge[0]})[bottom:top])
        return first if len(first) == top - bottom else rows
