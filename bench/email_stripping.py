"""Score the email reply / quote / signature stripper against the labelled fixtures.

  python bench/email_stripping.py [--fixtures DIR] [--verbose]

Fixtures: ../shared/data/email_fixtures (see its README.md). For every case the body is split
with frontline.channels.email.quotes (text -> split_reply, html -> split_reply_html, eml -> the
text/plain part, else the text/html part) and scored:

  keep   every `contains` fragment survives in the reply
  quote  keep, and no `not_contains` fragment (quoted history, quote header) is left in the reply
  full   quote, and no `signature` fragment is left in the reply
  exact  the reply equals the reference (`equals_ignoring_whitespace`, else `expected_reply`),
         all whitespace ignored; cases without a reference are left out. Upstream references
         differ on signatures (talon's quotation gold keeps "Sent from my iPhone" and "-- " blocks,
         the others drop them), so the reply alone or the reply followed by the removed signature
         may match; `exact(reply only)` is the strict count.

Fragments are compared with runs of whitespace collapsed. Prints overall / per source / per
format tables, the failing cases with a one-line reason, and the slowest case. Exit code 0.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import json
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from frontline.channels.email.quotes import (  # noqa: E402
    ReplyParts,
    split_reply,
    split_reply_html,
)

DEFAULT_FIXTURES = ROOT / ".." / "shared" / "data" / "email_fixtures"
SCORES = ("keep", "quote", "full", "exact")


def _norm(text: str) -> str:
    return " ".join(text.split())


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def eml_body(raw: bytes) -> tuple[str, str]:
    """(format, body) of an .eml: the text/plain part if any, else the text/html part."""
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    for preference in (("plain",), ("html",)):
        part = message.get_body(preferencelist=preference)
        if part is not None:
            content = part.get_content()
            return ("text" if preference == ("plain",) else "html"), str(content)
    return "text", ""


def split_case(case: dict[str, Any], fixtures: Path) -> ReplyParts:
    path = fixtures / case["file"]
    sender = case.get("sender") or ""
    if case["format"] == "eml":
        kind, body = eml_body(path.read_bytes())
    else:
        kind, body = case["format"], path.read_text(encoding="utf-8", errors="replace")
    if kind == "html":
        return split_reply_html(body, sender=sender)
    return split_reply(body, sender=sender)


@dataclass
class Result:
    case: dict[str, Any]
    parts: ReplyParts
    seconds: float
    scores: dict[str, bool | None]
    strict_exact: bool | None
    reason: str


def score(
    case: dict[str, Any], parts: ReplyParts
) -> tuple[dict[str, bool | None], bool | None, str]:
    reply = _norm(parts.reply)
    missing = [c for c in case.get("contains", []) if _norm(c) not in reply]
    leftover = [c for c in case.get("not_contains", []) if _norm(c) in reply]
    signature = [c for c in case.get("signature", []) if _norm(c) in reply]
    keep = not missing
    quote = keep and not leftover
    full = quote and not signature
    reference = case.get("equals_ignoring_whitespace")
    if reference is None:
        reference = case.get("expected_reply")
    exact: bool | None = None
    strict: bool | None = None
    if reference is not None:
        want = _squash(reference)
        strict = _squash(parts.reply) == want
        exact = strict or _squash(parts.reply + parts.signature) == want
    reason = ""
    if missing:
        reason = f"keep: lost {missing[0][:70]!r}"
    elif leftover:
        reason = f"quote: still has {leftover[0][:70]!r}"
    elif signature:
        reason = f"full: signature left {signature[0][:70]!r}"
    elif exact is False:
        reason = f"exact: reply is {parts.reply[:90]!r}"
    return {"keep": keep, "quote": quote, "full": full, "exact": exact}, strict, reason


def table(title: str, groups: dict[str, list[Result]]) -> None:
    print(f"\n{title}")
    print(f"  {'':28} {'n':>3}  " + "  ".join(f"{s:>13}" for s in SCORES))
    for name, results in groups.items():
        cells = []
        for s in SCORES:
            values = [r.scores[s] for r in results if r.scores[s] is not None]
            if values:
                ok = sum(bool(v) for v in values)
                cells.append(f"{ok:>3}/{len(values):<3} {100 * ok / len(values):5.1f}%")
            else:
                cells.append(f"{'-':>13}")
        print(f"  {name:28} {len(results):>3}  " + "  ".join(cells))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--verbose", action="store_true", help="print every case's split")
    args = parser.parse_args(argv)
    fixtures: Path = args.fixtures.resolve()
    cases_file = fixtures / "cases.jsonl"
    if not cases_file.exists():
        print(f"no fixtures at {fixtures} (cases.jsonl missing)")
        return 0
    cases = [json.loads(line) for line in cases_file.read_text().splitlines() if line.strip()]

    results: list[Result] = []
    for case in cases:
        start = time.perf_counter()
        parts = split_case(case, fixtures)
        seconds = time.perf_counter() - start
        scores, strict, reason = score(case, parts)
        limit = case.get("max_seconds")
        if limit is not None and seconds > limit:
            reason = (reason + "; " if reason else "") + f"slow: {seconds:.3f}s > {limit}s"
        results.append(Result(case, parts, seconds, scores, strict, reason))
        if args.verbose:
            print(f"\n===== {case['id']} ({case['format']}) {seconds * 1000:.1f} ms")
            print(f"--- reply\n{parts.reply[:1500]}")
            print(f"--- signature\n{parts.signature}")
            print(f"--- quoted ({len(parts.quoted)} chars)\n{parts.quoted[:300]}")
            print(f"--- scores {scores} {reason}")

    table("Overall", {"all": results})
    by_source: dict[str, list[Result]] = defaultdict(list)
    by_format: dict[str, list[Result]] = defaultdict(list)
    for r in results:
        by_source[r.case["source"]].append(r)
        by_format[r.case["format"]].append(r)
    table("Per source", dict(sorted(by_source.items())))
    table("Per format", dict(sorted(by_format.items())))

    strict = [r.strict_exact for r in results if r.strict_exact is not None]
    print(f"\n  exact(reply only): {sum(bool(v) for v in strict)}/{len(strict)}")

    failing = [r for r in results if r.reason]
    print(f"\nFailing cases ({len(failing)}):")
    for r in failing:
        print(f"  {r.case['id']:52} {r.reason}")
    slowest = max(results, key=lambda r: r.seconds)
    print(
        f"\nSlowest case: {slowest.case['id']} {slowest.seconds * 1000:.2f} ms"
        f" (total {sum(r.seconds for r in results) * 1000:.1f} ms for {len(results)} cases)"
    )
    for r in results:
        limit = r.case.get("max_seconds")
        if limit is not None:
            status = "ok" if r.seconds <= limit else "TOO SLOW"
            print(
                f"Timed case: {r.case['id']} {r.seconds * 1000:.2f} ms (limit {limit} s) {status}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
