"""A correctly signed SendMessage from a payload, a key and a certificate (issue 3, item 6).

What the subject-side agent and integrators call: the business data is signed
with an enveloped signature on `data` when asked (SIG-03, shep-notes §2c), then the
Body gets the WS-Security transport signature (SIG-04, shep-notes §2a).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from lxml import etree

from egsu_core.pki.keys import SigningIdentity
from egsu_core.pki.wsse import sign_transport
from egsu_core.pki.xmldsig import sign_enveloped
from egsu_core.shep.envelope import build_request
from egsu_core.shep.xmlparse import parse_document

ISUN_DATA_TYPE = ("http://message.persistence.interactive.nat", "Request")  # what the real clients declare


def signed_send_message(
    payload: Sequence[etree._Element],
    *,
    identity: SigningIdentity,
    message_id: str,
    sender_id: str,
    password: str,
    service_id: str = "ISUN_Service2",
    message_date: datetime | None = None,
    sign_business_data: bool = False,
    business_identity: SigningIdentity | None = None,
    data_type: tuple[str, str] | None = ISUN_DATA_TYPE,
    key_info: str = "KeyIdentifier",
) -> bytes:
    body = build_request(
        message_id=message_id,
        service_id=service_id,
        sender_id=sender_id,
        password=password,
        message_date=message_date,
        payload=list(payload),
        data_type=data_type,
    )
    if sign_business_data:
        owner = business_identity or identity
        root = parse_document(body)
        data = root.find(".//requestData/data")
        signed = sign_enveloped(
            data,
            private_key=owner.private_key,
            certificate_der=owner.certificate_der,
            algorithm_uri=owner.algorithm_uri,
        )
        data.getparent().replace(data, signed)
        body = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    return sign_transport(
        body,
        private_key=identity.private_key,
        certificate_der=identity.certificate_der,
        algorithm_uri=identity.algorithm_uri,
        key_info=key_info,
    )
