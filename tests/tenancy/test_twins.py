"""Twin data: the same MDN and the same external id in two companies, created in both
orders, through every identity path that exists: each company sees and changes only its
own person.

Every path runs in company Y while company X holds the twin (and, in the "both" cases,
Y holds it too, created before or after X's). X's rows must not change; Y must end with
at most one person of that MDN and of that external id; a person named in the answer
must be Y's.

IDENTITY_PATHS holds every such path, the wallet SmartLink (a pass installed from a link
naming an external id) and incentive issuance (a code issued to an external issuee id)
included; a new identity path joins it as one entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from django.apps import apps
from django.core.management import call_command
from django.test import Client

from tests.conftest import APIClient
from tests.factories import (
    CompanyFactory,
    CustomFieldFactory,
    MembershipFactory,
    SubscriptionListFactory,
    UserFactory,
)

from .world import cross_company_references, tenant_rows

pytestmark = pytest.mark.django_db

MDN = "2995557777"
E164 = "+1" + MDN
EXT = "TWIN-EXT"


@dataclass
class Side:
    company: object
    api: APIClient
    list_id: int
    campaign_id: int
    campaign_list_id: int

    @property
    def key(self) -> str:
        return self.company.key

    def persons(self):
        return apps.get_model("mobiledb", "Person").objects.filter(company=self.company)

    def twin(self):
        """Y's own twin person, or None; never more than one of each identity."""
        by_mdn = list(self.persons().filter(mdn=E164))
        by_ext = list(self.persons().filter(external_person_id=EXT))
        assert len(by_mdn) <= 1 and len(by_ext) <= 1, (by_mdn, by_ext)
        return (by_mdn or by_ext or [None])[0]


def make_side(key: str) -> Side:
    company = CompanyFactory(key=key)
    user = MembershipFactory(company=company, user=UserFactory(username=f"{key}-api")).user
    CustomFieldFactory(company=company, name="nickname")
    welcome = SubscriptionListFactory(company=company)
    campaign_list = SubscriptionListFactory(company=company)
    campaign = apps.get_model("campaigns", "AcquisitionCampaign").objects.create(
        company=company, name=f"{key} join", keyword="JOIN", opt_in="double", status="active"
    )
    campaign.subscription_lists.add(campaign_list)
    return Side(company, APIClient(user.username), welcome.pk, campaign.pk, campaign_list.pk)


def hold_twin(side: Side) -> None:
    """The twin in `side`: added by API, subscribed, pending on the campaign."""
    base = f"/companies/{side.key}"
    person = side.api.post(
        f"{base}/mobiledb/persons",
        {"external_person_id": EXT, "mobile_phone": {"mdn": MDN}, "custom_fields": {}},
    )
    assert person.status_code == 201, person.content
    person_id = person.json()["person_id"]
    assert (
        side.api.put(
            f"{base}/mobiledb/persons/{person_id}/subscriptions/{side.list_id}"
        ).status_code
        == 201
    )
    participant = side.api.post(
        f"{base}/campaigns/acquisition/{side.campaign_id}/participants",
        {"mobile_phone": {"mdn": MDN}},
    )
    assert participant.status_code == 201, participant.content
    assert participant.json()["person"]["id"] == str(person_id)


@pytest.fixture(params=["x-first", "y-first", "x-only"])
def sides(request, db) -> tuple[Side, Side, str]:
    """(X, Y, how): X holds the twin; Y holds it too, made after or before X's, or not."""
    if request.param == "y-first":
        y = make_side("YCO")
        hold_twin(y)
        x = make_side("XCO")
        hold_twin(x)
    else:
        x = make_side("XCO")
        hold_twin(x)
        y = make_side("YCO")
        if request.param == "x-first":
            hold_twin(y)
    return x, y, request.param


