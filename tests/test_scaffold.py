"""`python scripts/new_page.py` makes a page that passes every check and builds.

The scaffold runs in a copy of the site's sources; the new page and example then
face the same checks as every page (checks.py), its script runs and prints what
its page quotes, its inline block runs, and `mkdocs build --strict` renders it.
"""

import os
import shutil
import subprocess
import sys

import yaml
from checks import (
    contract_problems,
    include_problems,
    output_mismatch,
    untested_python_blocks,
    untitled_text_blocks,
    unused_examples,
)
from mkdocs.utils.yaml import yaml_load
from pages import output_blocks
from project import ROOT, load_example, run_script
from pytest_examples import find_examples

new_page = load_example("scripts/new_page.py")
SCRIPT = "examples/tpu/load_on_tpu.py"


def test_a_scaffolded_page_passes_every_check_and_builds(
    tmp_path, eval_example, monkeypatch, repository_guard
):
    copy = tmp_path / "site"
    (copy / "docs").mkdir(parents=True)
    (copy / "docs" / "examples").symlink_to("../examples")
    shutil.copytree(
        ROOT / "examples",
        copy / "examples",
        ignore=shutil.ignore_patterns("__pycache__", "notebooks"),
    )
    for part in (
        "overrides",
        "hooks",
        "docs/stylesheets",
        "docs/javascripts",
        "docs/snippets",
    ):
        shutil.copytree(ROOT / part, copy / part)
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")

    page, script = new_page.main(
        ["Load a model onto a TPU", "--topic", "tpu", "--name", "load_on_tpu"],
        root=copy,
    )

    assert page == copy / "docs" / "load-a-model-onto-a-tpu.md"
    config = yaml_load((copy / "mkdocs.yml").read_text())
    (beyond,) = [
        s["Beyond the basics"] for s in config["nav"] if "Beyond the basics" in s
    ]
    assert beyond[-1] == {"Load a model onto a TPU": "load-a-model-onto-a-tpu.md"}

    assert include_problems(page, root=copy) == []
    assert untested_python_blocks(page) == []
    assert untitled_text_blocks(page, [SCRIPT]) == []
    assert unused_examples([SCRIPT], [page], root=copy) == []
    assert contract_problems(SCRIPT, script.read_text()) == []

    run = run_script(script, ["--out-dir", tmp_path / "out"], cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    for block in output_blocks(page):
        assert output_mismatch(block, run.stdout) is None

    monkeypatch.chdir(tmp_path)  # the block writes model.pt where it runs
    (inline,) = list(find_examples(page))[:1]
    eval_example.set_config(line_length=88, target_version="py310", quotes="double")
    eval_example.lint(inline)
    eval_example.run_print_check(inline)

    # Build the new page alone, with the site's theme and Markdown extensions.
    config["nav"] = [{"Load a model onto a TPU": page.name}]
    config["plugins"] = ["search"]
    (copy / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "mkdocs",
            "build",
            "--strict",
            "--site-dir",
            tmp_path / "built",
        ],
        cwd=copy,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},  # Material's end-of-life notice
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    html = (tmp_path / "built" / page.stem / "index.html").read_text()
    assert "load_state_dict" in html and "--8&lt;--" not in html
