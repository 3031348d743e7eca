"""SMS sizes as networks count them (the broadcast form shows them before sending)."""

from __future__ import annotations

import pytest

from mobiledb.broadcasts.templating import sms_size


@pytest.mark.parametrize(
    ("text", "encoding", "length", "segments"),
    [
        ("Hello", "GSM-7", 5, 1),
        ("x" * 160, "GSM-7", 160, 1),
        ("x" * 161, "GSM-7", 161, 2),  # split parts hold 153
        ("x" * 306, "GSM-7", 306, 2),
        ("x" * 307, "GSM-7", 307, 3),
        ("€" * 80, "GSM-7", 160, 1),  # the euro sign takes two septets
        ("€" * 81, "GSM-7", 162, 2),
        ("ç" * 70, "UCS-2", 70, 1),  # ç is not GSM-7 (only Ç is)
        ("ç" * 71, "UCS-2", 71, 2),  # split parts hold 67
        ("🎉" * 35, "UCS-2", 70, 1),  # an emoji is two UTF-16 units
        ("", "GSM-7", 0, 0),
    ],
)
def test_sms_size_counts_like_the_network(text, encoding, length, segments):
    size = sms_size(text)
    assert (size.encoding, size.length, size.segments) == (encoding, length, segments)
