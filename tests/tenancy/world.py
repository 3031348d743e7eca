"""Two companies, each holding one object of every kind, for the tenant matrices.

Company A's identifiers all carry the marker "zqa" (B's "zqb"), and A's MDNs are listed,
so a test can tell whether anything of A leaked into B's answer by searching the text.
Objects are made through the public API where it can make them (so the matrix does not
depend on where services live) and by model label (`apps.get_model`) otherwise.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from django.apps import apps
from django.core.management import call_command
from django.db.models import F, Model
from django.utils import timezone

from tests.conftest import APIClient
from tests.factories import (
    CallbackRegistrationFactory,
    CompanyFactory,
    CustomFieldFactory,
    MembershipFactory,
    SubscriptionListFactory,
    UserFactory,
)
from vibesweb.tenancy.scoping import _company_path_of

FUTURE = "2099-01-15T15:34:52Z"
_TOKENS = re.compile(r"[A-Za-z0-9]{24,}")


@dataclass
class Tenant:
    """One company's objects; `marker` is in every name and id of it."""

    marker: str
    company: Model
    api: APIClient
    staff_username: str
    mdns: list[str]
    person: dict = field(default_factory=dict)
    participant: dict = field(default_factory=dict)
    ids: dict = field(default_factory=dict)
    only_values: set[str] = field(default_factory=set)  # values no other company holds

    @property
    def key(self) -> str:
        return self.company.key

    def leaked_into(self, text: str) -> list[str]:
        """Which of this tenant's markers appear in `text` (long random tokens, such as
        CSRF tokens, are left out: "zqa" turns up in one of a few hundred)."""
        text = _TOKENS.sub("", text)
        low = text.lower()
        found = [self.marker] if self.marker in low else []
        return found + [m for m in self.mdns if m[-10:] in text]


def _ok(response, *codes: int) -> dict | list | None:
    assert response.status_code in codes, (response.status_code, response.content[:500])
    return response.json() if response.content else None


