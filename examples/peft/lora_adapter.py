"""A LoRA adapter from PEFT on a tiny GPT-2: what save_pretrained writes, loading it
onto the base model, merging it into the base weights, loading the merged model in a
process where `import peft` fails, and resuming the adapter's training bit for bit.

The base model is built from a config with a seed, so that it is the same model
each time it is built, as a model downloaded from the Hub would be.
"""

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict
from safetensors.torch import load_file, save_file
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging


def tiny_gpt2():
    """The base model: the same weights every time, like a checkpoint from the Hub."""
    torch.manual_seed(0)
    sizes = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
    return GPT2LMHeadModel(GPT2Config(**sizes, bos_token_id=0, eos_token_id=0))


def batch(step, device):
    """The data of each step, from the step number alone (a seeded data loader)."""
    generator = torch.Generator().manual_seed(step)
    return torch.randint(0, 100, (4, 8), generator=generator).to(device)


# --8<-- [start:train]
def train(model, optimizer, steps, device):
    model.train()  # dropout on: each step draws random numbers
    losses = []
    for step in steps:
        tokens = batch(step, device)
        loss = model(input_ids=tokens, labels=tokens).loss
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(loss.detach())
    return losses


def make_optimizer(model):
    trainable = [p for p in model.parameters() if p.requires_grad]  # the adapter
    return torch.optim.AdamW(trainable, lr=1e-2)


# --8<-- [end:train]


def folder_size(folder):
    return sum(p.stat().st_size for p in Path(folder).iterdir())


