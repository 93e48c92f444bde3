"""Resume mixed-precision (float16) training: save the GradScaler's state too.

The script trains 4 epochs without a break, then 2 epochs, a checkpoint, and 2 more
epochs after rebuilding everything from scratch and loading the checkpoint. The final
weights are the same, bit for bit. A resume with a new GradScaler instead of the saved
one gives other weights: the new scaler starts again from its first scale.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn

EPOCHS = 4


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def make_batches(device):
    """The same 8 batches in every run (no shuffling, no dropout: no random state)."""
    data = torch.Generator().manual_seed(0)
    return [
        (
            torch.randn(8, 10, generator=data).to(device),
            torch.randn(8, 1, generator=data).to(device),
        )
        for _ in range(8)
    ]


# --8<-- [start:build]
def build(device):
    torch.manual_seed(0)  # the same first weights in every run
    model = MyModel().to(device)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    # A high first scale and a short growth interval make the scale move within a
    # few steps here; with the defaults (2**16, 2000 steps) it moves in long runs.
    scaler = torch.amp.GradScaler(
        torch.device(device).type, init_scale=2.0**24, growth_interval=4
    )
    return model, optimizer, scaler


# --8<-- [end:build]


# --8<-- [start:train]
def train_one_epoch(model, optimizer, scaler, batches, device):
    for inputs, targets in batches:
        optimizer.zero_grad()
        with torch.autocast(torch.device(device).type, dtype=torch.float16):
            loss = nn.functional.mse_loss(model(inputs), targets)
        scaler.scale(loss).backward()  # gradients of the loss times the scale
        scaler.step(optimizer)  # unscales them; skips the step if any is inf or NaN
        scaler.update()  # halves the scale after a skipped step, doubles it after
        # growth_interval steps in a row that were not skipped


# --8<-- [end:train]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    batches = make_batches(device)

    # The reference: 4 epochs without a break.
    model, optimizer, scaler = build(device)
    for _ in range(EPOCHS):
        train_one_epoch(model, optimizer, scaler, batches, device)
    uninterrupted = model.state_dict()

    # 2 epochs, then a checkpoint.
    model, optimizer, scaler = build(device)
    for _ in range(2):
        train_one_epoch(model, optimizer, scaler, batches, device)
    # --8<-- [start:save]
    checkpoint = {
        "epoch": 2,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scaler": scaler.state_dict(),  # call it after scaler.update()
    }
    torch.save(checkpoint, out_dir / "checkpoint.pt")
    # --8<-- [end:save]
    print("the scaler's state:", list(checkpoint["scaler"]))
    assert checkpoint["scaler"]["scale"] != 2.0**24  # the scale has moved
    del model, optimizer, scaler

    # The resume: build everything as for a fresh start, then load each state.
    # --8<-- [start:resume]
    checkpoint = torch.load(
        out_dir / "checkpoint.pt", map_location="cpu", weights_only=True
    )
    model, optimizer, scaler = build(device)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scaler.load_state_dict(checkpoint["scaler"])
    for _ in range(checkpoint["epoch"], EPOCHS):
        train_one_epoch(model, optimizer, scaler, batches, device)
    # --8<-- [end:resume]
    resumed = model.state_dict()
    same = all(torch.equal(resumed[name], uninterrupted[name]) for name in resumed)
    print(f"resumed == uninterrupted: {same}")
    assert same

    # The same resume with a new scaler: it starts again from 2**24, skips steps
    # until its scale comes down again, and ends with other weights.
    checkpoint = torch.load(
        out_dir / "checkpoint.pt", map_location="cpu", weights_only=True
    )
    model, optimizer, scaler = build(device)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    for _ in range(checkpoint["epoch"], EPOCHS):
        train_one_epoch(model, optimizer, scaler, batches, device)
    resumed = model.state_dict()
    same = all(torch.equal(resumed[name], uninterrupted[name]) for name in resumed)
    print(f"resumed with a new scaler == uninterrupted: {same}")
    assert not same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
