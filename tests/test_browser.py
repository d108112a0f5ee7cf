"""End-to-end tests in headless Chromium (Debian's /usr/bin/chromium driven by Playwright).

A real HTTP server on localhost serves a real index of the seeds plus synthetic releases.
The results page for 诈骗 is saved to artifacts/screenshots/ for reviewers.
"""

from __future__ import annotations

import itertools
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from search.sync import sync
from tests.conftest import REPO, SEEDS
from tests.journalist_releases import write_journalist_releases
from tests.synthetic import write_releases
from web import create_app

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CHROMIUM = os.environ.get("POLICE_SEARCH_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = REPO / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip


@pytest.fixture(scope="module")
def live_server(tmp_path_factory):
    corpus = tmp_path_factory.mktemp("browser-corpus")
    for seed in SEEDS:
        shutil.copy(seed, corpus / seed.name)
    write_releases(corpus / "synthetic", 30)
    write_journalist_releases(corpus / "journalists")  # one release and its mirror, crime types, sources
    index_dir = tmp_path_factory.mktemp("browser-index")
    sync(index_dir, [corpus])
    app = create_app({"INDEX_DIR": str(index_dir)})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM}: install Debian's chromium (scripts/test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    yield page
    context.close()


def total_of(page) -> int:
    return int(page.locator("#total").inner_text())


def test_type_query_and_see_highlighted_results(page, live_server):
    page.goto(live_server + "/")
    page.fill("input[name=q]", "诈骗")
    page.press("input[name=q]", "Enter")
    page.wait_for_url(re.compile(r"q=%E8%AF%88%E9%AA%97"))
    marks = page.locator(".hit .snippet mark")
    assert marks.count() > 0
    assert set(marks.all_inner_texts()) == {"诈骗"}
    assert page.input_value("input[name=q]") == "诈骗"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "results-诈骗.png"), full_page=True)


def test_district_facet_changes_count_and_chip(page, live_server):
    page.goto(live_server + "/?q=公安")
    before = total_of(page)
    facet = page.locator('a.facet[data-value="九龙坡区"]').first
    facet_count = int(facet.locator(".count").inner_text())
    facet.click()
    page.wait_for_selector('[data-chip="district"]')
    assert total_of(page) == facet_count < before
    assert "九龙坡区" in page.locator('[data-chip="district"]').inner_text()
    page.locator('[data-chip="district"] a').click()
    page.wait_for_load_state()
    assert page.locator('[data-chip="district"]').count() == 0
    assert total_of(page) == before


def test_year_bar_filters_by_year(page, live_server):
    page.goto(live_server + "/")
    bar = page.locator('#facet-year a.bar[data-value="2025"]')
    bar.click()
    page.wait_for_selector('[data-chip="date"]')
    assert "2025-01-01" in page.locator('[data-chip="date"]').inner_text()
    dates = [d for d in page.locator(".hit .date").all_inner_texts()]
    assert dates and all(d.startswith("2025") for d in dates)


def test_open_document_from_results(page, live_server):
    page.goto(live_server + "/?q=萬州")
    page.locator(".hit h3 a", has_text="萬州區公安局").first.click()
    page.wait_for_selector("article.document")
    assert "萬州" in page.locator("article.document h1").inner_text()
    assert page.locator("article.document .body mark").count() > 0
    assert "004_2d3a257640d335f2.txt" in page.locator(".filename").inner_text()


def test_page_forward_keeps_filters(page, live_server):
    page.goto(live_server + "/?q=公安&sort=date")
    first_ids = page.locator(".hit h3 a").evaluate_all("els => els.map(e => e.href)")
    page.locator('a[rel="next"]').click()
    page.wait_for_url(re.compile(r"page=2"))
    assert "sort=date" in page.url
    second_ids = page.locator(".hit h3 a").evaluate_all("els => els.map(e => e.href)")
    assert second_ids and not set(first_ids) & set(second_ids)
    assert page.locator('.pagination strong[aria-current="page"]').inner_text() == "2"


