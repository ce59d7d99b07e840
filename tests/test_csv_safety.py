"""Downloads are opened in spreadsheets: text that a spreadsheet would run as a formula is
defused, numbers are left alone."""

import pandas as pd

from evalrunner.metrics.output import csv_text


def test_formula_like_text_is_defused_and_numbers_are_not() -> None:
    frame = pd.DataFrame({"model": ['=HYPERLINK("http://x","y")', "+1", "@SUM(A1)", "-2", "ok"],
                          "value": [0.5, -0.25, 1.0, 2.0, 3.0]})
    lines = csv_text(frame).splitlines()
    assert lines == ["model,value", "\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",0.5",
                     "'+1,-0.25", "'@SUM(A1),1.0", "'-2,2.0", "ok,3.0"]
