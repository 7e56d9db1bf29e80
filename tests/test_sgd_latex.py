"""Tests of the LaTeX entries of the SGD overlap ODEs."""

from flowphase.theory import latex, sgd_latex


def _by_label():
    return {label: text for label, text, _ in sgd_latex.sgd_equations()}


def test_sgd_entries_cover_both_phases():
    entries = _by_label()
    assert len(entries) == len(sgd_latex.sgd_equations())
    for name in ("c", "b", "m", "q", "omega", "r"):
        assert f"sgd-phase-1-{name}" in entries, name
    for name in ("c", "m", "q"):
        assert f"sgd-phase-2-{name}" in entries, name


def test_sgd_entries_show_moments_as_expectations():
    entries = _by_label()
    for label, text in entries.items():
        assert "M_{" not in text, label
    assert r"\mathbb{E}[s\phi]" in entries["sgd-phase-1-m"]
    assert r"\eta" in entries["sgd-phase-1-r"]
    assert r"\eta" not in entries["sgd-phase-2-q"]


def test_sgd_fixed_point_entry_has_limit():
    text = _by_label()["sgd-phase-2-fixed-c"]
    assert text.startswith(r"c = \frac{\beta \sigma^{2}}{\Gamma}")
    assert r"\to" in text


def test_sgd_document_numbers_entries():
    entries = sgd_latex.sgd_equations()
    document = latex.to_latex_document(entries, title="SGD")
    assert document.count(r"\begin{equation}") == len(entries)
    assert r"\label{eq:sgd-phase-1-omega}" in document



def test_sgd_entries_cover_linear_schedule():
    entries = _by_label()
    assert "sgd-linear-window-b" in entries
    for name in ("c", "m", "q"):
        assert f"sgd-linear-fixed-{name}" in entries
    assert r"\sigma^{2} t" in entries["sgd-linear-fixed-point-c"]
