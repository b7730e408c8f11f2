"""Issue 9, defect 10: a file DuckDB cannot read is refused in our words; DuckDB's message (its
internals, the server's temporary paths) goes to the log only."""

import pytest

from tests.conftest import actor
from tongban.core.errors import InvalidInput
from tongban.insight import services


@pytest.mark.parametrize(
    ("name", "content"),
    [("log.parquet", b"PAR1 not really parquet"), ("log.csv", b'case,activity,ts\n"1,a,\x00\xff\n')],
)
def test_an_unreadable_table_names_no_internals(db, tmp_path, name, content, caplog):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as refused:
        services.import_log(actor("supervisor"), path)
    shown = " ".join(str(p.message) for ps in refused.value.fields.values() for p in ps)
    assert str(tmp_path) not in shown
    assert "Error" not in shown and "duckdb" not in shown.lower()
