"""The models shipped inside the package still load (sha256-checked) and still transcribe: a regression guard for the
checkpoint and for NeMo upgrades. The committed samples were never heard in training (samples/*/README.md)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from finparakeet.pretrained import SHIPPED_DIR, read_manifest, shipped_path

ROOT = Path(__file__).resolve().parents[1]
GENERAL = ROOT / "samples" / "general" / "manifest.json"
FINANCE = ROOT / "samples" / "finance"

# The shipped base's WER on samples/general, measured when it was shipped (step 17,500: 0.55 on these 12 sentences,
# half read by the held-out voice), plus a margin for NeMo/torch upgrades that change numerics a little; a broken
# checkpoint or loader lands far above it.
SHIPPED_GENERAL_WER = 0.55
MARGIN = 0.08

slow = pytest.mark.slow  # loads the 5M-parameter base and decodes


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_shipped_manifest_lists_the_base_and_its_adapters():
    files = read_manifest()
    assert files["general_base"].kind == "nemo"
    assert files["general_base"].bytes <= 25 * 2**20
    adapters = files["finance_adapters"]
    assert adapters.kind == "adapters" and adapters.base == "general_base"
    for entry in files.values():
        assert entry.rebuild, f"{entry.name}: no rebuild command recorded"
        assert entry.run.get("global_step") and "base" in entry.run, f"{entry.name}: no run.json provenance recorded"
        assert shipped_path(entry.name) == SHIPPED_DIR / entry.file  # present and sha256-intact


@slow
def test_shipped_base_transcribes_the_general_sample_below_threshold(tmp_path):
    import jiwer

    from finparakeet.inference.pipeline import transcribe
    from finparakeet.scoring.plain import PlainNormalizer

    out = tmp_path / "general.json"
    transcribe({"pretrained_name": "finparakeet/general_base", "dataset_manifest": str(GENERAL),
                "output_filename": str(out), "progress": False})
    rows = _rows(out)
    assert len(rows) == len(_rows(GENERAL)) == 12
    norm = PlainNormalizer()
    wer = jiwer.wer([norm.normalize(r["text"]) for r in rows], [norm.normalize(r["pred_text"]) for r in rows])
    assert wer <= SHIPPED_GENERAL_WER + MARGIN, f"shipped base: WER {wer:.3f} on samples/general"


@slow
def test_readme_command_transcribes_the_finance_sample_with_adapters_and_boosting(tmp_path):
    """The README's no-training command: shipped base + finance adapters + boosting, with its entity report."""
    out = tmp_path / "finance.json"
    cmd = [sys.executable, "recipes/transcribe.py", "pretrained_name=finparakeet/general_base",
           "adapter_path=finparakeet/finance_adapters", f"dataset_manifest={FINANCE / 'manifest.json'}",
           f"boosting.key_phrases_file={FINANCE / 'bias.txt'}", f"output_filename={out}", "evaluate=true"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = _rows(out)
    assert len(rows) == len(_rows(FINANCE / "manifest.json"))
    assert all("pred_text" in r for r in rows)
    report = json.loads((tmp_path / "entity_report.json").read_text(encoding="utf-8"))
    assert report["num_utterances"] == len(rows) and report["num_entities"] > 0
    assert 0.0 <= report["entity_accuracy"] <= 1.0
    assert report["keyphrases"] is not None  # the bias list was read and scored
