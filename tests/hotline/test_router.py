"""The learned router: trained on segmented text, used on raw text; abstains when unsure; saved
with its version; `tongban hotline train` / `evaluate` print their figures and one EVAL line."""

import csv
import random
import re

import pytest
from typer.testing import CliRunner

from tongban.cli.main import app
from tongban.hotline import router, services
from tongban.hotline.models import TrainingExample

from ..conftest import actor

VOCAB = {
    "城乡建设": ["小区", "物业", "垃圾", "清运", "路灯", "供水", "管道", "施工", "噪音", "绿化"],
    "劳动和社会保障": ["工资", "拖欠", "社保", "养老", "退休", "医保", "缴费", "用工", "合同", "工伤"],
    "教育文体": ["学校", "学生", "老师", "招生", "学位", "幼儿园", "补课", "收费", "教材", "体育"],
}
FILLER = ["请", "领导", "尽快", "处理", "我们", "问题", "反映", "多次", "希望", "解决"]


def message(label: str, rng: random.Random, *, segmented: bool) -> str:
    other = rng.choice([k for k in VOCAB if k != label])
    words = rng.sample(VOCAB[label], 3) + rng.sample(VOCAB[other], 1) + rng.sample(FILLER, 3)
    rng.shuffle(words)
    if segmented:
        return " ".join(words)
    return "，".join(["".join(words[:3]), "".join(words[3:])]) + "！\n\t"


def write(path, rows, header=("分词文本", "一级分类")):
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def files(tmp_path, settings):
    settings.VAR_DIR = tmp_path / "var"
    router._loaded.clear()
    rng = random.Random(7)
    train = [(message(label, rng, segmented=True), label) for label in VOCAB for _ in range(30)]
    raw = [(message(label, rng, segmented=False), label) for label in VOCAB for _ in range(10)]
    yield write(tmp_path / "train.csv", train), write(tmp_path / "raw.csv", raw, header=("text", "label"))
    router._loaded.clear()


def test_normalise_makes_segmented_and_raw_text_alike():
    assert (
        router.normalise("A1 区 蔡锷 南路\t水箱")
        == router.normalise("A1区，蔡锷南路！\n水箱")
        == "a1区蔡锷南路水箱"
    )
    assert router.normalise("ＡＢＣ１２３") == "abc123"


def test_trained_on_segmented_text_it_routes_raw_text(files):
    train_file, raw_file = files
    texts, labels = router.read_labelled(train_file)
    model = router.train(texts, labels, folds=3, target_abstain=0.1)
    assert 0 < model.threshold < 1 and model.cv["folds"] == 3
    path = router.save(model)
    assert path.name == "router-v1.joblib" and router.save(model).name == "router-v2.joblib"
    loaded = router.load()
    assert loaded.version == 2 and loaded.classes == sorted(VOCAB)
    raw_texts, raw_labels = router.read_labelled(raw_file)
    result = router.evaluate(loaded, raw_texts, raw_labels)
    assert result.macro_f1 > 0.9
    assert re.fullmatch(
        r"EVAL hotline_routing macro_f1=[\d.]+ accuracy=[\d.]+ n=30 abstained=[\d.]+ "
        r"confident_macro_f1=[\d.]+",
        result.eval_line(),
    )
    # the one-message fast path computes exactly what the pipeline computes
    import numpy as np

    scores = np.array([loaded.scores_one(t) for t in raw_texts])
    expected = loaded.pipeline.decision_function([router.prepare(t) for t in raw_texts])
    assert np.allclose(scores, expected, atol=1e-9)
    assert [s.label for s in loaded.suggest_many(raw_texts)] == [loaded.suggest(t).label for t in raw_texts]
    # a message with nothing the router knows is not guessed at
    unsure = loaded.suggest("今天天气怎么样")
    assert unsure.abstained and unsure.label is None and unsure.ranked


def test_a_missing_column_is_named(tmp_path):
    path = write(tmp_path / "x.csv", [("a", "b")], header=("正文", "类"))
    with pytest.raises(router.DataError, match="no text column"):
        router.read_labelled(path)
    assert router.read_labelled(path, text="正文", label="类") == (["a"], ["b"])


@pytest.mark.django_db
def test_the_cli_trains_then_evaluates_and_the_operator_gets_suggestions(files, taxonomy):
    train_file, raw_file = files
    # an operator's correction is training data for the next model
    TrainingExample.objects.create(
        text="学校 食堂 收费", label="教育文体", suggested="城乡建设", overridden=True
    )
    runner = CliRunner()
    trained = runner.invoke(
        app, ["hotline", "train", str(train_file), "--folds", "3"], env={"COLUMNS": "200"}
    )
    assert trained.exit_code == 0, trained.output
    assert "version 1" in trained.output and "Operator-confirmed orders: 1" in trained.output
    assert "Cross-validation (3 folds): macro_f1=" in trained.output
    evaluated = runner.invoke(app, ["hotline", "evaluate", str(raw_file)], env={"COLUMNS": "200"})
    assert evaluated.exit_code == 0, evaluated.output
    last = evaluated.output.strip().splitlines()[-1]
    assert last.startswith("EVAL hotline_routing macro_f1=") and " n=30 " in last
    for label in VOCAB:
        assert label in evaluated.output
    missing = runner.invoke(app, ["hotline", "evaluate", str(raw_file), "--text", "正文"])
    assert missing.exit_code == 2

    suggestion = services.suggest_route(actor("operator"), "小区物业不管，垃圾清运太慢，路灯也坏了")
    assert suggestion.category == "城乡建设" and suggestion.department_code == "zjj"
    assert suggestion.model_version == 1


def test_no_model_means_no_suggestion(db, settings, tmp_path):
    settings.VAR_DIR = tmp_path
    router._loaded.clear()
    suggestion = services.suggest_route(actor("operator"), "小区垃圾")
    assert suggestion.abstained and suggestion.model_version == 0


def test_the_demo_trains_a_router_once(files, settings, tmp_path):
    from tongban.hotline import demo

    train_file, _ = files
    (tmp_path / "data" / "hotline").mkdir(parents=True)
    (tmp_path / "data" / "hotline" / "labeled_messages_segmented.csv").write_bytes(train_file.read_bytes())
    settings.DATA_DIR = tmp_path / "data"
    assert demo.ensure_router().startswith("12345 router v1 trained on 90 messages")
    assert "already there" in demo.ensure_router()
    settings.DATA_DIR = tmp_path / "nowhere"
    router._loaded.clear()
    settings.VAR_DIR = tmp_path / "empty"
    assert "not trained" in demo.ensure_router()
