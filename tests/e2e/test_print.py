"""The dashboard's charts when printed: drawn, inside an A4 page, dark text, bars in colour, no controls."""
from playwright.sync_api import expect

from conference.seed import demo
from e2e.test_browser import log_in

#: A4 (210 mm) less the 15 mm margins of @page, in CSS pixels (96 per inch).
PRINTABLE_WIDTH = (210 - 2 * 15) / 25.4 * 96


def test_dashboard_charts_are_readable_in_print(live_server, page, tmp_path):
    log_in(page, live_server, "coordinator", demo.DEFAULT_PASSWORD)
    page.set_viewport_size({"width": round(PRINTABLE_WIDTH), "height": 1100})
    page.goto(live_server + "/dashboard?year=2021")
    page.emulate_media(media="print")

    expect(page.locator("header")).to_be_hidden()
    expect(page.locator("form.filters").first).to_be_hidden()
    charts = page.locator("svg.chart")
    assert charts.count() >= 6
    for index in range(charts.count()):
        chart = charts.nth(index)
        expect(chart).to_be_visible()
        box = chart.bounding_box()
        assert 200 < box["width"] <= PRINTABLE_WIDTH + 1 and box["height"] > 20
    # labels and values are dark on white, 12 px or more; bars keep their colour
    style = page.evaluate("""() => {
        const label = document.querySelector('svg.chart .chart-value');
        const bar = document.querySelector('svg.chart rect');
        const s = getComputedStyle(label), b = getComputedStyle(bar);
        return {fill: s.fill, size: parseFloat(s.fontSize), bar: b.fill, adjust: b.printColorAdjust};
    }""")
    red, green, blue = (int(part) for part in style["fill"].removeprefix("rgb(").rstrip(")").split(","))
    assert max(red, green, blue) < 90 and style["size"] >= 12
    assert style["bar"] != "none" and style["adjust"] == "exact"
    expect(page.locator("svg.chart .chart-label", has_text="민관 통합사례회의").first).to_be_visible()

    pdf = tmp_path / "dashboard.pdf"
    page.pdf(path=str(pdf), format="A4", print_background=False)
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
