from __future__ import annotations

from django import template

from vibesweb.tenancy.services import companies_for_user

from ..dashboard import DayFigures, dashboard_figures

register = template.Library()


@register.inclusion_tag("mobiledb/dashboard.html", takes_context=True)
def mobiledb_dashboard(context) -> dict:
    user = context["request"].user
    figures = dashboard_figures(companies_for_user(user))
    return {**figures, "chart": opt_chart_context(figures["series"])}


@register.inclusion_tag("mobiledb/opt_chart.html")
def opt_chart(series: list[DayFigures]) -> dict:
    """Opt-ins and opt-outs per day as bars, with a dated x axis and a counted y axis."""
    return {"chart": opt_chart_context(series)}


def _nice_top(peak: int) -> int:
    """The y axis' top: the peak rounded up to 1, 2 or 5 times a power of ten."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= peak:
                return step * factor
        step *= 10


def opt_chart_context(series: list[DayFigures]) -> dict:
    days = len(series) or 1
    top = _nice_top(max([1, *(max(d.opt_ins, d.opt_outs) for d in series)]))
    bar_width = 100 / days
    bars = [
        {
            "day": day.day,
            "x": index * bar_width,
            "opt_in_height": 100 * day.opt_ins / top,
            "opt_out_height": 100 * day.opt_outs / top,
            "opt_ins": day.opt_ins,
            "opt_outs": day.opt_outs,
        }
        for index, day in enumerate(series)
    ]
    # a date label every week, from the first day, and the last day
    ticks = [
        {"left": 100 * index / days, "day": day.day}
        for index, day in enumerate(series)
        if index % 7 == 0 and index <= days - 4
    ]
    if series:
        ticks.append({"left": 100 * (days - 1) / days, "day": series[-1].day})
    return {
        "bars": bars,
        "half_bar": bar_width / 2 - 0.3,
        "top": top,
        "middle": top // 2 if top % 2 == 0 else top / 2,
        "ticks": ticks,
        "days": days,
        "first_day": series[0].day if series else None,
        "last_day": series[-1].day if series else None,
    }
