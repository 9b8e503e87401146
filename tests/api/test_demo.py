"""The demo stand's promise (issue 11, Done when): values a demo head-end posts to the AMI endpoint
show up, equal, in /api/v1/ aggregates for the operator and the owning subject, not for another
subject; the subscriber of the first demo meter sees that meter's values only. The manifest parts
are made by the same functions `egsu demo` calls."""

from __future__ import annotations

from decimal import Decimal
from urllib.parse import urlparse

import pytest
from django.test import Client

from egsu.ami.demo import load_demo_head_end
from egsu.api.demo import load_demo_api
from egsu.registry.demo import load_demo_registry
from egsu.registry.models import Subject
from tests.api.conftest import body

pytestmark = pytest.mark.django_db
BASE = "http://testserver"
DAY = "2025-06-02"


def test_ami_values_show_up_in_the_api_for_whom_they_belong(db):
    # given the demo registry, its head-end and a token per demo role, as `egsu demo` writes them
    subjects = [
        Subject.objects.get(bin=s["bin"]) for s in load_demo_registry(password="demo-pass-1")["subjects"]
    ]
    ami = load_demo_head_end(subjects[0], base=BASE)
    api = load_demo_api(
        subjects[:2], base=BASE, subscriber_account=(subjects[0].bin, ami["meters"][0]["account"])
    )
    assert set(api["tokens"]) == {"operator", "subject", "other_subject", "subscriber"}
    # when the head-end posts quarter-hour values of two meters
    values = {"0": ["1.25", "2.5", "3"], "1": ["10", "20.75", "0.5"]}
    items = [
        {"meter": ami["meters"][int(n)]["serial"], "channel": "A+", "start": f"{DAY}T00:{15 * q:02d}:00+05:00",
         "value": value}
        for n, series in values.items() for q, value in enumerate(series)
    ]  # fmt: skip
    posted = Client().post(
        urlparse(ami["endpoint"]).path, {"format": "ami/1", "batchId": "demo-1", "intervals": items},
        content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {ami['token']}",
    )  # fmt: skip
    assert posted.status_code == 200, posted.content

    def day_total(role: str, **params) -> tuple[int, Decimal]:
        answer = Client().get(
            urlparse(api["base"]).path + "aggregates",
            {"start": DAY, "end": DAY, "bucket": "P1D", "energy": "electricity", **params},
            HTTP_AUTHORIZATION=f"Bearer {api['tokens'][role]}",
        )
        assert answer.status_code == 200, answer.content
        rows = [r for r in body(answer)["data"] if r["quantity"] == "A+"]
        return sum(r["count"] for r in rows), sum((Decimal(r["sum"]) for r in rows), Decimal(0))

    # then the operator and the owning subject see every value, equal; the other subject none
    everything = (6, sum(Decimal(v) for series in values.values() for v in series))
    assert day_total("operator") == everything
    assert day_total("subject", group="subject") == everything
    assert day_total("operator", group="point", subject=subjects[0].bin) == everything
    assert day_total("other_subject") == (0, Decimal(0))
    # and the subscriber its own meter's
    assert day_total("subscriber") == (3, sum(Decimal(v) for v in values["0"]))
