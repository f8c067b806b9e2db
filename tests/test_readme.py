"""The README starts with the two commands a fresh machine needs, and links only to files in the repository."""

import re

from tests.processes import ROOT

README = (ROOT / "README.md").read_text()


def test_it_starts_with_make_run_and_make_test():
    block = README.split("```")[1]
    assert [line.split()[:2] for line in block.strip().splitlines()] == [["make", "run"], ["make", "test"]]


def test_it_links_only_to_files_in_the_repository():
    for document in (ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))):
        for target in re.findall(r"\]\(([^)#\s]+)", document.read_text()):
            assert "://" not in target, f"{document.name} links outside the repository: {target}"
            path = (document.parent / target).resolve()
            assert path.is_relative_to(ROOT) and path.exists(), (
                f"{document.name} links to {target}, not in the repository"
            )
