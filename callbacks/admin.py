"""The callback configuration screen: registrations with their health and recent attempts,
the failure queue with redeliver, and "send test event" (SPEC section 6).

Scoped (vibesweb.tenancy.scoping): a staff user who is not a superuser sees only its
member companies' rows and choices.
"""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from vibesweb.errors import DomainError
from vibesweb.tenancy.scoping import CompanyListFilter, CompanyScopedAdminMixin, scope_queryset

from .admin_forms import RegistrationForm
from .models import CallbackDelivery, CallbackEvent, CallbackRegistration, DeliveryAttempt
from .payloads import callback_payload
from .selectors import registration_health
from .services.operations import callback_event_test_send, deliveries_redeliver
from .services.registrations import registration_end

_ATTEMPTS_HEAD = "<tr><th>when</th><th>#</th><th>status</th><th>duration</th><th>response</th></tr>"


# Failure rate (last 24 h) from which a registration that is not down is shown as
# "failing" rather than "up" (issue 14: "up" at a 100% failure rate).
FAILING_RATE = 0.5


def health_label(registration: CallbackRegistration, stats: dict) -> str:
    """ended / DOWN / failing (N% of attempts) / degraded (N%) / up, from the last 24 h."""
    if registration.is_ended():
        return "ended"
    if registration.is_down():
        return "DOWN"
    rate = stats["failure_rate"]
    if stats["attempts"] and rate >= FAILING_RATE:
        return f"failing ({rate:.0%} of attempts)"
    if stats["attempts"] and rate > 0:
        return f"degraded ({rate:.0%} of attempts failed)"
    return "up"


def error_summary(error: str, *, limit: int = 80) -> str:
    """A failure in a marketer's words, one line: the HTTP answer, a timeout, or the kind
    of connection problem without the Python exception's repr."""
    if not error:
        return ""
    if error.startswith("connection error:"):
        detail = error.lower()
        for needle, words in (
            ("refused", "connection refused"),
            ("name or service not known", "host name not found"),
            ("nodename nor servname", "host name not found"),
            ("temporary failure in name resolution", "host name not found"),
            ("certificate", "TLS certificate problem"),
            ("ssl", "TLS problem"),
            ("reset", "connection reset"),
            ("remotedisconnected", "connection closed without an answer"),
        ):
            if needle in detail:
                return words
        return "could not connect"
    return error if len(error) <= limit else error[: limit - 1] + "…"


def _failure_queue_url(registration_id: int | None = None) -> str:
    url = reverse("admin:callbacks_callbackdelivery_changelist") + "?state__exact=failed"
    return url + (f"&registration__id__exact={registration_id}" if registration_id else "")


@admin.register(CallbackRegistration)
class CallbackRegistrationAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    form = RegistrationForm
    list_display = ["callback_type", "company", "url", "health", "last_success_at", "end_date"]
    list_filter = ["callback_type", CompanyListFilter]
    search_fields = ["url", "callback_id", "company__key"]
    readonly_fields = ["callback_id", "health_summary", "recent_attempts"]
    actions = ["end_registrations", "send_test_events"]
    change_form_template = "admin/callbacks/callbackregistration/change_form.html"

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (None, {"fields": ["company", "callback_type", "api_version", "scope"]}),
            ("Destination", {"fields": ["url", "method", "content_type"]}),
            ("When", {"fields": ["start_date", "end_date"]}),
            ("Delivery", {"fields": ["retry_intervals_text", "notification_emails_text"]}),
            (
                "Credentials (stored encrypted, never shown)",
                {
                    "fields": [
                        "basic_auth_username",
                        "basic_auth_password",
                        "clear_basic_auth",
                        "headers_text",
                    ]
                },
            ),
        ]
        if obj is not None:
            fieldsets.insert(
                0,
                (
                    "Health",
                    {
                        "fields": [
                            "callback_id",
                            "health_summary",
                            "recent_attempts",
                        ]
                    },
                ),
            )
        return fieldsets

    @admin.display(description="health")
    def health(self, registration: CallbackRegistration) -> str:
        return health_label(registration, registration_health(registration))

    @admin.display(description="health (last 24 h)")
    def health_summary(self, registration: CallbackRegistration) -> str:
        stats = registration_health(registration)
        return format_html(
            "<b>{}</b>{} &middot; last success: {} &middot; {} attempts, failure rate {}% "
            "&middot; {} pending &middot; <a href='{}'>{} in the failure queue</a>",
            health_label(registration, stats),
            f" until {registration.down_until:%Y-%m-%d %H:%M:%S}" if registration.is_down() else "",
            f"{registration.last_success_at:%Y-%m-%d %H:%M:%S}"
            if registration.last_success_at
            else "never",
            stats["attempts"],
            round(stats["failure_rate"] * 100, 1),
            stats["pending"],
            _failure_queue_url(registration.pk),
            stats["failed"],
        )

    @admin.display(description="recent attempts")
    def recent_attempts(self, registration: CallbackRegistration) -> str:
        rows = DeliveryAttempt.objects.filter(registration=registration)[:20]
        if not rows:
            return "none yet"
        lines = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{} ms</td><td><code>{}</code></td></tr>",
            (
                (
                    a.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    a.number,
                    a.status_code or a.error,
                    a.duration_ms,
                    a.response_excerpt[:200],
                )
                for a in rows
            ),
        )
        return format_html("<table>{}{}</table>", mark_safe(_ATTEMPTS_HEAD), lines)

    def save_model(self, request, obj, form, change):
        # The form already saved through the services; show the secret exactly once.
        if form.signing_secret:
            messages.warning(
                request,
                f"Signing secret (shown only now, store it): {form.signing_secret}",
            )

    @admin.action(description="End selected registrations")
    def end_registrations(self, request, queryset):
        for registration in queryset:
            registration_end(registration=registration)
        messages.success(request, f"Ended {queryset.count()} registration(s).")

    @admin.action(description="Send a test event")
    def send_test_events(self, request, queryset):
        for registration in queryset:
            self._send_test(request, registration)

    def _send_test(self, request, registration: CallbackRegistration) -> None:
        try:
            delivery = callback_event_test_send(registration=registration)
        except DomainError as exc:
            messages.error(request, f"{registration}: {exc.message}")
            return
        messages.success(request, f"Test event {delivery.event_id} queued for {registration}.")

    def get_urls(self):
        view = self.admin_site.admin_view(self.send_test_view)
        return [
            path("<int:pk>/send-test/", view, name="callbacks_registration_send_test"),
            *super().get_urls(),
        ]

    def send_test_view(self, request, pk: int):
        registration = get_object_or_404(self.get_queryset(request), pk=pk)
        if request.method == "POST" and self.has_change_permission(request, registration):
            self._send_test(request, registration)
        return HttpResponseRedirect(
            reverse("admin:callbacks_callbackregistration_change", args=[pk])
        )


