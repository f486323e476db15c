"""Sample days with a data-quality fault on demand: a feature drift, a missing column, a column of the wrong type."""

from __future__ import annotations

from datetime import date

import pytest

from devtools.sample_data.__main__ import main
from devtools.sample_data.data_faults import DataFault
from devtools.sample_data.partitions import daily_partition

DAY = date(2024, 3, 1)


@pytest.fixture(scope="module")
def day() -> object:
    return daily_partition(DAY, rows=400)


def test_a_drift_moves_the_column_by_its_standard_deviations_and_nothing_else(day) -> None:
    drifted = DataFault.parse("drift:age=1.5").apply(day, seed=1)
    assert (drifted["age"] - day["age"]).round(9).unique().tolist() == [round(1.5 * day["age"].std(), 9)]
    assert drifted.drop(columns=["age"]).equals(day.drop(columns=["age"]))


def test_a_missing_column_is_gone_and_a_type_break_makes_a_fifth_of_it_text(day) -> None:
    assert "educ" not in DataFault.parse("missing:educ").apply(day, seed=1).columns
    broken = DataFault.parse("type:children").apply(day, seed=1)["children"]
    text = broken.map(lambda value: isinstance(value, str)).mean()
    assert 0.1 < text < 0.3 and set(broken[broken.map(lambda value: isinstance(value, str))]) == {"unknown"}


@pytest.mark.parametrize(("text", "message"), [
    ("drift:age", "expected drift:<column>=<standard deviations>, missing:<column> or type:<column>"),
    ("rename:age", "expected drift:<column>"),
])
def test_a_fault_that_is_not_one_of_the_kinds_is_refused_naming_them(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DataFault.parse(text)


def test_a_fault_on_a_column_the_data_does_not_have_names_the_columns_it_has(day) -> None:
    with pytest.raises(ValueError, match=r"no column 'height'; the data's columns are rate_marriage, age, "):
        DataFault.parse("missing:height").apply(day, seed=1)


def test_the_command_refuses_a_bad_fault_before_it_writes_anything(capsys) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["--bucket", "b", "--from", "2024-03-01", "--to", "2024-03-01", "--fault", "shift:age=1"])
    assert refused.value.code == 2
    assert "--fault: fault 'shift:age=1': expected drift:<column>=" in capsys.readouterr().err
