"""Save and resume an Accelerate run: save_state, load_state, skip_first_batches.

`python save_state.py` trains a small model with Accelerate three times in this
process: once without a stop, once stopped in the middle of an epoch right after
`accelerator.save_state()`, and once resumed from that folder with
`accelerator.load_state()` in a new Accelerator. The resumed run sees the batches
the run without a stop saw, and ends with the same weights. Then the script starts
itself again in 2 processes with `accelerate launch` (gloo on the CPU), where each
process does the same three runs, and checks what they wrote.
"""

import argparse
import os
import pickle
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator, PartialState
from accelerate.utils import DataLoaderConfiguration, ProjectConfiguration, set_seed
from safetensors.torch import load_file
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

EPOCHS = 2
STOP_AT = (1, 2)  # the stopped run saves and stops after 2 batches of epoch 1


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.dropout = nn.Dropout(0.2)  # draws from the torch RNG at every step
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.dropout(self.fc1(x)))


# --8<-- [start:progress]
class Progress:
    """Where training is: Accelerate saves and loads it with the rest."""

    def __init__(self):
        self.epoch = 0
        self.step = 0  # batches done in this epoch

    def state_dict(self):
        return {"epoch": self.epoch, "step": self.step}

    def load_state_dict(self, state_dict):
        self.epoch = state_dict["epoch"]
        self.step = state_dict["step"]


# --8<-- [end:progress]


def train(project_dir, device, stop_at=None, resume=False, seedable=True, own_rng=True):
    """Train for EPOCHS epochs; return the index batches seen and the final weights."""
    # --8<-- [start:setup]
    accelerator = Accelerator(
        cpu=device == "cpu",
        project_config=ProjectConfiguration(
            project_dir=project_dir,
            automatic_checkpoint_naming=True,  # project_dir/checkpoints/checkpoint_N
            total_limit=2,  # keep the 2 newest
        ),
        # The order of each epoch depends on the epoch number only: resumable.
        dataloader_config=DataLoaderConfiguration(use_seedable_sampler=seedable),
    )
    set_seed(0)
    dataset = TensorDataset(torch.arange(24), torch.randn(24, 10), torch.randn(24, 1))
    # Its own generator: iter(dataloader) then draws no number from the torch RNG.
    generator = torch.Generator() if own_rng else None
    dataloader = DataLoader(dataset, batch_size=4, shuffle=True, generator=generator)
    model = MyModel()
    optimizer = torch.optim.AdamW(model.parameters(), lr=0.01)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    model, optimizer, dataloader, scheduler = accelerator.prepare(
        model, optimizer, dataloader, scheduler
    )
    progress = Progress()
    accelerator.register_for_checkpointing(progress)  # saved as custom_checkpoint_0.pkl
    # --8<-- [end:setup]
    assert accelerator.scaler is None  # no mixed precision: no GradScaler, no scaler.pt
    if resume:
        # --8<-- [start:resume]
        accelerator.load_state()  # the newest checkpoints/checkpoint_N
        names = os.listdir(Path(project_dir, "checkpoints"))  # checkpoint_N
        newest = max(int(name.split("_")[1]) for name in names)
        accelerator.project_configuration.iteration = newest + 1
        # --8<-- [end:resume]
    seen = []
    # --8<-- [start:loop]
    for epoch in range(progress.epoch, EPOCHS):
        dataloader.set_epoch(epoch)
        batches = dataloader
        if progress.step > 0:  # resumed in the middle of this epoch
            batches = accelerator.skip_first_batches(dataloader, progress.step)
        for index, x, y in batches:
            loss = nn.functional.mse_loss(model(x), y)
            optimizer.zero_grad()
            accelerator.backward(loss)
            optimizer.step()
            scheduler.step()
            progress.step += 1
            seen.append(index.tolist())
            if (epoch, progress.step) == stop_at:
                accelerator.save_state()  # checkpoint_1, in the middle of epoch 1
                accelerator.wait_for_everyone()
                return seen, None  # stands for the run being killed here
        progress.epoch, progress.step = epoch + 1, 0
        accelerator.save_state()  # checkpoint_0 after epoch 0, ...
    # --8<-- [end:loop]
    return seen, {k: v.cpu() for k, v in model.state_dict().items()}


