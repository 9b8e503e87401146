"""Hostile and security tests, kept in one place so that each names what it covers.

Files:

* ``listeners.py`` — helpers: loopback TCP listeners that count accepted connections (silent or
  answering), and a guard that records every outbound ``socket.connect`` a test provokes.
* ``test_no_request_for_strangers.py`` — no outbound request before the sender proved who it is:
  forged certificates that only *name* a trusted CA (with OCSP/CRL/AIA addresses on loopback and
  link-local) make zero connections and are answered SCE006/SCE002 within a second through the real
  endpoint; a genuine chain naming addresses off the allow-list makes none either; the per-message
  time budget; redirects are not followed.
* ``test_sender_limits.py`` — per-sender limits at the gateway: wrong passwords lock a senderId
  (SCE002) while the real system's known password still passes; repeated signature failures put
  the password first.

The older hostile corpora stay where they were: ``tests/hostile/`` (hostile XML, hostile signed
messages). Extend this package for the rest of the security suite.
"""
