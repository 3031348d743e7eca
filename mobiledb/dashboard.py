"""Figures for the admin dashboard: totals and opt-ins/opt-outs per day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count, QuerySet
from django.db.models.functions import TruncDate
from django.utils import timezone

from vibesweb.tenancy.models import Company

from .models import Person, Subscription, SubscriptionList


@dataclass
class DayFigures:
    day: date
    opt_ins: int
    opt_outs: int


def opt_series(subscriptions: QuerySet[Subscription], *, days: int = 30) -> list[DayFigures]:
    """Opt-ins and opt-outs of `subscriptions` per day over the last `days` days."""
    since = timezone.now() - timedelta(days=days - 1)
    since = since.replace(hour=0, minute=0, second=0, microsecond=0)
    opt_ins = _per_day(subscriptions.filter(opt_in_date__gte=since), "opt_in_date")
    opt_outs = _per_day(subscriptions.filter(opt_out_date__gte=since), "opt_out_date")
    first_day = since.date()
    return [
        DayFigures(day, opt_ins.get(day, 0), opt_outs.get(day, 0))
        for day in (first_day + timedelta(days=n) for n in range(days))
    ]


def dashboard_figures(companies: QuerySet[Company], *, days: int = 30) -> dict:
    """Totals and a per-day series of opt-ins and opt-outs over the last `days` days."""
    subscriptions = Subscription.objects.filter(company__in=companies)
    series = opt_series(subscriptions, days=days)
    return {
        "persons": Person.objects.filter(company__in=companies).count(),
        "active_subscriptions": subscriptions.filter(opt_out_date__isnull=True).count(),
        "lists": SubscriptionList.objects.filter(company__in=companies).count(),
        "opt_ins": sum(d.opt_ins for d in series),
        "opt_outs": sum(d.opt_outs for d in series),
        "series": series,
        "peak": max([1, *(max(d.opt_ins, d.opt_outs) for d in series)]),
        "days": days,
    }


def _per_day(queryset: QuerySet, field: str) -> dict[date, int]:
    rows = (
        queryset.annotate(day=TruncDate(field))
        .values("day")
        .annotate(total=Count("id"))
        .values_list("day", "total")
    )
    return dict(rows)
