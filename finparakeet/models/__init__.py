"""Model layer: Parakeet-TDT / tiny TDT models, adapters, and a CPU TDT loss.

Modules (import what you need; NeMo is imported lazily, only where a model is built or loaded):
    tokenizer  -- train_tokenizer(texts, dir, vocab_size, model_type, ...): NeMo `tokenizer.dir` layout
    loading    -- load_model_config / load_adapter_config, build_model, load_pretrained, load_or_build
    adapters   -- add_adapters, set_adapters_enabled, save_adapters, load_adapters
    tdt_loss   -- tdt_loss, TDTLossTorch, use_cpu_tdt_loss_if_needed
    step       -- transducer_loss, tokenize_batch (a training loss without a Lightning trainer)
"""
