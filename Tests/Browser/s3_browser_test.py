#!/usr/bin/env python3
"""Browser uploads to picpipe's S3 API in a real headless Chromium (Selenium), as a web page makes them.

    s3_browser_test.py --endpoint http://127.0.0.1:AWSPORT --key-id ID --secret SECRET --site-port PORT \
        --form-picture A.jpg --put-picture B.jpg --artifacts DIR

Plays a web site of its own at http://127.0.0.1:PORT (a small HTTP server), whose origin the serve must list in
aws.cors_origins. Checks: the site's HTML form with a policy signed by boto3 (POST Object), submitted by the browser,
lands on the site's success_action_redirect page with the bucket, key and ETag; a script of the site PUTs a picture to
a presigned URL with fetch() (a CORS preflight, then the upload) and reads its ETag; the same script on another origin
(http://localhost:PORT, not listed) is refused by the browser. Prints one JSON line with what it saw; exit 0 only
when every check passed. Screenshots go to --artifacts.
"""
import argparse
import base64
import functools
import hashlib
import html
import http.server
import json
import os
import shutil
import sys
import tempfile
import threading
import urllib.parse

import boto3
from botocore.config import Config
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait


def main():
    parser = argparse.ArgumentParser()
    for name in ("--endpoint", "--key-id", "--secret", "--site-port", "--form-picture", "--put-picture", "--artifacts"):
        parser.add_argument(name, required=True)
    arguments = parser.parse_args()
    os.makedirs(arguments.artifacts, exist_ok=True)
    s3 = boto3.client("s3", endpoint_url=arguments.endpoint, aws_access_key_id=arguments.key_id,
                      aws_secret_access_key=arguments.secret, region_name="us-east-1",
                      config=Config(signature_version="s3v4"))
    site = f"http://127.0.0.1:{arguments.site_port}"
    landing = site + "/done.html"
    result = {}
    folder = tempfile.mkdtemp(prefix="s3-browser-")
    with open(os.path.join(folder, "done.html"), "w") as out:
        out.write("<!doctype html><title>Uploaded</title><p>Uploaded.")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=folder)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", int(arguments.site_port)), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900",
                 "--disable-background-networking", "--no-first-run", "--disable-gpu"):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=shutil.which("chromedriver")))
    try:
        # 1. An HTML form, its policy signed by "the site's server" (boto3), posted by the browser.
        form = s3.generate_presigned_post(
            "uploads", "browser/${filename}", ExpiresIn=600,
            Fields={"success_action_redirect": landing},
            Conditions=[["starts-with", "$key", "browser/"], ["content-length-range", 1, 50_000_000],
                        {"success_action_redirect": landing}])
        hidden = "\n".join(f'<input type="hidden" name="{html.escape(name)}" value="{html.escape(value)}">'
                           for name, value in form["fields"].items())
        page = os.path.join(folder, "upload.html")
        with open(page, "w") as out:
            out.write(f"""<!doctype html><title>Upload</title>
<form action="{html.escape(form["url"])}" method="post" enctype="multipart/form-data">
{hidden}
<input type="file" name="file" id="file"> <button id="send">Upload</button>
</form>""")
        driver.get(site + "/upload.html")
        driver.find_element(By.ID, "file").send_keys(os.path.abspath(arguments.form_picture))
        driver.save_screenshot(os.path.join(arguments.artifacts, "s3-form.png"))
        driver.find_element(By.ID, "send").click()
        WebDriverWait(driver, 30).until(lambda d: d.current_url.startswith(landing) and "etag=" in d.current_url)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(driver.current_url).query))
        result["form"] = {"bucket": query.get("bucket"), "key": query.get("key"), "etag": query.get("etag")}
        driver.save_screenshot(os.path.join(arguments.artifacts, "s3-form-landed.png"))

        # 2. A script of the site's page PUTs to a presigned URL: the preflight, then the upload; it reads the ETag.
        picture = open(arguments.put_picture, "rb").read()
        url = s3.generate_presigned_url("put_object", Params={"Bucket": "uploads", "Key": "browser/fetched.jpg"},
                                        ExpiresIn=600)
        put_script = """
            const [url, data, done] = arguments;
            const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
            fetch(url, {method: "PUT", body: bytes, headers: {"Content-Type": "image/jpeg"}})
              .then(r => done({status: r.status, etag: r.headers.get("ETag"), origin: location.origin}))
              .catch(e => done({error: String(e), origin: location.origin}));
        """
        driver.get(site + "/done.html")
        encoded = base64.b64encode(picture).decode()
        result["put"] = driver.execute_async_script(put_script, url, encoded)
        # 3. The same from a page of another origin, not listed: the browser refuses it.
        driver.get(f"http://localhost:{arguments.site_port}/done.html")
        result["otherOrigin"] = driver.execute_async_script(put_script, url, encoded)
        result["md5"] = {"form": hashlib.md5(open(arguments.form_picture, "rb").read()).hexdigest(),
                         "put": hashlib.md5(picture).hexdigest()}
    except Exception:
        driver.save_screenshot(os.path.join(arguments.artifacts, "s3-failure.png"))
        raise
    finally:
        driver.quit()
        server.shutdown()
        shutil.rmtree(folder, ignore_errors=True)
    print(json.dumps(result))
    failures = []
    if result["form"] != {"bucket": "uploads", "key": "browser/" + os.path.basename(arguments.form_picture),
                          "etag": '"%s"' % result["md5"]["form"]}:
        failures.append("form")
    if result["put"] != {"status": 200, "etag": '"%s"' % result["md5"]["put"], "origin": site}:
        failures.append("put")
    if "error" not in result["otherOrigin"]:
        failures.append("otherOrigin")
    if failures:
        print("failed: " + ", ".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