def build_tenant(marker: str, digit: str, extra_callback_types: tuple[str, ...] = ()) -> Tenant:
    """A company `marker.upper()` with an API user, a staff user (create_api_user --staff)
    and one object of every kind; `extra_callback_types` are registered too (so one
    company holds values the other does not, for filter choices)."""
    upper = marker.upper()
    company = CompanyFactory(key=upper, name=f"{marker} corp")
    user = MembershipFactory(company=company, user=UserFactory(username=f"{marker}-api")).user
    staff_username = f"{marker}-staff"
    call_command("create_api_user", upper, staff_username, "--password", "pw", "--staff")
    api = APIClient(user.username)
    mdn, participant_mdn = f"29955501{digit}1", f"29955501{digit}2"
    tenant = Tenant(marker, company, api, staff_username, [mdn, participant_mdn])
    base = f"/companies/{upper}"

    # Kinds without a create endpoint: made by model.
    field_row = CustomFieldFactory(company=company, name="nickname")
    tenant.ids["field_id"] = field_row.pk
    CustomFieldFactory(company=company, name=f"{marker}_only")  # so a leaked list shows
    subscription_list = SubscriptionListFactory(company=company, name=f"{marker} list")
    tenant.ids["list_id"] = subscription_list.pk
    campaign_model = apps.get_model("campaigns", "AcquisitionCampaign")
    campaign = campaign_model.objects.create(
        company=company,
        name=f"{marker} campaign",
        keyword=f"{upper}JOIN",
        opt_in="double",
        status="active",
    )
    campaign.subscription_lists.add(subscription_list)
    tenant.ids["campaign_id"] = campaign.pk
    apps.get_model("campaigns", "MessagingProgram").objects.create(
        company=company, program_name=f"{marker} program", contact=f"help@{marker}.example"
    )

    # A registration made by model (a person_added one, with deliveries to come) and one
    # through the API (subscription_added, scoped to the list).
    CallbackRegistrationFactory(company=company, url=f"http://127.0.0.1:9/{marker}-persons")
    for callback_type in extra_callback_types:
        tenant.only_values.add(callback_type)
        CallbackRegistrationFactory(
            company=company,
            callback_type=callback_type,
            url=f"http://127.0.0.1:9/{marker}-{callback_type}",
        )
    registration = _ok(
        api.post(
            f"{base}/config/callbacks",
            {
                "callback_type": "subscription_added",
                "destination": {"url": f"http://127.0.0.1:9/{marker}-subs"},
                "subscription_added": {"list_id": str(subscription_list.pk)},
            },
        ),
        201,
    )
    tenant.ids["callback_id"] = registration["callback_id"]

    # The person, with a tag, a subscription and a custom field value.
    tenant.person = _ok(
        api.post(
            f"{base}/mobiledb/persons",
            {
                "external_person_id": f"{marker}-ext",
                "mobile_phone": {"mdn": mdn},
                "custom_fields": {"nickname": f"{marker} nick"},
            },
        ),
        201,
    )
    person_id = tenant.person["person_id"]
    tenant.ids["person_id"] = person_id
    tenant.ids["person_key"] = tenant.person["person_key"]
    tenant.ids["external_person_id"] = f"{marker}-ext"
    tenant.ids["tag"] = f"{marker}-vip"
    _ok(api.put(f"{base}/mobiledb/persons/{person_id}/tags/{marker}-vip"), 201)
    _ok(api.put(f"{base}/mobiledb/persons/{person_id}/subscriptions/{subscription_list.pk}"), 201)

    # A pending participant (double opt-in: a confirmation text, an outbound message).
    tenant.participant = _ok(
        api.post(
            f"{base}/campaigns/acquisition/{campaign.pk}/participants",
            {"external_person_id": f"{marker}-part", "mobile_phone": {"mdn": participant_mdn}},
        ),
        201,
    )

    broadcast = _ok(
        api.post(
            f"{base}/mobiledb/broadcasts",
            {
                "name": f"{marker} broadcast",
                "send_scheduled_date": FUTURE,
                "targeting": {
                    "message_template": f"{marker} hello",
                    "source_lists": [subscription_list.pk],
                },
            },
        ),
        201,
    )
    tenant.ids["broadcast_id"] = broadcast["id"]

    _ok(
        api.post(
            f"{base}/events",
            {
                "event_id": f"{marker}-event-1",
                "event_type": "inbound_message",
                "mdn": mdn,
                "message": f"{marker} hello",
            },
        ),
        201,
    )

    # An incentive pool with codes, one issued to the person and redeemed.
    pool = _ok(api.post(f"{base}/incentives/pools", {"name": f"{marker} coupons"}), 200)
    tenant.ids["pool_id"] = pool["id"]
    codes = [f"{upper}-CODE-1", f"{upper}-CODE-2"]
    _ok(api.post(f"{base}/incentives/pools/{pool['id']}/codes", {"codes": codes}), 200)
    issuance = _ok(
        api.post(
            f"{base}/incentives/pools/{pool['id']}/issuances",
            {"issuee_id": person_id, "referring_application": f"{marker}-crm"},
        ),
        200,
    )
    tenant.ids["code"] = issuance["incentive_code"]["code"]
    _ok(
        api.post(
            f"{base}/incentives/codes/{tenant.ids['code']}/redemptions", {"issuee_id": person_id}
        ),
        200,
    )
    apps.get_model("campaigns", "IncentiveCodeUpload").objects.create(
        company=company,
        pool_id=pool["id"],
        file_name=f"{marker}-codes.txt",
        file_path=f"/nonexistent/{marker}-codes.txt",
        status="finished",
        lines=2,
        added=2,
    )

    # An import with an error row, made by model (the engine is proven elsewhere).
    import_model = apps.get_model("mobiledb", "PersonImport")
    person_import = import_model.objects.create(
        company=company,
        company_key=upper,
        file_path=f"/nonexistent/{marker}.persons",
        file_name=f"{marker}.persons",
        status="failed",
        finished_at=timezone.now() - timedelta(minutes=1),
    )
    apps.get_model("mobiledb", "PersonImportError").objects.create(
        person_import=person_import, row=2, error_class="InvalidMDN", message=f"{marker} bad"
    )
    tenant.ids["import_id"] = person_import.pk

    # Wallet: a campaign and a message through the API; an item (as its SmartLink makes
    # it), its install on a device and a push by model (no signing keys needed).
    wallet = _ok(
        api.post(
            f"{base}/campaigns/wallet",
            {"campaign": {"name": f"{marker} pass", "type": "loyalty"}},
        ),
        201,
    )["campaign"]
    wallet_campaign = apps.get_model("wallet", "WalletCampaign").objects.get(
        wallet_id=wallet["wallet_id"]
    )
    item = apps.get_model("wallet", "WalletItem").objects.create(
        company=company,
        campaign=wallet_campaign,
        uuid=f"{marker}-item",
        group_code=f"{marker}-group",
        tokens={"first_name": f"{marker} first"},
    )
    installed = apps.get_model("wallet", "DeviceRegistration").objects.create(
        item=item,
        provider="apple",
        device_library_identifier=f"{marker}-device",
        push_token=f"{marker}-push",
        registered_at=timezone.now(),
    )
    apps.get_model("wallet", "WalletPush").objects.create(
        company=company,
        item=item,
        registration=installed,
        push_token=f"{marker}-push",
        backend="database",
        created_at=timezone.now(),
    )
    message = _ok(
        api.post(
            f"{base}/campaigns/wallet/{wallet_campaign.wallet_id}/messages",
            {"message": {"header": f"{marker} header", "template": f"{marker} text"}},
        ),
        200,
    )
    tenant.ids["wallet_id"] = wallet_campaign.wallet_id
    tenant.ids["wallet_item_id"] = item.uuid
    tenant.ids["wallet_message_id"] = message["wallet_message_id"]

    # The campaign's templates, location selector and a store, through the API.
    wallet_base = f"{base}/campaigns/wallet/{wallet_campaign.wallet_id}"
    _ok(
        api.post(
            f"{wallet_base}/passbook_template",
            {
                "passbook_template": {
                    "pass_description": f"{marker} pass",
                    "colors": {
                        "background": "#112233",
                        "foreground": "#ffffff",
                        "label": "#cccccc",
                    },
                    "images": {
                        "logo": {"url": f"https://{marker}.example.com/logo.png"},
                        "icon": {"url": f"https://{marker}.example.com/icon.png"},
                    },
                }
            },
        ),
        201,
    )
    _ok(
        api.post(
            f"{wallet_base}/wallet_template",
            {
                "wallet_template": {
                    "title": f"{marker} title",
                    "issuer": f"{marker} issuer",
                    "logo": {"url": f"https://{marker}.example.com/logo.png"},
                    "barcode": {"type": "QR_CODE", "value": f"{marker}-code"},
                }
            },
        ),
        201,
    )
    _ok(
        api.post(
            f"{wallet_base}/location_selector",
            {"location_selector": {"header": {"title": f"{marker} stores"}}},
        ),
        201,
    )
    store = _ok(
        api.post(
            f"{wallet_base}/locations/bulk",
            {"locations": [{"name": f"{marker} store", "zip": f"{marker}-zip",
                            "latitude": "41.8781", "longitude": "-87.6298"}]},
            HTTP_IDEMPOTENCY_KEY=f"{marker}-stores",
        ),
        201,
    )[0]  # fmt: skip
    tenant.ids["wallet_location_id"] = store["id"]

    # A saved segment and a finished bulk action (the persons list's), made by model.
    segment = apps.get_model("mobiledb", "Segment").objects.create(
        company=company, name=f"{marker} segment", filters={"tag": f"{marker}-vip"}
    )
    tenant.ids["segment_id"] = segment.pk
    bulk_action = apps.get_model("mobiledb", "PersonBulkAction").objects.create(
        company=company, kind="tag", tag=f"{marker}-bulk", person_ids=[person_id],
        status="done", total=1, processed=1, changed=1,
    )  # fmt: skip
    tenant.ids["bulk_action_id"] = bulk_action.pk
    return tenant


