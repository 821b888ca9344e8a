"""The entity report's confidence parts: the review queue on the HTML page (an audio player at each entity, checked in
a real headless Chromium), the per-category chart's mean confidence, and the reliability diagram PNG."""

from __future__ import annotations

import json
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse
from urllib.request import url2pathname

import numpy as np
import pytest
import soundfile as sf

from conftest import transcript_row
from finparakeet.inference.evaluation import evaluate_manifest
from finparakeet.scoring import to_html, write_reports
from finparakeet.scoring.confidence import bins_ece, expected_calibration_error, fit_calibration, reliability_bins
from finparakeet.scoring.html import audio_src
from finparakeet.scoring.reliability import RELIABILITY_PNG, reliability_figure, write_reliability_diagram
from finparakeet.scoring.report import read_report
from finparakeet.scoring.review import report_sections, review_items, review_queue

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _transcript(root: Path) -> tuple[Path, list[dict]]:
    """Three transcribed rows as ``confidence=true`` writes them, their audio next to the manifest (relative paths,
    one with a space; the first row a segment at 10 s of its recording)."""
    (root / "audio").mkdir(parents=True)
    sf.write(root / "audio" / "call 1.wav", np.zeros(16000 * 14, dtype="float32"), 16000)
    sf.write(root / "audio" / "b.wav", np.zeros(16000 * 3, dtype="float32"), 16000)
    rows = [transcript_row("Apple raised guidance in Q3", "Apple raised guidance in Q2", [0.9, 0.8, 0.6, 0.95, 0.3],
                           id="call1-a", audio_filepath="audio/call 1.wav", offset=10.0, duration=3.0),
            transcript_row("Tesla cut its dividend", "Tesla cut its", [0.7, 0.9, 0.9], id="utt2",
                           audio_filepath="audio/b.wav", duration=2.0),
            transcript_row("Revenue was $4.2 billion", "Revenue was $4.2 billion", [0.9, 0.95, 0.75, 0.8],
                           id="<u>3</u>", audio_filepath="audio/b.wav", duration=2.0)]
    manifest = root / "out.json"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return manifest, rows


@pytest.fixture
def reported(tmp_path):
    """The queue and the entity report of the hand-made transcript, written as the pipeline writes them."""
    manifest, rows = _transcript(tmp_path)
    queue = review_queue(review_items(rows, "min", manifest_dir=manifest.parent))
    report, paths = evaluate_manifest(manifest, tmp_path / "report", None, report_sections(queue, "min"))
    return queue, report, paths


