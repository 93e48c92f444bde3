"""Fix "size mismatch for base_model.model...lora_A.default.weight": a PEFT adapter
loaded onto a base model it was not made for.

A LoRA adapter holds only its small matrices, shaped for the base model it was
trained on. PeftModel.from_pretrained onto a base with another hidden size fails
with a size mismatch; onto another architecture, it finds no module to adapt; onto
a base with the same shapes but other weights, it loads without a word.
"""

import argparse
import json
import tempfile
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.tuners.tuners_utils import NoMatchingPeftModuleError
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM
from transformers.utils import logging as hf_logging


def tiny_gpt2(n_embd=32, seed=0):
    torch.manual_seed(seed)
    sizes = dict(n_layer=2, n_head=2, n_embd=n_embd, n_positions=64, vocab_size=100)
    return GPT2LMHeadModel(GPT2Config(**sizes, bos_token_id=0, eos_token_id=0))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()
    lora = LoraConfig(r=4, target_modules=["c_attn"], fan_in_fan_out=True)
    adapter_model = get_peft_model(tiny_gpt2(n_embd=32), lora).to(device)
    with torch.no_grad():  # as after training: B is no longer zero
        for name, parameter in adapter_model.named_parameters():
            if "lora_B" in name:
                parameter.normal_()
    adapter_model.save_pretrained(out_dir / "adapter")
    adapter_model.eval()
    tokens = torch.tensor([[5, 17, 42, 8]], device=device)
    with torch.no_grad():
        expected = adapter_model(tokens).logits

    # Another hidden size: 64 instead of 32.
    try:
        PeftModel.from_pretrained(tiny_gpt2(n_embd=64), out_dir / "adapter")
    except RuntimeError as err:
        print(f"{type(err).__name__}: {err}")
        assert "size mismatch for base_model.model.transformer.h.0" in str(err)
    else:
        raise AssertionError("the adapter loaded onto a base of another size")

    # Another architecture: no module named c_attn.
    llama = LlamaForCausalLM(
        LlamaConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=2,
            num_key_value_heads=2,
            vocab_size=100,
        )
    )
    try:
        PeftModel.from_pretrained(llama, out_dir / "adapter")
    except NoMatchingPeftModuleError as err:
        print(f"{type(err).__name__}: {err}")
    else:
        raise AssertionError("the adapter loaded onto a Llama model")

    # The same shapes, other weights (seed 1): no error, other outputs.
    # --8<-- [start:silent]
    other = PeftModel.from_pretrained(tiny_gpt2(seed=1), out_dir / "adapter")
    with torch.no_grad():
        same = torch.allclose(other.to(device)(tokens).logits, expected)
    print("another base of the same shapes loads; same logits:", same)
    # --8<-- [end:silent]
    assert not same

    # --8<-- [start:fix]
    # The adapter's shapes say which base it needs: lora_A is (r, in_features).
    config = json.loads((out_dir / "adapter" / "adapter_config.json").read_text())
    print("base:", config["auto_mapping"]["base_model_class"], config["target_modules"])
    base = tiny_gpt2(n_embd=32)  # the base the adapter was trained on
    model = PeftModel.from_pretrained(base, out_dir / "adapter").to(device)
    with torch.no_grad():
        print("same logits:", torch.equal(model(tokens).logits, expected))
    # --8<-- [end:fix]
    with torch.no_grad():
        assert torch.equal(model(tokens).logits, expected)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
