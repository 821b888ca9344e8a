"""Synthetic finance (and general English) speech: templated text with entity spans, verbalisation, espeak-ng voices,
sox augmentation, and the pipeline that writes Lhotse cuts and NeMo manifests.

No NeMo imports here: synthesis runs on any machine with espeak-ng and sox.
"""

from finparakeet.synth.config import SplitConfig, SynthConfig, from_dict
from finparakeet.synth.pipeline import Plan, UtteranceSpec, plan_utterances, synthesize_corpus
from finparakeet.synth.text import FinanceTextGenerator, TextConfig, Utterance
from finparakeet.synth.verbalize import verbalize

__all__ = ["FinanceTextGenerator", "Plan", "SplitConfig", "SynthConfig", "TextConfig", "Utterance", "UtteranceSpec",
           "from_dict", "plan_utterances", "synthesize_corpus", "verbalize"]
