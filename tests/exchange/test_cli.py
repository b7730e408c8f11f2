"""`tongban exchange import` and `scan`: an operator loads a provider's snapshot, all or nothing."""

from typer.testing import CliRunner

from tests.exchange.conftest import LISI, ZHANGSAN
from tongban.cli.main import app
from tongban.exchange.models import Record

HEADER = "公民身份号码,姓名,性别,出生日期,民族,户籍地区划,住址,与户主关系,人员状态,更新日期"


def _invoke(*args):
    return CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": "200"})


def test_import_reports_every_malformed_row_and_imports_nothing(population, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "\n".join(
            [
                HEADER,
                f"{ZHANGSAN},张三,1,19850312,汉族,511602,建设路1号,户主,0,2026/10/1",
                f"{LISI},李四,3,19900701,汉族,511602,建设路2号,户主,0,2026/10/1",
            ]
        ),
        encoding="utf-8",
    )
    before = Record.objects.count()
    result = _invoke("exchange", "import", "population", bad)
    assert result.exit_code == 1
    assert "row 2  sex" in result.output and "nothing was imported" in result.output
    assert Record.objects.count() == before
    good = tmp_path / "good.csv"
    good.write_text(
        HEADER + f"\n{ZHANGSAN},张三,1,19850312,汉族,511602,建设路1号,户主,0,2026/10/1\n", "utf-8"
    )
    result = _invoke("exchange", "import", "population", good)
    assert result.exit_code == 0, result.output
    assert "population: 1 records imported, 0 flagged" in result.output
    assert Record.objects.filter(resource__code="population").count() == 1
    assert _invoke("exchange", "import", "nonsense", good).exit_code == 2
