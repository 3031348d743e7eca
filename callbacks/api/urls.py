from __future__ import annotations

from vibesweb.api.routing import api_path

from . import views

urlpatterns = [
    *api_path("callbacks", views.CallbackListView.as_view(), "callback-list"),
    *api_path("callbacks/<str:callback_id>", views.CallbackDetailView.as_view(), "callback-detail"),
    *api_path("callback_events/test", views.CallbackTestEventView.as_view(), "callback-test"),
]
