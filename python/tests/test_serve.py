"""`adgap serve`, over HTTP: every endpoint, the limits (400, 404, 411, 413, 415, 503), a broken
image that costs only its request, and a clean stop on SIGINT and SIGTERM. The analysis must
equal what `adgap detect --json` finds in the same file with the same model."""

import base64
import io
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from conftest import CLI, PHOTOS, run_cli

# Requests go straight to the server, whatever proxy the environment names.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Server:
    """`adgap serve --port 0 ...` running in the background; stopped with SIGTERM."""

    def __init__(self, model, *args):
        # The test model has no reader: it reads the crops itself, on purpose.
        self.proc = subprocess.Popen([CLI, "serve", "--model", model, "--reader", "none",
                                      "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        assert line.startswith("adgap serve: http://127.0.0.1:"), (line, self.proc.stderr.read())
        self.url = line.split()[2].rstrip("/")
        self.port = int(self.url.rsplit(":", 1)[1])

    def get(self, path):
        return request(self.url + path)

    def analyze(self, body, ctype="application/octet-stream", **params):
        query = urllib.parse.urlencode(params)
        return request(self.url + "/api/analyze?" + query, body, ctype)

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        out, err = self.proc.communicate(timeout=30)
        return self.proc.returncode, out, err


def request(url, body=None, ctype=None):
    """(status, headers, body bytes) of a GET, or of a POST when a body is given."""
    headers = {"Content-Type": ctype} if ctype else {}
    req = urllib.request.Request(url, data=body, headers=headers,
                                 method="POST" if body is not None else "GET")
    try:
        with OPENER.open(req, timeout=120) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def error_of(body):
    """The one-line reason of an error answer."""
    msg = json.loads(body)["error"]
    assert msg and "\n" not in msg
    return msg


def raw_http(port, text):
    """Sends `text` as it is and returns the status line's code."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(text)
        return int(s.recv(4096).split(b" ")[1])


@pytest.fixture(scope="module")
def server(model):
    s = Server(model, "--max-body", "3000000", "--max-pixels", "4000000", "--running", "1",
               "--waiting", "1", "--quiet")
    yield s
    code, out, _ = s.stop()
    assert code == 0 and "stopped" in out


@pytest.fixture(scope="module")
def scene(scenes):
    """A scene in which the model finds digits, so that comparisons compare something."""
    return scenes[0]


def detect_json(model, path, tmp_path, *args):
    out = tmp_path / "det.json"
    run_cli("detect", "--model", model, "--reader", "none", "--json", out, "--out", tmp_path,
            path, *args)
    return json.loads(out.read_text())["images"][0]


def test_info(server, model):
    code, headers, body = server.get("/api/info")
    assert code == 200 and headers["Content-Type"].startswith("application/json")
    info = json.loads(body)
    assert info["model"] == model
    assert info["methods"][0] == "adgap" and len(info["methods"]) == 12
    assert "grad-cam" in info["methods"] and "score-cam" in info["methods"]
    assert info["modes"] == ["paper", "pooled", "dense"]
    assert info["classes"] == 10
    assert info["defaults"] == {"method": "adgap", "mode": "paper", "polarity": "auto",
                                "class": -1, "k": 3.0, "threshold": "mean-std"}
    assert info["limits"] == {"max_body_bytes": 3000000, "max_pixels": 4000000}
    assert [s["name"] for s in info["samples"]] == [
        "sudoku.png", "licenseplate_motion.jpg", "imageTextN.png", "text_motion.jpg"]


def test_page_and_static_files(server):
    code, headers, body = server.get("/")
    assert code == 200 and headers["Content-Type"].startswith("text/html")
    assert b'<script src="/app.js"></script>' in body and b'id="k"' in body
    for path, ctype in (("/app.js", "text/javascript"), ("/style.css", "text/css")):
        code, headers, body = server.get(path)
        assert code == 200 and headers["Content-Type"].startswith(ctype) and len(body) > 1000
    # Nothing else, and nothing from the file system.
    for path in ("/index.html", "/etc/passwd", "/../CMakeLists.txt", "/%2e%2e/README.md",
                 "/app.jsx", "/api/samples/", "/api/samples/99", "/api/samples/-1"):
        code, _, body = server.get(path)
        assert code == 404, path
        error_of(body)


def test_samples_are_the_photos(server):
    info = json.loads(server.get("/api/info")[2])
    for s in info["samples"]:
        code, headers, body = server.get("/api/samples/%d" % s["id"])
        assert code == 200
        assert body == open(os.path.join(PHOTOS, s["name"]), "rb").read()
        assert headers["Content-Type"] == ("image/png" if s["name"].endswith(".png")
                                           else "image/jpeg")


def check_analysis(answer, expected, path):
    """The answer's result equals `adgap detect`'s (boxes, labels exactly; scores to 1e-6), and its
    map is the image's size with the mean and std it states (to the 8-bit steps it is sent in)."""
    r = answer["result"]
    assert r["width"] == expected["width"] and r["height"] == expected["height"]
    assert [d["box"] for d in r["detections"]] == [d["box"] for d in expected["detections"]]
    assert [d["label"] for d in r["detections"]] == [d["label"] for d in expected["detections"]]
    for a, b in zip(r["detections"], expected["detections"]):
        assert abs(a["score"] - b["score"]) < 1e-6
    assert [n["text"] for n in r["numbers"]] == [n["text"] for n in expected["numbers"]]
    m = answer["map"]
    assert (m["width"], m["height"], m["scale"]) == (r["width"], r["height"], 1)
    png = base64.b64decode(m["png"])
    img = np.asarray(Image.open(io.BytesIO(png)))
    assert img.shape == (r["height"], r["width"]) and img.dtype == np.uint8
    v = img.astype(np.float64) / 255
    assert abs(v.mean() - answer["stats"]["mean"]) < 2.0 / 255
    assert abs(v.std() - answer["stats"]["std"]) < 2.0 / 255
    assert v.max() == 1.0 and v.min() == 0.0  # the map is normalised to [0, 1]


def test_analyze_equals_detect(server, model, scene, photos, tmp_path):
    found = 0
    for path in [scene, *photos]:
        expected = detect_json(model, path, tmp_path)
        code, _, body = server.analyze(open(path, "rb").read(), name=os.path.basename(path))
        assert code == 200, body
        answer = json.loads(body)
        assert answer["result"]["path"] == os.path.basename(path)
        check_analysis(answer, expected, path)
        found += len(expected["detections"])
        assert answer["ms"] > 0 and answer["k"] == 3.0 and answer["digits"] is True
        # digits=0: the same map, no detections.
        code, _, body = server.analyze(open(path, "rb").read(), name="m.png", digits=0)
        assert code == 200
        alone = json.loads(body)
        assert alone["digits"] is False and alone["result"]["detections"] == []
        assert alone["map"] == answer["map"] and alone["stats"] == answer["stats"]
    assert found >= 3, "the model should find digits in the scene"


def test_analyze_options(server, model, scene, tmp_path):
    body = open(scene, "rb").read()
    for method, mode, polarity, cls in (("grad-cam", "paper", "auto", -1),
                                        ("adgap", "pooled", "dark-on-light", 3),
                                        ("sobel", "paper", "auto", -1)):
        code, _, answer = server.analyze(body, name="s.png", method=method, mode=mode,
                                         polarity=polarity, **{"class": cls})
        assert code == 200, answer
        answer = json.loads(answer)
        assert answer["options"] == {"method": method, "mode": mode, "polarity": polarity,
                                     "class": cls}
        expected = detect_json(model, scene, tmp_path, "--method", method, "--mode", mode,
                               "--polarity", polarity, "--class", cls)
        check_analysis(answer, expected, scene)


@pytest.mark.parametrize("params,needle", [
    ({"method": "nope"}, "nope"),
    ({"mode": "sideways"}, "sideways"),
    ({"polarity": "up"}, "up"),
    ({"class": "10"}, "class: '10'"),
    ({"method": "cam"}, "no CAM classifier"),  # the test model's weights have none
    ({"class": "x"}, "class: 'x'"),
    ({"class": "-2"}, "class: '-2'"),
    ({"name": "a\nb"}, "name"),
    ({"digits": "2"}, "digits: '2'"),
])
def test_bad_parameters_are_400(server, scene, params, needle):
    code, _, body = server.analyze(open(scene, "rb").read(), **params)
    assert code == 400 and needle in error_of(body)


def test_broken_images_are_400_and_the_server_goes_on(server, scene, tmp_path):
    png = open(scene, "rb").read()
    cases = {
        "notes.png": (b"not an image\n", "cannot decode"),
        "cut.png": (png[: len(png) // 2], "truncated PNG"),
        "empty.png": (b"", "empty file"),
        "crc.png": (png[:40] + bytes([png[40] ^ 0xFF]) + png[41:], "CRC"),
        "dicom.dcm": (b"\0" * 128 + b"DICM" + b"\0" * 64, "cannot decode"),
    }
    for name, (data, needle) in cases.items():
        code, _, body = server.analyze(data, name=name)
        assert code == 400, (name, body)
        msg = error_of(body)
        assert msg.startswith(name + ": ") and needle in msg, msg
    code, _, body = server.analyze(png, name="good.png")
    assert code == 200 and json.loads(body)["result"]["path"] == "good.png"


def test_limits_are_413(server):
    # The body limit is 3,000,000 bytes: refused from the Content-Length, before reading it.
    code, _, body = server.analyze(b"\0" * 3000001, name="big.bin")
    assert code == 413 and "3000000" in error_of(body)
    # The pixel limit is 4,000,000: a small file declaring 2500 x 2000 pixels is refused from
    # its header.
    img = Image.new("L", (2500, 2000))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    assert len(buf.getvalue()) < 3000000
    code, _, body = server.analyze(buf.getvalue(), name="wide.png")
    msg = error_of(body)
    assert code == 413 and "2500x2000" in msg and "4000000" in msg
    # So are a BMP's and a PGM's; a TIFF's (no header check) once decoded.
    for fmt, ext in (("BMP", "bmp"), ("PPM", "pbm"), ("TIFF", "tif")):
        img = Image.new("1", (2100, 2000))  # 1 bit a pixel: about 0.5 MB
        buf = io.BytesIO()
        img.save(buf, fmt)
        assert len(buf.getvalue()) < 3000000
        code, _, body = server.analyze(buf.getvalue(), name="wide." + ext)
        msg = error_of(body)
        assert code == 413 and msg.startswith("wide.%s: " % ext) and "2100x2000" in msg, msg
    assert server.get("/api/info")[0] == 200


def test_bodies_without_length_and_forms(server):
    # No Content-Length, or chunked: refused before any body is read, whatever the method.
    assert raw_http(server.port, b"POST /api/analyze HTTP/1.1\r\nHost: x\r\n\r\n") == 411
    for method in (b"PUT", b"PATCH", b"DELETE"):
        assert raw_http(server.port, method + b" / HTTP/1.1\r\nHost: x\r\n\r\nendless") == 411
    assert raw_http(server.port, b"POST /api/analyze HTTP/1.1\r\nHost: x\r\n"
                    b"Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n") == 411
    code, _, body = server.analyze(b"a=1", ctype="application/x-www-form-urlencoded")
    assert code == 415 and "application/octet-stream" in error_of(body)
    code, _, body = server.analyze(b"--x--", ctype="multipart/form-data; boundary=x")
    assert code == 415
    assert raw_http(server.port, b"GET /" + b"a" * 10000 + b" HTTP/1.1\r\nHost: x\r\n\r\n") == 414
    # A body refused unread is not taken for a next request: one answer, then the connection
    # closes.
    inner = b"GET /api/info HTTP/1.1\r\nHost: x\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as s:
        s.sendall(b"POST /api/analyze HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/x-www-form-urlencoded\r\nContent-Length: %d\r\n\r\n%s"
                  % (len(inner), inner))
        got = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            got += chunk
    assert got.startswith(b"HTTP/1.1 415") and got.count(b"HTTP/1.1 ") == 1, got[:300]


def test_busy_is_503_and_the_rest_correct(server, model, scene, tmp_path):
    """--running 1 --waiting 1: of 8 requests at once, at most 2 are served at a time and the
    others get a clean 503 with Retry-After; every 200 is the right answer."""
    expected = detect_json(model, scene, tmp_path)
    body = open(scene, "rb").read()
    answers = [None] * 8

    def send(i):
        answers[i] = server.analyze(body, name="s.png")

    threads = [threading.Thread(target=send, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = sorted(a[0] for a in answers)
    assert set(codes) <= {200, 503} and codes.count(200) >= 2 and codes.count(503) >= 1, codes
    for code, headers, b in answers:
        if code == 503:
            assert headers["Retry-After"] == "1" and error_of(b).startswith("busy")
        else:
            check_analysis(json.loads(b), expected, scene)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_stops_cleanly_on_signals(model, sig):
    s = Server(model, "--quiet")
    assert s.get("/api/info")[0] == 200
    t0 = time.time()
    code, out, err = s.stop(sig)
    assert code == 0 and time.time() - t0 < 10
    assert out.strip().endswith("adgap serve: stopped")
    assert ("SIGINT" if sig == signal.SIGINT else "SIGTERM") in err


def test_listens_on_loopback_and_refuses_a_taken_port(model, server):
    # The listening socket (the kernel's table of TCP sockets, state 0A) is bound to
    # 127.0.0.1 only.
    listening = []
    for line in open("/proc/net/tcp").read().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        if state == "0A" and int(local.split(":")[1], 16) == server.port:
            listening.append(local.split(":")[0])
    assert listening == ["0100007F"], listening
    p = run_cli("serve", "--model", model, "--reader", "none", "--port", server.port, check=False)
    assert p.returncode == 1
    assert p.stderr.strip().count("\n") == 0 and "cannot listen on 127.0.0.1:%d" % server.port \
        in p.stderr


def test_large_maps_are_sent_scaled_down(model):
    """Over 4 megapixels the map is sent downscaled (its `scale`); the result stays in the image's
    pixels and the statistics are the full map's."""
    s = Server(model, "--quiet")
    try:
        rng = np.random.default_rng(0)
        img = np.full((2000, 2600), 255, np.uint8)
        img[rng.integers(0, 2000, 3000), rng.integers(0, 2600, 3000)] = 0
        buf = io.BytesIO()
        Image.fromarray(img).save(buf, "PNG")
        code, _, body = s.analyze(buf.getvalue(), name="big.png", digits=0)
        assert code == 200, body
        a = json.loads(body)
        m = a["map"]
        assert (a["result"]["width"], a["result"]["height"]) == (2600, 2000)
        assert m["scale"] == pytest.approx((4e6 / 5.2e6) ** 0.5)
        assert (m["width"], m["height"]) == (round(2600 * m["scale"]), round(2000 * m["scale"]))
        png = np.asarray(Image.open(io.BytesIO(base64.b64decode(m["png"]))))
        assert png.shape == (m["height"], m["width"])
        assert abs(png.mean() / 255 - a["stats"]["mean"]) < 0.01  # area averaging keeps the mean
    finally:
        assert s.stop()[0] == 0
