"""The email reply / quote / signature stripper (frontline.channels.email.quotes).

1. one small hand-written example per rule (several languages, false positives);
2. the labelled fixtures in ../shared/data/email_fixtures (skipped when the folder is absent);
3. hypothesis: never raises, and the three parts are made of the input's lines.
The pathological-input timing is measured by bench/email_stripping.py; here it just runs.
"""

# Multilingual examples: Cyrillic and CJK punctuation are intended.
# ruff: noqa: RUF001

from __future__ import annotations

import email
import email.policy
import json
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from frontline.channels.email.quotes import ReplyParts, split_reply, split_reply_html

FIXTURES = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "email_fixtures"


def _norm(text: str) -> str:
    return " ".join(text.split())


def check(
    parts: ReplyParts,
    keep: list[str],
    drop: list[str] | None = None,
    signature: list[str] | None = None,
) -> None:
    reply = _norm(parts.reply)
    for fragment in keep:
        assert _norm(fragment) in reply, f"lost {fragment!r} from {parts.reply!r}"
    for fragment in drop or []:
        assert _norm(fragment) not in reply, f"kept {fragment!r} in {parts.reply!r}"
        removed = _norm(parts.quoted + " " + parts.signature)
        assert _norm(fragment) in removed, f"{fragment!r} vanished instead of being returned"
    for fragment in signature or []:
        assert _norm(fragment) not in reply
        assert _norm(fragment) in _norm(parts.signature), parts


# --------------------------------------------------------------------------------------------
# 1. Rules, one small example each
# --------------------------------------------------------------------------------------------


def test_empty_and_blank_input():
    assert split_reply("") == ReplyParts("", "", "")
    assert split_reply(" \n\t\n") == ReplyParts("", "", "")
    assert split_reply_html("") == ReplyParts("", "", "")


def test_plain_text_without_history_is_untouched():
    text = "Hello,\n\nThe invoice is attached.\n\nThanks"
    assert split_reply(text) == ReplyParts(text, "", "")


class TestQuotedBlocks:
    def test_angle_bracket_block_is_removed(self):
        parts = split_reply("Sure, done.\n\n> Can you do it?\n> Thanks")
        assert parts.reply == "Sure, done."
        assert parts.quoted == "> Can you do it?\n> Thanks"

    def test_nested_and_spaced_quotes(self):
        text = "Agreed.\n\n> > > very old\n>> older\n  > old\n>\n> end"
        parts = split_reply(text)
        assert parts.reply == "Agreed."
        assert "very old" in parts.quoted and "end" in parts.quoted

    def test_inline_replies_between_quotes_are_kept(self):
        text = "> Question one?\n\nAnswer one.\n\n> Question two?\n\nAnswer two.\n"
        check(split_reply(text), ["Answer one.", "Answer two."], ["Question one?", "Question two?"])

    def test_inline_reply_after_an_attribution(self):
        text = (
            "On Mon, Jan 1, 2024 at 10:00 AM, Bob <bob@example.com> wrote:\n"
            "> Can we ship on Friday?\n\nYes, Friday works.\n\n> And the docs?\n\nNext week."
        )
        check(
            split_reply(text),
            ["Yes, Friday works.", "Next week."],
            ["Can we ship on Friday?", "And the docs?", "Bob <bob@example.com> wrote:"],
        )

    def test_wrapped_quote_line_without_marker_stays_in_the_quote(self):
        text = (
            "Thanks!\n\nOn Mon, Jan 1, 2024 at 10:00 AM, Bob <bob@example.com> wrote:\n"
            "> This is a long quoted line that the sender's client wrapped at about seventy\n"
            "characters without a marker\n> and the quote goes on"
        )
        check(split_reply(text), ["Thanks!"], ["characters without a marker", "the quote goes on"])

    def test_html_entity_quotes(self):
        text = "Fine.\n\n&gt; quoted in a text part that kept entities\n&gt; more"
        check(split_reply(text), ["Fine."], ["quoted in a text part"])


