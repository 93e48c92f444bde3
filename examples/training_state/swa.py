"""Resume stochastic weight averaging (SWA): the averaged model and SWALR's state.

Epochs 1 and 2 train with a cosine schedule; from epoch 3 on, SWALR takes the
learning rate to a constant and an AveragedModel averages the weights after each
epoch. The script trains 6 epochs without a break, then 4 epochs, a checkpoint, and
2 more epochs after rebuilding everything from scratch: the model and the average
end the same, bit for bit.
"""

import argparse
import pickle
import tempfile
from pathlib import Path

import torch
from torch import nn
from torch.optim.lr_scheduler import CosineAnnealingLR
from torch.optim.swa_utils import SWALR, AveragedModel

EPOCHS, SWA_START = 6, 2


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
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    # Both schedulers made here, before a resume loads the optimizer's state
    scheduler = CosineAnnealingLR(optimizer, T_max=EPOCHS)
    swa_model = AveragedModel(model)  # an equal average of the weights it is given
    swa_scheduler = SWALR(optimizer, swa_lr=0.01, anneal_epochs=3)
    return model, optimizer, scheduler, swa_model, swa_scheduler


# --8<-- [end:build]


# --8<-- [start:train]
def train_one_epoch(epoch, model, optimizer, scheduler, swa_model, swa_scheduler, data):
    for inputs, targets in data:
        optimizer.zero_grad()
        nn.functional.mse_loss(model(inputs), targets).backward()
        optimizer.step()
    if epoch >= SWA_START:
        swa_model.update_parameters(model)  # adds this epoch's weights to the average
        swa_scheduler.step()
    else:
        scheduler.step()


# --8<-- [end:train]


def same_weights(a, b):
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    batches = make_batches(device)

    # The reference: 6 epochs without a break.
    model, optimizer, scheduler, swa_model, swa_scheduler = build(device)
    for epoch in range(EPOCHS):
        train_one_epoch(
            epoch, model, optimizer, scheduler, swa_model, swa_scheduler, batches
        )
    uninterrupted, uninterrupted_swa = model.state_dict(), swa_model.state_dict()

    # 4 epochs (2 of them averaged), then a checkpoint.
    model, optimizer, scheduler, swa_model, swa_scheduler = build(device)
    for epoch in range(4):
        train_one_epoch(
            epoch, model, optimizer, scheduler, swa_model, swa_scheduler, batches
        )
    # --8<-- [start:save]
    swa_scheduler_state = swa_scheduler.state_dict()
    # PyTorch 2.6 puts SWALR's anneal_func, a function, in its state_dict, and
    # torch.load(weights_only=True) refuses it; SWALR(...) sets it again anyway.
    swa_scheduler_state.pop("anneal_func", None)
    checkpoint = {
        "epoch": 4,
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "swa_model": swa_model.state_dict(),  # n_averaged and the averaged weights
        "swa_scheduler": swa_scheduler_state,
    }
    torch.save(checkpoint, out_dir / "checkpoint.pt")
    # --8<-- [end:save]
    print("epochs averaged:", checkpoint["swa_model"]["n_averaged"].item())
    assert checkpoint["swa_model"]["n_averaged"].item() == 4 - SWA_START

    # SWALR's state_dict() saved as it is: PyTorch 2.6 to 2.9 put the function in it,
    # and torch.load(weights_only=True) refuses to rebuild a function.
    torch.save(swa_scheduler.state_dict(), out_dir / "swalr.pt")
    try:
        torch.load(out_dir / "swalr.pt", weights_only=True)
        print("SWALR's whole state_dict() loads with weights_only=True")
    except pickle.UnpicklingError as err:
        error = str(err)
        print(error)
    # 2.10 and later save the strategy's name instead (pytorch/pytorch#163122)
    if torch.__version__ >= "2.10":
        assert "anneal_func" not in swa_scheduler.state_dict()
        torch.load(out_dir / "swalr.pt", weights_only=True)
    else:
        assert "anneal_func" in swa_scheduler.state_dict()
        # 2.6 names it builtins.getattr, 2.7 to 2.9 getattr (pytorch/pytorch#146815)
        name = "getattr" if torch.__version__ >= "2.7" else "builtins.getattr"
        assert f"Unsupported global: GLOBAL {name} was not" in error
    del model, optimizer, scheduler, swa_model, swa_scheduler

    # The resume: build everything as for a fresh start, then load each state.
    # --8<-- [start:resume]
    checkpoint = torch.load(
        out_dir / "checkpoint.pt", map_location="cpu", weights_only=True
    )
    model, optimizer, scheduler, swa_model, swa_scheduler = build(device)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    swa_model.load_state_dict(checkpoint["swa_model"])
    swa_scheduler.load_state_dict(checkpoint["swa_scheduler"])
    for epoch in range(checkpoint["epoch"], EPOCHS):
        train_one_epoch(
            epoch, model, optimizer, scheduler, swa_model, swa_scheduler, batches
        )
    # --8<-- [end:resume]
    same = same_weights(model.state_dict(), uninterrupted)
    same_swa = same_weights(swa_model.state_dict(), uninterrupted_swa)
    print(f"resumed == uninterrupted: model {same}, SWA average {same_swa}")
    assert same and same_swa

    # Without SWALR's state, the new SWALR anneals the learning rate again from
    # the saved one: other learning rates, other weights.
    checkpoint = torch.load(
        out_dir / "checkpoint.pt", map_location="cpu", weights_only=True
    )
    model, optimizer, scheduler, swa_model, swa_scheduler = build(device)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    swa_model.load_state_dict(checkpoint["swa_model"])
    for epoch in range(checkpoint["epoch"], EPOCHS):
        train_one_epoch(
            epoch, model, optimizer, scheduler, swa_model, swa_scheduler, batches
        )
    same = same_weights(model.state_dict(), uninterrupted)
    print(f"SWALR's state not loaded, resumed == uninterrupted: {same}")
    assert not same


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
