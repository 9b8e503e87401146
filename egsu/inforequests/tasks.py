"""Jobs of information requests: build an approved package; expire old ones (periodic)."""

from __future__ import annotations

from egsu.inforequests import services
from egsu.jobs.registry import job


@job(max_attempts=3)
def build_package(request_id: int) -> int:
    return services.build_package(request_id).package_rows


@job(max_attempts=3)
def expire_packages() -> int:
    return services.expire()
