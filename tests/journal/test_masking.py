"""Passwords inside archived messages are masked on display; the bytes themselves stay."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from egsu.journal.masking import mask_passwords


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        pytest.param(b"<password>s3cret</password>", b"<password>***</password>", id="plain"),
        pytest.param(b"<password></password>", b"<password>***</password>", id="empty"),
        pytest.param(b"<password/>", b"<password/>", id="self-closing"),
        pytest.param(
            b"<password /><other>data</other><password>k</password>",
            b"<password /><other>data</other><password>***</password>",
            id="self-closing-then-real",
        ),
        pytest.param(
            b'<ns:password xmlns:ns="u">a\nb</ns:password >',
            b'<ns:password xmlns:ns="u">***</ns:password >',
            id="prefix",
        ),
        pytest.param(
            b"<password><![CDATA[a</password>b]]></password>",
            b"<password>***</password>",
            id="cdata-with-end-tag",
        ),
        pytest.param(
            b"&lt;password&gt;p&amp;w&lt;/password&gt;",
            b"&lt;password&gt;***&lt;/password&gt;",
            id="escaped-payload",
        ),
        pytest.param(
            b"<password>a</password><x/><password>b</password>",
            b"<password>***</password><x/><password>***</password>",
            id="two",
        ),
        pytest.param(
            b"<passwordHint>kept</passwordHint>", b"<passwordHint>kept</passwordHint>", id="other-element"
        ),
        pytest.param(b"<senderId>oilco</senderId>", b"<senderId>oilco</senderId>", id="no-password"),
    ],
)
def test_mask_passwords(raw, shown):
    assert mask_passwords(raw) == shown


_secret = st.text(st.characters(blacklist_characters="<&", blacklist_categories=("Cs",)), min_size=1)


@given(secret=_secret, before=st.binary(max_size=40).filter(lambda b: b"password" not in b))
def test_no_password_survives_masking(secret, before):
    # given any password text in a sender block
    encoded = secret.encode()
    raw = before + b"<sender><senderId>x</senderId><password>" + encoded + b"</password></sender>"
    # then the masked text holds the mask where the password was
    masked = mask_passwords(raw)
    assert masked == before + b"<sender><senderId>x</senderId><password>***</password></sender>"
