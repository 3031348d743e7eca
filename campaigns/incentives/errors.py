"""Incentive refusals: 404 for an unknown pool or code, 422 for a rule, 400 for a shape."""

from __future__ import annotations

from vibesweb.errors import DomainError, ErrorCode, Forbidden, NotFound, Unprocessable


class IncentivePoolNotFound(NotFound):
    error_class = "IncentiveErrors::PoolNotFound"
    default_message = "Incentive pool not found"


class IncentiveCodeNotFound(NotFound):
    error_class = "IncentiveErrors::CodeNotFound"
    default_message = "Incentive code not found"


class IncentivePoolInvalid(DomainError):
    code = ErrorCode.INVALID_VALUE
    error_class = "IncentiveErrors::InvalidPool"


class IssueeRequired(DomainError):
    code = ErrorCode.FIELD_REQUIRED
    error_class = "IncentiveErrors::IssueeRequired"
    default_message = "issuee_id or external_issuee_id is required"


class IssuanceNotAllowed(Unprocessable):
    error_class = "IncentiveErrors::IssuanceNotAllowed"
    default_message = "Issuance is not allowed for this incentive pool"


class PoolExhausted(Unprocessable):
    error_class = "IncentiveErrors::NoCodesAvailable"
    default_message = "No codes are available from this incentive pool"


class CodeNotInPool(Unprocessable):
    error_class = "IncentiveErrors::CodeNotInPool"
    default_message = "The code is not in this incentive pool"


class CodeIssuedToAnother(Unprocessable):
    error_class = "IncentiveErrors::CodeAlreadyIssued"
    default_message = "The code was already issued to another issuee"


class RedemptionNotAllowed(Unprocessable):
    error_class = "IncentiveErrors::RedemptionNotAllowed"
    default_message = "Redemption is not allowed for this incentive pool"


class CodeNotIssuedToIssuee(Unprocessable):
    error_class = "IncentiveErrors::NotIssuedToIssuee"
    default_message = "The code was not issued to this issuee"


class CodeAlreadyRedeemed(Unprocessable):
    error_class = "IncentiveErrors::AlreadyRedeemed"
    default_message = "The code was already redeemed"


class DistributionLocked(Forbidden):
    error_class = "IncentiveErrors::DistributionLocked"
    default_message = "distribution.method cannot change once codes were issued from the pool"


class CodeFileUnreadable(DomainError):
    code = ErrorCode.INVALID_VALUE
    error_class = "IncentiveErrors::FileNotUTF8"
