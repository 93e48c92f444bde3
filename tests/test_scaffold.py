"""`python scripts/new_page.py` makes a page that passes every check and builds.

The scaffold runs in a copy of the site's sources; the new page and example then
face the same checks as every page (checks.py), its script runs and prints what
its page quotes, its inline block runs, and `mkdocs build --strict` renders it.
"""

import shutil

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
from project import ROOT, build_site, load_script, run_script
from pytest_examples import find_examples

from pageformat import output_blocks, page_url

new_page = load_script("scripts/new_page.py")
SCRIPT = "examples/tpu/load_on_tpu.py"


def copy_of_the_site(folder):
    """The site's sources (no notebooks: they take long to execute) in `folder`."""
    (folder / "docs").mkdir(parents=True)
    (folder / "docs" / "examples").symlink_to("../examples")
    shutil.copytree(
        ROOT / "examples",
        folder / "examples",
        ignore=shutil.ignore_patterns("__pycache__", "notebooks"),
    )
    for part in (
        "overrides",
        "hooks",
        "docs/stylesheets",
        "docs/javascripts",
        "docs/snippets",
    ):
        shutil.copytree(ROOT / part, folder / part)
    for part in ("mkdocs.yml", "pageformat.py"):  # the hooks import pageformat.py
        shutil.copy(ROOT / part, folder / part)
    return folder


def build_the_page_alone(copy, config, page, site_dir):
    """`mkdocs build --strict` of `page` alone, with the site's theme and Markdown
    extensions; its HTML."""
    config["nav"] = [{"Load a model onto a TPU": page.name}]
    config["plugins"] = ["search"]
    (copy / "mkdocs.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    built = build_site(site_dir, root=copy)
    assert built.returncode == 0, built.stderr
    return (site_dir / page_url(page, copy / "docs") / "index.html").read_text()


def test_a_scaffolded_page_passes_every_check_and_builds(
    tmp_path, eval_example, monkeypatch, repository_guard
):
    copy = copy_of_the_site(tmp_path / "site")

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

    html = build_the_page_alone(copy, config, page, tmp_path / "built")
    assert "load_state_dict" in html and "--8&lt;--" not in html
