"""Campaign Manager refusals (SPEC section 3: 404, 409, 422, 400)."""

from __future__ import annotations

from vibesweb.errors import Conflict, DomainError, ErrorCode, NotFound, Unprocessable


class AcquisitionCampaignNotFound(NotFound):
    error_class = "AcquisitionErrors::CampaignNotFound"
    default_message = "Acquisition campaign not found"


class CampaignNotActive(Unprocessable):
    error_class = "AcquisitionErrors::CampaignNotActive"
    default_message = "The acquisition campaign is not active"


class ParticipantExternalIdMismatch(Unprocessable):
    error_class = "EXTERNALPERSONIDMISMATCH"
    default_message = "EXTERNALPERSONIDMISMATCH: the external_person_id is in use by another person"


class AlreadySubscribed(Conflict):
    error_class = "AcquisitionErrors::AlreadySubscribed"
    default_message = "Already subscribed: the person is subscribed to the campaign's lists"


class ParticipantMdnRequired(DomainError):
    code = ErrorCode.FIELD_REQUIRED
    error_class = "AcquisitionErrors::MdnRequired"
    default_message = "mobile_phone.mdn is required to join an acquisition campaign"


class CampaignHasNoLists(Unprocessable):
    error_class = "AcquisitionErrors::NoSubscriptionLists"
    default_message = "The acquisition campaign has no subscription list"
