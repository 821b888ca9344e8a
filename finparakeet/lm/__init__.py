"""Text-only finance adaptation: a token-level n-gram LM for NeMo's shallow fusion (NGPU-LM) in TDT decoding.

- ``corpus``: finance text in (plain text, NeMo manifests or Lhotse cuts, Earnings-21 ``.nlp`` references), one
  written-form line per utterance or sentence
- ``tokens``: the model's own SentencePiece tokenizer (from a ``.nemo`` or a tokenizer dir), its identity (size and
  hash of the pieces), and lines written as NeMo's token LMs expect (token id + 100 as one character)
- ``kenlm``: KenLM's ``lmplz`` (found, or a clear error naming the command that builds it) and the ARPA header
- ``record``: the JSON record beside an ARPA file, and the check that a model's tokenizer is the LM's
- ``build``: corpus + tokenizer + lmplz -> ARPA file + record

No NeMo and no torch here: the LM is built without loading a model.
"""
