"""The admin tenant matrix: every registered ModelAdmin, generated from the admin
registry, so a new ModelAdmin joins without anyone remembering to.

A staff user of company B (create_api_user --staff: the Marketers group) on company A's
objects: every URL of the ModelAdmin that takes an object id (change, delete, history and
custom ones: progress, errors download, cancel, send test...) answers 404, 403 or a
redirect to a page without A's data, by GET and by POST, and changes nothing of A's; every
URL without an id (changelist, add, export...) shows no trace of A, also when asked for
A's company by filter; the changelist counts only B's rows; autocomplete, for every
relation of every registered model, offers only B's rows.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.test import Client, RequestFactory
from django.urls import URLPattern, reverse

from vibesweb.tenancy.scoping import _company_path_of

from .world import Tenant, tenant_rows

pytestmark = pytest.mark.django_db

# Registered models that no company owns: a marketer must not reach them at all.
NOT_TENANT_OWNED = {"auth.Group"}
OBJECT_KWARGS = ("object_id", "pk")
REFUSED = {302, 403, 404}


def registry() -> list[tuple[type, admin.ModelAdmin]]:
    return sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


def admin_size() -> tuple[int, int]:
    """(models, model x view pairs) of the admin tenant matrix."""
    views = sum(len([u for u in ma.get_urls() if u.name]) for _, ma in registry())
    return len(registry()), views


def rows_of(model, tenant: Tenant):
    """The model's rows owned by `tenant` (for users: its members)."""
    if model is get_user_model():
        return model._default_manager.filter(memberships__company=tenant.company)
    path = _company_path_of(model)
    assert path is not None, (
        f"{model._meta.label}: no path to a company and not in NOT_TENANT_OWNED"
    )
    lookup = {"pk": tenant.company.pk} if path == "" else {f"{path}__pk": tenant.company.pk}
    return model._default_manager.filter(**lookup)


def a_object(model, a: Tenant):
    row = rows_of(model, a).order_by("pk").first()
    assert row is not None, (
        f"{model._meta.label}: company A holds no row; add one to tests/tenancy/world.py"
    )
    return row


@pytest.fixture
def staff_b(tenants) -> Client:
    _, b = tenants
    client = Client()
    assert client.login(username=b.staff_username, password="pw")
    return client


def _leaks(a: Tenant, response) -> list[str]:
    if getattr(response, "streaming", False):
        text = b"".join(response.streaming_content).decode(errors="replace")
    else:
        text = response.content.decode(errors="replace")
    return a.leaked_into(text)


def test_every_registered_model_has_a_row_of_a(tenants):
    a, _ = tenants
    for model, _ in registry():
        if model._meta.label not in NOT_TENANT_OWNED:
            a_object(model, a)
    models, views = admin_size()
    print(f"Admin tenant matrix: {models} ModelAdmins, {views} model x view pairs")
    assert models >= 15


def test_b_staff_on_a_object_urls_is_refused_and_changes_nothing(tenants, staff_b):
    a, _ = tenants
    before = tenant_rows(a.company)
    failures: list[str] = []
    tried = 0
    for model, model_admin in registry():
        if model._meta.label in NOT_TENANT_OWNED:
            continue
        target = a_object(model, a)
        for pattern in model_admin.get_urls():
            if not isinstance(pattern, URLPattern) or not pattern.name:
                continue
            kwargs = [k for k in OBJECT_KWARGS if k in pattern.pattern.converters]
            if not kwargs:
                continue
            url = reverse(f"admin:{pattern.name}", kwargs={kwargs[0]: target.pk})
            for method in ("get", "post"):
                tried += 1
                data = {"post": "yes"} if method == "post" else {}
                response = getattr(staff_b, method)(url, data)
                what = f"{method.upper()} {url} ({model._meta.label})"
                if response.status_code not in REFUSED:
                    failures.append(f"{what}: {response.status_code}")
                if response.status_code == 302:
                    assert str(target.pk) not in response["Location"].split("?")[0].split("/")
                    followed = staff_b.get(response["Location"])
                    if _leaks(a, followed):
                        failures.append(f"{what}: redirect shows A's {_leaks(a, followed)}")
                elif _leaks(a, response):
                    failures.append(f"{what}: shows A's {_leaks(a, response)}")
                after = tenant_rows(a.company)
                if after != before:
                    failures.append(f"{what}: changed A's rows")
                    before = after
    assert tried >= 60
    print(f"admin object URLs of A for B's staff: {tried} requests")
    assert not failures, "\n".join(failures)


def test_b_staff_actions_on_a_rows_change_and_show_nothing(tenants, staff_b):
    """Every changelist action (redeliver, export, opt out, cancel, resume...) posted with
    A's row selected acts on nothing of A's and answers nothing of A's."""
    a, b = tenants
    before = tenant_rows(a.company)
    failures: list[str] = []
    tried = 0
    for model, model_admin in registry():
        if model._meta.label in NOT_TENANT_OWNED:
            continue
        target = a_object(model, a)
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        request = RequestFactory().get(url)
        request.user = get_user_model().objects.get(username=b.staff_username)
        for name in model_admin.get_actions(request):
            tried += 1
            data = {"action": name, "_selected_action": [target.pk], "index": 0, "post": "yes"}
            response = staff_b.post(url, data)
            what = f"action {name} on {model._meta.label} {target.pk}"
            if response.status_code not in (200, *REFUSED):
                failures.append(f"{what}: {response.status_code}")
            if _leaks(a, response):
                failures.append(f"{what}: shows A's {_leaks(a, response)}")
            after = tenant_rows(a.company)
            if after != before:
                failures.append(f"{what}: changed A's rows")
                before = after
    assert tried >= 8
    print(f"admin actions on A's rows: {tried} requests")
    assert not failures, "\n".join(failures)


