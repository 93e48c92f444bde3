"""The GPU-saved checkpoints in data/gpu-checkpoints: what they hold, and the script that makes them.

- make_cuda_checkpoints.py reproduces fixtures.json's weights and outputs on each device.
- The committed .pt files really hold tensors tagged cuda:0 (the GPU they came from).
- They load on any machine with map_location="cpu" and give the GPU's outputs.
- The scripts that read them, pasted alone without the file, say which file to
  download, where, and the --checkpoint option that points at it.
"""

import json
import shutil
import sys

import pytest
import torch
from project import GPU_FILES, NEEDS_GPU_FILES, ROOT, load_script, run_script

DATA = GPU_FILES
SCRIPT = DATA / "make_cuda_checkpoints.py"
FIXTURES = json.loads((DATA / "fixtures.json").read_text())
ATOL = 1e-6  # float32 matmuls differ between devices in the last bits


make = load_script("data/gpu-checkpoints/make_cuda_checkpoints.py")


def as_tensors(state_dict):
    return {name: torch.tensor(values) for name, values in state_dict.items()}


def storage_locations(path, weights_only=True):
    """The device tag torch.save wrote for each storage in `path`."""
    locations = []

    def record(storage, location):
        locations.append(location)
        return storage  # keep it on the CPU

    torch.load(path, map_location=record, weights_only=weights_only)
    return locations


def test_script_reproduces_fixtures(device, tmp_path):
    make.main(device=device, out_dir=tmp_path)
    made = json.loads((tmp_path / "fixtures.json").read_text())

    assert list(made) == list(FIXTURES)  # the same JSON shape
    assert made["inputs"] == FIXTURES["inputs"]
    assert made["model"] == FIXTURES["model"] and made["files"] == FIXTURES["files"]
    for name, expected in as_tensors(FIXTURES["state_dict"]).items():
        got = torch.tensor(made["state_dict"][name])
        assert torch.allclose(got, expected, rtol=0, atol=ATOL), name
    outputs = torch.tensor(made["outputs"])
    assert torch.allclose(outputs, torch.tensor(FIXTURES["outputs"]), rtol=0, atol=ATOL)

    checkpoint = torch.load(
        tmp_path / "checkpoint_cuda.pt", map_location="cpu", weights_only=True
    )
    committed = torch.load(
        DATA / "checkpoint_cuda.pt", map_location="cpu", weights_only=True
    )
    assert checkpoint["epoch"] == committed["epoch"] == 1
    assert checkpoint["loss"] == pytest.approx(committed["loss"], abs=ATOL)
    made_state = checkpoint["optimizer_state_dict"]["state"]
    for index, state in committed["optimizer_state_dict"]["state"].items():
        for key, value in state.items():
            assert torch.allclose(made_state[index][key], value, rtol=0, atol=ATOL)


def test_script_pickles_entire_model_as_main(tmp_path):
    """Run as a script, the entire-model file names __main__.MyModel, as the committed one."""
    run = run_script(
        SCRIPT,
        ["--device", "cpu", "--out-dir", tmp_path],
        cwd=tmp_path,
        env={"CUDA_VISIBLE_DEVICES": ""},
    )
    assert run.returncode == 0, run.stderr

    def unsafe(path):
        return sorted(torch.serialization.get_unsafe_globals_in_checkpoint(path))

    assert unsafe(tmp_path / "mymodel_entire_cuda.pt") == [
        "__main__.MyModel",
        "torch.nn.modules.linear.Linear",
    ]
    assert unsafe(DATA / "mymodel_entire_cuda.pt") == unsafe(
        tmp_path / "mymodel_entire_cuda.pt"
    )