def tenant_rows(company) -> dict[str, list[tuple]]:
    """Every row that belongs to `company` in every project model, as value tuples: a
    snapshot to compare before and after another company's requests."""
    snapshot: dict[str, list[tuple]] = {}
    for model in apps.get_models():
        if model._meta.app_label in ("auth", "admin", "contenttypes", "sessions"):
            continue
        path = _company_path_of(model)
        if path is None:
            continue
        lookup = {"pk": company.pk} if path == "" else {f"{path}__pk": company.pk}
        rows = model._default_manager.filter(**lookup).order_by("pk").values_list()
        snapshot[model._meta.label] = [tuple(map(str, row)) for row in rows]
    return snapshot


def cross_company_references() -> list[str]:
    """Rows whose company differs from the company of a row they point to (an inbound
    event of B naming A's person, say), in every model with a company of its own."""
    found = []
    for model in apps.get_models():
        if _company_path_of(model) != "company":
            continue
        for relation in model._meta.get_fields():
            if not (relation.many_to_one and relation.concrete and relation.name != "company"):
                continue
            inner = _company_path_of(relation.related_model)
            if not inner:
                continue
            rows = model._default_manager.filter(**{f"{relation.name}__isnull": False}).exclude(
                **{f"{relation.name}__{inner}": F("company")}
            )
            found += [
                f"{model._meta.label} {pk} -> {relation.name}"
                for pk in rows.values_list("pk", flat=True)
            ]
    return found


def kinds_in(snapshot: dict[str, list[tuple]]) -> set[str]:
    return {label for label, rows in snapshot.items() if rows}
