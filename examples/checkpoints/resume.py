"""Save a training checkpoint, resume from it in a new process, get the same weights.

`python resume.py` trains 4 epochs without a break, then the same training for 2
epochs with a checkpoint after each. It then starts itself again, in a new Python
process, with `--resume-from epoch2.pt`: that process resumes from the checkpoint,
trains epochs 3 and 4 and saves epoch4.pt. The first process checks that epoch4.pt
holds the same weights, bit for bit, as the training without a break.

Options: --device (cpu, cuda, ...), --out-dir (where the checkpoints go), and
--resume-from PATH (resume from that checkpoint: what the new process is told to do).
"""

import argparse
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 4


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


def make_data(device):
    """The same data in every run and every process (its own generator)."""
    data = torch.Generator().manual_seed(0)
    dataset = TensorDataset(
        torch.randn(64, 10, generator=data), torch.randn(64, 1, generator=data)
    )
    loader = DataLoader(dataset, batch_size=8, shuffle=True)
    val_inputs = torch.randn(16, 10, generator=data).to(device)
    val_targets = torch.randn(16, 1, generator=data).to(device)
    return loader, val_inputs, val_targets


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
    for inputs, targets in loader:  # the loader draws from torch's generator
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


def train(model, optimizer, scheduler, epochs, best_loss, device, out_dir=None):
    """Train `epochs` (a range), with a checkpoint after each when out_dir is given."""
    loader, val_inputs, val_targets = make_data(device)
    for epoch in epochs:
        train_one_epoch(model, optimizer, scheduler, loader, device)
        best_loss = min(best_loss, validation_loss(model, val_inputs, val_targets))
        if out_dir is not None:
            path = Path(out_dir) / f"epoch{epoch + 1}.pt"
            save_checkpoint(path, epoch + 1, model, optimizer, scheduler, best_loss)
    return best_loss


# --8<-- [start:resume]
def resume(path, device="cpu", out_dir=None):
    """What the new process runs: go on training from the checkpoint at `path`."""
    seed_all(0)  # the script starts as it always does
    out_dir = out_dir or Path(path).parent  # new checkpoints go next to the old
    checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    model, optimizer, scheduler = build(device)  # 1. build as for a fresh start
    model.load_state_dict(checkpoint["model"])  # 2. load each state into it
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    best_loss = checkpoint["best_loss"]
    restore_rng_states(checkpoint["rng"])  # 3. random states last
    epochs = range(checkpoint["epoch"], EPOCHS)  # epochs 3 and 4 (numbered 2, 3)
    train(model, optimizer, scheduler, epochs, best_loss, device, out_dir)
    print(f"new process: resumed after epoch {checkpoint['epoch']}, ran to {EPOCHS}")


# --8<-- [end:resume]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)

    # The reference: 4 epochs without a break.
    seed_all(0)
    model, optimizer, scheduler = build(device)
    best_loss = train(model, optimizer, scheduler, range(EPOCHS), float("inf"), device)
    uninterrupted, uninterrupted_best_loss = model.state_dict(), best_loss

    # The same training, with a checkpoint after each epoch, stopped after 2 epochs.
    seed_all(0)
    model, optimizer, scheduler = build(device)
    train(model, optimizer, scheduler, range(2), float("inf"), device, out_dir)
    del model, optimizer, scheduler

    # --8<-- [start:new_process]
    # Resume in a new Python process: this script, told to resume from epoch2.pt.
    sys.stdout.flush()  # so that our output comes before the new process's
    command = [sys.executable, str(Path(__file__).resolve())]
    command += ["--resume-from", str(out_dir / "epoch2.pt")]
    command += ["--device", device, "--out-dir", str(out_dir)]
    subprocess.run(command, check=True)
    resumed = torch.load(out_dir / "epoch4.pt", map_location=device, weights_only=True)
    # --8<-- [end:new_process]
    same = all(
        torch.equal(tensor, uninterrupted[name])
        for name, tensor in resumed["model"].items()
    )
    print(f"resumed == uninterrupted: {same}")
    assert same and resumed["best_loss"] == uninterrupted_best_loss

    # The same resume without restoring the random states: other weights. (Here in
    # this process, seeded as the new process was: the random states are all that
    # differs.)
    seed_all(0)
    checkpoint = torch.load(
        out_dir / "epoch2.pt", map_location="cpu", weights_only=True
    )
    model, optimizer, scheduler = build(device)
    model.load_state_dict(checkpoint["model"])
    optimizer.load_state_dict(checkpoint["optimizer"])
    scheduler.load_state_dict(checkpoint["scheduler"])
    epochs = range(checkpoint["epoch"], EPOCHS)
    train(model, optimizer, scheduler, epochs, checkpoint["best_loss"], device)
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
    parser.add_argument(
        "--resume-from", help="resume from this checkpoint (what the new process does)"
    )
    args = parser.parse_args()
    if args.resume_from:
        resume(args.resume_from, args.device, args.out_dir)
    else:
        main(args.device, args.out_dir)
