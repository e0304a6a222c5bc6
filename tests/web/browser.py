#!/usr/bin/python3
"""Drives headless Chromium through the capsule web app like a phone owner would.

Usage: browser.py URL LOG PHOTO OUT
  URL    the web app (capsule run --serve)
  LOG    the capsule process's stderr, where the mirror prints its pairing code
  PHOTO  a garment photo to upload
  OUT    folder for the screenshots

Pairs with the code the mirror shows, adds a garment by uploading PHOTO, rejects the first
outfit suggested around it and checks that the next suggestion changed, and saves
screenshots at 390x844 and 1280x800. Exits non-zero, saying why, when a step fails.
"""
import json
import os
import re
import sys
import time

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as ec
from selenium.webdriver.support.ui import Select, WebDriverWait

url, log, photo, out = sys.argv[1:5]
os.makedirs(out, exist_ok=True)

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
             "--window-size=1280,800"):
    options.add_argument(flag)
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
wait = WebDriverWait(driver, 30)
report = {}


def viewport(width, height, mobile):
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
        "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def shoot(name):
    for width, height, mobile, size in ((390, 844, True, "phone"), (1280, 800, False, "desktop")):
        viewport(width, height, mobile)
        time.sleep(0.4)
        driver.save_screenshot(os.path.join(out, f"{name}-{size}.png"))
    viewport(390, 844, True)


def code_on_the_mirror(after):
    deadline = time.time() + 20
    while time.time() < deadline:
        with open(log, encoding="utf-8", errors="replace") as f:
            codes = re.findall(r"pairing code for the web app: (\d{6})", f.read())
        if len(codes) > after:
            return codes[-1]
        time.sleep(0.2)
    raise SystemExit("the mirror printed no pairing code")


def status_text():
    return driver.find_element(By.ID, "status").text


def outfit_keys():
    return [e.get_attribute("data-key") for e in driver.find_elements(By.CSS_SELECTOR, "#outfits > li")]


try:
    viewport(390, 844, True)
    driver.get(url)
    wait.until(ec.url_contains("#/pair"))
    with open(log, encoding="utf-8", errors="replace") as f:
        before = len(re.findall(r"pairing code for the web app", f.read()))
    driver.find_element(By.ID, "pair-start").click()
    code = code_on_the_mirror(before)
    driver.find_element(By.ID, "pair-code").send_keys(code[:3] + " " + code[3:])
    name = driver.find_element(By.ID, "pair-name")
    name.clear()
    name.send_keys("test phone")
    shoot("pair")
    time.sleep(1.1)  # pairing tries are at least a second apart, the start counted as none
    driver.find_element(By.ID, "pair-submit").click()
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#gallery img[src^='blob:']"))
    report["garments_shown"] = len(driver.find_elements(By.CSS_SELECTOR, "#gallery > li"))
    shoot("wardrobe")

    # The filters and search narrow the gallery.
    Select(driver.find_element(By.ID, "filter-type")).select_by_value("shoes")
    shoes = len(driver.find_elements(By.CSS_SELECTOR, "#gallery > li"))
    assert 0 < shoes < report["garments_shown"], f"{shoes} shoes of {report['garments_shown']}"
    Select(driver.find_element(By.ID, "filter-type")).select_by_value("")

    driver.get(url + "#/add")
    wait.until(ec.presence_of_element_located((By.ID, "add-name"))).send_keys("Test top")
    Select(driver.find_element(By.ID, "add-type")).select_by_value("top")
    driver.find_element(By.ID, "add-photo").send_keys(os.path.abspath(photo))
    shoot("add")
    driver.find_element(By.ID, "add-upload").click()
    wait.until(ec.url_matches(r"#/garment/g\d+$"))
    added = driver.current_url.rsplit("/", 1)[1]
    wait.until(ec.text_to_be_present_in_element((By.ID, "page-title"), "Test top"))
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#outfits > li"))
    report["added"] = added
    shoot("garment")

    driver.get(url + f"#/suggest/{added}")
    wait.until(ec.text_to_be_present_in_element((By.ID, "page-title"), "Outfits around Test top"))
    wait.until(lambda d: outfit_keys())
    first = outfit_keys()
    shoot("suggestions")
    rejected = first[0]
    old = driver.find_element(By.CSS_SELECTOR, "#outfits > li")
    old.find_element(By.CSS_SELECTOR, "button[data-verdict='reject']").click()
    wait.until(ec.staleness_of(old))
    wait.until(lambda d: outfit_keys() or d.find_elements(By.ID, "no-outfits"))
    after = outfit_keys()
    report.update(first=first, rejected=rejected, after=after, status=status_text())
    assert "Recorded" in report["status"], report["status"]
    assert rejected not in after, f"the rejected outfit {rejected} came back: {after}"
    assert after and after[0] != first[0], f"the next suggestion did not change: {after}"

    driver.get(url + "#/live")
    wait.until(lambda d: (d.find_element(By.ID, "live").get_attribute("src") or "").startswith("blob:"))
    shoot("live")
    driver.get(url + "#/system")
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, "#devices li"))
    shoot("system")
except Exception as e:  # say what failed, with the page it failed on
    driver.save_screenshot(os.path.join(out, "failure.png"))
    print(json.dumps(report), file=sys.stderr)
    print(f"failed at {driver.current_url}: {e!r}; status line: {status_text()!r}", file=sys.stderr)
    driver.quit()
    sys.exit(1)
driver.quit()
print(json.dumps(report))