def test_b_staff_lists_and_forms_show_nothing_of_a(tenants, staff_b):
    """Changelists (plain, filtered by A's company, searched for A's marker and MDN), add
    forms and custom views without an id: no row, filter choice or count of A's."""
    a, b = tenants
    failures: list[str] = []
    for model, model_admin in registry():
        label = model._meta.label
        for pattern in model_admin.get_urls():
            if not isinstance(pattern, URLPattern) or not pattern.name:
                continue
            if pattern.pattern.converters:
                continue
            url = reverse(f"admin:{pattern.name}")
            queries = ["", f"?company={a.company.pk}", f"?company__id__exact={a.company.pk}",
                       f"?q={a.marker}", f"?q={a.mdns[0]}"]  # fmt: skip
            for query in queries:
                response = staff_b.get(url + query)
                what = f"GET {url}{query} ({label})"
                if response.status_code not in (200, *REFUSED):
                    failures.append(f"{what}: {response.status_code}")
                    continue
                changelist = None
                if response.status_code == 200 and response.context:
                    changelist = response.context.get("cl")
                if query.startswith("?q="):
                    # the search box echoes the term: the proof is an empty result
                    if changelist is not None and changelist.result_count:
                        failures.append(f"{what}: finds {changelist.result_count} row(s)")
                    continue
                leaked = _leaks(a, response)
                if leaked:
                    failures.append(f"{what}: shows A's {leaked}")
                if changelist is not None and label not in NOT_TENANT_OWNED and not query:
                    own = rows_of(model, b).count()
                    shown = (changelist.result_count, changelist.full_result_count)
                    if shown[0] != own or shown[1] not in (own, None):
                        failures.append(f"{what}: counts {shown}, B holds {own}")
    assert not failures, "\n".join(failures)


def _allowed_choices(spec, model, b: Tenant) -> set[str] | None:
    """The choices a list filter may offer B: values or rows found among B's rows; None
    for filters whose choices are fixed (field choices, dates, yes/no, custom ones)."""
    if isinstance(spec, admin.RelatedFieldListFilter):
        related = spec.field.related_model
        if related._meta.label in NOT_TENANT_OWNED or related is get_user_model():
            return None
        return {str(pk) for pk in rows_of(related, b).values_list("pk", flat=True)}
    if isinstance(spec, admin.AllValuesFieldListFilter):
        values = rows_of(model, b).values_list(spec.field_path, flat=True)
        return {str(v) for v in values if v is not None}
    return None


def test_b_staff_filter_choices_come_only_from_b_rows(tenants, staff_b):
    """Every related or all-values list filter of every changelist offers only what B's
    own rows hold (A holds a callback type B does not, among others)."""
    a, b = tenants
    failures: list[str] = []
    checked = 0
    for model, _ in registry():
        if model._meta.label in NOT_TENANT_OWNED or model is get_user_model():
            continue
        url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        response = staff_b.get(url)
        if response.status_code != 200:
            continue
        for spec in response.context["cl"].filter_specs:
            choices = list(getattr(spec, "lookup_choices", []) or [])
            offered = {str(c[0] if isinstance(c, tuple) else c) for c in choices}
            labels = {str(c[1]) for c in choices if isinstance(c, tuple) and len(c) > 1}
            # any filter, custom ones too: nothing that only A holds, no name of A's
            shown = [v for v in offered | labels if v in a.only_values or a.marker in v.lower()]
            if shown:
                failures.append(f"{url} filter {spec.title!r} offers A's {sorted(shown)}")
            checked += 1
            allowed = _allowed_choices(spec, model, b)
            if allowed is not None and not offered <= allowed:
                failures.append(f"{url} filter {spec.title!r} offers {sorted(offered - allowed)}")
    assert checked >= 3
    assert not failures, "\n".join(failures)


def test_b_staff_autocomplete_offers_only_b_rows(tenants, staff_b):
    a, b = tenants
    failures: list[str] = []
    tried = 0
    for model, _ in registry():
        for field in model._meta.get_fields():
            if not (field.is_relation and (field.many_to_one or field.many_to_many)):
                continue
            if not getattr(field, "concrete", False):
                continue
            remote = field.related_model
            remote_admin = admin.site._registry.get(remote)
            if remote_admin is None or not remote_admin.get_search_fields(None):
                continue
            for term in ("", a.marker, a.key):
                tried += 1
                url = (
                    f"/admin/autocomplete/?app_label={model._meta.app_label}"
                    f"&model_name={model._meta.model_name}&field_name={field.name}&term={term}"
                )
                response = staff_b.get(url)
                if response.status_code == 403:
                    continue
                if response.status_code != 200:
                    failures.append(f"GET {url}: {response.status_code}")
                    continue
                ids = {str(r["id"]) for r in response.json()["results"]}
                if remote._meta.label in NOT_TENANT_OWNED:
                    continue
                own = {str(pk) for pk in rows_of(remote, b).values_list("pk", flat=True)}
                if not ids <= own:
                    failures.append(f"GET {url}: offers {sorted(ids - own)}, not B's")
                if _leaks(a, response):
                    failures.append(f"GET {url}: shows A's {_leaks(a, response)}")
    assert tried >= 10
    print(f"admin autocomplete: {tried} requests")
    assert not failures, "\n".join(failures)


def test_b_staff_cannot_reach_models_no_company_owns(tenants, staff_b):
    for label in NOT_TENANT_OWNED:
        model = apps.get_model(label)
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        assert staff_b.get(reverse(f"{prefix}_changelist")).status_code == 403
        assert staff_b.get(reverse(f"{prefix}_add")).status_code == 403
