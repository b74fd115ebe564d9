"""Latency of the demo page (scripts/demo.py): requests per second through Gradio's API, and the time from a click on
"분류하기" to the label on the page in headless Chromium.

    python bench/demo_latency.py --requests 200 --browser-reviews 30

Reviews are the first ones of NSMC train's validation split (read through NSMC_DIR); each request also computes the
token shading (one extra forward pass per token, in the same batch). Run it alone: another CPU-heavy process on the
same two cores slows both. Appends its result to bench/results/demo_latency.json.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

from kbalbert import data as kd  # noqa: E402
from kbalbert import precision  # noqa: E402


def start_server():
    server = subprocess.Popen([sys.executable, "scripts/demo.py", "--port", "0"], cwd=REPO, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    for line in server.stdout:
        found = re.search(r"at (http://127\.0\.0\.1:\d+/)", line)
        if found:
            return server, found[1]
    raise RuntimeError("scripts/demo.py stopped before printing its address")


def api_latency(url: str, reviews: list[str], clients: int) -> dict:
    from gradio_client import Client

    def one_client(share: list[str], times: list[float]):
        client = Client(url, verbose=False)
        for text in share:
            start = time.perf_counter()
            client.predict(text, api_name="/classify")
            times.append(time.perf_counter() - start)

    Client(url, verbose=False).predict(reviews[0], api_name="/classify")  # warm-up
    times: list[float] = []
    threads = [threading.Thread(target=one_client, args=(reviews[i::clients], times)) for i in range(clients)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    return {"clients": clients, "requests": len(times), "requests_per_second": round(len(times) / wall, 2),
            "median_ms": round(1000 * statistics.median(times), 1),
            "p90_ms": round(1000 * statistics.quantiles(times, n=10)[-1], 1)}


def browser_latency(url: str, reviews: list[str]) -> dict:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    if chromium is None:
        return {"skipped": "no chromium (apt-get install chromium)"}
    times = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
            "--disable-background-networking", "--disable-component-update"])
        page = browser.new_page()
        page.goto(url)
        note = page.locator("#note")
        for i, text in enumerate(reviews):
            # A marker makes every review's note distinct, so the wait ends only when this review's answer is shown.
            marked = f"{text} {'ㅋ' * (i % 3 + 1)}{i}"
            page.locator("#review textarea").fill(marked)
            before = note.inner_text()
            start = time.perf_counter()
            page.locator("#classify").click()
            page.wait_for_function("([el, old]) => el.innerText !== old && el.innerText.includes('토큰')",
                                   arg=[note.element_handle(), before], timeout=60_000)
            times.append(time.perf_counter() - start)
        browser.close()
    return {"reviews": len(times), "median_ms": round(1000 * statistics.median(times), 1),
            "p90_ms": round(1000 * statistics.quantiles(times, n=10)[-1], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 4])
    parser.add_argument("--browser-reviews", type=int, default=30)
    args = parser.parse_args()
    if args.requests < 10 or args.browser_reviews < 10:
        parser.error("--requests and --browser-reviews need at least 10 (medians and 90th percentiles)")
    validation = kd.nsmc_splits(kd.load_nsmc())["validation"]
    reviews = [t for t in validation["document"] if t and t.strip()][: max(args.requests, args.browser_reviews)]
    server, url = start_server()
    try:
        result = {"command": "python bench/demo_latency.py " + " ".join(sys.argv[1:]),
                  "machine": f"{precision.cpu_description()} ({precision.cpu_flags()})",
                  "date": time.strftime("%Y-%m-%d"),
                  "mean_review_chars": round(statistics.mean(len(t) for t in reviews[: args.requests]), 1),
                  "api": [api_latency(url, reviews[: args.requests], clients) for clients in args.clients],
                  "browser": browser_latency(url, reviews[: args.browser_reviews])}
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    out = REPO / "bench" / "results" / "demo_latency.json"
    runs = json.loads(out.read_text()) if out.exists() else []
    out.write_text(json.dumps(runs + [result], ensure_ascii=False, indent=2) + "\n")


if __name__ == "__main__":
    main()
