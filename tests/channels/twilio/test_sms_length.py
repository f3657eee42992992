"""SMS segments (GSM 03.38 / UCS-2) and the cutting of replies over Twilio's 1600 characters."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontline.channels.twilio.sms import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    TWILIO_BODY_MAX,
    SegmentInfo,
    body_parts,
    sms_segments,
    utf16_length,
)

GSM_CHARS = "".join(sorted(GSM7_BASIC | GSM7_EXTENSION))


def test_the_gsm_tables_are_complete():
    assert len(GSM7_BASIC) == 127  # 128 codes minus the escape
    assert set("{}[]~\\^|€\f") == GSM7_EXTENSION


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", SegmentInfo("GSM-7", 0, 0, 160)),
        ("Hello", SegmentInfo("GSM-7", 5, 1, 160)),
        ("a" * 160, SegmentInfo("GSM-7", 160, 1, 160)),
        ("a" * 161, SegmentInfo("GSM-7", 161, 2, 153)),
        ("a" * 306, SegmentInfo("GSM-7", 306, 2, 153)),
        ("a" * 307, SegmentInfo("GSM-7", 307, 3, 153)),
        ("€" * 80, SegmentInfo("GSM-7", 160, 1, 160)),  # extension chars cost two
        ("{" + "a" * 159, SegmentInfo("GSM-7", 161, 2, 153)),
        # 152 + an escape pair would straddle the first part's end: it moves to part two.
        ("a" * 152 + "€" + "a" * 152, SegmentInfo("GSM-7", 306, 3, 153)),
        ("Olá, ação", SegmentInfo("UCS-2", 9, 1, 70)),  # ç and ã are not GSM
        ("é" * 160, SegmentInfo("GSM-7", 160, 1, 160)),  # é is
        ("ñ" * 70 + "ç", SegmentInfo("UCS-2", 71, 2, 67)),
        ("😀" * 35, SegmentInfo("UCS-2", 70, 1, 70)),  # outside the BMP: two units
        ("😀" * 36, SegmentInfo("UCS-2", 72, 2, 67)),
        ("a" * 66 + "😀" + "a" * 66, SegmentInfo("UCS-2", 134, 3, 67)),  # pair never split
    ],
)
def test_segments_of_known_texts(text, expected):
    assert sms_segments(text) == expected


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=GSM_CHARS, max_size=800))
def test_gsm_text_counts_septets_and_packs_parts_without_splitting_escapes(text):
    info = sms_segments(text)
    assert info.encoding == "GSM-7"
    assert info.characters == len(text) + sum(c in GSM7_EXTENSION for c in text)
    if info.characters == 0:
        assert info.segments == 0
    elif info.characters <= 160:
        assert (info.segments, info.per_segment) == (1, 160)
    else:
        assert info.per_segment == 153
        # At least the plain division; at most one unit wasted per part by an escape pair.
        assert math.ceil(info.characters / 153) <= info.segments
        assert info.segments <= math.ceil(info.characters / 152)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_any_text_is_gsm_only_when_every_character_is(text):
    info = sms_segments(text)
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        assert info.encoding == "GSM-7"
    else:
        assert info.encoding == "UCS-2"
        assert info.characters == utf16_length(text)
        limit = 70 if info.characters <= 70 else 67
        assert info.per_segment == limit
        assert math.ceil(info.characters / limit) <= info.segments
        assert info.segments <= math.ceil(info.characters / (limit - 1))


words = st.lists(
    st.one_of(
        st.text(min_size=1, max_size=12).filter(lambda w: not any(c.isspace() for c in w)),
        st.sampled_from([" ", "\n", "  ", "\n\n"]),
        st.text(alphabet="x", min_size=900, max_size=2500),  # a monster token (a long link)
    ),
    max_size=400,
)


@settings(max_examples=200, deadline=None)
@given(words.map("".join))
def test_cutting_never_loses_or_reorders_text_and_every_part_fits(text):
    parts = body_parts(text)
    assert "".join(parts) == text
    assert all(utf16_length(part) <= TWILIO_BODY_MAX for part in parts)
    assert all(parts) or parts == [""]
    if utf16_length(text) <= TWILIO_BODY_MAX:
        assert parts == [text]


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=5000), st.integers(min_value=2, max_value=200))
def test_cutting_holds_for_any_text_and_any_limit(text, limit):
    parts = body_parts(text, limit)
    assert "".join(parts) == text
    assert all(0 < utf16_length(part) <= limit for part in parts) or parts == [""]


def test_parts_end_between_words_when_they_can():
    text = "Please check the parcel number on the label. " * 80  # 3600 characters
    parts = body_parts(text)
    assert len(parts) == 3
    assert all(part.endswith(" ") for part in parts)
    assert not any(part[0].isspace() for part in parts)  # no word is cut in two


def test_a_line_break_is_preferred_over_a_space():
    paragraph = "word " * 250  # 1250 characters
    text = paragraph + "\n" + paragraph
    first, second = body_parts(text)
    assert first == paragraph + "\n"
    assert second == paragraph


def test_only_a_word_longer_than_half_a_part_is_cut():
    link = "https://example.com/" + "a" * 2000
    parts = body_parts("See " + link)
    assert parts[0] == ("See " + link)[:1600]
    assert "".join(parts) == "See " + link
