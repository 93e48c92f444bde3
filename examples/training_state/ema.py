"""Resume training that keeps an EMA of the weights, and use the EMA weights alone.

An exponential moving average (EMA) of the weights, kept by
torch.optim.swa_utils.AveragedModel, is state of its own: save its state_dict with
the rest. The script trains 4 epochs without a break, then 2 epochs, a checkpoint,
and 2 more epochs after rebuilding everything from scratch: the model and the EMA
end the same, bit for bit. The EMA weights, saved apart, load into a plain model.
"""

import argparse
import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

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
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    # A copy of the model whose weights follow the model's, 0.999 old + 0.001 new
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
    return model, optimizer, ema


# --8<-- [end:build]


def train_one_epoch(model, optimizer, ema, batches):
    model.train()
    for inputs, targets in batches:
        optimizer.zero_grad()
        nn.functional.mse_loss(model(inputs), targets).backward()
        optimizer.step()
        ema.update_parameters(model)  # after every step


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    batches = make_batches(device)

    # The reference: 4 epochs without a break.
    model, optimizer, ema = build(device)
    for _ in range(EPOCHS):
        train_one_epoch(model, optimizer, ema, batches)
    uninterrupted, uninterrupted_ema = model.state_dict(), ema.state_dict()

    # 2 epochs, then a checkpoint.
    model, optimizer, ema = build(device)
    for _ in range(2):
        train_one_epoch(model, optimizer, ema, batches)
    # --8<-- [start:save]
    checkpoint = {
        "epoch": 2,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "ema": ema.state_dict(),  # n_averaged and the averaged weights
    }
    torch.save(checkpoint, out_dir / "checkpoint.pt")
    torch.save(ema.module.state_dict(), out_dir / "ema_weights.pt")  # for inference
    # --8<-- [end:save]
    print("the EMA's keys:", list(checkpoint["ema"]))
    print("updates averaged:", checkpoint["ema"]["n_averaged"].item())
    assert checkpoint["ema"]["n_averaged"].item() == 2 * len(batches)
    del model, optimizer, ema

    # The resume: build everything as for a fresh start, then load each state.
    # --8<-- [start:resume]
    checkpoint = torch.load(
        out_dir / "checkpoint.pt", map_location="cpu", weights_only=True
    )
    model, optimizer, ema = build(device)  # AveragedModel(model, multi_avg_fn=...)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    ema.load_state_dict(checkpoint["ema"])
    for _ in range(checkpoint["epoch"], EPOCHS):
        train_one_epoch(model, optimizer, ema, batches)
    # --8<-- [end:resume]
    same = same_weights(model.state_dict(), uninterrupted)
    same_ema = same_weights(ema.state_dict(), uninterrupted_ema)
    print(f"resumed == uninterrupted: model {same}, EMA {same_ema}")
    assert same and same_ema

    # Without the EMA's state, a new AveragedModel starts from the loaded weights
    # (n_averaged = 0): the model ends the same, its average does not. (Loaded again:
    # the optimizer above updated the loaded checkpoint's tensors in place.)
    checkpoint = torch.load(
        out_dir / "checkpoint.pt", map_location="cpu", weights_only=True
    )
    model, optimizer, ema = build(device)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(0.999))
    for _ in range(checkpoint["epoch"], EPOCHS):
        train_one_epoch(model, optimizer, ema, batches)
    same = same_weights(model.state_dict(), uninterrupted)
    same_ema = same_weights(ema.state_dict(), uninterrupted_ema)
    print(f"EMA not saved, resumed == uninterrupted: model {same}, EMA {same_ema}")
    assert same and not same_ema

    # The EMA weights saved for inference load into a plain model.
    ema_model = MyModel().to(device)
    ema_model.load_state_dict(
        torch.load(out_dir / "ema_weights.pt", map_location=device, weights_only=True)
    )
    ema.load_state_dict(checkpoint["ema"])  # the EMA as it was at the checkpoint
    inputs = batches[0][0]
    with torch.no_grad():
        equal = torch.equal(ema_model(inputs), ema(inputs))
    print(f"plain model with ema_weights.pt == EMA: {equal}")
    assert equal


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