def test_committed_files_are_tagged_cuda(monkeypatch):
    assert storage_locations(DATA / "mymodel_state_dict_cuda.pt") == ["cuda:0"] * 4

    # The training checkpoint: the weights and Adam's averages are on cuda:0;
    # Adam keeps its step counters on the CPU, so those four are tagged cpu.
    locations = storage_locations(DATA / "checkpoint_cuda.pt")
    assert locations.count("cuda:0") == 12 and locations.count("cpu") == 4

    # The entire model needs its class in __main__ and an unrestricted load:
    # our own committed file, trusted.
    monkeypatch.setattr(sys.modules["__main__"], "MyModel", make.MyModel, raising=False)
    locations = storage_locations(DATA / "mymodel_entire_cuda.pt", weights_only=False)
    assert locations == ["cuda:0"] * 4


def test_committed_files_load_on_cpu(monkeypatch):
    expected = as_tensors(FIXTURES["state_dict"])
    inputs = torch.tensor(FIXTURES["inputs"])
    gpu_outputs = torch.tensor(FIXTURES["outputs"])

    state_dict = torch.load(
        DATA / "mymodel_state_dict_cuda.pt", map_location="cpu", weights_only=True
    )
    checkpoint = torch.load(
        DATA / "checkpoint_cuda.pt", map_location="cpu", weights_only=True
    )
    for loaded in (state_dict, checkpoint["model_state_dict"]):
        assert all(t.device.type == "cpu" for t in loaded.values())
        assert all(torch.equal(loaded[k], expected[k]) for k in expected)  # bit for bit
        model = make.MyModel()
        model.load_state_dict(loaded)
        with torch.no_grad():
            assert torch.allclose(model(inputs), gpu_outputs, rtol=0, atol=ATOL)

    monkeypatch.setattr(sys.modules["__main__"], "MyModel", make.MyModel, raising=False)
    entire = torch.load(
        DATA / "mymodel_entire_cuda.pt", map_location="cpu", weights_only=False
    )
    assert all(t.device.type == "cpu" for t in entire.state_dict().values())
    with torch.no_grad():
        assert torch.allclose(entire(inputs), gpu_outputs, rtol=0, atol=ATOL)


@pytest.mark.parametrize("script", sorted(NEEDS_GPU_FILES))
def test_pasted_alone_it_says_which_file_to_get(script, tmp_path):
    pasted = tmp_path / "a" / "b" / "c" / script.rsplit("/", 1)[1]
    pasted.parent.mkdir(parents=True)
    shutil.copy(ROOT / script, pasted)

    result = run_script(pasted, cwd=tmp_path, env={"CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 1, result.stdout + result.stderr
    message = result.stderr.strip()
    assert "Traceback" not in message, message
    assert len(message.splitlines()) == 1, message  # one paragraph
    names = NEEDS_GPU_FILES[script]
    for needed in [
        f"Not found: {tmp_path}",  # the path it looked at
        names[0],
        "saved on a GPU",
        "From GPU to CPU and back",  # the page that links the file
        "data/gpu-checkpoints/",  # where it is in the repository
        f"python {pasted.name} --checkpoint FOLDER/{names[0]}",
    ]:
        assert needed in message, (needed, message)

    # Downloaded into a folder and named with --checkpoint, it runs.
    folder = tmp_path / "downloads"
    folder.mkdir()
    for name in names:
        shutil.copy(ROOT / "data" / "gpu-checkpoints" / name, folder)
    result = run_script(
        pasted,
        ["--checkpoint", folder / names[0], "--out-dir", tmp_path / "out"],
        cwd=tmp_path,
        env={"CUDA_VISIBLE_DEVICES": ""},
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    "script",
    [s for s, names in sorted(NEEDS_GPU_FILES.items()) if "fixtures.json" in names],
)
def test_without_fixtures_it_names_fixtures_json(script, tmp_path):
    """Only the .pt downloaded: the message names the missing fixtures.json."""
    shutil.copy(
        ROOT / "data" / "gpu-checkpoints" / "mymodel_state_dict_cuda.pt", tmp_path
    )
    result = run_script(
        script,
        ["--checkpoint", tmp_path / "mymodel_state_dict_cuda.pt"],
        cwd=tmp_path,
        env={"CUDA_VISIBLE_DEVICES": ""},
    )
    assert result.returncode == 1
    assert result.stderr.startswith(f"Not found: {tmp_path / 'fixtures.json'}. ")