class TestAttributionHeaders:
    @pytest.mark.parametrize(
        "header",
        [
            "On Mon, Jan 1, 2024 at 10:00 AM, Bob Smith <bob@example.com> wrote:",
            "On 01/03/11 7:07 PM, Russell Brown wrote:",
            "Le lun. 15 nov. 2021 à 19:42, Jean <jean@example.fr> a écrit :",
            "Am 14.01.2024 um 10:00 schrieb Hans Müller <hans@example.de>:",
            "Am Mo., 12. Dez. 2016 um 10:00 Uhr schrieb Hans <hans@example.de>:",
            "El lun., 12 dic. 2016 a las 10:00, Ana (<ana@example.es>) escribió:",
            "Em 10 de julho de 2017 às 16:32:35, João (joao@example.pt) escreveu:",
            "Il giorno lun 12 dic 2016 alle ore 10:00 Gianni <g@example.it> ha scritto:",
            "Op 12 december 2016 19:05 schreef Jeroen <jeroen@example.nl>:",
            "W dniu 27.12.2016 o 12:08, Jan <jan@example.pl> pisze:",
            "Dnia 27 grudnia 2016 12:08 Jan <jan@example.pl> napisał(a):",
            "7 декабря 2016 г., 10:00 пользователь Иван <ivan@example.ru> написал:",
            "ср, 7 дек. 2016 г. в 10:00, Иван <ivan@example.ru>:",
            "pe 9. jouluk. 2016 klo 10.00 Matti <matti@example.fi> kirjoitti:",
            "Den 12. dec. 2016 kl. 10.00 skrev Lars <lars@example.dk>:",
            "tir. 12. des. 2016 kl. 10:00 skrev Ola <ola@example.no>:",
            "tis 12 dec. 2016 kl. 10:00 skrev Sven <sven@example.se>:",
            '2013.02.08. 7:31 keltezéssel, "Eszter" írta:',
            "在 2016年12月7日，上午10:00，Li <li@example.cn> 写道：",
            '30.09.2017, 18.30, "John - Doe" <john@example.com>:',
            "2017-11-24 16:32 GMT+01:00 Baptiste <b@example.com>:",
            "---- On Wed, 24 Feb 2021 14:02:50 +0530 john@example.com wrote ----",
        ],
    )
    def test_languages_and_formats(self, header):
        text = f"My new text.\n\n{header}\n\nOld text that was not quoted.\nMore old text."
        parts = split_reply(text)
        assert parts.reply == "My new text."
        assert header.strip("- ") in parts.quoted

    @pytest.mark.parametrize(
        "header",
        [
            "On Dec 16, 2011, at 12:47 PM, Corey Donohoe\n<reply@reply.github.com>\nwrote:",
            "On Nov 21, 2014,\nat 10:18,\nJohn Doe <john@example.com> wrote:",
            "On Mon, Aug 26, 2019 at 4:37 PM The Hiring Engine <\nlong-address@example.com> wrote:",
            "On Mon, Aug 26, 2019 at\n4:37 PM Bob <bob@example.com> wrote:",
            "Le lun. 15 nov. 2021 à 19:42, John <john@example.com>\na écrit :",
            "Il giovedì 8 dicembre 2016, Company <q@example.com>\nha scritto:",
        ],
    )
    def test_headers_wrapped_over_lines(self, header):
        parts = split_reply(f"Reply text\n\n{header}\n\n> old text")
        assert parts.reply == "Reply text"
        assert "old text" in parts.quoted

    def test_header_right_below_the_reply_without_blank_line(self):
        text = 'I will fix it soon.\nOn Dec 8, 2013 2:10 PM, "John" <john@example.com> wrote:\n> q'
        assert split_reply(text).reply == "I will fix it soon."

    def test_lines_starting_with_on_are_not_headers(self):
        text = (
            "On the surface, this looks fine.\n\nOn Thursday:\n\nWe shipped.\n"
            "On a separate note, performance is great.\nOne question: why?"
        )
        assert split_reply(text).reply == text

    def test_wrote_in_a_sentence_or_url_is_not_a_header(self):
        text = "Here is what John wrote: nothing.\nSee https://example.com/wrote: for details"
        assert split_reply(text).reply == text

    def test_attribution_without_date_needs_a_quote_below(self):
        assert split_reply("Top\n\nOn Mon, Bob wrote:\n> old").reply == "Top"
        text = "My notes. On Monday Bob wrote:\nthat the build is broken."
        assert split_reply(text).reply == text


