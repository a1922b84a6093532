from bot.understanding.places import nearest_city


def test_towns_and_districts_name_their_city(brain):
    g = brain.gazetteer
    assert g.find("桲椤树镇到市区多远").city == "平泉"
    assert g.find("台头山饮水工程").city == "平泉"
    assert g.find("东侨开发区企业诉求").city == "宁德"
    assert g.find("确山县的蔬菜基地").city == "驻马店"


def test_a_place_in_two_briefings_names_no_city(brain):
    # 学院路 is a road in both 定州 and 寿光
    assert brain.gazetteer.find("学院路修好了吗").city is None


def test_uncovered_cities_are_recognised_and_stripped(brain):
    found = brain.gazetteer.find("北京市公交票价多少")
    assert found.city is None and found.other == "北京"
    assert "北京" not in found.stripped


def test_city_suffix_is_stripped_but_not_from_shiqu(brain):
    assert brain.gazetteer.find("平泉市区").stripped == "市区"
    assert brain.gazetteer.find("平泉市的公交").stripped == "的公交"


def test_nearest_city_from_coordinates():
    assert nearest_city(26.67, 119.52) == "宁德"       # 宁德 city centre
    assert nearest_city(36.88, 118.73) == "寿光"
    assert nearest_city(39.90, 116.40) == "定州"       # Beijing is 190 km from 定州
    assert nearest_city(23.13, 113.26) is None         # Guangzhou is near none of them
