"""The build hooks, on tiny records: hooks/versions.py's line of tested releases."""

from project import load_example

versions = load_example("hooks/versions.py")


def record(torch, python, failed_tests=()):
    return {
        "torch": torch,
        "python": python,
        "left_out": [],
        "failed": len(failed_tests),
        "failed_tests": list(failed_tests),
    }


def test_the_line_names_the_pythons_that_ran_the_pin():
    failed_on_312 = [
        "tests.test_examples::test_example[cpu-examples/save/state_dict.py]"
    ]
    found = [
        record("2.14.1", "3.11.7"),
        record("2.6.0", "3.11.7"),
        record("2.14.1", "3.10.13"),
        record("2.14.1", "3.12.1", failed_on_312),
        record("2.14.1", "3.13.0"),
    ]
    python, main, others = versions.by_python(found)
    assert python == "3.11" and len(main) == 2 and len(others) == 3
    markdown = '# T\n\n```python\n--8<-- "examples/save/state_dict.py"\n```\n'
    page = "docs/save.md"
    passed, partly = versions.releases_for(page, markdown, main)
    pythons = versions.pythons_for(page, markdown, others)
    assert passed == ["2.14.1", "2.6.0"] and pythons == {"2.14.1": ["3.10", "3.13"]}
    assert versions.tested_line(passed, partly, python=python, pythons=pythons) == (
        '<p class="tested-with">The code on this page passed its tests with PyTorch '
        "2.14.1, 2.6.0 (on the CPU, Python 3.11), with PyTorch 2.14.1 on Python 3.10 "
        "and 3.13.</p>"
    )
    # Another page, whose tests passed everywhere, names all three.
    other = '# T\n\n```python\n--8<-- "examples/load/eval_mode.py"\n```\n'
    assert versions.pythons_for("docs/load.md", other, others) == {
        "2.14.1": ["3.10", "3.12", "3.13"]
    }
    assert versions.joined(["3.10", "3.12", "3.13"]) == "3.10, 3.12 and 3.13"