class TestOutlookBlocks:
    @pytest.mark.parametrize(
        "block",
        [
            "From: Bob [mailto:bob@example.com]\nSent: Tuesday, 14 May 2013 6:18 AM\n"
            "To: Developer\nSubject: You have a new message",
            "*From:* Bob [mailto:bob@example.com]\n*Sent:* Monday\n*To:* me\n*Subject:* Hi",
            "Von: Max <max@example.de>\nGesendet: Donnerstag, 23. März 2023 17:11\n"
            "An: Erika <e@example.de>\nBetreff: AW: Hallo",
            "De : Société<mailto:q@example.fr>\nEnvoyé le :jeudi 15 décembre 2016 09:35\n"
            "À : moi@example.fr\nObjet :Question",
            "Van: Bedrijf [mailto:q@example.nl]\nVerzonden: maandag 5 december 2016 17:00\n"
            "Aan: iemand@example.nl\nOnderwerp: Vraag",
            "Da: Azienda<mailto:q@example.it>\nInviato: martedì 3 gennaio 2017 10:35\n"
            "A: qualcuno@example.it\nOggetto: Domanda",
            "От: Alexander <a@example.ru>\nОтправлено: четверг, 26 июня 2014 г. 15:05\nКому: Alex",
            "From: Human Resources\n<a-really-long-address@example.com>\n"
            "Sent: Monday, August 26, 2019 4:37 PM\nTo: Someone\nSubject: A new message",
            "Date: Thu, 26 Jun 2014 13:53:45 +0400\nSubject: Test\nFrom: a@example.com\n"
            "To: b@example.com",
        ],
    )
    def test_header_blocks_end_the_reply(self, block):
        parts = split_reply(f"Reply above.\n\n{block}\n\nThe original message.")
        assert parts.reply == "Reply above."
        assert "The original message." in parts.quoted

    @pytest.mark.parametrize(
        "separator", ["________________________________", " ------------------------------"]
    )
    def test_separator_above_the_block_goes_with_it(self, separator):
        text = f"Reply\n{separator}\n\nFrom: Bob <bob@example.com>\nSent: Monday\nTo: me\n\nold"
        parts = split_reply(text)
        assert parts.reply == "Reply"
        assert parts.quoted.startswith(separator.strip())

    @pytest.mark.parametrize(
        "marker",
        [
            "-----Original Message-----",
            "----- Original Message -----",
            "-----original message-----",
            "-----Ursprüngliche Nachricht-----",
            "-----Message d'origine-----",
            "-------- Original message --------",
            "---------- Forwarded message ---------",
            "Begin forwarded message:",
        ],
    )
    def test_original_message_and_forward_markers(self, marker):
        parts = split_reply(f"New text\n\n{marker}\nHi John,\nold proposal")
        assert parts.reply == "New text"
        assert "old proposal" in parts.quoted

    def test_from_in_body_text_is_not_a_header(self):
        text = (
            "Emails come from: john@example.com and From: jane@example.com\n"
            "From: our database, not from external sources.\n\nThe actual content."
        )
        assert split_reply(text).reply == text

    def test_a_lone_header_like_line_is_content(self):
        text = "Q: how?\nA: like this\n\nDate: tomorrow\nAgenda: review"
        assert split_reply(text).reply == text


