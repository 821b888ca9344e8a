"""Score transcripts on finance entities and write JSON/Markdown/HTML reports (see finparakeet/conf/evaluate.yaml).

    python recipes/evaluate.py manifest=PATH output_dir=DIR [bias_list=PATH]
    python recipes/evaluate.py manifest=out/transcript.json output_dir=DIR confidence=true   # + the review queue
    python recipes/evaluate.py cuts=CUTS hypotheses=HYPS output_dir=DIR
    python recipes/evaluate.py earnings21.root=../shared/earnings21 earnings21.system=google output_dir=DIR
"""

import sys
from pathlib import Path

import hydra
from omegaconf import DictConfig, OmegaConf

from finparakeet.scoring import score_cuts, score_earnings21, score_manifest, write_reports
from finparakeet.scoring.confidence import load_calibration
from finparakeet.scoring.report import summary_lines
from finparakeet.scoring.review import read_transcript, report_sections, review_items, review_queue, write_review


@hydra.main(config_path="pkg://finparakeet.conf", config_name="evaluate", version_base="1.3")
def main(cfg: DictConfig) -> None:
    modes = [m for m, on in (("manifest", cfg.manifest), ("cuts", cfg.cuts), ("earnings21", cfg.earnings21.root)) if on]
    if len(modes) != 1:
        sys.exit("evaluate: give exactly one of manifest=PATH, cuts=PATH hypotheses=PATH, "
                 f"earnings21.root=DIR earnings21.system=NAME (got {modes or 'none'})")
    if cfg.confidence and not cfg.manifest:
        sys.exit("evaluate: confidence=true needs manifest=PATH (a transcript of recipes/transcribe.py "
                 "confidence=true, whose rows carry word confidence)")
    kw = {"bias_list": cfg.bias_list, "alignments": cfg.alignments}
    queue = None
    if cfg.manifest:
        report = score_manifest(cfg.manifest, **kw)
        if cfg.confidence:
            how = cfg.entity_confidence.aggregation
            try:
                calibration = load_calibration(cfg.confidence_calibration) if cfg.confidence_calibration else None
                queue = review_queue(review_items(read_transcript(cfg.manifest), how, calibration,
                                                  manifest_dir=Path(cfg.manifest).parent))
            except ValueError as e:
                sys.exit(f"evaluate: {cfg.manifest}: {e}")
            report.update(report_sections(queue, how, calibration))
    elif cfg.cuts:
        if not cfg.hypotheses:
            sys.exit("evaluate: cuts=PATH needs hypotheses=PATH (JSON lines with cut_id and pred_text)")
        report = score_cuts(cfg.cuts, cfg.hypotheses, **kw)
    else:
        if not cfg.earnings21.system:
            sys.exit("evaluate: earnings21.root needs earnings21.system=NAME (e.g. google, rev/espnet/nlp)")
        calls = [str(c) for c in OmegaConf.to_container(cfg.earnings21.calls)] if cfg.earnings21.calls else None
        report = score_earnings21(cfg.earnings21.root, cfg.earnings21.system, calls=calls, **kw)
    paths = write_reports(report, cfg.output_dir)
    if queue is not None:
        paths.update(write_review(queue, cfg.output_dir))
    print("\n".join(summary_lines(report, categories=cfg.print_categories)))
    print(f"-> {paths['json']}  " + "  ".join(p.name for k, p in paths.items() if k != "json"))


if __name__ == "__main__":
    main()
