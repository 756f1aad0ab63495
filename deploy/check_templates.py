"""Consistency checks of the deploy templates that neither cfn-lint nor asl-validator make.

Run by `cargo xtask validate` with the project virtualenv's Python (cfn-lint provides the
CloudFormation YAML loader, which understands the short intrinsic-function tags):

    python deploy/check_templates.py DEPLOY_DIR

Checks:
- The inline EventPattern of the findings rule equals eventbridge/findings-pattern.json.
- Every `${Name}` placeholder of a state machine definition has a DefinitionSubstitutions
  entry in the template that uses it, and every entry is used.
- Every statemachine/*.asl.json is used by a template.
- Retriers and catchers use only the fields the States language defines (asl-validator
  does not look inside them), and JitterStrategy is FULL or NONE.

Prints one line per problem and exits 1 when there is any.
"""

import glob
import json
import os
import re
import sys

from cfnlint.decode import decode

PATTERN_FILE = os.path.join("eventbridge", "findings-pattern.json")
PATTERN_TEMPLATE = "security-account.yaml"
PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9_]+)\}")
RETRIER_FIELDS = {
    "ErrorEquals",
    "IntervalSeconds",
    "MaxAttempts",
    "BackoffRate",
    "MaxDelaySeconds",
    "JitterStrategy",
    "Comment",
}
CATCHER_FIELDS = {"ErrorEquals", "Next", "ResultPath", "Comment", "Assign", "Output"}


def plain(value):
    """cfn-lint's node types as plain JSON values."""
    return json.loads(json.dumps(value))


def load_template(path, problems):
    template, matches = decode(path)
    if matches or template is None:
        for match in matches:
            problems.append(f"{path}: {match}")
        return None
    return plain(template)


def check_pattern(deploy_dir, templates, problems):
    with open(os.path.join(deploy_dir, PATTERN_FILE)) as f:
        expected = json.load(f)
    template = templates.get(PATTERN_TEMPLATE)
    if template is None:
        problems.append(f"{PATTERN_TEMPLATE}: missing or unreadable")
        return
    rules = [
        (name, resource["Properties"]["EventPattern"])
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Events::Rule"
        and "EventPattern" in resource.get("Properties", {})
    ]
    findings_rules = [
        (name, pattern)
        for name, pattern in rules
        if isinstance(pattern, dict) and "aws.securityhub" in pattern.get("source", [])
    ]
    if len(findings_rules) != 1:
        names = ", ".join(name for name, _ in findings_rules) or "none"
        problems.append(
            f"{PATTERN_TEMPLATE}: expected one EventBridge rule on aws.securityhub, found {names}"
        )
        return
    name, pattern = findings_rules[0]
    if pattern != expected:
        problems.append(
            f"{PATTERN_TEMPLATE}: the EventPattern of {name} differs from {PATTERN_FILE}:\n"
            f"  template: {json.dumps(pattern, sort_keys=True)}\n"
            f"  file:     {json.dumps(expected, sort_keys=True)}"
        )


def walk_states(states, where, problems):
    for state_name, state in states.items():
        here = f"{where}/{state_name}"
        for i, retrier in enumerate(state.get("Retry", [])):
            unknown = sorted(set(retrier) - RETRIER_FIELDS)
            if unknown:
                problems.append(f"{here}: Retry[{i}] has unknown fields {unknown}")
            jitter = retrier.get("JitterStrategy", "NONE")
            if jitter not in ("FULL", "NONE"):
                problems.append(f"{here}: Retry[{i}] has JitterStrategy {jitter!r}")
        for i, catcher in enumerate(state.get("Catch", [])):
            unknown = sorted(set(catcher) - CATCHER_FIELDS)
            if unknown:
                problems.append(f"{here}: Catch[{i}] has unknown fields {unknown}")
        for branch in state.get("Branches", []):
            walk_states(branch.get("States", {}), here, problems)
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                walk_states(state[key].get("States", {}), here, problems)


def check_state_machines(deploy_dir, templates, problems):
    used = set()
    for template_name, template in sorted(templates.items()):
        for name, resource in template.get("Resources", {}).items():
            if resource.get("Type") != "AWS::Serverless::StateMachine":
                continue
            props = resource.get("Properties", {})
            uri = props.get("DefinitionUri")
            if not isinstance(uri, str):
                continue
            path = os.path.normpath(os.path.join(deploy_dir, uri))
            used.add(path)
            where = f"{template_name}: {name} ({uri})"
            if not os.path.isfile(path):
                problems.append(f"{where}: no such file")
                continue
            with open(path) as f:
                text = f.read()
            placeholders = set(PLACEHOLDER.findall(text))
            substitutions = set(props.get("DefinitionSubstitutions", {}))
            for missing in sorted(placeholders - substitutions):
                problems.append(f"{where}: no DefinitionSubstitutions entry for ${{{missing}}}")
            for unused in sorted(substitutions - placeholders):
                problems.append(f"{where}: DefinitionSubstitutions entry {unused} is not used")
    for path in sorted(glob.glob(os.path.join(deploy_dir, "statemachine", "*.asl.json"))):
        relative = os.path.relpath(path, deploy_dir)
        if os.path.normpath(path) not in used:
            problems.append(f"{relative}: no template uses it")
        with open(path) as f:
            definition = json.load(f)
        walk_states(definition.get("States", {}), relative, problems)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: check_templates.py DEPLOY_DIR")
    deploy_dir = sys.argv[1]
    problems = []
    templates = {}
    for path in sorted(glob.glob(os.path.join(deploy_dir, "*.yaml"))):
        template = load_template(path, problems)
        if template is not None:
            templates[os.path.basename(path)] = template
    check_pattern(deploy_dir, templates, problems)
    check_state_machines(deploy_dir, templates, problems)
    for problem in problems:
        print(f"check_templates: {problem}", file=sys.stderr)
    if problems:
        sys.exit(1)
    print(
        f"check_templates: {len(templates)} templates, event pattern and state machine "
        "substitutions consistent",
        file=sys.stderr,
    )


if __name__ == "__main__":
    main()
