"""The YAML export: the repository's intents/ written back from the schema are the same bytes."""
import shutil

from bot.knowledge import dump as export
from bot.knowledge.load import load
from bot.settings import ROOT


def test_the_repository_intents_round_trip_byte_for_byte(tmp_path):
    written = export.dump(load(ROOT), tmp_path / "intents")
    assert sorted(p.name for p in written) == sorted(p.name for p in (ROOT / "intents").glob("*.yaml"))
    for path in written:
        assert path.read_bytes() == (ROOT / "intents" / path.name).read_bytes(), path.name


def test_topic_dicts_round_trip_and_keep_their_file():
    kn = load(ROOT)
    for topic in kn.topics:
        raw = export.topic_to_raw(topic)
        assert raw["file"] == topic.source_file
        assert export.topic_from_dict(raw) == topic


def test_answer_dates_and_awkward_scalars_survive_the_export(tmp_path):
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    kn = load(ROOT)
    raw = export.topic_to_raw(kn.by_id["bus-fare"])
    raw["answers"]["平泉"].update(as_of="2025-03-01", review_by="2026-01-31")
    raw["title"] = "票价: 'yes' # 不是注释"
    raw["keywords"] = ["12345", "true", "[x]"]
    raw["file"] = "t.yaml"
    (tmp_path / "intents").mkdir()
    export.dump(export.knowledge_from(kn.seeds, {"topics": [raw]}), tmp_path / "intents")
    again = export.topic_to_raw(load(tmp_path).by_id["bus-fare"])
    assert again == {**raw, "comment": ""}
    assert "as_of: 2025-03-01" in (tmp_path / "intents" / "t.yaml").read_text(encoding="utf-8")
