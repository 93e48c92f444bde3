"""What only a machine with an NVIDIA GPU shows: the messages the pages describe
but a CPU cannot print.

- A file saved on this GPU, loaded by a process that sees no CUDA, fails with the
  message that docs/troubleshooting.md quotes.
- A GPU the machine does not have (cuda:1 on a one-GPU machine): torch.load's
  message with map_location, and CUDA's for a tensor put there.
- Optimizer state loaded before the model moves to the GPU stays on the CPU, and
  the next step fails; loaded after the move, it follows the weights.
- NCCL runs one rank per GPU: two ranks on one GPU are refused.

These run only where CUDA is available (skipped elsewhere, as the cuda cases of
the examples are). Each records the message it saw in the file named by
$GPU_RUN_MESSAGES, which the GPU run (scripts/gpu_run.py) puts in its summary.
"""

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest
import torch
from project import run_script
from torch import nn

from pageformat import normalize, output_blocks, pages, quote_matches

pytestmark = pytest.mark.skipif(
    not torch.cuda.is_available(), reason="CUDA is not available"
)


def record(key, message):
    """Keep the message for the GPU run's summary (one JSON line per message)."""
    path = os.environ.get("GPU_RUN_MESSAGES")
    if path:
        with open(path, "a") as f:
            f.write(json.dumps({"key": key, "message": message.strip()}) + "\n")


class MyModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(10, 5)
        self.fc2 = nn.Linear(5, 1)

    def forward(self, x):
        return self.fc2(self.fc1(x))


def script(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_file_saved_on_this_gpu_in_a_process_without_cuda(tmp_path):
    path = tmp_path / "mymodel.pt"
    torch.save(MyModel().to("cuda").state_dict(), path)
    loader = script(
        tmp_path,
        "load_it.py",
        """
        import sys

        import torch

        try:
            torch.load(sys.argv[1], weights_only=True)
        except RuntimeError as err:
            print(f"{type(err).__name__}: {err}")
        else:
            print("loaded")
        """,
    )
    run = run_script(loader, [path], cwd=tmp_path, env={"CUDA_VISIBLE_DEVICES": ""})
    assert run.returncode == 0, run.stderr
    record("a file saved on the GPU, loaded where CUDA is hidden", run.stdout)
    assert run.stdout.startswith(
        "RuntimeError: Attempting to deserialize object on a CUDA"
    )

    # What the troubleshooting page quotes is what such a process prints here.
    quoted = [
        block
        for page in pages()
        for block in output_blocks(page)
        if block.script == "examples/troubleshooting/cuda_checkpoint_on_cpu.py"
    ]
    assert quoted, "no page quotes examples/troubleshooting/cuda_checkpoint_on_cpu.py"
    printed = normalize(run.stdout) + "\n"
    assert any(quote_matches(block.text, printed) for block in quoted), run.stdout


def test_a_gpu_this_machine_does_not_have(tmp_path):
    missing = torch.cuda.device_count()  # cuda:1 on a machine with one GPU
    path = tmp_path / "mymodel.pt"
    torch.save(MyModel().to("cuda").state_dict(), path)
    # In a process of its own: a CUDA error there leaves this one as it was.
    probe = script(
        tmp_path,
        "missing_gpu.py",
        """
        import sys

        import torch

        path, device = sys.argv[1], sys.argv[2]
        for what, call in [
            ("torch.load", lambda: torch.load(path, map_location=device, weights_only=True)),
            ("tensor", lambda: torch.zeros(1, device=device)),
        ]:
            try:
                call()
            except RuntimeError as err:
                print(f"{what}: {type(err).__name__}: {str(err).splitlines()[0]}")
            else:
                print(f"{what}: worked")
        """,
    )
    run = run_script(probe, [path, f"cuda:{missing}"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    lines = dict(line.split(": ", 1) for line in run.stdout.splitlines())
    gpus = f"{missing} GPU{'s' if missing > 1 else ''}"
    record(
        f"torch.load(map_location='cuda:{missing}') with {gpus}", lines["torch.load"]
    )
    record(f"a tensor on cuda:{missing} with {gpus}", lines["tensor"])
    assert lines["torch.load"] == (
        f"RuntimeError: Attempting to deserialize object on CUDA device {missing} but "
        f"torch.cuda.device_count() is {missing}. Please use torch.load with "
        "map_location to map your storages to an existing device."
    )
    assert "invalid device ordinal" in lines["tensor"], lines["tensor"]


def train_step(model, optimizer, device):
    inputs = torch.randn(8, 10, device=device)
    optimizer.zero_grad()
    model(inputs).pow(2).mean().backward()
    optimizer.step()


def test_optimizer_state_loaded_before_the_move_stays_on_the_cpu(tmp_path):
    model = MyModel()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    train_step(model, optimizer, "cpu")
    torch.save(
        {"model": model.state_dict(), "optimizer": optimizer.state_dict()},
        tmp_path / "checkpoint.pt",
    )
    checkpoint = torch.load(tmp_path / "checkpoint.pt", weights_only=True)

    # Too early: the state is loaded while the weights are on the CPU.
    model = MyModel()
    model.load_state_dict(checkpoint["model"])
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    optimizer.load_state_dict(checkpoint["optimizer"])
    model.to("cuda")
    state = optimizer.state[model.fc1.weight]
    assert model.fc1.weight.is_cuda and state["exp_avg"].device.type == "cpu"
    try:
        train_step(model, optimizer, "cuda")
    except RuntimeError as error:
        message = f"RuntimeError: {error}"
    else:
        message = "no error: the step ran"
    record("optimizer.step() with its state on the CPU, the model on cuda", message)
    assert message.startswith("RuntimeError") and "device" in message, message

    # In order: move the model, make the optimizer, load its state.
    model = MyModel()
    model.load_state_dict(checkpoint["model"])
    model.to("cuda")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    optimizer.load_state_dict(checkpoint["optimizer"])
    for param in model.parameters():
        assert optimizer.state[param]["exp_avg"].device == param.device
    train_step(model, optimizer, "cuda")
    assert int(optimizer.state[model.fc1.weight]["step"]) == 2


@pytest.mark.skipif(
    torch.cuda.device_count() != 1, reason="needs exactly one GPU (two ranks on it)"
)
def test_nccl_refuses_two_ranks_on_one_gpu(tmp_path):
    """The distributed examples start one rank per GPU: on one GPU, one nccl rank."""
    worker = script(
        tmp_path,
        "two_ranks.py",
        """
        import torch
        import torch.distributed as dist

        torch.cuda.set_device(0)  # both ranks: the only GPU
        dist.init_process_group("nccl")
        try:
            tensor = torch.ones(1, device="cuda")
            dist.all_reduce(tensor)
            print("all_reduce:", tensor.item())
        finally:
            dist.destroy_process_group()
        """,
    )
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone"]
    command += ["--nproc_per_node=2", str(worker)]
    process = subprocess.Popen(
        command,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        record("nccl, two ranks on one GPU", "hung for 120 s")
        pytest.fail(f"two nccl ranks on one GPU hung:\n{output[-2000:]}", pytrace=False)
    found = [line.strip() for line in output.splitlines() if "Duplicate GPU" in line]
    record(
        "nccl, two ranks on one GPU",
        found[0] if found else f"exit status {process.returncode}: {output[-300:]}",
    )
    assert process.returncode != 0, output
    assert found, output[-3000:]
