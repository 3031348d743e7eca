"""Apple's PassKit web service (served under each pass's webServiceURL, /passkit/) and
Google's save/delete callback endpoint.

Apple's protocol ("Wallet Passes Web Service Reference"):
- `POST /v1/devices/<device>/registrations/<passType>/<serial>` body `{"pushToken"}`,
  `Authorization: ApplePass <authenticationToken>`: 201 registered, 200 already, 401;
- `DELETE` the same path: 200, 401;
- `GET /v1/devices/<device>/registrations/<passType>?passesUpdatedSince=<tag>`:
  200 `{"serialNumbers": [...], "lastUpdated": "<tag>"}` or 204 when none;
- `GET /v1/passes/<passType>/<serial>` (ApplePass auth): the pass, 304 when not
  modified since `If-Modified-Since`;
- `POST /v1/log` `{"logs": [...]}`: 200.
"""

from __future__ import annotations

import hmac
import json
import logging

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.decorators import method_decorator
from django.utils.http import parse_http_date_safe
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from vibesweb.errors import ErrorCode
from vibesweb.inputs import parse_id

from ..google import CallbackRejected, callback_verify, class_id
from ..models import DeviceRegistration, WalletCampaign, WalletItem
from ..passkit.certificates import pass_credentials
from ..services.installs import device_register, device_unregister
from .smartlink import pass_modified_at, pkpass_response

logger = logging.getLogger("vibesweb.wallet.passkit")
MAX_ID = 255


def _error(status: int, message: str, code: ErrorCode) -> JsonResponse:
    return JsonResponse({"errors": [{"message": message, "code": int(code)}]}, status=status)


def _unauthorized() -> JsonResponse:
    return _error(
        401, "Authorization: ApplePass <token> does not match", ErrorCode.INVALID_CREDENTIALS
    )


def _not_found(what: str) -> JsonResponse:
    return _error(404, f"{what} not found", ErrorCode.NOT_FOUND)


def _authorized_item(request: HttpRequest, pass_type_id: str, serial: str):
    """(item, None), or (None, the 401/404 answer)."""
    if pass_type_id != pass_credentials().pass_type_id or len(serial) > 64:
        return None, _not_found("Pass")
    candidates = list(
        WalletItem.objects.select_related("campaign__company").filter(uuid=serial)[:50]
    )
    if not candidates:
        return None, _not_found("Pass")
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme != "ApplePass" or not token:
        return None, _unauthorized()
    for item in candidates:
        if hmac.compare_digest(item.authentication_token.encode(), token.strip().encode()):
            return item, None
    return None, _unauthorized()


@method_decorator(csrf_exempt, name="dispatch")
class RegistrationView(View):
    http_method_names = ["post", "delete"]

    def post(self, request, device_id: str, pass_type_id: str, serial: str):
        item, refusal = _authorized_item(request, pass_type_id, serial)
        if refusal:
            return refusal
        try:
            push_token = json.loads(request.body or b"{}").get("pushToken")
        except (ValueError, AttributeError):
            push_token = None
        if not isinstance(push_token, str) or not push_token or len(push_token) > MAX_ID:
            return _error(400, 'the body must be {"pushToken": "..."}', ErrorCode.INVALID_VALUE)
        if not device_id or len(device_id) > MAX_ID:
            return _error(400, "deviceLibraryIdentifier is too long", ErrorCode.INVALID_VALUE)
        created = device_register(
            item=item,
            device_library_identifier=device_id,
            push_token=push_token,
            provider=DeviceRegistration.Provider.APPLE,
        )
        return HttpResponse(status=201 if created else 200)

    def delete(self, request, device_id: str, pass_type_id: str, serial: str):
        item, refusal = _authorized_item(request, pass_type_id, serial)
        if refusal:
            return refusal
        device_unregister(item=item, device_library_identifier=device_id)
        return HttpResponse(status=200)


class SerialNumbersView(View):
    http_method_names = ["get"]

    def get(self, request, device_id: str, pass_type_id: str):
        if pass_type_id != pass_credentials().pass_type_id:
            return _not_found("Pass type")
        since = request.GET.get("passesUpdatedSince") or "0"
        if parse_id(since) is None:
            return _error(400, "passesUpdatedSince must be a tag we gave", ErrorCode.INVALID_VALUE)
        rows = list(
            WalletItem.objects.filter(
                registrations__device_library_identifier=device_id,
                registrations__provider=DeviceRegistration.Provider.APPLE,
                registrations__unregistered_at__isnull=True,
                update_tag__gt=int(since),
            )
            .values_list("uuid", "update_tag")
            .distinct()
        )
        if not rows:
            return HttpResponse(status=204)
        return JsonResponse(
            {
                "serialNumbers": sorted({uuid for uuid, _ in rows}),
                "lastUpdated": str(max(tag for _, tag in rows)),
            }
        )


class LatestPassView(View):
    http_method_names = ["get"]

    def get(self, request, pass_type_id: str, serial: str):
        item, refusal = _authorized_item(request, pass_type_id, serial)
        if refusal:
            return refusal
        since = parse_http_date_safe(request.headers.get("If-Modified-Since", ""))
        if since is not None and int(pass_modified_at(item).timestamp()) <= since:
            return HttpResponse(status=304)
        return pkpass_response(request, item)


@method_decorator(csrf_exempt, name="dispatch")
class LogView(View):
    http_method_names = ["post"]

    def post(self, request):
        try:
            logs = json.loads(request.body or b"{}").get("logs", [])
        except (ValueError, AttributeError):
            logs = None
        if not isinstance(logs, list):
            return _error(400, 'the body must be {"logs": [...]}', ErrorCode.INVALID_VALUE)
        for line in logs[:100]:
            logger.warning("PassKit device log: %s", str(line)[:1000])
        return HttpResponse(status=200)


@method_decorator(csrf_exempt, name="dispatch")
class GoogleCallbackView(View):
    """Google's save/delete callbacks: verified, then the same install/remove as Apple."""

    http_method_names = ["post"]

    def post(self, request):
        try:
            message = callback_verify(request.body)
        except CallbackRejected as error:
            logger.warning("Google Wallet callback rejected: %s", error)
            return _error(400, f"callback rejected: {error}", ErrorCode.INVALID_VALUE)
        item = _google_item(message.class_id, message.object_id)
        if item is None:
            logger.warning("Google Wallet callback for unknown object %s", message.object_id)
            return _not_found("Wallet object")
        device = f"google:{message.object_id}"
        if message.event_type == "save":
            device_register(
                item=item,
                device_library_identifier=device,
                push_token="",
                provider=DeviceRegistration.Provider.GOOGLE,
            )
        else:
            device_unregister(item=item, device_library_identifier=device)
        return HttpResponse(status=200)


def _google_item(google_class_id: str, google_object_id: str) -> WalletItem | None:
    issuer, _, wallet_id = google_class_id.partition(".")
    campaign = WalletCampaign.objects.select_related("company").filter(wallet_id=wallet_id).first()
    if campaign is None:
        return None
    probe = WalletItem(campaign=campaign)
    prefix = class_id(probe) + "-"
    if google_class_id != class_id(probe) or not google_object_id.startswith(prefix):
        return None
    item = WalletItem.objects.filter(
        campaign=campaign, uuid=google_object_id[len(prefix) :]
    ).first()
    if item is not None:
        item.campaign = campaign
    return item
