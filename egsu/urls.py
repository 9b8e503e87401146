"""URL map: the gateway endpoint, the admin, and (later) the cabinets and the REST API."""

from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from egsu.access.scope import may_use_test_pki
from egsu.ami.api import api as ami_api
from egsu.api.v1 import api as read_api
from egsu.cabinet import views as cabinet_views
from egsu.intake import views as intake_views
from egsu.opendata.api import api as open_api
from egsu.ops import views as ops_views
from egsu.signatures import views as signature_views

urlpatterns = [
    path("shep/SyncChannel", intake_views.sync_channel, name="shep-sync-channel"),
    path("shep/SyncChannel/<str:name>", intake_views.sync_channel_schema, name="shep-sync-channel-schema"),
    path("healthz", ops_views.healthz, name="healthz"),
    path("readyz", ops_views.readyz, name="readyz"),
    path("metrics", ops_views.metrics_view, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/ami/", ami_api.urls),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("vendor/plotly.min.js", cabinet_views.plotly_js, name="plotly-js"),
    path("cabinet/", include("egsu.cabinet.urls")),
    path("cabinet/monitoring/", include("egsu.monitoring.urls")),
    path("cabinet/corrections/", include("egsu.quality.urls")),
    path("cabinet/quality/", include("egsu.vee.urls")),
    path("cabinet/balances/", include("egsu.balances.urls")),
    path("cabinet/schemes/", include("egsu.schemes.urls")),
    path("cabinet/connections/", include("egsu.connections.urls")),
    path("cabinet/exports/", include("egsu.reports.urls")),
    path("cabinet/access/", include("egsu.access.urls")),
    path("cabinet/operations/jobs/", include("egsu.jobs.urls")),
    path("cabinet/operations/mail/", include("egsu.mail.urls")),
    path("cabinet/reports/", include("egsu.reporting.urls")),
    path("cabinet/requests/", include("egsu.inforequests.urls")),
    path("cabinet/feedback/", include("egsu.feedback.urls")),
    path("cabinet/alarms/", include("egsu.alarms.urls")),
    path("cabinet/analytics/", include("egsu.analytics.urls")),
    path("cabinet/api-tokens/", include("egsu.api.urls")),
    path("open/", include("egsu.opendata.urls")),
    path("api/open/", open_api.urls),
    path("api/v1/", read_api.urls),
    path("", RedirectView.as_view(url="/cabinet/", permanent=False)),
]
if may_use_test_pki(settings.CONFIG.production):  # absent in production, not merely empty
    urlpatterns.insert(2, path("test-pki/<path:path>", signature_views.test_pki, name="test-pki"))
