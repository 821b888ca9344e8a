"""Long recordings: peak memory and time of each ``long_audio.strategy`` on one long recording.

    python bench/bench_longform.py [--minutes 10] [--strategies windows,local_attention,none] [--model tiny_tdt]
                                   [--threads 1] [--output results/bench_longform.json]

One recording of ``--minutes`` of espeak-ng finance speech (synthetic sentences, one voice, short pauses) is decoded
by ``finparakeet.inference.pipeline.transcribe`` (what ``recipes/transcribe.py`` runs) once per strategy, each in
its own process, so each figure is that strategy's own peak RSS (``ru_maxrss``, NeMo's import and the model
included):

* ``windows``: 30 s Lhotse windows with 5 s overlap, stitched by word timestamps (memory bounded by the window);
* ``local_attention``: the whole recording through the encoder with NeMo's limited-context attention;
* ``none``: the whole recording with full attention (memory grows with the square of the length; at some length it
  no longer fits — the script reports the failure and goes on).

The model (``conf/model/<--model>.yaml``) has random weights — memory and time do not depend on them — and a
tokenizer trained here on the same sentences.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchutil import finance_utterances, load_average, machine_info, record, record_path, write_result

REPO = Path(__file__).resolve().parent.parent
STRATEGIES = ("windows", "local_attention", "none")
PAUSE_S = 0.4


def make_recording(minutes: float, out: Path, seed: int) -> tuple[Path, list[str]]:
    """A mono 16 kHz WAV of ``minutes`` of synthetic finance speech; returns it and the sentences' labels."""
    import numpy as np
    import soundfile as sf

    from finparakeet.synth.tts import TTSConfig, Voice, check_tools, synthesize

    cfg = TTSConfig()
    check_tools(cfg)
    voice = Voice("en-us", 175, 50)
    pause = np.zeros(int(PAUSE_S * cfg.sample_rate), dtype=np.float32)
    pieces, labels, total = [], [], 0.0
    for u in finance_utterances(int(minutes * 60 / 2) + 10, seed):  # a sentence lasts more than 2 s
        if total >= minutes * 60:
            break
        samples = synthesize(u.spoken, voice, (), cfg).astype(np.float32)
        pieces += [samples, pause]
        labels.append(u.label)
        total += (len(samples) + len(pause)) / cfg.sample_rate
    sf.write(out, np.concatenate(pieces), cfg.sample_rate, subtype="PCM_16")
    return out, labels


def make_model(name: str, texts: list[str], work: Path) -> Path:
    """A ``.nemo`` of ``conf/model/<name>.yaml`` with random weights and a tokenizer trained on ``texts``."""
    from finparakeet.models.loading import build_model, load_model_config
    from finparakeet.models.tokenizer import train_tokenizer

    shape = load_model_config(name).tokenizer_train
    tok = train_tokenizer(texts, work / "tokenizer", vocab_size=int(shape.vocab_size),
                          model_type=str(shape.get("model_type", "unigram")),
                          split_digits=bool(shape.get("split_digits", True)),
                          byte_fallback=bool(shape.get("byte_fallback", False)))
    model = build_model(load_model_config(name, [f"model.tokenizer.dir={tok}"]))
    path = work / "model.nemo"
    model.save_to(str(path))
    return path


def worker(args) -> dict[str, Any]:
    """Decode the recording with one strategy in this process; peak RSS and time."""
    import torch

    torch.set_num_threads(args.threads)
    from finparakeet.inference.pipeline import transcribe

    t0 = time.perf_counter()
    result = transcribe({"model_path": args.model_path, "audio_dir": args.audio_dir, "progress": False,
                         "output_filename": str(Path(args.result_file).with_suffix(".manifest.json")),
                         "long_audio": {"strategy": args.worker}})
    wall = time.perf_counter() - t0
    return {"strategy": args.worker, "peak_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "wall_seconds": wall, "decode_seconds": result.stats.wall_seconds, "rtfx": result.stats.rtfx,
            "windows": result.stats.windows, "max_pass_seconds": result.stats.max_pass_seconds,
            "words_out": sum(len(r["pred_text"].split()) for r in result.rows)}


def run_strategy(strategy: str, args, model_path: Path, audio_dir: Path, work: Path) -> dict[str, Any]:
    out = work / f"{strategy}.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", strategy, "--model-path", str(model_path),
           "--audio-dir", str(audio_dir), "--result-file", str(out), "--threads", str(args.threads)]
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads), OMP_WAIT_POLICY="PASSIVE")
    print(f"== {strategy}: decoding {args.minutes:g} min (own process)", flush=True)
    proc = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True)
    if proc.returncode != 0 or not out.is_file():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
        killed = " (killed: out of memory)" if proc.returncode in (-9, 137) else ""
        return {"strategy": strategy, "error": f"exit status {proc.returncode}{killed}: {tail}"}
    return json.loads(out.read_text())


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=float, default=10.0, help="length of the recording (default 10)")
    ap.add_argument("--strategies", default=",".join(STRATEGIES), help=f"subset of {', '.join(STRATEGIES)}")
    ap.add_argument("--model", default="tiny_tdt", help="conf/model/<name>.yaml (random weights)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--output", type=Path, default=record_path("longform"))
    ap.add_argument("--worker", choices=STRATEGIES, help=argparse.SUPPRESS)
    for internal in ("--model-path", "--audio-dir", "--result-file"):
        ap.add_argument(internal, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        Path(args.result_file).write_text(json.dumps(worker(args)))
        return 0
    strategies = [s.strip() for s in args.strategies.split(",") if s.strip()]
    if not strategies or set(strategies) - set(STRATEGIES):
        ap.error(f"--strategies: choose from {', '.join(STRATEGIES)}")

    import soundfile as sf

    work = Path(tempfile.mkdtemp(prefix="bench_longform_"))
    load_before = load_average()
    try:
        (work / "audio").mkdir()
        t0 = time.perf_counter()
        wav, labels = make_recording(args.minutes, work / "audio" / "call.wav", args.seed)
        audio_s = sf.info(str(wav)).duration
        print(f"recording: {args.minutes:g} min, {len(labels)} sentences (made in {time.perf_counter() - t0:.0f} s)",
              flush=True)
        model_path = make_model(args.model, labels, work)
        results = {s: run_strategy(s, args, model_path, wav.parent, work) for s in strategies}
    finally:
        shutil.rmtree(work, ignore_errors=True)

    print(f"\n{'strategy':<16} {'peak RSS GiB':>12} {'decode s':>9} {'RTFx':>7} {'windows':>8} {'longest pass s':>15}")
    for s, r in results.items():
        if "error" in r:
            print(f"{s:<16} failed: {r['error'].splitlines()[0]}")
            continue
        print(f"{s:<16} {r['peak_rss_bytes'] / 2**30:>12.2f} {r['decode_seconds']:>9.1f} {r['rtfx'] or 0:>7.1f} "
              f"{r['windows']:>8} {r['max_pass_seconds']:>15.1f}")
    from omegaconf import OmegaConf

    from finparakeet.conf import compose

    settings = OmegaConf.to_container(compose("transcribe").long_audio)  # the defaults each strategy ran with
    figures = {"minutes": args.minutes, "audio_seconds": audio_s, "sentences": len(labels), "model": args.model,
               "random_weights": True, "long_audio": {k: v for k, v in settings.items() if k != "strategy"},
               "results": results}
    write_result(args.output, record("longform", argv, machine_info(args.threads, "cpu", load_before), None, figures))
    return 1 if any("error" in r for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