def check_folder(folder, num_processes):
    """Each file of a save_state folder, read as its own format asks."""
    names = sorted(os.listdir(folder))
    expected = ["custom_checkpoint_0.pkl", "model.safetensors", "optimizer.bin"]
    expected += [f"random_states_{rank}.pkl" for rank in range(num_processes)]
    expected += ["scheduler.bin"]
    assert names == sorted(expected), names
    try:
        torch.load(folder / "random_states_0.pkl", weights_only=True)
    except pickle.UnpicklingError as err:
        assert "numpy" in str(err)  # the numpy RNG state needs an allowlist
    else:
        raise AssertionError("numpy's RNG state loaded with no allowlist")
    # --8<-- [start:files]
    weights = load_file(folder / "model.safetensors")  # safetensors: no pickle
    optimizer = torch.load(folder / "optimizer.bin", weights_only=True)
    scheduler = torch.load(folder / "scheduler.bin", weights_only=True)
    progress = torch.load(folder / "custom_checkpoint_0.pkl", weights_only=True)
    numpy_globals = [np._core.multiarray._reconstruct, np.ndarray, np.dtype]
    numpy_globals += [np.dtypes.UInt32DType]
    with torch.serialization.safe_globals(numpy_globals):  # the numpy RNG state
        rng = torch.load(folder / "random_states_0.pkl", weights_only=True)
    # --8<-- [end:files]
    assert sorted(weights) == ["fc1.bias", "fc1.weight", "fc2.bias", "fc2.weight"]
    MyModel().load_state_dict(weights)  # the plain model, no "module." prefix
    assert list(optimizer) == ["state", "param_groups"]
    steps = 24 // (4 * num_processes) + 2  # epoch 0, then 2 batches of epoch 1
    assert scheduler["last_epoch"] == steps * num_processes
    assert progress == {"epoch": 1, "step": 2}
    assert sorted(rng) == [
        "numpy_random_seed",
        "random_state",
        "step",
        "torch_manual_seed",
    ]
    return names, weights, rng


def run_all(device, out_dir, num_processes):
    """The three runs (no stop, stopped, resumed); the same in every process."""
    uninterrupted, weights = train(out_dir / "uninterrupted", device)
    project = out_dir / "resumable"
    before, _ = train(project, device, stop_at=STOP_AT)
    folder = project / "checkpoints" / "checkpoint_1"
    names, saved, rng = check_folder(folder, num_processes)
    after, resumed_weights = train(project, device, resume=True)
    # --8<-- [start:same]
    same_batches = before + after == uninterrupted  # the same batches, same order
    same_weights = all(torch.equal(resumed_weights[k], weights[k]) for k in weights)
    # --8<-- [end:same]
    assert same_batches and same_weights
    assert sorted(os.listdir(project / "checkpoints")) == [
        "checkpoint_1",
        "checkpoint_2",
    ]
    return uninterrupted, before, after, names


def forgotten_counter(project_dir, device):
    """With total_limit, a resumed run that does not set the counter gets no error."""

    def start():
        accelerator = Accelerator(
            cpu=device == "cpu",
            project_config=ProjectConfiguration(
                project_dir=project_dir, automatic_checkpoint_naming=True, total_limit=2
            ),
        )
        return accelerator, accelerator.prepare(nn.Linear(2, 1))

    accelerator, model = start()
    for value in range(3):  # checkpoint_0, _1, _2; the third save deletes checkpoint_0
        nn.init.constant_(model.weight, value)
        accelerator.save_state()
    accelerator, model = start()  # the resumed run
    accelerator.load_state()  # checkpoint_2
    nn.init.constant_(model.weight, 9.0)  # it trains on
    accelerator.save_state()  # no error: deletes checkpoint_1, writes checkpoint_0
    names = sorted(os.listdir(project_dir / "checkpoints"))
    accelerator, model = start()  # the next resume
    accelerator.load_state()  # the highest number: checkpoint_2, not the newest
    return names, model.weight[0, 0].item()


