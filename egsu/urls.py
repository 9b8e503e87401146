"""URL map: the gateway endpoint, the admin, and (later) the cabinets and the REST API."""

from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

from egsu.intake import views as intake_views
from egsu.signatures import views as signature_views

urlpatterns = [
    path("shep/SyncChannel", intake_views.sync_channel, name="shep-sync-channel"),
    path("shep/SyncChannel/<str:name>", intake_views.sync_channel_schema, name="shep-sync-channel-schema"),
    path("test-pki/<path:path>", signature_views.test_pki, name="test-pki"),
    path("admin/", admin.site.urls),
    # The web cabinets come with their own issue; until then the front door is the administration.
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
