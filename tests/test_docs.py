"""The derivations page shows what the symbolic layer exports."""

from pathlib import Path

from flowphase.theory.latex import to_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs"


def test_derivations_page_is_current():
    text = (DOCS / "derivations.md").read_text(encoding="utf-8")
    start = text.index("<!-- derived equations: begin -->\n") + len(
        "<!-- derived equations: begin -->\n")
    end = text.index("<!-- derived equations: end -->")
    assert text[start:end].strip() == to_markdown().strip()
