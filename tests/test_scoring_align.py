"""Entity alignment: substitutions, deletions and insertions inside and at the edges of entity spans."""

import pytest

from conftest import find_span
from finparakeet.entities import EntitySpan
from finparakeet.scoring import PlainNormalizer, align_words, prepare_reference, score_utterance

NORM = PlainNormalizer()
REF = "Revenue was 4.2 billion dollars in Q3."


def money(ref: str = REF, surface: str = "4.2 billion dollars") -> list[EntitySpan]:
    return [find_span(ref, surface, "MONEY")]


def one(hyp: str, ref: str = REF, entities=None):
    u = score_utterance(ref, hyp, entities if entities is not None else money(ref), NORM)
    assert len(u.entities) == 1
    return u, u.entities[0]


@pytest.mark.parametrize("hyp, errors, hyp_words, wer_errors", [
    ("Revenue was 4.2 billion dollars in Q3.", 0, "4.2 billion dollars", 0),
    ("Revenue was 4.2 million dollars in Q3.", 1, "4.2 million dollars", 1),  # substitution inside
    ("Revenue was 4.3 billion dollars in Q3.", 1, "4.3 billion dollars", 1),  # substitution at the left edge
    ("Revenue was 4.2 billion euros in Q3.", 1, "4.2 billion euros", 1),  # substitution at the right edge
    ("Revenue was 4.2 dollars in Q3.", 1, "4.2 dollars", 1),  # deletion inside
    ("Revenue was billion dollars in Q3.", 1, "billion dollars", 1),  # deletion at the left edge
    ("Revenue was in Q3.", 3, "", 3),  # the whole entity deleted
    ("Revenue was 4.2 uh billion dollars in Q3.", 1, "4.2 uh billion dollars", 1),  # insertion inside
    ("Revenue was 4.2 uh um billion dollars in Q3.", 2, "4.2 uh um billion dollars", 2),
    ("Revenue was uh 4.2 billion dollars in Q3.", 0, "4.2 billion dollars", 1),  # insertion before: outside
    ("Revenue was 4.2 billion dollars uh in Q3.", 0, "4.2 billion dollars", 1),  # insertion after: outside
    ("Revenue was 4.2 million uh dollars in Q3.", 2, "4.2 million uh dollars", 2),  # substitution + insertion
])
def test_entity_errors_inside_and_at_edges(hyp, errors, hyp_words, wer_errors):
    u, e = one(hyp)
    assert e.errors == errors
    assert e.correct == (errors == 0)
    assert e.hyp_norm == hyp_words
    assert e.ref == "4.2 billion dollars" and e.ref_words == 3
    assert u.alignment.errors == wer_errors


def test_hyp_is_the_hypothesis_surface():
    _, e = one("Revenue was 4.2 Million dollars, in Q3.")
    assert e.hyp == "4.2 Million dollars"  # as written in the hypothesis, edge punctuation trimmed
    assert e.hyp_norm == "4.2 million dollars"


def test_entity_at_start_and_end_of_utterance():
    ref = "NVDA rose in Q3"
    ents = [find_span(ref, "NVDA", "TICKER"), find_span(ref, "Q3", "PERIOD")]
    u = score_utterance(ref, "uh invidia rose in Q3 yes", ents, NORM)
    tick, period = u.entities
    assert (tick.errors, tick.hyp_norm) == (1, "invidia")  # leading "uh" is outside the entity
    assert (period.errors, period.hyp_norm) == (0, "q3")  # trailing "yes" too
    assert u.alignment.errors == 3
    u = score_utterance(ref, "NVDA rose in", ents, NORM)
    assert [e.errors for e in u.entities] == [0, 1]
    assert u.entities[1].hyp == ""


