"""Tests of the LaTeX and Markdown export of the derived equations."""

import sympy as sp

from flowphase.theory import latex
from flowphase.theory.schedules import linear_schedule
from flowphase.theory.symbols import M, P, sigma, t


def _by_label(entries):
    return {label: equation for label, equation, _ in entries}


def test_equations_have_unique_labels():
    entries = latex.derivation_equations()
    labels = [label for label, _, _ in entries]
    assert len(labels) == len(set(labels))
    for label in ("denoiser", "velocity", "optimal-omega", "flow-y", "flow-P"):
        assert label in labels, label


def test_dilated_entries_include_phase_limits():
    equations = _by_label(latex.derivation_equations())
    assert equations["limit-c-piece-1"].rhs == 0
    assert equations["limit-omega-piece-2"].rhs == sp.oo
    assert "flow-y-limit-piece-1" in equations
    assert equations["solution-M-piece-2"] == sp.Eq(M, t)
    assert equations["solution-P-piece-2"] == sp.Eq(P, (1 - t) ** 2 + sigma**2 * t**2)


def test_linear_schedule_has_saturated_flow_only():
    equations = _by_label(latex.derivation_equations(linear_schedule()))
    assert "flow-M-limit-piece-1" in equations
    assert "flow-y-limit-piece-1" not in equations


def test_latex_document_numbers_every_equation():
    entries = latex.derivation_equations()
    document = latex.to_latex_document(entries, title="Flow_phase & {limits} \\ 100%")
    assert document.startswith(r"\documentclass{article}")
    assert document.count(r"\begin{equation}") == len(entries)
    assert document.count(r"\end{equation}") == len(entries)
    assert r"\label{eq:denoiser}" in document
    assert r"Flow\_phase \& \{limits\} \textbackslash{} 100\%" in document
    assert r"\dot{\alpha}" in document
    assert document.rstrip().endswith(r"\end{document}")


def test_markdown_has_display_blocks():
    entries = [("custom", r"a = b", "A string equation is passed through.")]
    text = latex.to_markdown(entries)
    assert text.count("$$") == 2
    assert "a = b" in text
    assert text.startswith("**custom**: A string equation")
