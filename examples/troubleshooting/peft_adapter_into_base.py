"""Fix "Unexpected key(s) in state_dict: base_model.model...lora_A.weight": a PEFT
adapter file loaded into the base model with load_state_dict.

adapter_model.safetensors holds only the adapter's small matrices, under PEFT's
names, not the model's weights: the base model's load_state_dict finds none of its
keys in it. PEFT puts the adapter on top of the base model.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model
from safetensors.torch import load_file
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging


def tiny_gpt2():
    torch.manual_seed(0)
    sizes = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
    return GPT2LMHeadModel(GPT2Config(**sizes, bos_token_id=0, eos_token_id=0))


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()
    lora = LoraConfig(r=4, target_modules=["c_attn"], fan_in_fan_out=True)
    adapter_model = get_peft_model(tiny_gpt2(), lora).to(device)
    with torch.no_grad():  # as after training: B is no longer zero
        for name, parameter in adapter_model.named_parameters():
            if "lora_B" in name:
                parameter.normal_()
    adapter_model.save_pretrained(out_dir / "adapter")
    adapter_model.eval()
    tokens = torch.tensor([[5, 17, 42, 8]], device=device)
    with torch.no_grad():
        expected = adapter_model(tokens).logits

    base = tiny_gpt2().to(device)
    adapter_file = out_dir / "adapter" / "adapter_model.safetensors"
    try:
        base.load_state_dict(load_file(adapter_file, device=device))
    except RuntimeError as err:
        print(f"{type(err).__name__}: {err}")
        assert 'Unexpected key(s) in state_dict: "base_model.model.' in str(err)
    else:
        raise AssertionError("the adapter file loaded into the base model")

    # strict=False "succeeds" and loads nothing.
    result = base.load_state_dict(load_file(adapter_file, device=device), strict=False)
    missing, unexpected = len(result.missing_keys), len(result.unexpected_keys)
    print(f"strict=False: {missing} missing, {unexpected} unexpected, nothing loaded")
    assert len(result.unexpected_keys) == 4 and len(result.missing_keys) == 29

    # --8<-- [start:fix]
    base = tiny_gpt2()  # the base model, with all its weights
    model = PeftModel.from_pretrained(base, out_dir / "adapter").to(device)
    with torch.no_grad():
        print("same logits:", torch.equal(model(tokens).logits, expected))
    merged = model.merge_and_unload()  # or: one plain model, the adapter added in
    # --8<-- [end:fix]
    with torch.no_grad():
        assert torch.allclose(merged(tokens).logits, expected, atol=1e-5)
    assert type(merged) is GPT2LMHeadModel


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
