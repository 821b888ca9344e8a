"""Metric values on hand-computed examples; per category, unseen, key phrases; reset and cross-process reduction."""

import subprocess
import sys
import time

import pytest

from conftest import find_span
from finparakeet.entities import EntitySpan
from finparakeet.scoring import EntityTally, PlainNormalizer, flat_scalars
from finparakeet.scoring.keyphrases import prf

NORM = PlainNormalizer()

R1 = "Revenue was 4.2 billion dollars in Q3."
H1 = "Revenue was 4.2 million dollars in Q2."
E1 = [find_span(R1, "4.2 billion dollars", "MONEY", seen=True), find_span(R1, "Q3", "PERIOD", seen=False)]
R2 = "Margin rose 50 bps."
H2 = "margin rose 50 bps"
E2 = [find_span(R2, "50 bps", "BPS", seen=False)]
# By hand: WER 2/11 (two substitutions in 7 + 4 words). Entities: MONEY 1 error / 3 words, PERIOD 1/1, BPS 0/2.
# Entity WER 2/6, accuracy 1/3. Unseen (PERIOD, BPS): 1 error / 3 words, accuracy 1/2.


def tally(**kw):
    return EntityTally(normalizer=NORM, **kw)


def check_hand_values(r):
    assert r["num_utterances"] == 2 and r["num_entities"] == 3
    assert r["wer"] == pytest.approx(2 / 11)
    assert r["entity_wer"] == pytest.approx(2 / 6)
    assert r["entity_accuracy"] == pytest.approx(1 / 3)
    assert r["categories"]["MONEY"] == {"entity_wer": pytest.approx(1 / 3), "entity_accuracy": 0.0,
                                        "num_entities": 1, "errors": 1, "ref_words": 3, "format_only": 0}
    assert r["categories"]["PERIOD"]["entity_wer"] == 1.0
    assert r["categories"]["BPS"] == {"entity_wer": 0.0, "entity_accuracy": 1.0, "num_entities": 1, "errors": 0,
                                      "ref_words": 2, "format_only": 0}
    assert set(r["categories"]) == {"MONEY", "PERIOD", "BPS"}  # categories without entities are left out
    assert r["unseen"] == {"entity_wer": pytest.approx(1 / 3), "entity_accuracy": 0.5, "num_entities": 2,
                           "errors": 1, "ref_words": 3, "format_only": 0}
    assert set(r["unseen_categories"]) == {"PERIOD", "BPS"}


def test_hand_computed_values_and_report_contract():
    t = tally()
    t.update([R1, R2], [H1, H2], entities=[E1, E2], ids=["a", "b"])
    r = t.compute()
    check_hand_values(r)
    assert r["keyphrases"] is None
    for key in ("wer", "entity_wer", "entity_accuracy", "num_utterances", "num_entities", "categories", "unseen",
                "keyphrases", "utterances"):
        assert key in r
    u = r["utterances"][0]
    assert u["id"] == "a" and u["wer"] == pytest.approx(2 / 7)
    assert [(e["category"], e["ref"], e["hyp"], e["correct"], e["errors"]) for e in u["entities"]] == [
        ("MONEY", "4.2 billion dollars", "4.2 million dollars", False, 1), ("PERIOD", "Q3", "Q2", False, 1)]
    assert r["confusions"][0]["count"] == 1


def test_entities_as_manifest_dicts_and_default_ids():
    t = tally()
    t.update([R1], [H1], entities=[[e.to_dict() for e in E1]])
    t.update([R2], [H2], entities=[E2])
    r = t.compute()
    check_hand_values(r)
    assert [u["id"] for u in r["utterances"]] == ["0", "1"]


def test_empty_entity_list_is_kept_and_none_is_tagged():
    t = tally()
    t.update(["NVDA rose 4.2% in Q3."], ["NVDA rose 4.2% in Q3."], entities=[[]])
    assert t.compute()["num_entities"] == 0
    t.reset()
    t.update(["NVDA rose 4.2% in Q3."], ["NVDA rose 4.3% in Q3."], entities=[None])
    r = t.compute()
    assert {c: g["num_entities"] for c, g in r["categories"].items()} == {"TICKER": 1, "PERCENT": 1, "PERIOD": 1}
    assert r["categories"]["PERCENT"]["entity_accuracy"] == 0.0