def test_phone_width_layout_has_no_horizontal_scroll(browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(live_server + "/?q=诈骗")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= 375
    page.screenshot(path=str(SCREENSHOTS / "results-phone.png"), full_page=True)
    context.close()


def test_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(live_server + "/")
    page.fill("input[name=q]", "套路贷")
    page.press("input[name=q]", "Enter")
    page.wait_for_selector(".hit")
    assert page.locator(".hit mark").first.inner_text() == "套路贷"
    context.close()


# What a first-time user hit (issue 15), in a real browser.


def test_short_province_name_in_the_district_filter(page, live_server):
    page.goto(live_server + "/?district=河南")
    assert total_of(page) >= 1
    assert page.locator('a.facet.active[data-value="河南省"]').count() == 1
    assert set(page.locator(".hit .place").all_inner_texts()) <= {"河南省 / 漯河市 / 郾城区"}


def test_page_past_the_end_points_to_the_last_page(page, live_server):
    page.goto(live_server + "/?q=诈骗&page=5")
    assert "第 5 页超出范围" in page.locator("#past-the-end").inner_text()
    page.locator("#last-page").click()
    page.wait_for_selector(".hit")
    pages = -(-total_of(page) // 10)
    if pages > 1:  # a single page has no page links
        assert page.locator('.pagination strong[aria-current="page"]').inner_text() == str(pages)
    assert page.locator(".hit").count() == total_of(page) - (pages - 1) * 10


def test_back_from_a_document_keeps_the_filters(page, live_server):
    page.goto(live_server + "/?q=诈骗&district=九龙坡区&sort=date")
    page.locator(".hit h3 a").first.click()
    page.wait_for_selector("article.document")
    page.locator("p.back a").click()
    page.wait_for_selector('[data-chip="district"]')
    assert "district=" in page.url and "sort=date" in page.url
    assert page.locator(".sort strong").inner_text() == "最新"


def test_browsing_shows_newest_as_the_active_sort(page, live_server):
    page.goto(live_server + "/")
    assert page.locator(".sort strong").inner_text() == "最新"
    dates = [d for d in page.locator(".hit .date").all_inner_texts() if d != "日期不详"]
    assert dates == sorted(dates, reverse=True)


def test_date_filter_offers_the_undated_releases_it_hid(page, live_server):
    # counts are of what the page lists: stories, copies of one release collapsed (two seeds are undated)
    page.goto(live_server + "/")
    assert re.search(r"日期不详 [12]\b", page.locator("#undated-count").inner_text())
    page.goto(live_server + "/?from=2015-01-01&per_page=50")
    notice = page.locator("#undated-hidden")
    hidden = int(re.search(r"隐藏了 (\d+) 篇日期不详的通报", notice.inner_text()).group(1))
    assert hidden >= 1
    before = total_of(page)
    notice.locator("a").click()
    page.wait_for_url(re.compile(r"undated=1"))
    assert total_of(page) == before + hidden
    assert "日期不详" in page.locator(".hit .date").all_inner_texts()
    assert page.locator("#undated-hidden").count() == 0


def test_a_refused_query_is_explained_in_chinese_with_the_fix(page, live_server):
    page.goto(live_server + "/")
    page.fill("input[name=q]", '"电信诈骗')
    page.press("input[name=q]", "Enter")
    page.wait_for_selector("#error-message")
    assert "引号不成对" in page.locator("#error-message").inner_text()
    assert not re.search(r"[a-z]{4}", page.locator("main").inner_text())
    page.locator("#error-fix", has_text="去掉引号再搜").click()
    page.wait_for_selector(".hit")
    assert page.input_value("input[name=q]") == "电信诈骗"


def test_year_chart_labels_are_readable_on_a_desktop(page, live_server):
    page.goto(live_server + "/")
    labels = page.locator("#facet-year text.label")
    sizes = labels.evaluate_all("els => els.filter(e => e.textContent).map(e => e.getBoundingClientRect().height)")
    assert sizes and min(sizes) >= 11
    boxes = labels.evaluate_all(
        "els => els.filter(e => e.textContent).map(e => e.getBoundingClientRect()).map(r => [r.left, r.right])"
    )
    assert all(right <= next_left + 1 for (_, right), (next_left, _) in itertools.pairwise(boxes))  # no overlap


def test_date_boxes_show_iso_dates_in_any_locale(browser, live_server):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    page.goto(live_server + "/?from=2025-01-01&to=2025-12-31")
    box = page.locator(".date-range input[name=from]")
    assert box.evaluate("e => e.type") == "text" and box.input_value() == "2025-01-01"
    assert "2025-01-01" in page.locator('[data-chip="date"]').inner_text()
    box.fill("2018/1/1")
    page.locator(".date-range button").click()
    page.wait_for_url(re.compile(r"from=2018"))
    assert "2018-01-01 至 2025-12-31" in page.locator('[data-chip="date"]').inner_text()
    context.close()


def test_phone_reaches_the_filters_from_the_top(browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 800})
    page = context.new_page()
    page.goto(live_server + "/?q=公安")
    jump = page.locator("#jump-to-filters")
    assert jump.is_visible() and jump.bounding_box()["y"] < 400
    jump.click()
    page.wait_for_function("window.scrollY > 0")
    top = page.locator("#filters").bounding_box()["y"]
    assert -2 <= top < 100
    context.close()


def test_choose_results_per_page(page, live_server):
    page.goto(live_server + "/?q=公安")
    assert not page.locator("#jump-to-filters").is_visible()  # a desktop shows the filters beside the results
    assert page.locator(".hit").count() == 10
    page.locator('.per-page a[data-per-page="20"]').click()
    page.wait_for_url(re.compile(r"per_page=20"))
    assert page.locator(".hit").count() == min(20, total_of(page))
    assert page.locator(".per-page strong").inner_text() == "20"


def test_about_page_shows_the_index_status(page, live_server):
    page.goto(live_server + "/")
    page.locator("footer a", has_text="关于本站").click()
    page.wait_for_selector("#status")
    documents = int(page.locator("#documents").inner_text())
    assert documents >= 35  # the seeds, the synthetic releases and the journalists' fixtures
    assert f"新增 {documents}" in page.locator("#last-reindex").inner_text()
    assert page.locator("#version").inner_text().startswith("police-search ")
    assert re.fullmatch(r"[\d.]+ [KM]B", page.locator("#index-size").inner_text())


def test_copies_line_opens_to_the_other_outlets_and_every_copy_can_be_shown(page, live_server):
    page.goto(live_server + "/?q=客服")
    assert total_of(page) == 1
    copies = page.locator(".hit details.copies")
    assert copies.locator("summary").inner_text() == "另有 1 个来源"
    copies.locator("summary").click()
    assert copies.locator("a", has_text="重慶晨報").is_visible()
    page.locator("#show-every-copy").click()
    page.wait_for_url(re.compile(r"collapse=0"))
    assert total_of(page) == 2
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "results-copies.png"), full_page=True)


