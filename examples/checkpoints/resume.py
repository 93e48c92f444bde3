"""Save a training checkpoint, resume from it, and end with the same weights."""

import argparse
import random
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset


class MyDropoutModel(nn.Module):
    """The site's MyModel with a dropout layer: training now draws random numbers."""

    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.dropout = nn.Dropout(0.2)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.dropout(self.fc1(x)))


def seed_all(seed):
    """What the training script does first, every time it starts."""
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed)


# --8<-- [start:build]
def build(device):
    """Model, optimizer and scheduler, made as for a fresh start of training."""
    model = MyDropoutModel().to(device)  # move the model BEFORE making its optimizer
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    # a warm-up; made here, so BEFORE a resume loads the optimizer's state
    scheduler = torch.optim.lr_scheduler.LinearLR(
        optimizer, start_factor=0.25, total_iters=4
    )
    return model, optimizer, scheduler


# --8<-- [end:build]


def train_one_epoch(model, optimizer, scheduler, loader, device):
    model.train()
    for inputs, targets in loader:  # shuffle=True: the order is drawn by torch
        # an augmentation drawn by numpy, as many data pipelines do
        noise = np.random.normal(0, 0.1, size=inputs.shape)
        inputs = inputs + torch.from_numpy(noise).float()
        inputs, targets = inputs.to(device), targets.to(device)
        optimizer.zero_grad()
        loss = nn.functional.mse_loss(model(inputs), targets)  # dropout draws too
        loss.backward()
        optimizer.step()
    scheduler.step()


def validation_loss(model, inputs, targets):
    model.eval()
    with torch.no_grad():
        return nn.functional.mse_loss(model(inputs), targets).item()


# --8<-- [start:save]
def rng_states():
    """Every random number generator's state, as types weights_only=True loads."""
    name, keys, pos, has_gauss, cached_gaussian = np.random.get_state()
    return {
        "torch": torch.get_rng_state(),  # a uint8 tensor
        "cuda": torch.cuda.get_rng_state_all(),  # one tensor per GPU; [] without one
        "python": random.getstate(),  # a tuple of ints
        # numpy's state holds a numpy array, which weights_only=True refuses: a list
        "numpy": [name, keys.tolist(), pos, has_gauss, cached_gaussian],
    }


def save_checkpoint(path, epochs_done, model, optimizer, scheduler, best_loss):
    checkpoint = {
        "epoch": epochs_done,  # training goes on with this epoch number
        "model": model.state_dict(),
        "optimizer": optimizer.state_dict(),
        "scheduler": scheduler.state_dict(),
        "best_loss": best_loss,
        "rng": rng_states(),
    }
    torch.save(checkpoint, path)


# --8<-- [end:save]


# --8<-- [start:restore_rng]
def restore_rng_states(states):
    torch.set_rng_state(states["torch"])
    torch.cuda.set_rng_state_all(states["cuda"])  # does nothing without a GPU
    random.setstate(states["python"])
    name, keys, pos, has_gauss, cached_gaussian = states["numpy"]
    keys = np.array(keys, dtype=np.uint32)
    np.random.set_state((name, keys, pos, has_gauss, cached_gaussian))


# --8<-- [end:restore_rng]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    data = torch.Generator().manual_seed(0)  # the same data in every run
    dataset = TensorDataset(
        torch.randn(64, 10, generator=data), torch.randn(64, 1, generator=data)
    )
    loader = DataLoader(dataset, batch_size=8, shuffle=True)
    val_inputs = torch.randn(16, 10, generator=data).to(device)
    val_targets = torch.randn(16, 1, generator=data).to(device)

    # The reference: 4 epochs without a break.
    seed_all(0)
    model, optimizer, scheduler = build(device)
    best_loss = float("inf")
    for _ in range(4):
        train_one_epoch(model, optimizer, scheduler, loader, device)
        best_loss = min(best_loss, validation_loss(model, val_inputs, val_targets))
    uninterrupted, uninterrupted_best_loss = model.state_dict(), best_loss

    # The same training, with a checkpoint after each epoch, stopped after 2 epochs.
    seed_all(0)
    model, optimizer, scheduler = build(device)
    best_loss = float("inf")
    for epoch in range(2):
        train_one_epoch(model, optimizer, scheduler, loader, device)
        best_loss = min(best_loss, validation_loss(model, val_inputs, val_targets))
        path = out_dir / f"epoch{epoch + 1}.pt"
        save_checkpoint(path, epoch + 1, model, optimizer, scheduler, best_loss)
    del model, optimizer, scheduler

    # A new process: the script seeds and builds as it always does, then resumes.
    seed_all(0)
    # --8<-- [start:resume]
    checkpoint = torch.load(
        out_dir / "epoch2.pt", map_location="cpu", weights_only=True
    )
    model, optimizer, scheduler = build(device)  # 1. build as for a fresh start
    model.load_state_dict(checkpoint["model"])  # 2. load each state into it
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    best_loss = checkpoint["best_loss"]
    restore_rng_states(checkpoint["rng"])  # 3. random states last
    for epoch in range(checkpoint["epoch"], 4):
        train_one_epoch(model, optimizer, scheduler, loader, device)
        best_loss = min(best_loss, validation_loss(model, val_inputs, val_targets))
        path = out_dir / f"epoch{epoch + 1}.pt"
        save_checkpoint(path, epoch + 1, model, optimizer, scheduler, best_loss)
    # --8<-- [end:resume]
    resumed = model.state_dict()
    same = all(torch.equal(resumed[name], uninterrupted[name]) for name in resumed)
    print(f"resumed == uninterrupted: {same}")
    assert same and best_loss == uninterrupted_best_loss

    # The same resume without restoring the random states: other weights.
    seed_all(0)
    checkpoint = torch.load(
        out_dir / "epoch2.pt", map_location="cpu", weights_only=True
    )
    model, optimizer, scheduler = build(device)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    for _ in range(checkpoint["epoch"], 4):
        train_one_epoch(model, optimizer, scheduler, loader, device)
    resumed = model.state_dict()
    same = all(torch.equal(resumed[name], uninterrupted[name]) for name in resumed)
    print(f"resumed without random states == uninterrupted: {same}")
    assert not same

    # A scheduler made AFTER the optimizer's state is loaded changes the learning rate.
    saved_lr = checkpoint["optimizer"]["param_groups"][0]["lr"]
    # --8<-- [start:wrong_order]
    model = MyDropoutModel().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    optimizer.load_state_dict(checkpoint["optimizer"])  # too early: ...
    scheduler = torch.optim.lr_scheduler.LinearLR(  # ... this scheduler's first step
        optimizer,
        start_factor=0.25,
        total_iters=4,  # multiplies the loaded lr by 0.25
    )
    scheduler.load_state_dict(checkpoint["scheduler"])
    # --8<-- [end:wrong_order]
    lr = optimizer.param_groups[0]["lr"]
    print(f"learning rate saved: {saved_lr:.6f}, loaded in the wrong order: {lr:.6f}")
    assert abs(lr - saved_lr * 0.25) < 1e-12  # the saved lr, times start_factor


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