def test_unknown_category_counts_as_other_in_a_fixed_vocabulary():
    t = tally(categories=("MONEY",))
    ref = "Alice met Bob"
    t.update([ref], ["Alice met Rob"], entities=[[find_span(ref, "Bob", "PERSON")]])
    assert t.compute()["categories"] == {"OTHER": {"entity_wer": 1.0, "entity_accuracy": 0.0, "num_entities": 1,
                                                   "errors": 1, "ref_words": 1, "format_only": 0}}


def test_mismatched_batch_lengths_raise():
    with pytest.raises(ValueError):
        tally().update([R1, R2], [H1])
    with pytest.raises(ValueError):
        tally().update([R1], [H1], entities=[E1, E2])


# -- key phrases -----------------------------------------------------------------------------------------------------

def test_keyphrases_hits_misses_and_false_alarms():
    t = tally(bias_list=["Q3", "50 bps", "EBITDA", "free cash flow"])
    refs = [R1,  # Q3 said, recognised as Q2: a miss
            R2,  # "50 bps" recognised: a hit
            "Costs fell.",  # EBITDA hallucinated: a false alarm
            "Q3 free cash flow was strong.",  # Q3 moved to the end: a miss and a false alarm; free cash flow: a hit
            "EBITDA and EBITDA."]  # twice in the reference, once recognised: a hit and a miss
    hyps = [H1, H2, "Costs fell EBITDA.", "free cash flow was strong Q3", "EBITDA and and."]
    t.update(refs, hyps, entities=[[]] * 5)
    kp = t.compute()["keyphrases"]
    assert (kp["hits"], kp["false_alarms"], kp["misses"]) == (3, 2, 3)
    assert kp["precision"] == pytest.approx(3 / 5)
    assert kp["recall"] == pytest.approx(3 / 6)
    assert kp["f1"] == pytest.approx(2 * 0.6 * 0.5 / 1.1)
    assert {p["phrase"]: p["count"] for p in kp["top_false_alarms"]} == {"EBITDA": 1, "Q3": 1}