def _event(y: Side, message: str, event_id: str):
    body = {"event_id": event_id, "event_type": "inbound_message", "mdn": MDN, "message": message}
    return y.api.post(f"/companies/{y.key}/events", body)


def _import(y: Side, tmp: Path):
    path = tmp / "twin.persons"
    path.write_text(f"external_person_id,mdn,nickname\n{EXT},{MDN},imported\n", encoding="utf-8")
    call_command("import_persons", y.key, str(path))


def _update_loner(y: Side, create: dict, change: dict):
    """Y adds a person without the twin's identity, then gives it the twin's MDN or
    external id: refused (409) when Y's own twin holds it, never because X's does."""
    base = f"/companies/{y.key}/mobiledb/persons"
    loner = y.api.post(base, create)
    assert loner.status_code == 201, loner.content
    return y.api.put(f"{base}/{loner.json()['person_id']}", change)


def _keyword_when_subscribed(y: Side):
    """Y's twin (when Y holds it), no longer pending and already on the campaign's list,
    texts the keyword."""
    if y.twin() is not None:
        assert _event(y, "NO", "kw-decline").json()["outcome"] == "declined"
        path = f"/companies/{y.key}/mobiledb/persons/{y.twin().pk}/subscriptions/"
        assert y.api.put(path + str(y.campaign_list_id)).status_code == 201
    return _event(y, "JOIN", "kw-subscribed")


def _person_id(y: Side) -> str:
    twin = y.twin()
    return str(twin.pk) if twin else "999999"


def _smartlink(y: Side, tmp: Path):
    """A phone opens Y's SmartLink naming the twin's external id: the pass is Y's twin's
    (or nobody's, when Y has no such person), never X's."""
    created = y.api.post(
        f"/companies/{y.key}/campaigns/wallet",
        {"campaign": {"name": "Twin card", "type": "loyalty"}},
    )
    assert created.status_code == 201, created.content
    wallet_id = created.json()["campaign"]["wallet_id"]
    page = Client().get(f"/c/{wallet_id}", {"uuid": "twin-item", "data[external_person_id]": EXT})
    assert page.status_code == 200, page.content
    item = apps.get_model("wallet", "WalletItem").objects.get(uuid="twin-item")
    assert item.company_id == y.company.pk
    assert item.person_id == (y.twin().pk if y.twin() else None)


def _issuance(y: Side, tmp: Path):
    """Y issues a code to the twin's external id: the issuance links Y's twin or nobody."""
    base = f"/companies/{y.key}/incentives/pools"
    pool = y.api.post(base, {"name": "Twin pool", "distribution": {"method": "unique"}})
    assert pool.status_code in (200, 201), pool.content
    pool_id = pool.json()["id"]
    loaded = y.api.post(f"{base}/{pool_id}/codes", {"codes": ["TWIN-CODE-1"]})
    assert loaded.status_code in (200, 201), loaded.content
    issued = y.api.post(f"{base}/{pool_id}/issuances", {"external_issuee_id": EXT})
    assert issued.status_code in (200, 201), issued.content
    issuance = apps.get_model("campaigns", "IncentiveIssuance").objects.get()
    assert issuance.person_id == (y.twin().pk if y.twin() else None)