# --8<-- [start:without_peft]
WITHOUT_PEFT = """
import sys
sys.modules["peft"] = None  # from here on, `import peft` fails
try:
    import peft
except ImportError as err:
    print(f"{type(err).__name__}: {err}")

import torch
from safetensors.torch import load_file
from transformers import GPT2LMHeadModel

merged_folder, expected_file, device = sys.argv[1:]
model = GPT2LMHeadModel.from_pretrained(merged_folder).to(device)  # plain transformers
expected = load_file(expected_file, device=device)
with torch.no_grad():
    logits = model(expected["tokens"]).logits
print("same logits without peft:", torch.equal(logits, expected["logits"]))
peft_modules = [n for n, m in sys.modules.items() if n.startswith("peft") and m]
print("peft modules loaded:", peft_modules)
"""
# --8<-- [end:without_peft]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()  # they go to stderr; keep the terminal quiet

    # --8<-- [start:adapter]
    lora = LoraConfig(
        r=4,  # the rank of the two small matrices, A (r x in) and B (out x r)
        lora_alpha=8,
        target_modules=["c_attn"],  # GPT-2's attention input projection
        fan_in_fan_out=True,  # GPT-2's Conv1D stores its weight as (in, out)
        lora_dropout=0.1,
    )
    model = get_peft_model(tiny_gpt2(), lora).to(device)
    optimizer = make_optimizer(model)
    first_losses = train(model, optimizer, range(3), device)  # your training loop
    model.save_pretrained(out_dir / "adapter")
    # --8<-- [end:adapter]

    # To resume training later: the optimizer, the step and the RNG state too.
    # --8<-- [start:save_state]
    training_state = {
        "optimizer": optimizer.state_dict(),
        "step": 3,
        "cpu_rng_state": torch.get_rng_state(),  # dropout draws from it
    }
    if device.startswith("cuda"):
        training_state["cuda_rng_state"] = torch.cuda.get_rng_state(device)
    torch.save(training_state, out_dir / "training_state.pt")
    # --8<-- [end:save_state]

    # --8<-- [start:files]
    adapter_dir = out_dir / "adapter"
    print(sorted(p.name for p in adapter_dir.iterdir()))
    adapter = load_file(adapter_dir / "adapter_model.safetensors")
    for name, tensor in adapter.items():
        print(name, tuple(tensor.shape))
    config = json.loads((adapter_dir / "adapter_config.json").read_text())
    keys = ("peft_type", "task_type", "r", "lora_alpha", "target_modules")
    print({key: config[key] for key in keys})
    print(config["auto_mapping"], config["base_model_name_or_path"])
    # --8<-- [end:files]
    assert sorted(p.name for p in adapter_dir.iterdir()) == [
        "README.md",
        "adapter_config.json",
        "adapter_model.safetensors",
    ]
    assert len(adapter) == 4
    assert all(".lora_A." in n or ".lora_B." in n for n in adapter)
    assert all(n.startswith("base_model.model.transformer.h.") for n in adapter)
    assert config["auto_mapping"]["base_model_class"] == "GPT2LMHeadModel"
    # With a task_type, the config records the task instead of the class.
    causal_lm = LoraConfig(
        target_modules=["c_attn"], fan_in_fan_out=True, task_type="CAUSAL_LM"
    )
    get_peft_model(tiny_gpt2(), causal_lm).save_pretrained(out_dir / "causal_lm")
    causal_config_file = out_dir / "causal_lm" / "adapter_config.json"
    causal_config = json.loads(causal_config_file.read_text())
    assert causal_config["task_type"] == "CAUSAL_LM"
    assert causal_config["auto_mapping"] is None

    # --8<-- [start:sizes]
    tiny_gpt2().save_pretrained(out_dir / "full")  # the whole model, for comparison
    adapter_bytes = (adapter_dir / "adapter_model.safetensors").stat().st_size
    full_bytes = (out_dir / "full" / "model.safetensors").stat().st_size
    print(f"adapter: {adapter_bytes:,} bytes | full model: {full_bytes:,} bytes")
    print(f"adapter / full model: {adapter_bytes / full_bytes:.1%}")
    trainable = sum(t.numel() for t in adapter.values())
    total = sum(p.numel() for p in tiny_gpt2().parameters())
    print(f"adapter parameters: {trainable:,} of {total:,} in the base model")
    # --8<-- [end:sizes]
    assert adapter_bytes < 0.05 * full_bytes
    assert trainable == 2 * (4 * 32 + 96 * 4)  # 2 layers x (A: 4x32, B: 96x4)
    assert folder_size(adapter_dir) < folder_size(out_dir / "full")

    model.eval()
    tokens = torch.tensor([[5, 17, 42, 8, 99, 0]], device=device)
    with torch.no_grad():
        expected = model(tokens).logits

    # --8<-- [start:load]
    base = tiny_gpt2()  # the same base model the adapter was trained on
    loaded = PeftModel.from_pretrained(base, out_dir / "adapter").to(device)
    with torch.no_grad():
        print("same logits:", torch.equal(loaded(tokens).logits, expected))
    print("trainable:", sum(p.numel() for p in loaded.parameters() if p.requires_grad))
    # --8<-- [end:load]
    with torch.no_grad():
        assert torch.equal(loaded(tokens).logits, expected)
    assert not loaded.training  # from_pretrained: eval mode, frozen adapter

    # --8<-- [start:merge]
    merged = loaded.merge_and_unload()  # a plain GPT2LMHeadModel again
    merged.save_pretrained(out_dir / "merged")
    print(type(merged).__name__, sorted(p.name for p in (out_dir / "merged").iterdir()))
    print("lora weights left:", [n for n in merged.state_dict() if "lora" in n])
    # --8<-- [end:merge]
    with torch.no_grad():
        merged_logits = merged(tokens).logits
    assert type(merged) is GPT2LMHeadModel
    assert sorted(merged.state_dict()) == sorted(tiny_gpt2().state_dict())

    # --8<-- [start:what_merge_does]
    base_weights = tiny_gpt2().to(device).state_dict()
    merged_weights = merged.state_dict()
    name = "transformer.h.0.attn.c_attn.weight"
    a = adapter[f"base_model.model.{name.removesuffix('.weight')}.lora_A.weight"]
    b = adapter[f"base_model.model.{name.removesuffix('.weight')}.lora_B.weight"]
    scaling = lora.lora_alpha / lora.r
    delta = (b @ a).T.to(device) * scaling  # .T: Conv1D's (in, out) layout
    print(
        "merged = base + scale * B @ A:",
        torch.allclose(merged_weights[name], base_weights[name] + delta),
    )
    changed = [
        n for n in base_weights if not torch.equal(base_weights[n], merged_weights[n])
    ]
    print("changed:", changed)
    with torch.no_grad():
        difference = (merged_logits - expected).abs().max().item()
    print("same logits as the adapter, within 1e-5:", difference < 1e-5)
    # --8<-- [end:what_merge_does]
    assert torch.allclose(merged_weights[name], base_weights[name] + delta, atol=1e-6)
    assert sorted(changed) == [
        "transformer.h.0.attn.c_attn.weight",
        "transformer.h.1.attn.c_attn.weight",
    ]
    assert difference < 1e-5

    # An adapter put onto the merged model is added a second time, with no error.
    # --8<-- [start:twice]
    twice = PeftModel.from_pretrained(
        GPT2LMHeadModel.from_pretrained(out_dir / "merged"), out_dir / "adapter"
    ).to(device)
    with torch.no_grad():
        same = torch.allclose(twice(tokens).logits, expected, atol=1e-5)
    print("adapter on the merged model, same logits:", same)
    # --8<-- [end:twice]
    assert not same

    expected_file = out_dir / "expected.safetensors"
    save_file({"tokens": tokens.cpu(), "logits": merged_logits.cpu()}, expected_file)
    # --8<-- [start:run]
    command = [sys.executable, "-c", WITHOUT_PEFT]
    args = [str(out_dir / "merged"), str(expected_file), device]
    result = subprocess.run(command + args, capture_output=True, text=True)
    # --8<-- [end:run]
    assert result.returncode == 0, result.stderr
    print(result.stdout, end="")
    assert "ModuleNotFoundError: import of peft halted" in result.stdout
    assert "same logits without peft: True" in result.stdout
    assert "peft modules loaded: []" in result.stdout

    # The same training, six steps without stopping, to compare with.
    uninterrupted = get_peft_model(tiny_gpt2(), lora).to(device)
    all_losses = train(uninterrupted, make_optimizer(uninterrupted), range(6), device)
    final = get_peft_model_state_dict(uninterrupted)

    # A new process would start here: the same base model, the adapter on top.
    # --8<-- [start:resume]
    base = tiny_gpt2()  # the base model is not in the checkpoint: rebuild or reload it
    model = PeftModel.from_pretrained(base, out_dir / "adapter", is_trainable=True)
    model = model.to(device)
    optimizer = make_optimizer(model)
    training_state = torch.load(out_dir / "training_state.pt", weights_only=True)
    optimizer.load_state_dict(training_state["optimizer"])
    torch.set_rng_state(training_state["cpu_rng_state"])
    if "cuda_rng_state" in training_state:
        torch.cuda.set_rng_state(training_state["cuda_rng_state"], device)
    losses = train(model, optimizer, range(training_state["step"], 6), device)
    # --8<-- [end:resume]

    # --8<-- [start:compare]
    resumed_losses = torch.stack(first_losses + losses)
    print("same losses:", torch.equal(resumed_losses, torch.stack(all_losses)))
    resumed = get_peft_model_state_dict(model)
    print("same adapter:", all(torch.equal(resumed[k], final[k]) for k in final))
    # --8<-- [end:compare]
    assert sorted(resumed) == sorted(final) and len(final) == 4
    assert torch.equal(resumed_losses, torch.stack(all_losses))
    assert all(torch.equal(resumed[k], final[k]) for k in final)

    # The same resume without restoring the RNG state: dropout draws other masks.
    model = PeftModel.from_pretrained(
        tiny_gpt2(), out_dir / "adapter", is_trainable=True
    )
    model = model.to(device)
    optimizer = make_optimizer(model)
    optimizer.load_state_dict(training_state["optimizer"])
    later = torch.stack(train(model, optimizer, range(3, 6), device))
    same = torch.equal(later, torch.stack(all_losses[3:]))
    print("without the RNG state, same losses:", same)
    assert not same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
