"""`citizen-bot check` passes on the repository and names every kind of problem precisely."""
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bot.knowledge import check as validation
from bot.knowledge import load as knowledge
from bot.settings import ROOT

BUS = {
    "id": "bus-fare-copy", "title": "公交票价", "category": "交通出行",
    "examples": ["坐公交要几块钱", "公交车票价格", "公交怎么收费的呀", "城乡公交车费", "公交一趟多少钱"],
    "answers": {"平泉": {"text": "平泉公交基础票价2元，最高票价8元。",
                         "quotes": ["基础票价2元,最高票价8元"], "seed": "000_ff720f5e860dd746.txt"}},
}


def check_root(tmp_path: Path, topics: list[dict]) -> list[str]:
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    (tmp_path / "intents").mkdir()
    (tmp_path / "intents" / "t.yaml").write_text(yaml.safe_dump(topics, allow_unicode=True), encoding="utf-8")
    try:
        return validation.problems(knowledge.load(tmp_path))
    except knowledge.KnowledgeError as exc:
        return exc.problems


def with_answer(**changes) -> dict:
    topic = yaml.safe_load(yaml.safe_dump(BUS, allow_unicode=True))
    topic["answers"]["平泉"].update(changes)
    return topic


def test_the_repository_knowledge_is_clean():
    result = subprocess.run([sys.executable, "-m", "bot", "check"], check=False, capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "check: ok" in result.stdout


def test_a_clean_topic_passes(tmp_path):
    assert check_root(tmp_path, [BUS]) == []


def test_quote_not_verbatim_is_reported_with_its_place(tmp_path):
    found = check_root(tmp_path, [with_answer(quotes=["基础票价2元，最高票价8元"])])  # full-width comma
    assert any("topic bus-fare-copy, 平泉: quote not found verbatim" in p for p in found)


def test_figure_missing_from_quotes_is_reported(tmp_path):
    found = check_root(tmp_path, [with_answer(text="平泉公交基础票价2元，最高票价10元。")])
    assert any("figure '10'" in p for p in found)


def test_quote_spanning_a_lost_figure_is_reported(tmp_path):
    topic = with_answer(text="寿光居民医保财政补助提高了，但发布会未给出具体数字。",
                        quotes=["参保人均财政补助提高至每人每年元"], seed="004_6309bc7b4e85687d.txt")
    topic["answers"] = {"寿光": topic["answers"].pop("平泉")}
    found = check_root(tmp_path, [topic])
    assert any("quote contains a lost figure" in p for p in found)


def test_a_quote_ending_at_the_hole_is_allowed(tmp_path):
    topic = with_answer(text="寿光居民医保财政补助提高了，但发布会未给出具体数字。", figure_missing=True,
                        quotes=["参保人均财政补助提高至每人每年"], seed="004_6309bc7b4e85687d.txt")
    topic["answers"] = {"寿光": topic["answers"].pop("平泉")}
    assert check_root(tmp_path, [topic]) == []


def test_figure_missing_answer_must_say_so(tmp_path):
    found = check_root(tmp_path, [with_answer(figure_missing=True)])
    assert any("未给出具体数字" in p for p in found)


def test_duplicate_examples_across_topics(tmp_path):
    other = dict(BUS, id="bus-fare-twin")
    found = check_root(tmp_path, [BUS, other])
    assert any("appears in several topics: bus-fare-copy, bus-fare-twin" in p for p in found)


def test_too_few_examples_and_city_names_in_examples(tmp_path):
    found = check_root(tmp_path, [dict(BUS, examples=["平泉公交多少钱", "票价"])])
    assert any("2 examples, at least" in p for p in found)
    assert any("names a city" in p for p in found)


def test_schema_errors(tmp_path):
    found = check_root(tmp_path, [{"id": "x", "title": "t", "examples": [], "answers": {"北京": {"text": "a"}}}])
    assert any("'北京' is not one of" in p for p in found)
    assert any("needs 'text' and 'seed'" in p for p in found)


def test_answer_citing_another_citys_briefing(tmp_path):
    found = check_root(tmp_path, [with_answer(seed="001_7a615f0f611b1774.txt")])
    assert any("is 定州's briefing, not 平泉's" in p for p in found)


@pytest.mark.parametrize("field,value", [("title", "不存在的标题"), ("places", ["不存在镇"])])
def test_seed_metadata_must_stand_in_the_briefing(tmp_path, field, value):
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    meta_path = tmp_path / "seeds" / "meta.yaml"
    meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
    meta["000_ff720f5e860dd746.txt"][field] = value
    meta_path.write_text(yaml.safe_dump(meta, allow_unicode=True), encoding="utf-8")
    (tmp_path / "intents").mkdir()
    found = validation.problems(knowledge.load(tmp_path))
    assert any("does not occur in the briefing" in p for p in found)


def test_seeds_are_the_shared_briefings_unchanged():
    shared = ROOT.parent / "shared" / "seeds"
    if not shared.is_dir():
        pytest.skip("shared/ is not beside this checkout")
    for path in shared.glob("*.txt"):
        assert (ROOT / "seeds" / path.name).read_bytes() == path.read_bytes()
