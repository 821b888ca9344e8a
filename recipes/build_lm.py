"""Build a token-level n-gram LM from finance text for shallow fusion in TDT decoding (see conf/build_lm.yaml).

    python recipes/build_lm.py model_path=finance.nemo earnings21.root=../shared/earnings21 output_filename=lm/fin.arpa
    python recipes/transcribe.py model_path=finance.nemo dataset_manifest=test.json lm=finance \
        lm.ngram_lm_model=lm/fin.arpa
"""

import json
import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from finparakeet.lm.build import build_lm
from finparakeet.lm.corpus import read_corpus
from finparakeet.lm.kenlm import LmplzMissingError, LmplzParams
from finparakeet.lm.record import record_path
from finparakeet.lm.tokens import load_tokenizer


def _list(node):
    return [] if node is None else [str(x) for x in OmegaConf.to_container(node)]


@hydra.main(config_path="pkg://finparakeet.conf", config_name="build_lm", version_base="1.3")
def main(cfg: DictConfig) -> None:
    try:
        params = LmplzParams(order=int(cfg.order), prune=tuple(int(x) for x in cfg.prune or ()),
                             discount_fallback=bool(cfg.discount_fallback), memory=str(cfg.memory))
        sp, info = load_tokenizer(cfg.model_path, cfg.tokenizer_dir)
        e21 = cfg.earnings21
        corpus = read_corpus(_list(cfg.text_files), _list(cfg.manifests), e21.root,
                             _list(e21.calls) or None, _list(e21.exclude_calls), cfg.manifest_field)
        record = build_lm(corpus, sp, info, cfg.output_filename, params, cfg.lmplz)
    except (LmplzMissingError, FileNotFoundError, ValueError, RuntimeError) as e:
        sys.exit(f"build_lm: {e}")
    print(json.dumps({"lines": record.lines, "tokens": record.tokens, "unknown_lines": record.unknown_lines,
                      "ngram_counts": record.ngram_counts, "vocab_size": record.tokenizer["vocab_size"],
                      "lmplz_seconds": record.lmplz_seconds}, indent=1))
    print(f"-> {record.arpa} and {record_path(record.arpa)}")


if __name__ == "__main__":
    main()
