"""Resume LoRA training from a checkpoint: the adapter, the optimizer and the RNG.

Trains a LoRA adapter on a tiny GPT-2 for 6 steps without stopping, then again for
3 steps, saves, and resumes in new objects for 3 more. The resumed run must give
the same losses and the same adapter weights, bit for bit.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict
from transformers import GPT2Config, GPT2LMHeadModel
from transformers.utils import logging as hf_logging


def tiny_gpt2():
    """The base model: the same weights every time, like a checkpoint from the Hub."""
    torch.manual_seed(0)
    sizes = dict(n_layer=2, n_head=2, n_embd=32, n_positions=64, vocab_size=100)
    return GPT2LMHeadModel(GPT2Config(**sizes, bos_token_id=0, eos_token_id=0))


LORA = LoraConfig(
    r=4, lora_alpha=8, target_modules=["c_attn"], fan_in_fan_out=True, lora_dropout=0.1
)


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


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    hf_logging.disable_progress_bar()

    # Six steps without stopping.
    model = get_peft_model(tiny_gpt2(), LORA).to(device)
    torch.manual_seed(1)
    uninterrupted = train(model, make_optimizer(model), range(6), device)
    final = get_peft_model_state_dict(model)

    # Three steps, then a checkpoint.
    # --8<-- [start:save]
    model = get_peft_model(tiny_gpt2(), LORA).to(device)
    optimizer = make_optimizer(model)
    torch.manual_seed(1)
    losses = train(model, optimizer, range(3), device)

    checkpoint = out_dir / "checkpoint-3"
    model.save_pretrained(checkpoint)  # adapter_model.safetensors + adapter_config.json
    training_state = {
        "optimizer": optimizer.state_dict(),
        "step": 3,
        "cpu_rng_state": torch.get_rng_state(),
    }
    if device.startswith("cuda"):
        training_state["cuda_rng_state"] = torch.cuda.get_rng_state(device)
    torch.save(training_state, checkpoint / "training_state.pt")
    # --8<-- [end:save]
    del model, optimizer

    # A new process would start here: the same base model, the adapter on top.
    # --8<-- [start:resume]
    base = tiny_gpt2()  # the base model is not in the checkpoint: rebuild or reload it
    model = PeftModel.from_pretrained(base, checkpoint, is_trainable=True).to(device)
    optimizer = make_optimizer(model)
    training_state = torch.load(checkpoint / "training_state.pt", weights_only=True)
    optimizer.load_state_dict(training_state["optimizer"])
    torch.set_rng_state(training_state["cpu_rng_state"])
    if "cuda_rng_state" in training_state:
        torch.cuda.set_rng_state(training_state["cuda_rng_state"], device)
    start = training_state["step"]
    losses += train(model, optimizer, range(start, 6), device)
    # --8<-- [end:resume]

    # --8<-- [start:compare]
    print("same losses:", torch.equal(torch.stack(losses), torch.stack(uninterrupted)))
    resumed = get_peft_model_state_dict(model)
    print("adapter tensors:", len(resumed))
    print("same adapter:", all(torch.equal(resumed[k], final[k]) for k in final))
    # --8<-- [end:compare]
    assert sorted(resumed) == sorted(final) and len(final) == 4
    assert torch.equal(torch.stack(losses), torch.stack(uninterrupted))
    assert all(torch.equal(resumed[k], final[k]) for k in final)

    # The same resume without restoring the RNG: dropout draws other masks.
    # --8<-- [start:without_rng]
    model = PeftModel.from_pretrained(tiny_gpt2(), checkpoint, is_trainable=True)
    model = model.to(device)
    optimizer = make_optimizer(model)
    optimizer.load_state_dict(training_state["optimizer"])
    later = train(model, optimizer, range(3, 6), device)  # RNG state not restored
    print(
        "without the RNG state, same losses:",
        torch.equal(torch.stack(later), torch.stack(uninterrupted[3:])),
    )
    # --8<-- [end:without_rng]
    assert not torch.equal(torch.stack(later), torch.stack(uninterrupted[3:]))

    # Without is_trainable=True, the adapter is loaded frozen, for inference.
    frozen = PeftModel.from_pretrained(tiny_gpt2(), checkpoint)
    trainable = [n for n, p in frozen.named_parameters() if p.requires_grad]
    print("trainable without is_trainable=True:", trainable)
    assert trainable == []


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
