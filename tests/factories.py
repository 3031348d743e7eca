"""factory_boy factories for every app's rows (one place, so helpers share them)."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.test import Client

from callbacks.crypto import encrypt_json
from mobiledb.models import CustomField, CustomFieldOption, Person, SubscriptionList
from vibesweb.tenancy.models import Company, Membership


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    key = factory.Sequence(lambda n: f"CO{n:04d}")
    name = factory.Sequence(lambda n: f"Company {n}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw")

    @factory.post_generation
    def save_after_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory)


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"field_{n}")
    data_type = CustomField.DataType.STRING


class CustomFieldOptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomFieldOption

    field = factory.SubFactory(CustomFieldFactory, data_type="single_select")
    key = factory.Sequence(lambda n: f"opt{n}")
    label = factory.LazyAttribute(lambda o: o.key.title())


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    company = factory.SubFactory(CompanyFactory)
    mdn = factory.Sequence(lambda n: f"+1612555{n % 10000:04d}")
    external_person_id = factory.Sequence(lambda n: f"EXT{n}")


class SubscriptionListFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SubscriptionList

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"List {n}")


class CallbackRegistrationFactory(factory.django.DjangoModelFactory):
    """A person_added registration to a local URL, with a known signing secret."""

    class Meta:
        model = "callbacks.CallbackRegistration"

    class Params:
        signing_secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
        basic_auth = None
        headers = factory.Dict({})

    company = factory.SubFactory(CompanyFactory)
    callback_type = "person_added"
    url = "http://127.0.0.1:9/callback"
    secrets_encrypted = factory.LazyAttribute(lambda o: _callback_secrets(o))


def _callback_secrets(params) -> str:
    return encrypt_json(
        {
            "basic_auth": params.basic_auth,
            "headers": params.headers,
            "signing_secret": params.signing_secret,
        }
    )


def staff_client(company: Company, app_label: str, username: str = "staff"):
    """A test client logged in as a staff member of `company` only, holding every
    permission of `app_label`'s models (the admin as a scoped marketer sees it)."""
    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label=app_label))
    MembershipFactory(user=user, company=company)
    client = Client()
    client.force_login(user)
    return client
