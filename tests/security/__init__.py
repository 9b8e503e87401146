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

* ``test_web.py`` — the cabinet against hostile users: CSRF on every form of every parameterless
  page (operator and subject), a new session key at sign-in, markup in names shown as text on pages
  and in PDFs, formula-like names kept as text in Excel exports (one rule: ``egsu/spreadsheets.py``),
  search text that is never SQL, downloads that cannot be steered to another file, an oversized AMI
  body refused with 413 before it is read (one rule with the gateway: ``egsu/request_body.py``).

The older hostile corpora stay where they were: ``tests/hostile/`` (hostile XML, hostile signed
messages). Extend this package for the rest of the security suite.
"""
