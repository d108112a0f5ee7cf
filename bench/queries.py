"""The fixed query mix: every query runs once per measurement, so no cache decides the figure."""

QUERIES: list[dict] = [
    # single words
    {"q": "诈骗"}, {"q": "民警"}, {"q": "派出所"}, {"q": "命案"}, {"q": "禁毒"}, {"q": "反诈"},
    {"q": "扫黑除恶"}, {"q": "套路贷"}, {"q": "群租房"}, {"q": "巡逻"},
    # several words (all required)
    {"q": "诈骗 嫌疑人"}, {"q": "九龙坡 命案"}, {"q": "电信诈骗 抓获"}, {"q": "平安建设 成效"},
    {"q": "夜间 巡逻 民警"},
    # phrases (the baseline cannot match these correctly)
    {"q": '"电信诈骗"'}, {"q": '"犯罪嫌疑人"'}, {"q": '"扫黑除恶"'}, {"q": '"公安分局"'}, {"q": '"派出所民警"'},
    # Traditional script
    {"q": "萬州"}, {"q": "詐騙"}, {"q": "公安機關"}, {"q": "掃黑除惡"}, {"q": "治安 穩定"},
    # filters and sorting (facets and snippets are always on for ours)
    {"q": "诈骗", "district": "重庆市"}, {"q": "", "district": "河南省"}, {"q": "民警", "district": "海淀区"},
    {"q": "诈骗", "date_from": "2020-01-01", "date_to": "2022-12-31"}, {"q": "", "date_from": "2025-01-01"},
    {"q": "诈骗", "sort": "date"}, {"q": "民警", "sort": "date", "district": "广东省"},
]  # fmt: skip