class TestSignatures:
    def test_dash_dash_space_delimiter(self):
        parts = split_reply("Body text\n\n-- \nJane Doe\nhttps://jane.example.com")
        assert parts == ReplyParts("Body text", "", "--\nJane Doe\nhttps://jane.example.com")

    def test_delimiter_inside_a_line_or_list_is_content(self):
        text = "A fix -- not a signature.\n\nPoints:\n-- first\n-- second\n\nThanks!"
        assert split_reply(text).reply == text

    def test_markdown_rules_are_content(self):
        text = "Analysis:\n----\n\n1. Faster\n\n----\n\nDone.\n\n====\n\nEnd."
        assert split_reply(text).reply == text

    def test_long_dash_and_underscore_rules(self):
        check(
            split_reply("Thanks!\n\nCheers\nSarah\n\n—————\nSarah Johnson\nsarah@example.com"),
            ["Thanks!", "Cheers", "Sarah"],
            signature=["sarah@example.com"],
        )
        check(
            split_reply("Question?\n\n___________\nusers mailing list\nusers@lists.example.org"),
            ["Question?"],
            signature=["users mailing list"],
        )

    def test_a_single_em_dash_is_content(self):
        text = "🎉\n\n—\nJohn Doe\nCEO at Pandaland"
        assert split_reply(text).reply == text

    @pytest.mark.parametrize(
        "footer",
        [
            "Sent from my iPhone",
            "Sent from my Verizon Wireless BlackBerry",
            "Sent from Mail for Windows",
            "Get Outlook for iOS<https://aka.ms/o0ukef>",
            "Envoyé de mon iPhone",
            "Von meinem iPhone gesendet",
            "Gesendet von Outlook für Android<https://aka.ms/AAb9ysg>",
            "Enviado desde mi iPhone",
            "Enviado do meu iPhone",
            "Inviato da iPhone",
            "Verzonden vanaf mijn iPad",
            "Sendt fra min iPhone",
            "Skickat från min iPhone",
            "Wysłane z iPhone'a",
            "Отправлено с iPhone",
            "Sent from a magnificent torch of pixels",
        ],
    )
    def test_device_footers(self, footer):
        parts = split_reply(f"Short answer.\n\n{footer}\n")
        assert parts.reply == "Short answer."
        assert parts.signature == footer

    def test_device_footer_ends_the_reply(self):
        text = "Ok\n\nSent from my iPhone\n\nOn Apr 3, 2012, at 4:19 PM, bob wrote:\n\n> Hi"
        parts = split_reply(text)
        assert (parts.reply, parts.signature) == ("Ok", "Sent from my iPhone")
        assert "> Hi" in parts.quoted

    def test_sent_from_in_a_sentence_is_content(self):
        text = (
            "Sent from my desk, is much easier then my mobile phone.\n"
            "I sent from my office the documents."
        )
        assert split_reply(text).reply == text

    def test_sign_offs_are_kept_without_a_clear_signature(self):
        text = "Thanks for your help!\n\nBest regards,\nJohn"
        assert split_reply(text).reply == text
        text = "I wanted to discuss this with regards to billing.\n\nAs regards the timeline, ok."
        assert split_reply(text).reply == text

    def test_dash_signature_and_device_footer_together(self):
        text = (
            "Thanks!\n\nBest regards,\nJohn\n\n--\nJohn Doe\nSenior Developer\n\n"
            "Sent from my iPhone"
        )
        parts = split_reply(text)
        assert parts.reply == "Thanks!\n\nBest regards,\nJohn"
        assert parts.signature == "--\nJohn Doe\nSenior Developer\n\nSent from my iPhone"

    def test_sender_aware_signature(self):
        text = "Simone,\n\nIt is 'example.com'. Please check.\n\nThank you,\nNoam"
        parts = split_reply(text, sender="Noam")
        assert parts.reply == "Simone,\n\nIt is 'example.com'. Please check."
        assert parts.signature == "Thank you,\nNoam"
        assert split_reply(text).reply == text  # unknown sender: kept

    def test_sender_address_signature(self):
        text = "Please reply.\n\nJohn E. Doe\nPresident\njohn@example.com"
        parts = split_reply(text, sender="John Doe <john@example.com>")
        assert parts.reply == "Please reply."
        assert parts.signature.startswith("John E. Doe")

    def test_signature_rules_ignore_code_blocks(self):
        text = "Code:\n\n```\n// Sent from my iPhone\nsig = '--'\n--\n> not a quote\n```\n\nDone."
        assert split_reply(text).reply == text

    def test_signature_after_quoted_history_is_removed(self):
        text = (
            "Top reply\n\nOn Fri, Feb 24, 2012 at 10:19 AM, <x@example.com> wrote:\n\n"
            "> q\n\n--\n*Joe*"
        )
        parts = split_reply(text)
        assert parts.reply == "Top reply"
        assert parts.signature == "--\n*Joe*"