class DeliveryAttemptInline(CompanyScopedAdminMixin, admin.TabularInline):
    model = DeliveryAttempt
    fields = ["created_at", "number", "status_code", "duration_ms", "failure", "response_excerpt"]
    readonly_fields = fields

    @admin.display(description="error")
    def failure(self, attempt: DeliveryAttempt) -> str:
        if not attempt.error:
            return ""
        summary = error_summary(attempt.error)
        return format_html('<span title="{}">{}</span>', attempt.error, summary)

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class RegistrationTypeFilter(admin.SimpleListFilter):
    """The deliveries' callback type, offering only the types of the user's companies'
    registrations. (Django's filter on `registration__callback_type` lists the values of
    every registration: another company's types showed in the choices.)"""

    title = "callback type"
    parameter_name = "registration__callback_type"

    def lookups(self, request, model_admin):
        registrations = scope_queryset(CallbackRegistration.objects.all(), request.user, "company")
        types = registrations.values_list("callback_type", flat=True).distinct()
        return [(value, value) for value in sorted(types)]

    def queryset(self, request, queryset):
        if not self.value():
            return queryset
        return queryset.filter(registration__callback_type=self.value())


@admin.register(CallbackDelivery)
class CallbackDeliveryAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    """Every delivery; filter state = failed for the failure queue."""

    list_display = [
        "event_id",
        "callback_type",
        "registration",
        "state",
        "attempts",
        "next_attempt_at",
        "last_status",
        "error",
    ]
    list_filter = [
        "state",
        RegistrationTypeFilter,
        ("registration", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["event__id"]
    list_select_related = ["event", "registration"]
    readonly_fields = [
        "event",
        "registration",
        "state",
        "attempts",
        "next_attempt_at",
        "claimed_at",
        "last_status",
        "last_error",
        "delivered_at",
        "last_failed_at",
        "created_at",
        "payload",
    ]
    exclude = ["claim_token"]
    inlines = [DeliveryAttemptInline]
    actions = ["redeliver"]

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description="type")
    def callback_type(self, delivery: CallbackDelivery) -> str:
        return delivery.event.callback_type

    @admin.display(description="last failed at")
    def last_failed_at(self, delivery: CallbackDelivery):
        # Kept after a redelivery: it marks where the fresh round of retries began.
        return delivery.failed_at

    @admin.display(description="last error")
    def error(self, delivery: CallbackDelivery) -> str:
        # One short line in the queue; the whole text on hover and on the delivery's page.
        if not delivery.last_error:
            return ""
        return format_html(
            '<span title="{}">{}</span>', delivery.last_error, error_summary(delivery.last_error)
        )

    @admin.display(description="payload")
    def payload(self, delivery: CallbackDelivery) -> str:
        # What the receiver got or will get: a pending delivery's next attempt is numbered
        # after the last one sent; otherwise it is the attempt last sent.
        pending = delivery.state == CallbackDelivery.State.PENDING
        number = delivery.attempts + 1 if pending else max(delivery.attempts, 1)
        body = callback_payload(
            event=delivery.event, registration=delivery.registration, attempt=number
        )
        heading = (
            f"Next attempt (attempt {number}) will send:" if pending else f"Attempt {number} sent:"
        )
        return format_html("<p>{}</p><pre>{}</pre>", heading, json.dumps(body, indent=2))

    @admin.action(description="Redeliver selected failed deliveries")
    def redeliver(self, request, queryset):
        count = deliveries_redeliver(deliveries=queryset)
        messages.success(request, f"{count} delivery(ies) queued again (failed ones only).")


class PersonCallbackEventInline(admin.TabularInline):
    """A person's callback events, for the persons admin (`inlines = [...]`)."""

    model = CallbackEvent
    fk_name = "person"
    fields = ["id", "callback_type", "is_test", "created_at", "delivery_states"]
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ["-created_at"]

    @admin.display(description="deliveries")
    def delivery_states(self, event: CallbackEvent) -> str:
        return ", ".join(f"{d.registration.url}: {d.state}" for d in event.deliveries.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("deliveries__registration")


@admin.register(CallbackEvent)
class CallbackEventAdmin(CompanyScopedAdminMixin, admin.ModelAdmin):
    list_display = ["id", "callback_type", "company", "person_id", "is_test", "created_at"]
    list_filter = ["callback_type", "is_test", CompanyListFilter]
    search_fields = ["=id", "=person__id"]
    readonly_fields = [
        "id",
        "company",
        "callback_type",
        "person",
        "bodies",
        "is_test",
        "created_at",
    ]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
