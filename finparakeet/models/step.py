"""The transducer loss of a NeMo RNNT/TDT model without a Lightning trainer (tests, benchmarks).

``model.training_step`` needs an attached trainer and optimizer (it logs the learning rate); this runs the same
computation: encoder, prediction net, joint, loss — fused or not, as the model's joint is configured.
"""

from __future__ import annotations

import torch

__all__ = ["transducer_loss", "tokenize_batch"]


def tokenize_batch(model, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
    """Token ids ``[B, U]`` (zero-padded) and lengths ``[B]`` with the model's tokenizer."""
    ids = [model.tokenizer.text_to_ids(t) for t in texts]
    lengths = torch.tensor([len(x) for x in ids], dtype=torch.long)
    out = torch.zeros(len(ids), max(1, int(lengths.max())), dtype=torch.long)
    for i, x in enumerate(ids):
        out[i, : len(x)] = torch.tensor(x, dtype=torch.long)
    return out, lengths


def transducer_loss(
    model,
    signal: torch.Tensor,
    signal_len: torch.Tensor,
    transcript: torch.Tensor,
    transcript_len: torch.Tensor,
) -> torch.Tensor:
    """Scalar training loss (the model's ``rnnt_reduction``, plus adapters' auxiliary losses) for raw audio.

    Note: in training mode NeMo's preprocessor adds dither to ``signal`` *in place*; pass a copy to reuse it.
    """
    from nemo.core.classes.mixins import AccessMixin

    encoded, encoded_len = model.forward(input_signal=signal, input_signal_length=signal_len)
    decoder, target_len, _ = model.decoder(targets=transcript, target_length=transcript_len)
    if model.joint.fuse_loss_wer:
        loss, _, _, _ = model.joint(
            encoder_outputs=encoded,
            decoder_outputs=decoder,
            encoder_lengths=encoded_len,
            transcripts=transcript,
            transcript_lengths=transcript_len,
            compute_wer=False,
        )
    else:
        joint = model.joint(encoder_outputs=encoded, decoder_outputs=decoder)
        loss = model.loss(log_probs=joint, targets=transcript, input_lengths=encoded_len, target_lengths=target_len)
    loss = model.add_auxiliary_losses(loss)  # e.g. adapters' l2_lambda penalties, as training_step does
    if AccessMixin.is_access_enabled(model.model_guid):
        AccessMixin.reset_registry(model)
    return loss
