"""The deployment-as-code files: the CloudFormation templates pass cfn-lint, the commands in
docs/deployment.md deploy them with parameters they have, and the Terraform example's role
grants the permissions the README lists (the Terraform itself is not run here)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.deploy_templates import ROOT, TEMPLATES, load_template

CFN_LINT = Path(sys.executable).parent / "cfn-lint"
DEPLOYMENT_DOC = ROOT / "docs" / "deployment.md"
TERRAFORM_MAIN = ROOT / "deploy" / "terraform" / "genesys" / "main.tf"


def test_cfn_lint_passes_on_every_template() -> None:
    done = subprocess.run(
        [str(CFN_LINT), "--format", "parseable", *map(str, TEMPLATES)],
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def deploy_commands(text: str) -> list[list[str]]:
    """Every ``aws cloudformation deploy`` command of a markdown text, split like a shell."""
    joined = text.replace("\\\n", " ")
    return [
        shlex.split(line.strip())
        for line in joined.splitlines()
        if line.strip().startswith("aws cloudformation deploy ")
    ]


def option(command: list[str], name: str) -> list[str]:
    """The values after ``--name``, up to the next option."""
    start = command.index(name) + 1
    values: list[str] = []
    for word in command[start:]:
        if word.startswith("--"):
            break
        values.append(word)
    return values


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_deployment_doc_deploys_each_template_in_one_command(template: Path) -> None:
    relative = str(template.relative_to(ROOT))
    commands = [
        c
        for c in deploy_commands(DEPLOYMENT_DOC.read_text())
        if option(c, "--template-file") == [relative]
    ]
    assert len(commands) == 1, f"one `aws cloudformation deploy` of {relative}"
    [command] = commands
    parameters = load_template(template)["Parameters"]
    given = {word.split("=", 1)[0] for word in option(command, "--parameter-overrides")}
    assert given <= set(parameters), "the command names only the template's parameters"
    required = {name for name, p in parameters.items() if "Default" not in p}
    assert required <= given, "the command gives every parameter without a default"
    assert option(command, "--capabilities") == ["CAPABILITY_IAM"]


def readme_permissions() -> set[str]:
    """Permission names in the README's OAuth client section (its table's first column)."""
    text = (ROOT / "README.md").read_text()
    section = text.split("### Genesys Cloud OAuth client", 1)[1].split("\n#", 1)[0]
    found: set[str] = set()
    for row in section.splitlines():
        if row.startswith("| `"):
            found |= set(re.findall(r"`([A-Za-z]+:[A-Za-z]+:[A-Za-z]+)`", row.split("|")[1]))
    return found


def test_terraform_role_grants_exactly_the_readme_permissions() -> None:
    in_terraform = set(re.findall(r'"([A-Za-z]+:[A-Za-z]+:[A-Za-z]+)"', TERRAFORM_MAIN.read_text()))
    assert readme_permissions() == in_terraform
    assert "conversation:message:view" in in_terraform
