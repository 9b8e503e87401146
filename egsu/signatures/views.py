"""The stand's test PKI over HTTP at /test-pki/: OCSP, CRLs and CA certificates (App.1 §13).

Only when the stand trusts its own test CA (no trust roots configured); a production
system answers 404 here.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotFound
from django.views.decorators.csrf import csrf_exempt

from egsu.access.scope import may_use_test_pki
from egsu.signatures.services import test_ca
from egsu_core.pki.testca import respond


@csrf_exempt
def test_pki(request: HttpRequest, path: str) -> HttpResponse:
    if not may_use_test_pki(settings.CONFIG.production):
        return HttpResponseNotFound("this system has no test PKI")
    key_type = "rsa"
    if path.startswith("gost2004/"):  # the stand's GOST test CA, under /test-pki/gost2004/
        key_type, path = "gost2004", path[len("gost2004/") :]
    ca = test_ca(key_type)
    if ca is None:
        return HttpResponseNotFound("this system has no test PKI")
    body = request.read(1 << 20) if request.method == "POST" else None
    status, content, content_type = respond(ca, request.method or "GET", "/" + path, body)
    return HttpResponse(content, status=status, content_type=content_type)