def test_keyphrase_edge_conventions():
    assert prf(0, 0, 0) == {"precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert prf(0, 0, 3) == {"precision": 1.0, "recall": 0.0, "f1": 0.0}
    assert prf(0, 2, 0) == {"precision": 0.0, "recall": 1.0, "f1": 0.0}


def test_keyphrase_inside_a_longer_phrase_and_overlaps():
    t = tally(bias_list=["cash flow", "cash"])
    t.update(["free cash flow and cash"], ["free cash flow and cash cash"], entities=[[]])
    kp = t.compute()["keyphrases"]
    # "cash flow": 1 hit. "cash": 2 in the reference, both recognised, 3 in the hypothesis: 2 hits, 1 false alarm.
    assert (kp["hits"], kp["false_alarms"], kp["misses"]) == (3, 1, 0)


# -- reset and reduction ---------------------------------------------------------------------------------------------

def test_tally_reset_and_merge():
    a, b = tally(), tally()
    a.update([R1], [H1], entities=[E1], ids=["a"])
    b.update([R2], [H2], entities=[E2], ids=["b"])
    a.merge(b)
    check_hand_values(a.compute())
    assert [u["id"] for u in a.compute()["utterances"]] == ["a", "b"]
    a.reset()
    r = a.compute()
    assert r["num_utterances"] == 0 and r["wer"] is None and r["entity_wer"] is None and r["utterances"] == []


torch = pytest.importorskip("torch")


def metric(**kw):
    from finparakeet.scoring import EntityMetric
    return EntityMetric(normalizer=NORM, **kw)


def test_entity_metric_matches_tally_and_resets():
    m = metric(bias_list=["Q3"])
    m.update([R1, R2], [H1, H2], entities=[E1, E2], ids=["a", "b"])
    r = m.compute()
    check_hand_values(r)
    assert r["keyphrases"]["misses"] == 1
    assert m.words.dtype == torch.long and m.words.tolist()[:5] == [2, 0, 0, 11, 2]
    m.reset()
    assert int(m.words.sum()) == 0 and int(m.by_category.sum()) == 0 and m.details == []
    m.update([R2], [H2], entities=[E2])
    assert m.compute()["num_utterances"] == 1


def test_entity_metric_forward_accumulates():
    m = metric()
    m(([R1]), [H1], entities=[E1])
    m([R2], [H2], entities=[E2])
    check_hand_values(m.compute())


def test_two_ranks_merge_state():
    rank0, rank1 = metric(), metric()
    rank0.update([R1], [H1], entities=[E1], ids=["a"])
    rank1.update([R2], [H2], entities=[E2], ids=["b"])
    states = {k: getattr(rank1, k) for k in ("words", "by_category", "unseen", "keyphrases")}
    rank0.merge_state(states)  # a state dict, as gathered from another process
    r = rank0.compute()
    check_hand_values(r)
    assert [u["id"] for u in r["utterances"]] == ["a"]  # details stay with the process that scored them


def test_two_ranks_sync_sums_states_through_torchmetrics():
    """compute() syncs through torchmetrics' own path; the all-gather hands back rank 1's states."""
    gathered = []

    def all_gather(t, group=None):
        gathered.append(t)
        return [t, next(others)]

    rank0 = metric(dist_sync_fn=all_gather, distributed_available_fn=lambda: True)
    rank1 = metric()
    rank0.update([R1], [H1], entities=[E1], ids=["a"])
    rank1.update([R2], [H2], entities=[E2], ids=["b"])
    others = iter([getattr(rank1, k) for k in rank0._reductions])
    r = rank0.compute()
    assert len(gathered) == 4  # every count state went through the all-gather
    check_hand_values(r)
    assert [u["id"] for u in r["utterances"]] == ["a"]
    assert rank0.words.tolist()[4] == 1  # after compute, the local states are back


def test_flat_scalars():
    t = tally()
    t.update([R1, R2], [H1, H2], entities=[E1, E2])
    s = flat_scalars(t.compute())
    assert s["entity_wer"] == pytest.approx(1 / 3) and s["entity_accuracy/BPS"] == 1.0
    assert s["unseen/entity_accuracy"] == 0.5 and "keyphrase_f1" not in s
    assert all(isinstance(v, float) for v in s.values())


# -- long form and imports -------------------------------------------------------------------------------------------

def test_long_form_8000_words():
    filler = "and then we saw the business grow across all of our regions this".split()
    refs, hyps = [], []
    n_ent = 0
    while len(refs) < 8000:
        chunk = filler[: 10]
        refs += chunk
        hyps += chunk
        # every 14 words an entity "4.2 billion dollars"; every third one is misrecognised as "million"
        amount = ["4.2", "billion", "dollars"]
        refs += amount
        hyps += ["4.2", "million", "dollars"] if n_ent % 3 == 0 else amount
        n_ent += 1
        refs.append("okay")  # every fifth "okay" is deleted: a WER error outside entities
        if n_ent % 5:
            hyps.append("okay")
    ref, hyp = " ".join(refs), " ".join(hyps)
    spans, start = [], 0
    while True:
        i = ref.find("4.2 billion dollars", start)
        if i < 0:
            break
        spans.append(EntitySpan(i, i + 19, "MONEY", "4.2 billion dollars"))
        start = i + 19
    assert len(spans) == n_ent
    t0 = time.perf_counter()
    t = tally()
    t.update([ref], [hyp], entities=[spans])
    r = t.compute()
    elapsed = time.perf_counter() - t0
    wrong = (n_ent + 2) // 3
    assert r["num_entities"] == n_ent
    assert r["categories"]["MONEY"]["errors"] == wrong
    assert r["entity_accuracy"] == pytest.approx(1 - wrong / n_ent)
    assert r["wer"] == pytest.approx((wrong + n_ent // 5) / len(refs))
    assert elapsed < 5.0, elapsed  # a whole call is one utterance: this must stay well under a second or two


def test_long_form_with_finance_normaliser_and_tagger():
    from finparakeet.text import FinanceNormalizer
    sent = "In Q3 2024 revenue at NVDA grew 12.5% to $4.2 billion and margins rose 50 bps. "
    ref = sent * 500  # 8,000 words
    hyp = ref.replace("12.5%", "12.05%", 100)
    t0 = time.perf_counter()
    t = EntityTally(normalizer=FinanceNormalizer())
    t.update([ref], [hyp], entities=[None])
    r = t.compute()
    elapsed = time.perf_counter() - t0
    assert r["categories"]["PERCENT"]["num_entities"] == 500
    assert r["categories"]["PERCENT"]["entity_accuracy"] == pytest.approx(0.8)
    assert r["categories"]["MONEY"]["entity_accuracy"] == 1.0
    assert elapsed < 30.0, elapsed


def test_scoring_does_not_import_nemo():
    code = ("import sys, finparakeet.scoring as s; from finparakeet.scoring import EntityMetric; "
            "import finparakeet.scoring.torchmetric, finparakeet.scoring.api; "
            "assert 'nemo' not in sys.modules, [m for m in sys.modules if m.startswith('nemo')]")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_scoring_package_import_is_torch_free():
    code = "import sys, finparakeet.scoring; assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)
