"""The benchmarks keep working (they are not timed here: docs/performance.md holds their figures)."""
from bot.bench import match
from bot.bench.synthetic import scaled
from bot.cli import main
from bot.settings import ROOT


def test_synthetic_copies_share_vocabulary_but_are_not_duplicates(brain):
    kn = brain.knowledge
    big = scaled(kn, 3)
    assert len(big.topics) == 3 * len(kn.topics) and len(big.by_id) == len(big.topics)
    original, copy = kn.topics[0], big.by_id[kn.topics[0].id + "~1"]
    before, after = "".join(original.examples), "".join(copy.examples)
    kept = sum(a == b for a, b in zip(before, after)) / len(before)
    assert after != before and 0.3 < kept < 1.0
    assert set(copy.answers) == set(original.answers)
    assert scaled(kn, 1) is kn


def test_bench_match_compares_with_brute_force_in_the_same_run(capsys):
    row = match.one_scale(ROOT, ROOT / "tests" / "data", 1, brute=5)
    assert row["topics"] == 236 and row["matcher"]["n"] > 300 and row["brute"]["n"] == 5
    assert row["ratio_p50"] > 0 and row["rss_mb"] > 0
    assert "| 1× | 236 |" in match.table_row(row)


def test_the_cli_offers_every_benchmark(capsys):
    for kind in ("match", "http", "startup"):
        try:
            main(["bench", kind, "--help"])
        except SystemExit as done:
            assert done.code == 0
        assert "usage: citizen-bot bench " + kind in capsys.readouterr().out
