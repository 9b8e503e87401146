"""egsu-core: what the EGSU server and the subject-side agent share, without Django (decision 0019).

``clock`` (Astana business time), ``vocabulary`` (intervals, energies: codes and their words),
``shep`` (the SyncChannel SOAP envelope, WSDL/XSD, gateway codes), ``isun`` (the oil and gas
payload: tables, records, rules, units, receipts), ``pki`` (certificates, paths, revocation, RSA
and Kazakh GOST signatures, XMLDSig and WS-Security, PKCS#12 key stores, the test CA).
"""

__version__ = "0.1.0"