class TestHtml:
    def test_gmail(self):
        html = (
            '<div dir="ltr">Hi. I am fine.<div><br></div><div>Thanks,</div><div>Alex</div></div>'
            '<div class="gmail_quote"><div class="gmail_attr">On Thu, Jun 26, 2014 at 2:14 PM, '
            "Alexander &lt;a@example.com&gt; wrote:<br></div>"
            '<blockquote class="gmail_quote">Hello! How are you?</blockquote></div>'
        )
        parts = split_reply_html(html)
        assert _norm(parts.reply) == "Hi. I am fine. Thanks, Alex"
        assert "Hello! How are you?" in parts.quoted

    def test_thunderbird_and_apple_cite(self):
        html = (
            "Sounds good.<br><div class='moz-cite-prefix'>On 26.06.2014 14:41, Alex\n wrote:"
            '<br></div><blockquote type="cite">Old text</blockquote>'
        )
        parts = split_reply_html(html)
        assert parts.reply == "Sounds good."
        assert "Old text" in parts.quoted

    def test_outlook_web_reply_header(self):
        html = (
            "<div>Thanks, that works.</div><div id='appendonsend'></div><hr>"
            "<div id='divRplyFwdMsg'><b>From:</b> Bob &lt;bob@example.com&gt;<br>"
            "<b>Sent:</b> Monday<br><b>Subject:</b> hi</div><div>Old body</div>"
        )
        parts = split_reply_html(html)
        assert parts.reply == "Thanks, that works."
        assert "Old body" in parts.quoted

    def test_outlook_desktop_block_and_original_message(self):
        html = (
            "<p class=MsoNormal>Hi there<o:p></o:p></p><p class=MsoNormal><b>From:</b> Foo "
            "[mailto:foo@bar.com]\n<b>On Behalf Of </b>baz@bar.com<br><b>Sent:</b> Monday, "
            "January 01, 2000\n12:00 AM<br><b>To:</b> john@bar.com<br><b>Subject:</b> Hello</p>"
            "<p>Hello! How are you?</p>"
        )
        parts = split_reply_html(html)
        assert parts.reply == "Hi there"
        assert "How are you?" in parts.quoted
        html = "<div>Hello<br>-----Original Message-----<br>From: bob<br>Hi</div>"
        assert split_reply_html(html).reply == "Hello"

    def test_yahoo_quoted_container(self):
        html = (
            "<div>New reply</div><div class='yahoo_quoted'><div>On Monday, Bob &lt;b@x.com&gt;"
            " wrote:</div><div>Old text</div></div>"
        )
        parts = split_reply_html(html)
        assert parts.reply == "New reply"
        assert "Old text" in parts.quoted

    def test_plain_blockquote_with_attribution(self):
        html = (
            "<p>Hi. I am fine.<br /><br />Thanks,<br />Alex<br /><br />26.06.2014, 14:41, "
            '"Alexander L" &lt;abc@example.com&gt;:</p>'
            "<blockquote> Hello! How are you?</blockquote>"
        )
        assert _norm(split_reply_html(html).reply) == "Hi. I am fine. Thanks, Alex"

    def test_styles_scripts_and_entities(self):
        html = (
            "<html><head><style>p {color: red}</style><title>t</title></head><body>"
            "<script>var x = '> no';</script><p>Caf&eacute; &amp; bar&nbsp;ok</p></body></html>"
        )
        assert split_reply_html(html).reply == "Café & bar ok"

    def test_pre_keeps_layout(self):
        parts = split_reply_html("<pre>line one\n  indented\n</pre><p>after</p>")
        assert parts.reply == "line one\n  indented\nafter"

    def test_broken_html_does_not_raise(self):
        parts = split_reply_html("<div>Unclosed <b>bold<blockquote>q<div class='gmail_attr'>x")
        assert parts.reply == "Unclosed bold"


# --------------------------------------------------------------------------------------------
# 2. The labelled fixtures
# --------------------------------------------------------------------------------------------


def _load_cases() -> list[Any]:
    cases_file = FIXTURES / "cases.jsonl"
    if not cases_file.exists():
        return [
            pytest.param(
                None, marks=pytest.mark.skip(reason=f"fixtures folder not found: {FIXTURES}")
            )
        ]
    cases = [json.loads(line) for line in cases_file.read_text().splitlines() if line.strip()]
    return [pytest.param(case, id=case["id"]) for case in cases]


