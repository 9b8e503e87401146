"""Sending SendMessage with zeep, the SOAP client of the agent and of our interop tests.

The contract types `data` as anyType, which zeep can only fill with text. The
records (and the ``xsi:type`` the real ISUN clients put on `data`) are placed
by an egress plugin, so everything else — the envelope, the HTTP exchange, the
parsing of answers and faults — is zeep's own, driven by the served WSDL.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from copy import deepcopy
from datetime import datetime

import zeep
from lxml import etree

from egsu_core.clock import format_astana, utcnow

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


class DataPayloadPlugin(zeep.Plugin):
    """Put the prepared payload elements into requestData/data of the outgoing envelope."""

    def __init__(self, identity=None) -> None:
        self._local = threading.local()
        self.identity = identity  # egsu_core.pki.keys.SigningIdentity: sign the Body (WS-Security, SIG-04)

    def set(self, elements: Sequence[etree._Element], data_type: tuple[str, str] | None) -> None:
        self._local.payload = (list(elements), data_type)

    def egress(self, envelope, http_headers, operation, binding_options):
        payload = getattr(self._local, "payload", None)
        if payload is None:
            return envelope, http_headers
        elements, data_type = payload
        self._local.payload = None
        data = envelope.find(".//requestData/data")
        if data is None:
            data = envelope.find(".//requestData/Data")
        if data is None:
            raise ValueError("the envelope zeep built has no requestData/data")
        data.text = None
        for attribute in list(data.attrib):
            del data.attrib[attribute]
        if data_type is not None:
            namespace, local = data_type
            prefix = "cs"
            # Declare the prefix on data itself, exactly as the real ISUN clients do.
            replacement = etree.Element(
                data.tag, nsmap={prefix: namespace, "xsi": XSI_TYPE[1:].split("}")[0]}
            )
            replacement.set(XSI_TYPE, f"{prefix}:{local}")
            data.getparent().replace(data, replacement)
            data = replacement
        for element in elements:
            data.append(deepcopy(element))
        if self.identity is not None:
            from egsu_core.pki.wsse import sign_transport

            signed = sign_transport(
                envelope,
                private_key=self.identity.private_key,
                certificate_der=self.identity.certificate_der,
                algorithm_uri=self.identity.algorithm_uri,
            )
            envelope = etree.fromstring(signed)
        return envelope, http_headers


class SyncChannelClient:
    """A zeep client for /shep/SyncChannel that sends ISUN records."""

    def __init__(self, wsdl_url: str, *, timeout: float = 60, session=None, identity=None) -> None:
        from zeep.transports import Transport

        self.plugin = DataPayloadPlugin(identity)
        transport = Transport(timeout=timeout, operation_timeout=timeout, session=session)
        self.client = zeep.Client(wsdl=wsdl_url, transport=transport, plugins=[self.plugin])

    def send(
        self,
        *,
        message_id: str,
        sender_id: str,
        password: str,
        records: Sequence[etree._Element],
        service_id: str = "ISUN_Service2",
        message_date: datetime | None = None,
        data_type: tuple[str, str] | None = ("http://message.persistence.interactive.nat", "Request"),
    ):
        """Send the records (children of data) and return zeep's parsed response; faults raise zeep.exceptions.Fault."""
        self.plugin.set(records, data_type)
        return self.client.service.SendMessage(
            request={
                "requestInfo": {
                    "messageId": message_id,
                    "serviceId": service_id,
                    "messageDate": format_astana(message_date or utcnow()),
                    "sender": {"senderId": sender_id, "password": password},
                },
                "requestData": {"data": ""},
            }
        )
