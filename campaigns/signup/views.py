"""The public web sign-up page of an acquisition campaign (SPEC section 13).

A phone number, the campaign's chosen custom fields and its disclosure text; submitting
joins the campaign through `participant_add` like every other channel (double opt-in
texts the confirmation request). The consent ledger records it as `web`, with the page's
URL, the client's address and user agent, and the disclosure the person saw. Bots get a
honeypot field and a per-address rate limit; a second submission of the same number says
so instead of subscribing twice.
"""

from __future__ import annotations

from django import forms
from django.core.cache import cache
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import csrf_protect

from mobiledb.persons.forms import as_text, form_field_for
from mobiledb.persons.selectors import custom_field_schema
from mobiledb.validation import normalize_mdn
from vibesweb.actors import acting_as
from vibesweb.errors import DomainError

from ..errors import AlreadySubscribed
from ..models import AcquisitionCampaign, Participation
from ..services.acquisition import participant_add

# Sign-ups a client address may submit per window (a person retrying a typo is fine).
SUBMISSIONS_PER_WINDOW = 10
WINDOW_SECONDS = 600
FIELD_PREFIX = "field_"
HONEYPOT = "website"


class SignupForm(forms.Form):
    mdn = forms.CharField(
        label="Mobile number",
        max_length=32,
        widget=forms.TextInput(
            attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel", "required": True}
        ),
    )
    # Hidden from people by CSS; bots fill every field.
    website = forms.CharField(
        required=False,
        label="Leave this empty",
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    agree = forms.BooleanField(label="I agree to receive recurring text messages", required=True)

    def __init__(self, *args, schema=None, specs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.schema = schema
        self.specs = list(specs)
        for spec in self.specs:
            self.fields[FIELD_PREFIX + spec.name] = form_field_for(spec)

    def clean_mdn(self) -> str:
        try:
            return normalize_mdn(self.cleaned_data["mdn"], api_version=2)
        except DomainError:
            raise forms.ValidationError(
                "Enter a mobile number: 10 digits for the US, or + and the country code."
            ) from None

    def clean(self):
        cleaned = super().clean()
        values = {}
        for spec in self.specs:
            value = as_text(cleaned.get(FIELD_PREFIX + spec.name))
            if value is not None:
                values[spec.name] = value
        try:  # the one validation path of custom field values (mobiledb.validation)
            self.custom_field_values = self.schema.clean(values, from_text=True) if values else {}
        except DomainError as error:
            raise forms.ValidationError(error.message) from None
        return cleaned


def _campaign(token: str) -> AcquisitionCampaign:
    campaign = (
        AcquisitionCampaign.objects.select_related("company")
        .filter(web_token=token, web_signup=True)
        .exclude(status=AcquisitionCampaign.Status.DELETED)
        .first()
    )
    if campaign is None:
        raise Http404("No such sign-up page")
    return campaign


def _form(campaign: AcquisitionCampaign, data=None) -> SignupForm:
    schema = custom_field_schema(campaign.company)
    names = campaign.signup_fields.order_by("name").values_list("name", flat=True)
    return SignupForm(data, schema=schema, specs=[schema.spec(name) for name in names])


def _client_address(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


def _over_rate_limit(request: HttpRequest, campaign: AcquisitionCampaign) -> bool:
    key = f"signup:{campaign.pk}:{_client_address(request)}"
    cache.add(key, 0, WINDOW_SECONDS)
    try:
        return cache.incr(key) > SUBMISSIONS_PER_WINDOW
    except ValueError:  # expired between add and incr
        return False


@csrf_protect
def signup(request: HttpRequest, token: str) -> HttpResponse:
    campaign = _campaign(token)
    context = {"campaign": campaign, "disclosure": campaign.disclosure}
    if not campaign.is_active_at():
        return render(request, "campaigns/signup_closed.html", context, status=410)
    if request.method != "POST":
        context["form"] = _form(campaign)
        return render(request, "campaigns/signup.html", context)
    form = _form(campaign, request.POST)
    context["form"] = form
    if _over_rate_limit(request, campaign):
        context["problem"] = "Too many sign-ups from your network. Please try again later."
        return render(request, "campaigns/signup.html", context, status=429)
    if not form.is_valid():
        return render(request, "campaigns/signup.html", context, status=400)
    if form.cleaned_data.get(HONEYPOT):
        # A bot: answer as if it worked, change nothing.
        return render(request, "campaigns/signup_done.html", {**context, "pending": False})
    return _join(request, campaign, form, context)


def _join(request, campaign, form, context) -> HttpResponse:
    source = (
        f"web form {request.build_absolute_uri(request.path)} from {_client_address(request)}"
        f" ({request.META.get('HTTP_USER_AGENT', '')[:200]})"
    )
    changes = {"mdn": form.cleaned_data["mdn"], "custom_fields": form.custom_field_values}
    try:
        with acting_as("web", source=source, text=campaign.disclosure):
            participation, created = participant_add(
                campaign=campaign, person_changes=changes, source=Participation.Source.WEB
            )
    except AlreadySubscribed:
        context["already"] = True
        return render(request, "campaigns/signup_done.html", context)
    except DomainError as error:
        context["problem"] = error.message
        return render(request, "campaigns/signup.html", context, status=400)
    context["pending"] = participation.status == Participation.Status.PENDING
    context["already"] = not created
    return render(request, "campaigns/signup_done.html", context)