# name -> (run in Y, the statuses Y answers when it holds the twin, when it does not).
# A run that returns None checks its own outcome (an HTML page, a linked person).
IDENTITY_PATHS = {
    "wallet-smartlink": (_smartlink, set(), set()),
    "incentive-issuance": (_issuance, set(), set()),
    "api-add": (
        lambda y, tmp: y.api.post(
            f"/companies/{y.key}/mobiledb/persons",
            {
                "external_person_id": EXT,
                "mobile_phone": {"mdn": MDN},
                "custom_fields": {"nickname": "added"},
            },
        ),  # fmt: skip
        {200},
        {201},
    ),
    "api-add-by-mdn-only": (
        lambda y, tmp: y.api.post(
            f"/companies/{y.key}/mobiledb/persons",
            {"mobile_phone": {"mdn": MDN}, "custom_fields": {"nickname": "added"}},
        ),
        {200},
        {201},
    ),
    "api-add-by-external-id-only": (
        lambda y, tmp: y.api.post(
            f"/companies/{y.key}/mobiledb/persons",
            {"external_person_id": EXT, "custom_fields": {"nickname": "added"}},
        ),
        {409},  # without an MDN nothing merges: Y's own person holds the id
        {201},
    ),
    "api-update-by-external-id": (
        lambda y, tmp: y.api.put(
            f"/companies/{y.key}/mobiledb/persons",
            {"external_person_id": EXT, "custom_fields": {"nickname": "updated"}},
        ),
        {200},
        {404},
    ),
    "api-update-external-url": (
        lambda y, tmp: y.api.put(
            f"/companies/{y.key}/mobiledb/persons/external/{EXT}",
            {"custom_fields": {"nickname": "updated"}},
        ),
        {200},
        {404},
    ),
    "api-update-gives-the-mdn": (
        lambda y, tmp: _update_loner(
            y, {"external_person_id": "LONER"}, {"mobile_phone": {"mdn": MDN}}
        ),
        {409},
        {200},
    ),
    "api-update-gives-the-external-id": (
        lambda y, tmp: _update_loner(
            y, {"mobile_phone": {"mdn": "2995556666"}}, {"external_person_id": EXT}
        ),
        {409},
        {200},
    ),
    "participant-add": (
        lambda y, tmp: y.api.post(
            f"/companies/{y.key}/campaigns/acquisition/{y.campaign_id}/participants",
            {"external_person_id": EXT, "mobile_phone": {"mdn": MDN}},
        ),
        {200},
        {201},
    ),
    "participant-add-by-external-id": (
        lambda y, tmp: y.api.post(
            f"/companies/{y.key}/campaigns/acquisition/{y.campaign_id}/participants",
            {"external_person_id": EXT},
        ),
        {200},
        {400, 422},
    ),
    "import": (_import, None, None),
    "inbound-stop": (lambda y, tmp: _event(y, "STOP", "stop-1"), {201}, {201}),
    "inbound-yes": (lambda y, tmp: _event(y, "YES", "yes-1"), {201}, {201}),
    "inbound-no": (lambda y, tmp: _event(y, "NO", "no-1"), {201}, {201}),
    "inbound-keyword": (lambda y, tmp: _event(y, "join", "kw-1"), {201}, {201}),
    "inbound-keyword-already-subscribed": (
        lambda y, tmp: _keyword_when_subscribed(y),
        {201},
        {201},
    ),
    "subscription-put": (
        lambda y, tmp: y.api.put(
            f"/companies/{y.key}/mobiledb/persons/{_person_id(y)}/subscriptions/{y.list_id}"
        ),
        {200},
        {404},
    ),
    "subscription-delete": (
        lambda y, tmp: y.api.delete(
            f"/companies/{y.key}/mobiledb/persons/{_person_id(y)}/subscriptions/{y.list_id}"
        ),
        {200},
        {404},
    ),
}

# What each inbound word must answer in Y (holding the twin, or not).
OUTCOMES = {
    "inbound-stop": ("opted_out", "unknown_mdn"),
    "inbound-yes": ("confirmed", "nothing_pending"),
    "inbound-no": ("declined", "nothing_pending"),
    "inbound-keyword": ("already_pending", "joined"),
    "inbound-keyword-already-subscribed": ("already_subscribed", "joined"),
}


