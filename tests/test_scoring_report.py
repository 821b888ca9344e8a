"""Reports (JSON contract, Markdown, HTML escaping) and the input readers (bad rows skipped with their line)."""

import json


from conftest import find_span
from finparakeet.scoring import (PlainNormalizer, score_cuts, score_items, score_manifest, to_html, to_markdown,
                                 write_reports)
from finparakeet.scoring.report import DETAILS_JSONL_GZ, read_report
from finparakeet.scoring.inputs import ScoringItem

NORM = PlainNormalizer()


def write_lines(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def row(text, pred, **kw):
    return json.dumps({"audio_filepath": "a.wav", "duration": 1.0, "text": text, "pred_text": pred, **kw})


def test_bad_manifest_rows_are_skipped_with_their_line(tmp_path):
    ref = "Revenue was $4.2 billion."
    good = find_span(ref, "$4.2 billion", "MONEY").to_dict()
    path = write_lines(tmp_path / "m.json", [
        row(ref, "Revenue was $4.2 million.", id="ok1", entities=[good]),  # 1
        '{"text": "broken", ',  # 2 malformed JSON
        json.dumps({"text": ref, "id": "nopred"}),  # 3 missing pred_text
        row(ref, ref, id="outside", entities=[{"start": 10, "end": 99, "category": "MONEY", "text": "x"}]),  # 4
        row(ref, ref, id="mismatch", entities=[{**good, "text": "$4.3 billion"}]),  # 5 span text is not the text
        json.dumps({"text": ref, "pred_text": None}),  # 6 pred_text null
        "[1, 2]",  # 7 not an object
        "",  # blank lines are not rows
        row(ref, ref, id="ok2", entities=[{**good, "category": 5}]),  # 9 ill-typed entity field
        row(ref, ref, id="ok3"),  # 10 no entities: tagged
    ])
    r = score_manifest(path, normalizer=NORM)
    assert r["num_rows_scored"] == 2 and r["num_utterances"] == 2
    assert [s["line"] for s in r["skipped"]] == [2, 3, 4, 5, 6, 7, 9]
    assert r["num_skipped"] == 7
    reasons = {s["line"]: s["reason"] for s in r["skipped"]}
    assert "malformed JSON" in reasons[2]
    assert "pred_text" in reasons[3]
    assert "outside the text" in reasons[4]
    assert "$4.3 billion" in reasons[5]
    assert {s["id"] for s in r["skipped"] if s["line"] in (3, 4, 5)} == {"nopred", "outside", "mismatch"}
    assert [u["id"] for u in r["utterances"]] == ["ok1", "ok3"]
    assert "MONEY" in {e["category"] for e in r["utterances"][1]["entities"]}  # the tagger found it
    assert r["categories"]["MONEY"]["num_entities"] == 2 and r["categories"]["MONEY"]["errors"] == 1
    md = to_markdown(r)
    assert "## Skipped rows" in md and ":4: " in md and "rows scored / skipped | 2 / 7" in md


def test_html_escapes_all_transcript_text(tmp_path):
    ref = 'We said <script>alert("x")</script> & "$4.2 billion" <b>'
    hyp = 'We said <script>alert(1)</script> & $4.2 <img src=x onerror=alert(2)>'
    ents = [find_span(ref, "<script>alert(\"x\")</script>", "ORG<i>"), find_span(ref, "$4.2 billion", "MONEY")]
    r = score_items([ScoringItem("<u>id</u>", ref, hyp, ents)], normalizer=NORM, bias_list=["<script>"])
    page = to_html(r)
    assert "<script>" not in page and "<img" not in page and "<u>" not in page and "<i>" not in page
    assert "&lt;script&gt;" in page and "&lt;img" in page and "&lt;u&gt;id&lt;/u&gt;" in page
    assert "ORG&lt;i&gt;" in page
    assert page.count("<svg") == 1 and "<style>" in page  # self-contained: inline CSS and chart
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")  # nothing fetched
    paths = write_reports(r, tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "entity_report.html", "entity_report.json", "entity_report.md"]
    assert json.loads(paths["json"].read_text())["utterances"][0]["id"] == "<u>id</u>"
    assert "<script>" not in paths["html"].read_text()


def test_markdown_escapes_table_cells():
    ref = "A | B costs $5"
    r = score_items([ScoringItem("x", ref, "A | C costs $6", [find_span(ref, "A | B", "ORG")])], normalizer=NORM)
    md = to_markdown(r)
    assert "A \\| B" in md and "| ORG | A \\| B | A \\| C | 1 |" in md


def test_html_long_utterance_shows_windows_around_wrong_entities():
    words = [f"w{i}" for i in range(3000)]
    ref = " ".join(words)
    hyp = ref.replace("w1500", "oops")
    ents = [find_span(ref, "w1500 ", "ORG"), find_span(ref, "w10 ", "ORG")]
    r = score_items([ScoringItem("long", ref, hyp, ents)], normalizer=NORM)
    page = to_html(r)
    assert "oops" in page and "only windows around wrong entities" in page
    assert ">w1494<" in page and ">w10<" not in page and ">w2000<" not in page


def test_report_json_round_trip_renders(tmp_path):
    ref = "Margin rose 50 bps in Q3."
    r = score_items([ScoringItem("u1", ref, "Margin rose 15 bps in Q3.", None)], normalizer=NORM)
    paths = write_reports(r, tmp_path)
    again = read_report(paths["json"])
    assert again == json.loads(json.dumps(r))
    assert to_html(again) == paths["html"].read_text()  # the HTML needs nothing but the JSON
    assert again["confusions"][0]["ref"] == "50 bps" and again["confusions"][0]["hyp"] == "15 bps"


def test_long_utterances_details_go_to_the_side_file_and_come_back(tmp_path):
    long_ref = " ".join(f"w{i}" for i in range(1500)) + " costs $5"
    items = [ScoringItem("short", "Margin rose 50 bps.", "Margin rose 15 bps.", None),
             ScoringItem("long", long_ref, long_ref.replace("$5", "$6").replace("w7 ", ""),
                         [find_span(long_ref, "$5", "MONEY"), find_span(long_ref, "w7 w8", "ORG")])]
    r = score_items(items, normalizer=NORM)
    paths = write_reports(r, tmp_path)
    assert paths["details"].name == DETAILS_JSONL_GZ
    on_disk = json.loads(paths["json"].read_text())
    short, long = on_disk["utterances"]
    assert short == json.loads(json.dumps(r["utterances"][0]))  # short utterances stay whole
    assert "entities" not in long and "alignment" not in long
    assert (long["num_entities"], long["num_wrong"], long["ref_words"], long["details"]) == (2, 2, 1502,
                                                                                            DETAILS_JSONL_GZ)
    assert read_report(paths["json"]) == json.loads(json.dumps(r))  # nothing lost
    assert to_html(read_report(paths["json"])) == paths["html"].read_text()
    # The same directory reused for a report without long utterances: no stale side file is left to mislead.
    write_reports(score_items(items[:1], normalizer=NORM), tmp_path)
    assert not (tmp_path / DETAILS_JSONL_GZ).exists()


def test_cuts_and_hypotheses(tmp_path):
    from lhotse import CutSet

    from finparakeet.data.nemo_manifest import row_to_cut
    r1 = "Revenue was $4.2 billion in Q3."
    cuts = CutSet.from_cuts([
        row_to_cut({"audio_filepath": "/x/a.wav", "duration": 2.0, "text": r1,
                    "entities": [find_span(r1, "$4.2 billion", "MONEY", seen=False).to_dict()]}),
        row_to_cut({"audio_filepath": "/x/b.wav", "duration": 2.0, "text": "NVDA rose 4.2%."}),
        row_to_cut({"audio_filepath": "/x/c.wav", "duration": 2.0, "text": "No hypothesis for me."}),
    ])
    cuts_path = tmp_path / "cuts.jsonl.gz"
    cuts.to_file(cuts_path)
    hyps = write_lines(tmp_path / "hyps.jsonl", [
        json.dumps({"cut_id": "a", "pred_text": "Revenue was $4.2 million in Q3."}),
        # a NeMo transcribe_speech.py row: matched by the id derived from its audio path
        json.dumps({"audio_filepath": "/x/b.wav", "duration": 2.0, "text": "", "pred_text": "NVDA rose 4.2%."}),
        json.dumps({"cut_id": "zzz", "pred_text": "nobody"}),
        json.dumps({"cut_id": "b2"}),
    ])
    r = score_cuts(cuts_path, hyps, normalizer=NORM)
    assert [u["id"] for u in r["utterances"]] == ["a", "b"]
    assert r["unseen"]["num_entities"] == 1 and r["unseen"]["entity_accuracy"] == 0.0
    assert r["categories"]["TICKER"]["entity_accuracy"] == 1.0  # cut b had no entities: tagged
    reasons = sorted(s["reason"] for s in r["skipped"])
    assert any("no hypothesis for cut 'c'" in x for x in reasons)
    assert any("no cut with id 'zzz'" in x for x in reasons)
    assert any("pred_text" in x for x in reasons)
    assert r["num_rows_scored"] == 2


def test_sample_manifest_scores():
    from pathlib import Path
    path = Path(__file__).parent.parent / "manifests" / "sample_eval.json"
    r = score_manifest(path, normalizer=NORM)
    assert r["num_rows_scored"] == 6 and r["skipped"] == []
    assert r["unseen"]["num_entities"] == 2
    bad = {(e["ref"], e["hyp"]) for u in r["utterances"] for e in u["entities"] if not e["correct"]}
    assert ("$4.2 billion", "$4.2 million") in bad and ("50 bps", "15 bps") in bad
