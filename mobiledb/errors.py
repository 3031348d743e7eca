"""The mobile database's refusals, named by the platform's error classes (seeds/004)."""

from __future__ import annotations

from vibesweb.errors import Conflict, DomainError, ErrorCode, NotFound


class InvalidMDN(DomainError):
    code = ErrorCode.INVALID_MDN
    error_class = "MobilePhoneErrors::InvalidMDNFormat"
    default_message = "The mdn is incorrectly formatted. It should be an E.164 mdn."


class E164NotAllowedInV1(InvalidMDN):
    code = ErrorCode.E164_NOT_ALLOWED_IN_V1
    default_message = "X-API-Version 1 takes 10-digit US MDNs; send X-API-Version: 2 to use E.164"


class CustomFieldNotFound(DomainError):
    code = ErrorCode.CUSTOM_FIELD_NOT_FOUND
    error_class = "PersonErrors::CustomFieldNotFound"
    default_message = "Custom field not found"


class InvalidCustomFieldValue(DomainError):
    code = ErrorCode.INVALID_CUSTOM_FIELD_VALUE
    error_class = "PersonErrors::InvalidSelectCustomFieldValue"
    default_message = "Invalid custom field value"


class InvalidSelectOption(InvalidCustomFieldValue):
    code = ErrorCode.INVALID_SELECT_OPTION


class CharacterSetViolation(InvalidCustomFieldValue):
    code = ErrorCode.CHARACTER_SET_VIOLATION
    default_message = "Custom field value is incompatible with the field's character set"


class CustomFieldTooLong(InvalidCustomFieldValue):
    code = ErrorCode.CUSTOM_FIELD_TOO_LONG


class InvalidPersonID(DomainError):
    code = ErrorCode.INVALID_PERSON_ID
    error_class = "PersonErrors::InvalidPersonID"
    default_message = "Invalid person_id"


class PersonNotFound(NotFound):
    error_class = "PersonErrors::PersonNotFound"
    default_message = "Person not found"


class MobilePhoneAlreadyAssigned(Conflict):
    code = ErrorCode.MDN_ALREADY_ASSIGNED
    error_class = "PersonErrors::MobilePhoneAlreadyAssigned"
    default_message = "Mobile Phone Already Assigned"


class MdnChangeNotAllowed(Conflict):
    code = ErrorCode.MDN_CHANGE_NOT_ALLOWED
    error_class = "PersonErrors::MdnChangeNotAllowed"
    default_message = "mdn change not allowed"


class ExternalIdAlreadyAssigned(Conflict):
    code = ErrorCode.EXTERNAL_ID_ALREADY_ASSIGNED
    error_class = "PG::UniqueViolation"
    default_message = "duplicate key value violates unique constraint"


class ExternalIdMismatch(Conflict):
    code = ErrorCode.EXTERNAL_ID_MISMATCH
    error_class = "PersonErrors::ExternalPersonIdMismatch"
    default_message = "The mdn belongs to a person with a different external_person_id"


class PersonCreateRequiresIdentifier(DomainError):
    code = ErrorCode.PERSON_CREATE_REQUIRES_IDENTIFIER
    error_class = "PersonErrors::PersonCreateRequiresDeviceOrExternalPersonId"
    default_message = "Creating a Person requires a device or an external person id"


# --- `.persons` import (seeds/004): carrier lookup and file-level errors -----------------


class CarrierLookupTransientFailure(DomainError):
    error_class = "CarrierLookupService::TransientLookupFailureError"
    default_message = (
        "A temporary issue with the carrier lookup service prevented the row from being "
        "processed. Please try again later."
    )


class CarrierLookupPermanentFailure(DomainError):
    error_class = "CarrierLookupService::PermanentLookupFailureError"
    default_message = "The mdn supplied is not a valid mobile phone active on a valid carrier."


class InvalidImportFileFormat(DomainError):
    error_class = "PersonErrors::InvalidImportFileFormat"
    default_message = "Couldn't find a person_id, external_person_id, mdn, or vives_device_id field"


class InvalidSchemaName(DomainError):
    error_class = "TenantEngine::SchemaErrors::InvalidSchemaNameError"
    default_message = "Schema name for company (is null was not found)"


class Unknown8BitEncodingDetected(DomainError):
    error_class = "FileEngine::EncodingDetection::Unknown8BitEncodingDetected"
    default_message = "The file is not UTF-8 or ASCII encoded"


class InvalidExternalPersonId(DomainError):
    error_class = "PersonErrors::InvalidExternalPersonId"
    default_message = "Invalid external_person_id"


class UnbalancedQuote(DomainError):
    error_class = "PersonErrors::UnbalancedQuote"
    default_message = "A quoted value is not closed where it should be"


class ImportInterrupted(DomainError):
    error_class = "FileEngine::ImportInterrupted"
    default_message = "The import stopped on an unexpected error"


class ImportRowRefused(DomainError):
    error_class = "PersonErrors::RowRefused"
    default_message = "The database refused this row"


class InvalidTimezone(DomainError):
    error_class = "PersonErrors::InvalidTimezone"
    default_message = "timezone must be an IANA time zone name"