def _split_fixture(case: dict[str, Any]) -> ReplyParts:
    path = FIXTURES / case["file"]
    sender = case.get("sender") or ""
    if case["format"] == "html":
        return split_reply_html(path.read_text(encoding="utf-8"), sender=sender)
    if case["format"] == "eml":
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        plain = message.get_body(preferencelist=("plain",))
        if plain is not None:
            return split_reply(str(plain.get_content()), sender=sender)
        html = message.get_body(preferencelist=("html",))
        assert html is not None
        return split_reply_html(str(html.get_content()), sender=sender)
    return split_reply(path.read_text(encoding="utf-8"), sender=sender)


CASES = _load_cases()


@pytest.mark.parametrize("case", CASES)
def test_fixture_new_text_survives_and_history_goes(case):
    parts = _split_fixture(case)
    reply = _norm(parts.reply)
    for fragment in case["contains"]:
        assert _norm(fragment) in reply, f"lost {fragment!r}"
    for fragment in case["not_contains"]:
        assert _norm(fragment) not in reply, f"kept {fragment!r}"


@pytest.mark.parametrize("case", CASES)
def test_fixture_signature_is_removed(case):
    parts = _split_fixture(case)
    for fragment in case["signature"]:
        assert _norm(fragment) not in _norm(parts.reply), f"signature left: {fragment!r}"


# --------------------------------------------------------------------------------------------
# 3. Properties
# --------------------------------------------------------------------------------------------

_LINE_PIECES = st.sampled_from(
    [
        "> quoted",
        ">> deeper",
        "On Mon, Jan 1, 2024 at 10:00 AM, Bob <bob@example.com> wrote:",
        "From: Bob <bob@example.com>",
        "Sent: Monday",
        "To: me",
        "-----Original Message-----",
        "-- ",
        "__",
        "Sent from my iPhone",
        "```",
        "Thanks,",
        "",
        "   ",
    ]
)
_TEXTS = st.one_of(
    st.text(),
    st.lists(st.one_of(_LINE_PIECES, st.text(max_size=40)), max_size=30).map("\n".join),
)


@settings(max_examples=300, deadline=None)
@given(text=_TEXTS, sender=st.sampled_from(["", "Bob", "bob@example.com"]))
def test_split_reply_never_raises_and_only_returns_input_lines(text, sender):
    parts = split_reply(text, sender=sender)
    input_lines = text.splitlines()
    for piece in (parts.reply, parts.quoted, parts.signature):
        for line in piece.splitlines():
            if line.strip():
                assert line in text
                assert any(line in source for source in input_lines)
    # Nothing with content is lost: each such input line lands in one of the three parts.
    pieces = (parts.reply, parts.quoted, parts.signature)
    output = {line.strip() for p in pieces for line in p.splitlines()}
    for line in input_lines:
        if any(ch.isalnum() for ch in line):
            assert line.strip() in output


@settings(max_examples=200, deadline=None)
@given(
    html=st.one_of(
        st.text(),
        st.lists(
            st.sampled_from(
                [
                    "<div>",
                    "</div>",
                    "<blockquote>",
                    "</blockquote>",
                    "<br>",
                    "<p>",
                    "</p>",
                    "text",
                    "<div class='gmail_quote'>",
                    "<div id='divRplyFwdMsg'>",
                    "<pre>",
                    "</pre>",
                    "&gt; x",
                    "<style>",
                    "</style>",
                    "<!-- c -->",
                    "On 1 Jan 2020, a <a@b.c> wrote:",
                ]
            )
        ).map("".join),
    )
)
def test_split_reply_html_never_raises(html):
    parts = split_reply_html(html)
    assert isinstance(parts.reply, str)


def test_pathological_input_runs():
    cases_file = FIXTURES / "cases.jsonl"
    if not cases_file.exists():
        pytest.skip(f"fixtures folder not found: {FIXTURES}")
    text = (FIXTURES / "cases" / "zapier__pathological.txt").read_text(encoding="utf-8")
    parts = split_reply(text)
    assert parts.reply.startswith("I think you're onto something.")
    assert "reference sequence" in parts.quoted


def test_large_adversarial_inputs_run():
    split_reply("On Monday:\n" * 5000)
    split_reply("a" * 200_000 + " wrote:")
    split_reply(("From: x <a@b.c>\n" * 3000) + ("-- \n" * 3000))
    split_reply_html("<div>" * 3000 + "x" + "</div>" * 3000)
