"""A SendMessage envelope as the ISUN clients send it, and signed variants of it (made once)."""

from __future__ import annotations

from functools import cache

from egsu_core.pki.wsse import sign_transport
from tests.pki.xml.keys import rsa_signer

UNSIGNED = b"""<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <soapenv:Body>
    <ns2:SendMessage xmlns:ns2="http://bip.bee.kz/SyncChannel/v10/Types">
      <request>
        <requestInfo><messageId>5b1b1ee4-0d7c-4fb8-9a51-1f1f2c6f4a10</messageId><serviceId>ISUN_Service2</serviceId>
          <sender><senderId>isun-client</senderId><password>secret</password></sender></requestInfo>
        <requestData>
          <data xmlns:cs="http://message.persistence.interactive.nat" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="cs:Request">
            <record><code>TANK-1</code><volume>1250.5</volume></record>
          </data>
        </requestData>
      </request>
    </ns2:SendMessage>
  </soapenv:Body>
</soapenv:Envelope>
"""


@cache
def signed(key_info: str = "KeyIdentifier") -> bytes:
    signer = rsa_signer()
    return sign_transport(UNSIGNED, private_key=signer.key, certificate_der=signer.der, key_info=key_info)
