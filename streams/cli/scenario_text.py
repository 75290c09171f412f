"""`simulate --check` and the fault flags in the user's language.

The simulators stay language-neutral: a scenario problem (simulators/scenario_check.py)
carries an English message plus a code and its values; this module turns it into the
current language's text. A problem without a known code (a schema keyword no scenario field
uses) keeps its English message.
"""

from __future__ import annotations

from typing import Any

from schemas import i18n
from schemas.i18n import N_, _

# JSON Schema keywords (jsonschema's own messages, said again for translation) and the
# checker's own codes.
TEMPLATES = {
    "minimum": N_("{value} is less than the minimum of {limit}"),
    "maximum": N_("{value} is greater than the maximum of {limit}"),
    "exclusiveMinimum": N_("{value} is less than or equal to the minimum of {limit}"),
    "exclusiveMaximum": N_("{value} is greater than or equal to the maximum of {limit}"),
    "enum": N_("{value} is not one of {limit}"),
    "propertyNames.enum": N_("{value} is not one of {limit}"),
    "type": N_("{value} is not of type {limit}"),
    "required": N_("{name} is a required property"),
    "additionalProperties": N_("unknown field(s) {names} (a typo?)"),
    "minItems": N_("{value} has too few items (at least {limit})"),
    "maxItems": N_("{value} has too many items (at most {limit})"),
    "minLength": N_("{value} is too short (at least {limit} characters)"),
    "maxLength": N_("{value} is too long (at most {limit} characters)"),
    "pattern": N_("{value} does not match {limit}"),
    "uniqueItems": N_("{value} has repeated items"),
    "province": N_("{code} is not a province code (known: 1-{last})"),
    "no_commune": N_("selects no commune; check commune_code_range"),
    "pilot": N_("{code} is not a commune of the scenario's region"),
    "read": N_("cannot read the file: {reason}"),
    "yaml": N_("not valid YAML: {reason}"),
    "yaml_at": N_("not valid YAML at line {line}, column {column}: {reason}"),
    "name_mismatch": N_("is {name}; it must match the file name {expected}"),
}
# The scenario model's rules (simulators/scenario.py validators), by their English text.
RULES = (
    N_("periods must be distinct and in order"),
    N_("starts_at must be a UTC timestamp ending in Z"),
    N_("paid_cashless cannot exceed beneficiaries"),
    N_("amount_vnd needs one amount per programme"),
    N_("commune_code_range needs exactly one province"),
)
FAULT_RANGE = N_("{flag} must be between 0 and 1")


def problem_message(problem: Any) -> str:
    """A scenario problem's message in the current language."""
    if problem.code == "rule" and problem.message in RULES:
        return _(problem.message)
    template = TEMPLATES.get(problem.code)
    if template is None:
        return str(problem.message)
    return _(template).format(**dict(problem.params))


def problem_line(problem: Any) -> str:
    """`path: message`, as `simulate --check` prints each problem."""
    where = problem.path or _("(top level)")
    return f"{where}: {problem_message(problem)}"


def scenario_valid_line(name: str, scenario: Any) -> str:
    """What `simulate --check` says of a valid scenario file."""
    lang = i18n.current()
    return _("{name}: valid scenario {scenario} ({periods} periods, {n} beneficiaries)").format(
        name=name,
        scenario=repr(scenario.name),
        periods=lang.number(len(scenario.periods)),
        n=lang.number(scenario.beneficiaries),
    )


def problems_line(name: str, count: int) -> str:
    """The heading of an invalid scenario file's problems."""
    return _("{name}: {n} problem(s)").format(name=name, n=i18n.current().number(count))


def fault_range_error(flag: str) -> str:
    """The error of a fault flag outside 0-1 (`--duplicates 2`)."""
    return _(FAULT_RANGE).format(flag=flag)


def scenario_file_error(error: Any) -> str:
    """A refused scenario file (simulators.errors.ScenarioFileError, `--scenario FILE`) in the
    current language: every problem on one line, and how to check the file."""
    if not error.problems or error.path is None:
        return str(error)
    listed = "; ".join(problem_line(p) for p in error.problems)
    return _(
        "{name} has {n} problem(s): {listed} (check it with "
        "`welfare-monitor simulate --check {path}`)"
    ).format(
        name=error.path.name,
        n=i18n.current().number(len(error.problems)),
        listed=listed,
        path=error.path,
    )