class _Page(HTMLParser):
    """What the tests read off a page: title, the review queue's rows (cells by column, the audio element), images
    by id, and the chart's confidence bars."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.title, self.headers, self.rows, self.images, self.conf_bars = "", [], [], {}, {}
        self._where: str | None = None
        self._table: str | None = None
        self.feed(text)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "title":
            self._where = "title"
        elif tag == "table":
            self._table = a.get("id")
        elif self._table == "review-queue" and tag == "th":
            self.headers.append("")
            self._where = "th"
        elif tag == "tr" and a.get("class") == "rq":
            self.rows.append({"cells": [], "audio": None})
        elif tag == "td" and self._table == "review-queue" and self.rows:
            self.rows[-1]["cells"].append("")
            self._where = "td"
        elif tag == "audio" and self.rows:
            self.rows[-1]["audio"] = a
        elif tag == "img":
            self.images[a.get("id")] = a.get("src")
        elif tag == "rect" and a.get("class") == "conf":
            self.conf_bars[a["data-category"]] = (float(a["data-confidence"]), float(a["width"]))

    def handle_endtag(self, tag):
        if tag == "table":
            self._table = None
        elif tag in ("title", "th", "td"):
            self._where = None

    def handle_data(self, data):
        if self._where == "title":
            self.title += data
        elif self._where == "th":
            self.headers[-1] += data
        elif self._where == "td":
            self.rows[-1]["cells"][-1] += data

    def queue(self) -> list[dict]:
        return [{**dict(zip(self.headers, r["cells"])), "audio": r["audio"]} for r in self.rows]


def _file_of(page: Path, src: str) -> tuple[Path, str]:
    """The file a ``src`` on ``page`` points at, and its fragment."""
    url, fragment = urldefrag(urljoin(page.as_uri(), src))
    return Path(url2pathname(urlparse(url).path)), fragment


def test_the_page_in_headless_chromium(reported, tmp_path):
    """The page loads in a real browser, the queue renders least confident first, each audio element points at its
    entity's file and time, and the reliability diagram it shows is there."""
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("chromium is not installed: apt-get install chromium (Debian package `chromium`; "
                    "scripts/ensure_system_packages.sh installs it)")
    queue, _, paths = reported
    page = paths["html"]
    proc = subprocess.run([chromium, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                           f"--user-data-dir={tmp_path / 'profile'}", "--dump-dom", page.as_uri()],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = _Page(proc.stdout)
    assert dom.title == "Entity report"
    rows = dom.queue()
    assert len(rows) == len(queue) == 7
    assert [(r["transcribed"], r["reference"]) for r in rows] == [
        (it.text or "(nothing heard)", it.reference) for it in queue]
    conf = [float(r["confidence"]) for r in rows]
    assert conf == sorted(conf) and conf[:2] == [0.0, 0.3]  # the deleted "dividend", then Q3 heard as Q2
    assert [r["utterance"] for r in rows] == [it.id for it in queue]  # "<u>3</u>" shown as text, not markup
    assert rows[0]["verdict"] == rows[1]["verdict"] == "wrong"

    q3 = rows[1]
    assert (q3["reference"], q3["start–end (s)"]) == ("Q3", "12–12.4")
    assert q3["audio"]["src"] == "../audio/call%201.wav#t=12,12.4"  # relative to the page; offset 10 s + 2.0–2.4
    assert q3["audio"]["preload"] == "none" and "controls" in q3["audio"]
    audio, fragment = _file_of(page, q3["audio"]["src"])
    assert audio == tmp_path / "audio" / "call 1.wav" and audio.is_file() and fragment == "t=12,12.4"
    gone = rows[0]  # wholly deleted: a point in the gap after "its" (1.4 s) where it was said
    assert gone["audio"]["src"] == "../audio/b.wav#t=1.4"
    assert _file_of(page, gone["audio"]["src"])[0] == tmp_path / "audio" / "b.wav"

    png, _ = _file_of(page, dom.images["reliability"])
    assert png == paths["png"] and png.read_bytes().startswith(PNG_MAGIC)


def test_chart_shows_mean_entity_confidence_per_category(reported):
    _, report, paths = reported
    page = _Page(paths["html"].read_text(encoding="utf-8"))
    # TERM: guidance 0.6, dividend deleted 0.0, Revenue 0.9; ORG: Tesla 0.7, Apple 0.9; PERIOD: Q3 0.3; MONEY 0.75
    expected = {"TERM": 0.5, "ORG": 0.8, "PERIOD": 0.3, "MONEY": 0.75}
    assert {c: g["mean_confidence"] for c, g in report["confidence"]["categories"].items()} == pytest.approx(expected)
    assert {c: v for c, (v, _) in page.conf_bars.items()} == pytest.approx(expected)
    assert {c: w for c, (_, w) in page.conf_bars.items()} == pytest.approx({c: 420 * v for c, v in expected.items()},
                                                                           abs=0.05)
    plain = {k: v for k, v in report.items() if k not in ("confidence", "review")}
    assert not _Page(to_html(plain)).conf_bars  # no confidence section, no confidence bars


def test_page_renders_from_the_json_alone(reported):
    _, _, paths = reported
    again = read_report(paths["json"])
    assert len(again["review"]["items"]) == again["review"]["num_items"] == 7
    assert to_html(again, paths["json"].parent) == paths["html"].read_text(encoding="utf-8")
    assert "## Confidence" in paths["md"].read_text(encoding="utf-8")


def test_reliability_bins_on_a_hand_built_case():
    conf = [0.05, 0.15, 0.15, 0.95, 0.95, 0.95, 1.0]
    ok = [False, False, True, True, True, False, True]
    bins = reliability_bins(conf, ok)
    assert [(b["lo"], b["hi"], b["count"]) for b in bins] == [(0.0, 0.1, 1), (0.1, 0.2, 2), (0.9, 1.0, 4)]
    assert [b["confidence"] for b in bins] == pytest.approx([0.05, 0.15, 0.9625])  # 1.0 falls in the last bin
    assert [b["accuracy"] for b in bins] == pytest.approx([0.0, 0.5, 0.75])
    # ECE = (1 x 0.05 + 2 x 0.35 + 4 x 0.2125) / 7
    assert bins_ece(bins) == pytest.approx(1.6 / 7) == expected_calibration_error(conf, ok)


def test_reliability_diagram_plots_the_bins_raw_and_calibrated(tmp_path):
    conf = [0.05, 0.15, 0.15, 0.95, 0.95, 0.95, 1.0]
    ok = [False, False, True, True, True, False, True]
    cal = fit_calibration(conf, ok, "isotonic")
    reliability = {"bins": reliability_bins(conf, ok), "bins_calibrated": reliability_bins(cal.apply(conf), ok)}
    fig = reliability_figure(reliability)
    raw_ax, cal_ax = fig.axes
    for ax, bins in ((raw_ax, reliability["bins"]), (cal_ax, reliability["bins_calibrated"])):
        bars = ax.patches
        assert [b.get_height() for b in bars] == pytest.approx([b["accuracy"] for b in bins])
        assert [b.get_x() for b in bars] == pytest.approx([b["lo"] for b in bins])
        assert [b.get_width() for b in bars] == pytest.approx([b["hi"] - b["lo"] for b in bins])
        assert [t.get_text() for t in ax.texts] == [f"n={b['count']}" for b in bins]
        dots = [line for line in ax.lines if line.get_marker() == "o"][0]
        assert list(dots.get_xdata()) == pytest.approx([b["confidence"] for b in bins])
    assert [b.get_height() for b in raw_ax.patches] == pytest.approx([0.0, 0.5, 0.75])
    assert [t.get_text() for t in raw_ax.texts] == ["n=1", "n=2", "n=4"]
    assert "ECE 0.229" in raw_ax.get_title() and "calibrated" in cal_ax.get_title()
    png = write_reliability_diagram(reliability, tmp_path / "r.png")
    assert png.read_bytes().startswith(PNG_MAGIC)
    assert len(reliability_figure({"bins": reliability["bins"]}).axes) == 1  # without a calibration: raw only


def test_the_png_is_written_beside_the_report_only_with_confidence(reported):
    _, report, paths = reported
    out = paths["json"].parent
    assert paths["png"] == out / RELIABILITY_PNG and paths["png"].read_bytes().startswith(PNG_MAGIC)
    again = write_reports({k: v for k, v in report.items() if k not in ("confidence", "review")}, out)
    assert "png" not in again and not (out / RELIABILITY_PNG).exists()  # a stale diagram is removed


def test_audio_src_relative_encoded_and_with_the_entity_times(tmp_path):
    page_dir = tmp_path / "report"
    audio = tmp_path / "a b#1.wav"
    assert audio_src(str(audio), 1.25, 2.5, page_dir) == "../a%20b%231.wav#t=1.25,2.5"
    assert audio_src(str(audio), 3.0, 3.0, page_dir) == "../a%20b%231.wav#t=3"  # no length: play from there
    assert audio_src(str(audio), None, None, page_dir) == "../a%20b%231.wav"
    assert audio_src(str(audio), 0.5, 1.0) == audio.as_uri() + "#t=0.5,1"  # no page folder: an absolute file URI
    assert '"' not in audio_src('x".wav', 0.0, 1.0, tmp_path) and "<" not in audio_src("<x>.wav", 0, 1, tmp_path)
