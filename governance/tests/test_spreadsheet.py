"""Every CSV we hand out shows a formula as text (CSV injection)."""

import pytest

from governance.spreadsheet import formula_safe


@pytest.mark.parametrize(
    "cell",
    ['=HYPERLINK("http://evil")', "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"],
)
def test_a_cell_a_spreadsheet_would_run_gets_an_apostrophe(cell):
    assert formula_safe(cell) == "'" + cell


@pytest.mark.parametrize("cell", ["Hello = world", "1+1", "", "  =x", 5, None, 1.5])
def test_other_cells_are_unchanged(cell):
    assert formula_safe(cell) == cell
