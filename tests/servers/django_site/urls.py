from django.http import HttpResponse
from django.urls import path
from health_check.views import HealthCheckView

urlpatterns = [
    # Readiness: the library's database check (SELECT 1 on a fresh connection).
    path("ready", HealthCheckView.as_view(checks=["health_check.checks.Database"])),
    # Liveness: the process answers; it must not depend on the database.
    path("healthz", lambda request: HttpResponse("ok\n")),
]