def run_process(device, out_dir):
    """One of the processes that `accelerate launch` started."""
    rank = int(os.environ["RANK"])
    uninterrupted, _, _, names = run_all(device, out_dir, 2)
    assert PartialState().backend == "gloo"  # on the CPU
    torch.save({"batches": uninterrupted, "files": names}, out_dir / f"rank{rank}.pt")


# --8<-- [start:launch]
def launch(out_dir, timeout=180):
    """Run this script in 2 processes on the CPU (gloo), as `accelerate launch
    --multi_gpu --num_processes 2 save_state.py` does on a machine with no GPU."""
    command = [sys.executable, "-m", "accelerate.commands.launch"]
    command += ["--multi_gpu", "--num_processes", "2", "--num_machines", "1"]
    command += ["--mixed_precision", "no", "--dynamo_backend", "no"]
    command += [str(Path(__file__).resolve()), "--out-dir", str(out_dir)]
    env = os.environ | {"CUDA_VISIBLE_DEVICES": ""}  # CPU processes, even on a GPU
    run = subprocess.run(
        command, capture_output=True, text=True, timeout=timeout, env=env
    )
    if run.returncode != 0:
        raise RuntimeError(f"accelerate launch failed:\n{run.stdout}{run.stderr}")


# --8<-- [end:launch]


def main(device="cpu", out_dir=None):
    out_dir = Path(out_dir or tempfile.mkdtemp())
    out_dir.mkdir(parents=True, exist_ok=True)
    if "LOCAL_RANK" in os.environ:  # started by accelerate launch: one process
        run_process(device, out_dir)
        return

    uninterrupted, before, after, names = run_all(device, out_dir / "one-process", 1)
    print("files in checkpoint_1:", names)
    print("batches before the stop:", before[-2:])
    print("after the resume:       ", after[:2])
    print("same batches, same final weights: True")  # asserted in run_all

    # The default sampler draws each epoch's order from the torch RNG when the epoch
    # starts: after a resume in the middle of an epoch, the order is another one.
    project = out_dir / "default-sampler"
    default_run, _ = train(out_dir / "default-uninterrupted", device, seedable=False)
    before, _ = train(project, device, stop_at=STOP_AT, seedable=False)
    after, _ = train(project, device, resume=True, seedable=False)
    print(
        "default sampler, same batches after the resume:", before + after == default_run
    )
    assert before == default_run[: len(before)]
    assert after != default_run[len(before) :]

    # Without a generator of its own, iter(dataloader) draws a seed from the torch
    # RNG: the resumed run draws one number more than the run without a stop did,
    # so the dropout masks after the resume are others (on the CPU, where dropout
    # draws from that RNG too). Same batches, other weights.
    _, weights = train(out_dir / "global-uninterrupted", device, own_rng=False)
    project = out_dir / "global-rng"
    before, _ = train(project, device, stop_at=STOP_AT, own_rng=False)
    after, resumed_weights = train(project, device, resume=True, own_rng=False)
    same = all(torch.equal(resumed_weights[k], weights[k]) for k in weights)
    print("no generator of its own, same batches:", before + after == uninterrupted)
    print("no generator of its own, same final weights:", same)
    assert before + after == uninterrupted
    if device == "cpu":
        assert not same

    names, weight = forgotten_counter(out_dir / "forgotten-counter", device)
    print("resumed, counter not set, total_limit=2:", names)
    print("load_state() then loads the weights of checkpoint_2:", weight == 2.0)
    assert names == ["checkpoint_0", "checkpoint_2"] and weight == 2.0

    launch(out_dir / "two-processes")
    ranks = [
        torch.load(out_dir / "two-processes" / f"rank{r}.pt", weights_only=True)
        for r in range(2)
    ]
    print("2 processes, files in checkpoint_1:", ranks[0]["files"])
    for rank in ranks:
        assert len(rank["batches"]) == 6  # 3 batches an epoch in each process
    seen_by_both = sum(ranks[0]["batches"][:3] + ranks[1]["batches"][:3], [])
    assert sorted(seen_by_both) == list(range(24))  # epoch 0: each sample once
    print("2 processes, same batches and weights after the resume: True")  # run_all


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--device", default="cpu", help="cpu, cuda, cuda:1, ...")
    parser.add_argument("--out-dir", help="where to write files (default: a temp dir)")
    main(**vars(parser.parse_args()))
