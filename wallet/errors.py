"""Wallet Manager refusals (SPEC section 10): each a 4XX errors body."""

from __future__ import annotations

from vibesweb.errors import Conflict, DomainError, ErrorCode, NotFound, Unprocessable


class WalletCampaignNotFound(NotFound):
    error_class = "WalletErrors::CampaignNotFound"
    default_message = "Wallet campaign not found"


class WalletItemNotFound(NotFound):
    error_class = "WalletErrors::ItemNotFound"
    default_message = "Wallet item not found"


class WalletMessageNotFound(NotFound):
    error_class = "WalletErrors::MessageNotFound"
    default_message = "Wallet message not found"


class WalletTypeImmutable(Unprocessable):
    error_class = "WalletErrors::TypeImmutable"
    default_message = "A wallet campaign's type cannot change"


class WalletInvalid(DomainError):
    code = ErrorCode.INVALID_VALUE
    error_class = "WalletErrors::Invalid"


class WalletRequired(DomainError):
    code = ErrorCode.FIELD_REQUIRED
    error_class = "WalletErrors::Required"


class WalletInvalidFilter(DomainError):
    code = ErrorCode.INVALID_QUERY_PARAMETER
    error_class = "WalletErrors::InvalidFilter"


class WalletTemplateNotFound(NotFound):
    error_class = "WalletErrors::TemplateNotFound"
    default_message = "Wallet template not found"


class WalletLocationNotFound(NotFound):
    error_class = "WalletErrors::LocationNotFound"
    default_message = "Store location not found"


class WalletLocationSelectorNotFound(NotFound):
    error_class = "WalletErrors::LocationSelectorNotFound"
    default_message = "Location selector not found"


class WalletAlreadyExists(Conflict):
    error_class = "WalletErrors::AlreadyExists"


class WalletIdempotencyKeyReused(Unprocessable):
    error_class = "WalletErrors::IdempotencyKeyReused"
    default_message = "This Idempotency-Key was used with another body"