# (path, whether Y held the twin) that must change Y's rows: the proof the path ran in Y
# (already pending, already subscribed and refusals rightly change nothing).
CHANGES_Y = {
    *(
        (name, held)
        for name in ("api-add", "api-add-by-mdn-only", "import")
        for held in (True, False)
    ),
    ("api-add-by-external-id-only", False),
    ("api-update-by-external-id", True),
    ("api-update-external-url", True),
    *(
        (name, held)
        for name in ("api-update-gives-the-mdn", "api-update-gives-the-external-id")
        for held in (True, False)
    ),  # fmt: skip
    ("participant-add", False),
    ("inbound-stop", True),
    ("inbound-yes", True),
    ("inbound-no", True),
    ("inbound-keyword", False),
    ("subscription-delete", True),
    *((name, held) for name in OUTCOMES for held in (True, False)),  # the event row itself
}


def _person_ids_in(body) -> set[int]:
    found: set[int] = set()
    if isinstance(body, dict):
        for key, value in body.items():
            if key == "person_id" and value is not None:
                found.add(int(value))
            elif key == "person" and isinstance(value, dict) and value.get("id"):
                found.add(int(value["id"]))
            else:
                found |= _person_ids_in(value)
    elif isinstance(body, list):
        for item in body:
            found |= _person_ids_in(item)
    return found


@pytest.mark.parametrize("name", list(IDENTITY_PATHS))
def test_twin_identity_path_touches_only_its_own_company(sides, name, tmp_path):
    x, y, how = sides
    run, holding, new = IDENTITY_PATHS[name]
    x_before, y_before = tenant_rows(x.company), tenant_rows(y.company)
    y_held = y.twin()

    response = run(y, tmp_path)

    assert tenant_rows(x.company) == x_before, f"{name} in Y changed X's rows"
    assert not cross_company_references()
    twin = y.twin()
    if response is not None:
        expected = holding if y_held else new
        assert response.status_code in expected, response.content
        named = _person_ids_in(response.json())
        if named and response.status_code < 300:
            assert twin is not None and named == {twin.pk}, (named, twin)
        if name in OUTCOMES:
            assert response.json()["outcome"] == OUTCOMES[name][0 if y_held else 1]
    if y_held is not None:
        assert twin is not None and twin.pk == y_held.pk, "Y's twin was replaced"
    if name in ("api-add", "api-add-by-mdn-only", "api-add-by-external-id-only", "import",
                "participant-add", "inbound-keyword",
                "inbound-keyword-already-subscribed"):  # fmt: skip
        assert twin is not None, f"{name} made no person in Y"
    if (name, y_held is not None) in CHANGES_Y:
        assert tenant_rows(y.company) != y_before, f"{name} changed nothing in Y"


def test_twin_reads_answer_each_company_its_own_person(sides):
    x, y, how = sides
    for side in (x, y):
        twin = side.twin()
        base = f"/companies/{side.key}/mobiledb/persons"
        for path in (f"{base}?mdn={MDN}", f"{base}?external_person_id={EXT}"):
            listed = side.api.get(path).json()
            assert [p["person_id"] for p in listed] == ([twin.pk] if twin else []), path
        answer = side.api.get(f"{base}/external/{EXT}")
        if twin is None:
            assert answer.status_code == 404
        else:
            assert answer.json()["person_id"] == twin.pk


def test_admin_company_filter_shows_only_that_company_twin(sides):
    """A marketer of both companies filters the persons by one: only that one's twin,
    and the filter offers exactly its two companies."""
    x, y, how = sides
    CompanyFactory(key="ZZOTHER")
    call_command("create_api_user", x.key, "both-staff", "--password", "pw", "--staff")
    marketer = apps.get_model("auth", "User").objects.get(username="both-staff")
    MembershipFactory(company=y.company, user=marketer)
    client = Client()
    assert client.login(username="both-staff", password="pw")
    for side in (x, y):
        twin = side.twin()
        response = client.get(f"/admin/mobiledb/person/?company={side.company.pk}&q={MDN}")
        assert response.status_code == 200
        shown = [row.pk for row in response.context["cl"].result_list]
        assert shown == ([twin.pk] if twin else [])
        assert "ZZOTHER" not in response.content.decode()