def test_empty_hypothesis():
    ref = "NVDA rose 4.2% in Q3"
    ents = [find_span(ref, "NVDA", "TICKER"), find_span(ref, "4.2%", "PERCENT"), find_span(ref, "Q3", "PERIOD")]
    u = score_utterance(ref, "", ents, NORM)
    assert [e.errors for e in u.entities] == [1, 1, 1]
    assert all(e.hyp == "" and not e.correct for e in u.entities)
    assert u.wer == 1.0


def test_empty_reference_counts_insertions():
    u = score_utterance("", "hello there", [], NORM)
    assert u.alignment.insertions == 2 and u.wer == 2.0
    assert score_utterance("", "", [], NORM).wer == 0.0


def test_entity_spanning_partial_words_maps_to_overlapping_words():
    ref = "We earned $4.2bn."
    u = score_utterance(ref, "We earned $4.2bn.", [EntitySpan(11, 14, "MONEY", "4.2")], NORM)
    assert u.entities[0].ref_norm == "$4.2bn"  # the normalised word that overlaps the span
    assert u.entities[0].correct


def test_entity_that_normalises_to_nothing_is_unscorable():
    ref = "Growth -- strong."
    span = find_span(ref, "--", "CARDINAL")
    prep = prepare_reference(ref, [span], NORM)
    assert prep.entities == [] and prep.unscorable == [span]
    assert score_utterance(ref, "growth strong", [span], NORM).unscorable == [span]


def test_alignment_span_api_and_bounds():
    al = align_words("a b c d".split(), "a x c y d".split())
    s = al.span(1, 4)  # b c d -> x c y d: one substitution, one insertion between c and d
    assert (s.substitutions, s.deletions, s.insertions, s.errors) == (1, 0, 1, 2)
    assert al.hyp[s.hyp_start:s.hyp_end] == ["x", "c", "y", "d"]
    assert al.span(0, 1).errors == 0
    with pytest.raises(ValueError):
        al.span(2, 2)
    with pytest.raises(ValueError):
        al.span(0, 5)


def test_alignment_totals_match_jiwer():
    import jiwer
    ref = "the quick brown fox jumps over the lazy dog".split()
    hyp = "a quick brown fox jumped over lazy dog today".split()
    al = align_words(ref, hyp)
    out = jiwer.process_words(" ".join(ref), " ".join(hyp))
    assert (al.substitutions, al.deletions, al.insertions) == (out.substitutions, out.deletions, out.insertions)
    assert al.wer == pytest.approx(out.wer)


def _jiwer_reference_alignment(ref: list[str], hyp: list[str]):
    """What the scorer computed before it called jiwer's Levenshtein backend itself: jiwer.process_words chunks and
    the per-word arrays built word by word; words compared by value ("$4.2" = "4.2": a missing currency is a format
    difference, not an error)."""
    import jiwer
    from finparakeet.scoring.align import _JIWER_CODE
    from finparakeet.text.numbers import split_currency
    ref, hyp = [split_currency(w)[1] for w in ref], [split_currency(w)[1] for w in hyp]
    out = jiwer.process_words(ref, hyp, reference_transform=lambda w: [w], hypothesis_transform=lambda w: [w])
    chunks = [(_JIWER_CODE[c.type], c.ref_start_idx, c.ref_end_idx, c.hyp_start_idx, c.hyp_end_idx)
              for c in out.alignments[0]]
    hyp_from, hyp_to, subs, dels, ins = [], [], [0], [0], [0] * (len(ref) + 1)
    for op, r1, r2, h1, h2 in chunks:
        for k in range(r2 - r1):
            hyp_from.append(h1 if op == "d" else h1 + k)
            hyp_to.append(h1 if op == "d" else h1 + k + 1)
            subs.append(subs[-1] + (op == "s"))
            dels.append(dels[-1] + (op == "d"))
        if op == "i":
            ins[r1] += h2 - h1
    ins_upto = [sum(ins[:k + 1]) for k in range(len(ins))]
    return chunks, hyp_from, hyp_to, subs, dels, ins_upto


