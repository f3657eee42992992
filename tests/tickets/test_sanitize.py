"""HTML sanitising: whatever customers send, nothing executable reaches an agent's browser."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from frontline.tickets.sanitize import html_to_text, sanitize_html, text_to_html

ATTACKS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    '<a href="javascript:alert(1)">click</a>',
    '<a href="JaVaScRiPt:alert(1)">click</a>',
    '<a href="&#106;avascript:alert(1)">click</a>',
    '<div style="width: expression(alert(1))">css</div>',
    '<p style="background:url(javascript:alert(1))">css</p>',
    "<svg onload=alert(1)><circle/></svg>",
    '<iframe src="https://evil.example"></iframe>',
    '<body onload="alert(1)">',
    '<form action="https://evil.example"><input name=x></form>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    "<style>body{background:red}</style>",
    '<math><mi xlink:href="javascript:alert(1)">x</mi></math>',
]


def _is_safe(html: str) -> bool:
    lowered = html.lower()
    return not any(
        needle in lowered
        for needle in (
            "<script", "javascript:", "onerror", "onload", "onclick", "expression(", "<iframe",
            "<svg", "<style", "style=", "<form", "<object", "<embed", "<meta", "data:text",
        )
    )  # fmt: skip


def test_known_attacks_are_neutralised():
    for attack in ATTACKS:
        cleaned = sanitize_html(attack)
        assert _is_safe(cleaned), (attack, cleaned)


def test_ordinary_formatting_survives():
    html = (
        '<p>Hello <strong>Ana</strong>, see <a href="https://shop.example/o/1">your order</a>.'
        '</p><ul><li>one</li></ul><img src="cid:logo@x" alt="logo">'
    )
    cleaned = sanitize_html(html)
    assert "<strong>Ana</strong>" in cleaned
    assert 'href="https://shop.example/o/1"' in cleaned
    assert 'rel="noopener noreferrer nofollow"' in cleaned
    assert "<li>one</li>" in cleaned
    assert 'src="cid:logo@x"' in cleaned


@given(st.text(max_size=300))
def test_any_text_with_markup_is_safe(fragment):
    candidates = [
        fragment,
        f"<a href='{fragment}'>x</a>",
        f"<p onclick='{fragment}'>{fragment}</p>",
    ]
    for candidate in candidates:
        assert _is_safe(sanitize_html(candidate + "<script>x</script>"))


def test_html_to_text_and_back():
    assert html_to_text("<p>Hi&nbsp;there</p><p>Line<br>two</p>") == "Hi\xa0there\nLine\ntwo"
    assert text_to_html("a < b\n\nsecond\nline") == "<p>a &lt; b</p><p>second<br>line</p>"
