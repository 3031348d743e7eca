"""`.../mobiledb/broadcasts`: schedule, list, edit and cancel (SPEC section 3)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from mobiledb.models import Broadcast
from mobiledb.validation import format_platform_datetime
from tests.conftest import error_codes
from tests.factories import CompanyFactory, SubscriptionListFactory
from vibesweb.errors import ErrorCode

pytestmark = pytest.mark.django_db
BROADCASTS = "/companies/ACME/mobiledb/broadcasts"


def in_hours(hours: float) -> str:
    return format_platform_datetime(timezone.now() + timedelta(hours=hours))


@pytest.fixture
def main_list(company):
    return SubscriptionListFactory(company=company)


def body(main_list, **changes) -> dict:
    payload = {
        "name": "Spring sale",
        "send_scheduled_date": in_hours(2),
        "targeting": {
            "message_template": "Hi {{first_name}}, 20% off today",
            "source_lists": [main_list.pk],
            "filters": {"tier": "gold"},
        },
    }
    payload.update(changes)
    return payload


def test_post_schedules_a_broadcast(api, standard_fields, main_list):
    response = api.post(BROADCASTS, body(main_list))
    assert response.status_code == 201, response.json()
    created = response.json()
    assert created["status"] == "scheduled"
    assert created["targeting"]["filters"] == [{"name": "tier", "selector": "=", "value": ["gold"]}]
    assert created["targeting"]["source_lists"] == [str(main_list.pk)]
    assert created["broadcast_id"] == created["id"]
    assert api.get(created["url"]).json() == created


def test_broadcast_in_the_past_answers_400(api, standard_fields, main_list):
    response = api.post(BROADCASTS, body(main_list, send_scheduled_date=in_hours(-1)))
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.INVALID_VALUE]
    assert not Broadcast.objects.exists()


def test_broadcast_to_an_unknown_list_answers_404(api, standard_fields, main_list):
    payload = body(main_list)
    payload["targeting"]["source_lists"] = [999999]
    assert api.post(BROADCASTS, payload).status_code == 404


def test_broadcast_to_another_companys_list_answers_404(api, standard_fields, main_list):
    payload = body(main_list)
    payload["targeting"]["source_lists"] = [SubscriptionListFactory(company=CompanyFactory()).pk]
    assert api.post(BROADCASTS, payload).status_code == 404


def test_filter_on_an_unknown_custom_field_answers_400(api, standard_fields, main_list):
    payload = body(main_list)
    payload["targeting"]["filters"] = {"shoe_size": 9}
    response = api.post(BROADCASTS, payload)
    assert response.status_code == 400
    assert error_codes(response) == [ErrorCode.CUSTOM_FIELD_NOT_FOUND]


def test_filter_with_a_wrong_option_answers_400(api, standard_fields, main_list):
    payload = body(main_list)
    payload["targeting"]["filters"] = {"tier": "platinum"}
    assert error_codes(api.post(BROADCASTS, payload)) == [ErrorCode.INVALID_SELECT_OPTION]


def test_template_naming_an_unknown_field_answers_400(api, standard_fields, main_list):
    payload = body(main_list)
    payload["targeting"]["message_template"] = "Hi {{nickname}}"
    assert api.post(BROADCASTS, payload).status_code == 400


def test_missing_targeting_answers_400(api, main_list):
    payload = body(main_list)
    del payload["targeting"]["message_template"]
    response = api.post(BROADCASTS, payload)
    assert response.status_code == 400


def test_bad_date_answers_400(api, main_list):
    response = api.post(BROADCASTS, body(main_list, send_scheduled_date="tomorrow"))
    assert response.status_code == 400


def test_get_filters_by_status(api, standard_fields, main_list):
    first = api.post(BROADCASTS, body(main_list)).json()
    api.post(BROADCASTS, body(main_list, name="Second"))
    api.delete(first["url"])
    assert [b["name"] for b in api.get(BROADCASTS + "?status=scheduled").json()] == ["Second"]
    assert [b["id"] for b in api.get(BROADCASTS + "?status=canceled").json()] == [first["id"]]
    assert len(api.get(BROADCASTS).json()) == 2


def test_unknown_status_filter_answers_400(api):
    assert api.get(BROADCASTS + "?status=done").status_code == 400


def test_put_changes_a_scheduled_broadcast(api, standard_fields, main_list):
    created = api.post(BROADCASTS, body(main_list)).json()
    response = api.put(created["url"], {"name": "Renamed"})
    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response.json()["targeting"]["filters"] == [  # omitted fields stay
        {"name": "tier", "selector": "=", "value": ["gold"]}
    ]


def test_put_into_the_past_answers_400(api, standard_fields, main_list):
    created = api.post(BROADCASTS, body(main_list)).json()
    assert api.put(created["url"], {"send_scheduled_date": in_hours(-3)}).status_code == 400


@pytest.mark.parametrize("state", ["sent", "in_progress", "canceled", "failed"])
def test_editing_or_deleting_a_broadcast_that_is_not_scheduled_answers_403(
    api, standard_fields, main_list, state
):
    created = api.post(BROADCASTS, body(main_list)).json()
    Broadcast.objects.filter(pk=created["id"]).update(status=state)
    response = api.put(created["url"], {"name": "Too late"})
    assert response.status_code == 403
    assert error_codes(response) == [ErrorCode.NOT_ALLOWED_IN_STATE]
    assert api.delete(created["url"]).status_code == 403
    assert Broadcast.objects.get(pk=created["id"]).name == "Spring sale"


def test_delete_cancels_a_scheduled_broadcast(api, standard_fields, main_list):
    created = api.post(BROADCASTS, body(main_list)).json()
    response = api.delete(created["url"])
    assert response.status_code == 200
    assert response.json()["status"] == "canceled"


def test_unknown_broadcast_answers_404(api):
    assert api.get(BROADCASTS + "/999999").status_code == 404
    assert api.get(BROADCASTS + "/abc").status_code == 404


def test_another_companys_broadcast_answers_404(api, main_list):
    other = CompanyFactory(key="OTHER")
    foreign = Broadcast.objects.create(
        company=other, name="x", send_scheduled_date=timezone.now(), message_template="x"
    )
    assert api.get(f"{BROADCASTS}/{foreign.pk}").status_code == 404
    assert api.delete(f"{BROADCASTS}/{foreign.pk}").status_code == 404
