"""Companies, memberships and API users."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import QuerySet

from .models import Company, Membership


@transaction.atomic
def company_create(*, key: str, name: str) -> Company:
    """Create a company after validating its key; raises ValidationError on a bad or taken key."""
    company = Company(key=key, name=name)
    company.full_clean()
    company.save()
    return company


@transaction.atomic
def api_user_create(*, company: Company, username: str, password: str, staff: bool = False):
    """Create (or reset the password of) a user and make it a member of `company`.

    Idempotent: running it twice leaves one user with the latest password.
    """
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username)
    user.set_password(password)
    if staff:
        user.is_staff = True
    user.save()
    if staff:
        user.groups.add(marketers_group())
    Membership.objects.get_or_create(user=user, company=company)
    return user


MARKETER_APPS = ("mobiledb", "campaigns", "wallet", "callbacks")


def marketers_group() -> Group:
    """The group whose members may use the admin for their companies' data (every model
    of the product's apps; companies view-only). Scoping to their companies is done by
    the admin itself (vibesweb.tenancy.scoping)."""
    group, _ = Group.objects.get_or_create(name="Marketers")
    permissions = Permission.objects.filter(content_type__app_label__in=MARKETER_APPS) | (
        Permission.objects.filter(content_type__app_label="tenancy", codename="view_company")
    )
    group.permissions.set(permissions)
    return group


def companies_for_user(user) -> QuerySet[Company]:
    """The companies `user` may see: all for a superuser, its memberships otherwise."""
    if user.is_superuser:
        return Company.objects.all()
    return Company.objects.filter(memberships__user=user)
