"""The mobile database's routes under /companies/:company_key/mobiledb, one list per
capability (the root URL conf, vibesweb.urls, includes this module; campaigns adds its
own routes under the same prefix)."""

from __future__ import annotations

from .broadcasts.api.urls import urlpatterns as broadcast_urls
from .persons.api.urls import urlpatterns as person_urls
from .subscriptions.api.urls import external_person_urls
from .subscriptions.api.urls import urlpatterns as subscription_urls

urlpatterns = [*external_person_urls, *person_urls, *subscription_urls, *broadcast_urls]