def test_alignment_is_jiwers_word_for_word():
    import random
    rng = random.Random(5)
    vocab = "a b c d e f the of and 4.2 billion $4.2".split()
    for _ in range(300):
        ref = [rng.choice(vocab) for _ in range(rng.randint(1, 40))]
        hyp = [rng.choice(vocab) for _ in range(rng.randint(1, 40))]
        if rng.random() < 0.5:  # mostly the same, with edits
            hyp = [w for w in ref if rng.random() < 0.9] + hyp[:rng.randint(0, 3)]
            rng.shuffle(hyp) if rng.random() < 0.1 else None
        if not hyp:
            continue
        al = align_words(ref, hyp)
        assert (al.chunks, al.hyp_from, al.hyp_to, al.subs_before, al.dels_before, al.ins_upto) == \
            _jiwer_reference_alignment(ref, hyp), (ref, hyp)


def test_alignment_of_empty_sides():
    assert align_words([], []).chunks == [] and align_words([], []).wer == 0
    al = align_words(["a", "b"], [])
    assert (al.deletions, al.hyp_from, al.hyp_to) == (2, [0, 0], [0, 0])
    al = align_words([], ["a", "b"])
    assert (al.insertions, al.wer) == (2, 2.0)


def test_scoring_batches_pause_the_garbage_collector_and_restore_it():
    import gc

    from finparakeet.scoring.api import paused_gc
    for state in (True, False):
        (gc.enable if state else gc.disable)()
        with paused_gc():
            assert not gc.isenabled()
        assert gc.isenabled() == state
        with pytest.raises(RuntimeError), paused_gc():
            raise RuntimeError
        assert gc.isenabled() == state
    gc.enable()


def test_plain_normalizer_arrays_match_its_words():
    text = '  "Revenue," grew -- 4.2% (Q3)!  '
    words = NORM.normalize_with_spans(text)
    assert NORM.normalize_arrays(text) == ([w.text for w in words], [w.start for w in words], [w.end for w in words])
    assert NORM.normalize(text) == "revenue grew 4.2% q3"


def test_a_missing_currency_is_format_only_and_a_different_one_an_error():
    al = align_words("revenue was $329.3 million".split(), "revenue was 329.3 million".split())
    assert (al.errors, al.format_only, al.chunks) == (0, 1, [("e", 0, 4, 0, 4)])
    assert al.span(2, 4) == (2, 4, 0, 0, 0, 2, 1)
    al = align_words("4.2 billion".split(), "$4.2 billion".split())  # a currency the reference lacks: the same
    assert (al.errors, al.format_only) == (0, 1)
    al = align_words("a $5 b €5 c chf85".split(), "a €5 b 5 c chf85".split())
    assert (al.substitutions, al.format_only, al.wer) == (1, 1, pytest.approx(1 / 6))
    assert al.chunks == [("e", 0, 1, 0, 1), ("s", 1, 2, 1, 2), ("e", 2, 6, 2, 6)]
    assert al.fmt_before == [0, 0, 0, 0, 1, 1, 1]
    # Different values stay different whatever the currency.
    assert align_words(["$4.2"], ["4.3"]).substitutions == 1
    assert align_words(["$4.2", "billion"], ["4.2", "million"]).substitutions == 1


def test_numbering_continues_a_reference_numbering():
    from finparakeet.scoring.align import align_ids, word_ids
    ref = "$5 million and 5 more".split()
    ref_ids, vocab = word_ids(ref)
    assert ref_ids == [0, 1, 2, 0, 3]  # "$5" and "5" share an id
    hyp_ids, _ = word_ids("5 million and €5 less".split(), vocab)
    assert hyp_ids == [0, 1, 2, 0, 4]
    assert word_ids(["x"], vocab)[0] == [4] and "x" not in vocab  # the reference's numbering is not changed
    al = align_ids(ref, "5 million and €5 less".split(), ref_ids, hyp_ids)
    assert (al.substitutions, al.format_only) == (1, 2)  # "$5" -> "5", "5" -> "€5" format only; "more" -> "less"
