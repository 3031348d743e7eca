from __future__ import annotations

from django import template

from vibesweb.tenancy.services import companies_for_user

from ..dashboard import dashboard_figures

register = template.Library()


@register.inclusion_tag("mobiledb/dashboard.html", takes_context=True)
def mobiledb_dashboard(context) -> dict:
    user = context["request"].user
    figures = dashboard_figures(companies_for_user(user))
    bar_width = 100 / figures["days"]
    bars = [
        {
            "day": day.day,
            "x": index * bar_width,
            "opt_in_height": 100 * day.opt_ins / figures["peak"],
            "opt_out_height": 100 * day.opt_outs / figures["peak"],
            "opt_ins": day.opt_ins,
            "opt_outs": day.opt_outs,
        }
        for index, day in enumerate(figures["series"])
    ]
    return {**figures, "bars": bars, "half_bar": bar_width / 2 - 0.3}
