"""Write a key-phrase file for phrase boosting from the lexicon, phrase files and transcripts
(finparakeet/conf/build_bias_list.yaml).

    python recipes/build_bias_list.py output=bias/finance.txt lexicon.kinds='[company,term]'
    python recipes/build_bias_list.py output=bias/e21.txt lexicon.enabled=false \
        lists='[../shared/earnings21/bias_lists/oracle_list.txt]'
    python recipes/build_bias_list.py output=bias/calls.txt lexicon.enabled=false calls='[data/x/calls.jsonl]' \
        per_call_output=data/x/test_with_call_lists.json per_call_transcripts=data/x/test_manifest.json
"""

import json
import sys

import hydra
from omegaconf import DictConfig, OmegaConf

from finparakeet.biasing import BiasListConfig, EmptyBiasListError, build_bias_list, write_bias_list
from finparakeet.biasing.build import write_per_utterance_lists
from finparakeet.biasing.calls import read_calls, write_call_lists
from finparakeet.data.rejects import write_rejects


def _list(node):
    return None if node is None else [str(x) for x in OmegaConf.to_container(node)]


@hydra.main(config_path="pkg://finparakeet.conf", config_name="build_bias_list", version_base="1.3")
def main(cfg: DictConfig) -> None:
    config = BiasListConfig(
        lexicon=cfg.lexicon.enabled, kinds=_list(cfg.lexicon.kinds), categories=_list(cfg.lexicon.categories),
        aliases=cfg.lexicon.aliases, lists=_list(cfg.lists) or (), recase=cfg.recase,
        transcripts=_list(cfg.transcripts) or (), calls=_list(cfg.calls) or (),
        entity_categories=_list(cfg.entity_categories),
        tag_missing=cfg.tag_missing, per_utterance_fields=_list(cfg.per_utterance_fields) or (),
        min_count=cfg.min_count, require_in_transcripts=cfg.require_in_transcripts, max_size=cfg.max_size,
        min_chars=cfg.min_chars)
    try:
        bias = build_bias_list(config)
        path = write_bias_list(bias, cfg.output)
    except (EmptyBiasListError, FileNotFoundError, ValueError) as e:
        sys.exit(f"build_bias_list: {e}")
    print(json.dumps(bias.summary(), ensure_ascii=False, indent=1))
    print(f"-> {path} ({len(bias.phrases)} phrases)")
    if bias.rejects:  # transcript rows that could not be read: named with file, line and why
        rejects = write_rejects(bias.rejects, f"{cfg.output}.rejects.jsonl")
        print(f"-> {rejects} ({len(bias.rejects)} transcript rows not read)")
    if cfg.per_utterance_output:
        if len(config.transcripts) != 1:
            sys.exit("build_bias_list: per_utterance_output needs exactly one transcripts file")
        n = write_per_utterance_lists(config.transcripts[0], cfg.per_utterance_output, config,
                                      restrict_to=bias.phrases)
        print(f"-> {cfg.per_utterance_output} ({n} utterances with their own list in `key_phrases`)")
    if cfg.per_call_output:  # lists from the calls' metadata only, never from their transcripts
        if not cfg.per_call_transcripts or len(config.calls) != 1:
            sys.exit("build_bias_list: per_call_output needs per_call_transcripts=<manifest or cuts> and exactly "
                     "one calls file")
        try:
            n = write_call_lists(cfg.per_call_transcripts, read_calls(config.calls[0]), cfg.per_call_output)
        except (FileNotFoundError, ValueError) as e:
            sys.exit(f"build_bias_list: {e}")
        print(f"-> {cfg.per_call_output} ({n} utterances with their call's list in `bias_list`)")


if __name__ == "__main__":
    main()
