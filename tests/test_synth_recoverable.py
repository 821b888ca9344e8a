"""Every synthetic label can be recovered from what the voice says: the project's normaliser maps the spoken form to
the label's normalised form (issue 12: "$4.27 per share" was voiced "four twenty seven per share", which is 427)."""

from __future__ import annotations

import random

import pytest

from finparakeet.lexicon import load_lexicon
from finparakeet.synth.patterns import PATTERN_KINDS, Fill, pattern_pieces
from finparakeet.synth.pools import LexiconPools
from finparakeet.synth.templates import load_templates
from finparakeet.synth.text import FinanceTextGenerator
from finparakeet.synth.verbalize import verbalize
from finparakeet.text import FinanceNormalizer

N = FinanceNormalizer()


@pytest.mark.parametrize("category", sorted(PATTERN_KINDS))
def test_every_pattern_entity_is_said_as_written(category: str) -> None:
    rng = random.Random(category)
    for kind in PATTERN_KINDS[category]:
        for _ in range(150):
            for piece in pattern_pieces(category, kind, rng):
                written, spoken = (piece, verbalize(piece)) if isinstance(piece, str) else (piece.written,
                                                                                           piece.spoken)
                assert N(spoken) == N(written), (category, kind, written, spoken)


@pytest.mark.parametrize("written", ["$4.27 per share", "$3.39", "$12.50", "$1.05", "$2,000.00", "$0.25",
                                     "$4.1 to $4.3 billion", "H1 2019", "FY24", "the 1990s", "COVID-19", "13D"])
def test_each_reading_of_a_label_normalises_to_it(written: str) -> None:
    readings = {verbalize(written, random.Random(i)) for i in range(200)}
    assert {N(r) for r in readings} == {N(written)}, readings


def test_a_price_is_never_said_without_its_currency() -> None:
    readings = {verbalize("$4.27 per share", random.Random(i)) for i in range(300)}
    assert readings == {"four dollars and twenty seven cents per share", "four dollars twenty seven per share"}


class _NamesAsWritten(FinanceTextGenerator):
    """Lexicon names said as written: their spoken forms are pronunciations for the voice ("spider" for SPDR, "eye
    shares" for iShares), which a recogniser learns as names and no normaliser maps back."""

    @staticmethod
    def _lexicon_fill(entry, rng: random.Random) -> Fill:
        return Fill(entry.written, entry.written, entry.category, entry.id)


@pytest.mark.parametrize("seed", range(4))
def test_generated_sentences_normalise_to_their_labels(seed: int) -> None:
    gen = _NamesAsWritten(load_templates(), LexiconPools.build(load_lexicon(), 0.2, random.Random(seed)))
    rng = random.Random(seed)
    for _ in range(400):
        u = gen.generate(rng, unseen_prob=0.5)
        assert N(u.spoken) == N(u.label), (u.label, u.spoken)
