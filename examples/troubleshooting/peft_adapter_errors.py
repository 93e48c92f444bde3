"""Fix the errors of a PEFT adapter loaded the wrong way: onto a base model of other
sizes ("size mismatch for base_model.model...lora_A.default.weight"), onto another
architecture ("Target modules {'c_attn'} not found in the base model"), or into the
base model with load_state_dict ("Unexpected key(s) in state_dict:
base_model.model...lora_A.weight").

A LoRA adapter holds only its small matrices, shaped for and named after the layers
of the base model it was trained on. PEFT checks that they fit by shape only: onto
a base with the same shapes but other weights, the adapter loads without a word.
"""

import argparse
import json
import tempfile
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from peft.tuners.tuners_utils import NoMatchingPeftModuleError
from safetensors.torch import load_file
from transformers import GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM
from transformers.utils import logging as hf_logging


def tiny_gpt2(n_embd=32, seed=0):
    torch.manual_seed(seed)
    sizes = dict(n_layer=2, n_head=2, n_embd=n_embd, n_positions=64, vocab_size=100)
    return GPT2LMHeadModel(GPT2Config(**sizes, bos_token_id=0, eos_token_id=0))


def tiny_llama():
    sizes = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2)
    heads = dict(num_attention_heads=2, num_key_value_heads=2, vocab_size=100)
    return LlamaForCausalLM(LlamaConfig(**sizes, **heads))


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
    adapter_dir = out_dir / "adapter"
    adapter_model.save_pretrained(adapter_dir)
    adapter_model.eval()
    tokens = torch.tensor([[5, 17, 42, 8]], device=device)
    with torch.no_grad():
        expected = adapter_model(tokens).logits

    # 1. A base model of other sizes: a hidden size of 64 instead of 32.
    try:
        PeftModel.from_pretrained(tiny_gpt2(n_embd=64), adapter_dir)
    except RuntimeError as err:
        print(f"{type(err).__name__}: {err}")
        assert "size mismatch for base_model.model.transformer.h.0" in str(err)
    else:
        raise AssertionError("the adapter loaded onto a base of another size")

    # 2. Another architecture: a Llama model has no module named c_attn.
    try:
        PeftModel.from_pretrained(tiny_llama(), adapter_dir)
    except NoMatchingPeftModuleError as err:
        print(f"{type(err).__name__}: {err}")
    else:
        raise AssertionError("the adapter loaded onto a Llama model")

    # 3. The same shapes, other weights (seed 1): no error, other outputs.
    # --8<-- [start:silent]
    other = PeftModel.from_pretrained(tiny_gpt2(seed=1), adapter_dir).to(device)
    with torch.no_grad():
        same = torch.allclose(other(tokens).logits, expected)
    print("another base of the same shapes loads; same logits:", same)
    # --8<-- [end:silent]
    assert not same

    # --8<-- [start:fix]
    # The adapter's config names the base model; lora_A is (r, in_features).
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    auto_mapping = config["auto_mapping"] or {}  # None with a task_type
    print("base model:", config["base_model_name_or_path"])  # None: built here
    print("class:", auto_mapping.get("base_model_class"), config["task_type"])
    print("adapts:", config["target_modules"])
    base = tiny_gpt2(n_embd=32)  # the base the adapter was trained on
    model = PeftModel.from_pretrained(base, adapter_dir).to(device)
    with torch.no_grad():
        print("same logits:", torch.equal(model(tokens).logits, expected))
    # --8<-- [end:fix]
    with torch.no_grad():
        assert torch.equal(model(tokens).logits, expected)

    # 4. The adapter file loaded into the base model with load_state_dict.
    base = tiny_gpt2().to(device)
    adapter_file = adapter_dir / "adapter_model.safetensors"
    try:
        base.load_state_dict(load_file(adapter_file, device=device))
    except RuntimeError as err:
        print(f"{type(err).__name__}: {err}")
        assert 'Unexpected key(s) in state_dict: "base_model.model.' in str(err)
    else:
        raise AssertionError("the adapter file loaded into the base model")

    # strict=False raises nothing and loads nothing.
    result = base.load_state_dict(load_file(adapter_file, device=device), strict=False)
    missing, unexpected = len(result.missing_keys), len(result.unexpected_keys)
    print(f"strict=False: {missing} missing, {unexpected} unexpected, nothing loaded")
    assert unexpected == 4 and missing == 29

    # --8<-- [start:fix_load_state_dict]
    base = tiny_gpt2()  # the base model, with all its weights
    model = PeftModel.from_pretrained(base, adapter_dir).to(device)  # + the adapter
    merged = model.merge_and_unload()  # if you need one plain model
    with torch.no_grad():
        same = torch.allclose(merged(tokens).logits, expected, atol=1e-5)
    print("merged, same logits within 1e-5:", same)
    # --8<-- [end:fix_load_state_dict]
    assert same and type(merged) is GPT2LMHeadModel


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
