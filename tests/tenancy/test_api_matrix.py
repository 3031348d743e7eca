"""The API tenant matrix: every route under /companies/:key and every method it allows,
generated from the URL conf, so a new endpoint joins without anyone remembering to.

For company A's objects (world.py) and company B's credentials:
- B on A's company key (and A's object ids) answers 404 for every method, and changes
  nothing of A's;
- B on B's own key with A's object ids answers 404 for every method, one kwarg of A's at a
  time (the others B's), and changes nothing of A's;
- B on B's own key with B's own objects never sees a trace of A in any GET;
- bodies that name A's objects under B's key are refused or touch nothing of A's.

A URL kwarg with no entry in KWARGS, or a write method with no body in BODIES, fails the
matrix: a new route must say how to address its object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from .world import Tenant, cross_company_references, tenant_rows

pytestmark = pytest.mark.django_db

# URL kwarg -> (the tenant's ids key(s) giving its values, whether it names an object).
# Every kwarg of every company route must be here.
KWARGS: dict[str, tuple[tuple[str, ...], bool]] = {
    "company_key": ((), False),
    "person_id": (("person_id", "person_key"), True),
    "external_person_id": (("external_person_id",), True),
    "tag": (("tag",), False),  # a free string under the person, not an object id
    "field_id": (("field_id",), True),
    "list_id": (("list_id",), True),
    "broadcast_id": (("broadcast_id",), True),
    "callback_id": (("callback_id",), True),
    "campaign_id": (("campaign_id",), True),
    "wallet_id": (("wallet_id",), True),
    "wallet_item_id": (("wallet_item_id",), True),
    "wallet_message_id": (("wallet_message_id",), True),
    "wallet_location_id": (("wallet_location_id",), True),
    "pool_id": (("pool_id",), True),
    "code": (("code",), True),
}

WRITE_METHODS = ("post", "put", "patch")
METHOD_ORDER = ("get", "head", "options", "post", "put", "patch", "delete")


def _person_body(t: Tenant) -> dict:
    return {"custom_fields": {"nickname": "hacked"}, "timezone": "Europe/Paris"}


# (URL name, method) -> a valid body, built from the tenant the request aims at (A), so
# that a refusal cannot come from validation before the lookup.
BODIES = {
    ("person-list", "post"): lambda t: {
        "external_person_id": t.ids["external_person_id"],
        "mobile_phone": {"mdn": t.mdns[0]},
    },
    ("person-list", "put"): lambda t: {
        "external_person_id": t.ids["external_person_id"],
        "custom_fields": {"nickname": "hacked"},
    },
    ("person-detail", "put"): _person_body,
    ("person-detail", "patch"): _person_body,
    ("person-external", "put"): _person_body,
    ("person-external", "patch"): _person_body,
    ("person-tags", "post"): lambda t: {"tag": "hacked"},
    ("person-tag", "put"): lambda t: None,
    ("person-subscription", "put"): lambda t: None,
    ("person-external-subscription", "put"): lambda t: None,
    ("broadcast-list", "post"): lambda t: {
        "name": "hacked",
        "send_scheduled_date": "2099-02-01T00:00:00Z",
        "targeting": {"message_template": "hacked", "source_lists": [t.ids["list_id"]]},
    },
    ("broadcast-detail", "put"): lambda t: {"name": "hacked"},
    ("callback-list", "post"): lambda t: {
        "callback_type": "person_updated",
        "destination": {"url": "http://127.0.0.1:9/hacked"},
    },
    ("callback-detail", "put"): lambda t: {"destination": {"url": "http://127.0.0.1:9/hacked"}},
    ("callback-test", "post"): lambda t: {"callback_id": t.ids["callback_id"]},
    ("acquisition-participants", "post"): lambda t: {
        "external_person_id": "hacked-ext",
        "mobile_phone": {"mdn": "2995559999"},
    },
    ("wallet-campaigns", "post"): lambda t: {"campaign": {"name": "hacked", "type": "offer"}},
    ("wallet-campaign", "put"): lambda t: {"campaign": {"name": "hacked"}},
    ("wallet-item", "put"): lambda t: {"tokens": {"first_name": "hacked"}},
    ("wallet-messages", "post"): lambda t: {"message": {"template": "hacked"}},
    ("wallet-passbook-template", "post"): lambda t: {
        "passbook_template": {
            "pass_description": "hacked",
            "colors": {"background": "#000000", "foreground": "#000000", "label": "#000000"},
            "images": {
                "logo": {"url": "https://h.example/l.png"},
                "icon": {"url": "https://h.example/i.png"},
            },
        }
    },
    ("wallet-passbook-template", "put"): lambda t: {"passbook_template": {"logo_text": "hacked"}},
    ("wallet-google-template", "post"): lambda t: {
        "wallet_template": {
            "title": "hacked",
            "issuer": "hacked",
            "logo": {"url": "https://h.example/l.png"},
            "barcode": {"type": "QR_CODE", "value": "hacked"},
        }
    },
    ("wallet-google-template", "put"): lambda t: {"wallet_template": {"title": "hacked"}},
    ("wallet-location-selector", "post"): lambda t: {
        "location_selector": {"header": {"title": "hacked"}}
    },
    ("wallet-location-selector", "put"): lambda t: {
        "location_selector": {"header": {"title": "hacked"}}
    },
    ("wallet-locations-bulk", "post"): lambda t: {
        "locations": [{"name": "hacked", "latitude": "1", "longitude": "1"}]
    },
    ("incentive-pool-list", "post"): lambda t: {"name": "hacked"},
    ("incentive-pool-detail", "put"): lambda t: {"name": "hacked", "issuance_allowed": False},
    ("incentive-pool-codes", "post"): lambda t: {"codes": ["HACKED-1"]},
    ("incentive-issuances", "post"): lambda t: {"external_issuee_id": "hacked-issuee"},
    ("incentive-code-redemptions", "post"): lambda t: {"issuee_id": t.ids["person_id"]},
    ("inbound-events", "post"): lambda t: {
        "event_id": "hacked-event",
        "event_type": "inbound_message",
        "mdn": t.mdns[0],
        "message": "STOP",
    },
}

_KWARG = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


@dataclass(frozen=True)
class Route:
    route: str  # e.g. companies/<str:company_key>/mobiledb/persons/<str:person_id>
    name: str
    view_class: type
    kwargs: tuple[str, ...]

    @property
    def methods(self) -> list[str]:
        allowed = [m for m in self.view_class.http_method_names if hasattr(self.view_class, m)]
        if "get" in allowed:
            allowed.append("head")  # Django answers HEAD with the GET handler
        return [m for m in METHOD_ORDER if m in allowed]

    @property
    def object_kwargs(self) -> list[str]:
        return [k for k in self.kwargs if KWARGS.get(k, ((), False))[1]]

    def path(self, values: dict[str, str]) -> str:
        return "/" + _KWARG.sub(lambda m: str(values[m.group("name")]), self.route)


def company_routes() -> list[Route]:
    """Every route taking `company_key`, one per path (the trailing-slash twin dropped)."""
    found: dict[str, Route] = {}

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
                continue
            assert isinstance(pattern, URLPattern)
            if "company_key" not in pattern.pattern.converters and "company_key>" not in route:
                continue
            view_class = getattr(pattern.callback, "view_class", None)
            assert view_class is not None, f"{route}: not a class-based API view"
            key = route.rstrip("/")
            kwargs = tuple(m.group("name") for m in _KWARG.finditer(route))
            known = found.get(key)
            name = pattern.name or (known.name if known else "")
            found[key] = Route(key, name, view_class, kwargs)

    walk(get_resolver().url_patterns, "")
    return sorted(found.values(), key=lambda r: r.route)


ROUTES = company_routes()


def matrix_size() -> tuple[int, int]:
    """(routes, route x method pairs) of the API tenant matrix."""
    return len(ROUTES), sum(len(r.methods) for r in ROUTES)


def _values(owner: Tenant, key: str, variant: int = 0) -> str:
    names = KWARGS[key][0]
    if key == "company_key":
        return owner.key
    return str(owner.ids[names[variant]])


def _call(client, route: Route, method: str, path: str, target: Tenant):
    body = None
    if method in WRITE_METHODS:
        body = BODIES[(route.name, method)](target)
    return client.request(method, path, body)


def test_every_route_kwarg_and_write_method_is_covered():
    """A new route fails here until KWARGS knows its kwargs and BODIES its write bodies."""
    unknown = {(r.route, k) for r in ROUTES for k in r.kwargs if k not in KWARGS}
    assert not unknown, f"add these URL kwargs to KWARGS (and an object to world.py): {unknown}"
    unnamed = [r.route for r in ROUTES if not r.name]
    assert not unnamed, f"name these routes: {unnamed}"
    missing = {(r.name, m) for r in ROUTES for m in r.methods if m in WRITE_METHODS} - set(BODIES)
    assert not missing, f"add a valid body to BODIES for: {sorted(missing)}"
    stale = set(BODIES) - {(r.name, m) for r in ROUTES for m in r.methods}
    assert not stale, f"BODIES names routes that no longer exist: {sorted(stale)}"
    routes, pairs = matrix_size()
    print(f"API tenant matrix: {routes} routes, {pairs} route x method pairs")
    assert routes >= 25 and pairs >= routes


def _check(failures: list, what: str, response, expected: set[int], a: Tenant, before) -> None:
    after = tenant_rows(a.company)
    if response.status_code not in expected:
        failures.append(f"{what}: {response.status_code} {response.content[:200]!r}")
    if after != before:
        changed = sorted(k for k in after if after[k] != before.get(k))
        failures.append(f"{what}: changed A's rows of {changed}")
    return after


def test_b_on_a_company_key_answers_404_for_every_route_and_method(tenants):
    a, b = tenants
    before = tenant_rows(a.company)
    failures: list[str] = []
    for route in ROUTES:
        values = {k: _values(a, k) for k in route.kwargs}
        path = route.path(values)
        for method in route.methods:
            response = _call(b.api, route, method, path, a)
            before = _check(failures, f"B {method.upper()} {path}", response, {404}, a, before)
            if response.status_code == 404 and method != "head":
                assert response.json()["errors"][0]["code"] == 120, response.content
    assert not failures, "\n".join(failures)


def test_b_on_own_key_with_a_object_ids_answers_404(tenants):
    """One of A's ids at a time, the rest B's: each lookup must be scoped by itself."""
    a, b = tenants
    before = tenant_rows(a.company)
    failures: list[str] = []
    tried = 0
    for route in ROUTES:
        for foreign in route.object_kwargs:
            for variant in range(len(KWARGS[foreign][0])):
                values = {k: _values(b, k) for k in route.kwargs}
                values[foreign] = _values(a, foreign, variant)
                path = route.path(values)
                # OPTIONS under B's own key describes the route from the view class alone
                # (no lookup, no data): it is checked on A's key above.
                for method in [m for m in route.methods if m != "options"]:
                    tried += 1
                    response = _call(b.api, route, method, path, b)
                    what = f"B {method.upper()} {path} ({foreign} of A)"
                    before = _check(failures, what, response, {404}, a, before)
    assert tried > 50
    print(f"B's key with A's ids: {tried} requests")
    assert not failures, "\n".join(failures)
    assert not cross_company_references()


def test_b_never_sees_a_trace_of_a_in_its_own_answers(tenants):
    a, b = tenants
    failures: list[str] = []
    for route in ROUTES:
        if "get" not in route.methods:
            continue
        path = route.path({k: _values(b, k) for k in route.kwargs})
        for query in (
            "",
            "?mdn=" + a.mdns[0],
            "?external_person_id=" + a.ids["external_person_id"],
        ):
            response = b.api.get(path + query)
            if response.status_code not in (200, 400):
                failures.append(f"B GET {path}{query}: {response.status_code}")
            leaked = a.leaked_into(response.content.decode())
            if leaked:
                failures.append(f"B GET {path}{query}: shows A's {leaked}")
    assert not failures, "\n".join(failures)


# Bodies under B's own key that name A's objects or A's identities: (path under B's key,
# method, body from A, expected statuses, the inbound event's outcome or None). An event
# echoes its own MDN and message, so for those the outcome is the proof, not the text.
BODY_REFERENCES = [
    (
        "config/callback_events/test",
        "post",
        lambda a: {"callback_id": a.ids["callback_id"]},
        {404},
        None,
    ),
    (
        "config/callbacks",
        "post",
        lambda a: {
            "callback_type": "subscription_added",
            "destination": {"url": "http://127.0.0.1:9/hacked"},
            "subscription_added": {"list_id": str(a.ids["list_id"])},
        },
        {400, 404},
        None,
    ),
    ("mobiledb/broadcasts", "post", BODIES[("broadcast-list", "post")], {400, 404}, None),
    ("mobiledb/persons", "put", BODIES[("person-list", "put")], {404}, None),
    ("events", "post", BODIES[("inbound-events", "post")], {201}, "unknown_mdn"),
    (
        "events",
        "post",
        lambda a: {
            "event_id": "keyword-of-a",
            "event_type": "inbound_message",
            "mdn": "2995558888",
            "message": f"{a.key}JOIN",
        },
        {201},
        "unmatched",
    ),
    (
        "events",
        "post",
        lambda a: {
            "event_id": "yes-of-a",
            "event_type": "inbound_message",
            "mdn": a.mdns[1],
            "message": "YES",
        },
        {201},
        "nothing_pending",
    ),
]


@pytest.mark.parametrize(
    "suffix,method,body,expected,outcome",
    BODY_REFERENCES,
    ids=[f"{m} {s} {o or ''}" for s, m, _, _, o in BODY_REFERENCES],
)
def test_b_bodies_naming_a_objects_touch_nothing_of_a(
    tenants, suffix, method, body, expected, outcome
):
    a, b = tenants
    before = tenant_rows(a.company)
    response = b.api.request(method, f"/companies/{b.key}/{suffix}", body(a))
    assert response.status_code in expected, response.content
    assert tenant_rows(a.company) == before
    assert not cross_company_references()
    if outcome:
        assert response.json()["outcome"] == outcome
    else:
        assert not a.leaked_into(response.content.decode())
