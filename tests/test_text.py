from bot.understanding.text import arabic_numerals, chinese_to_int, normalize


def test_full_width_and_traditional_fold_to_simplified_half_width():
    assert normalize("平泉公交車票價多少？") == "平泉公交车票价多少"
    assert normalize("ＡＢＣ１２３％") == "abc123%".replace("%", "")


def test_chinese_numerals_become_digits_only_where_they_are_quantities():
    assert arabic_numerals("十二个工作日") == "12个工作日"
    assert arabic_numerals("三百零五名网格员") == "305名网格员"
    assert arabic_numerals("五十岁") == "50岁"
    assert arabic_numerals("一站式服务") == "一站式服务"
    assert arabic_numerals("3万人") == "3万人"


def test_chinese_to_int_handles_positional_and_digit_by_digit_forms():
    assert chinese_to_int("一万二千") == 12000
    assert chinese_to_int("二零二一") == 2021
    assert chinese_to_int("十") == 10


def test_punctuation_and_spaces_do_not_matter():
    assert normalize(" 平泉，公交 多少钱?!") == normalize("平泉公交多少钱")