def test_crime_type_and_source_facets_filter_with_chips(page, live_server):
    page.goto(live_server + "/")
    before = total_of(page)
    crime = page.locator('#facet-crime_type a.facet[data-value="诈骗"]')
    crime_count = int(crime.locator(".count").inner_text())
    crime.click()
    page.wait_for_selector('[data-chip="crime"]')
    assert total_of(page) == crime_count < before
    source = page.locator('#facet-source a.facet[data-value="平安九龙坡"]')
    source_count = int(source.locator(".count").inner_text())
    source.click()
    page.wait_for_selector('[data-chip="source"]')
    assert total_of(page) == source_count == 2
    assert "crime=" in page.url and page.locator('[data-chip="crime"]').count() == 1
    page.locator('[data-chip="crime"] a').click()
    page.wait_for_load_state()
    assert page.locator('[data-chip="crime"]').count() == 0 and page.locator('[data-chip="source"]').count() == 1


def test_document_page_links_its_metadata_and_shows_similar_releases(page, live_server):
    page.goto(live_server + "/?q=客服")
    page.locator(".hit h3 a").first.click()
    page.wait_for_selector("article.document")
    assert page.locator("#copies a", has_text="重慶晨報").count() == 1
    assert page.locator("#similar li").count() >= 1
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "document-copies-similar.png"), full_page=True)
    page.locator(".metadata a", has_text="平安九龙坡").click()
    page.wait_for_selector('[data-chip="source"]')
    assert total_of(page) == 2


def test_download_every_result_as_csv_from_the_results_page(page, live_server):
    import csv
    import json
    import urllib.request

    page.goto(live_server + "/?q=公安&collapse=0&per_page=10")
    shown = total_of(page)
    assert shown > 10  # more than the page shows
    with page.expect_download() as waiting:
        page.click("#download-csv")
    download = waiting.value
    assert download.suggested_filename == "police-search.csv"
    raw = Path(download.path()).read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    assert len(rows) == shown
    pages = -(-shown // 100)
    ids = []
    for number in range(1, pages + 1):
        url = f"{live_server}/api/search?q=%E5%85%AC%E5%AE%89&collapse=0&per_page=100&page={number}"
        with urllib.request.urlopen(url) as response:
            ids += [hit["id"] for hit in json.load(response)["hits"]]
    assert [row["id"] for row in rows] == ids
    assert all(row["link"] == f"/doc/{row['id']}" for row in rows)  # no PUBLIC_URL: paths
    page.goto(live_server + rows[0]["link"])  # the link leads to the release's page
    assert page.locator("article.document h1").inner_text() == rows[0]["title"]
