"""Reading ``template.yaml``: CloudFormation tags, parameters, and the intrinsics we need."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import yaml

# In the project's folder, where `make run` runs; paths in it (CodeUri...) are relative to
# its folder, as SAM takes them.
TEMPLATE = Path("template.yaml")


NO_VALUE = object()  # what ``!Ref AWS::NoValue`` stands for: left out where it is


class _CfnLoader(yaml.SafeLoader):
    """YAML loader that turns ``!Ref x`` / ``!Sub ...`` into their long forms."""


def _tag(loader: _CfnLoader, suffix: str, node: yaml.Node) -> Any:
    name = "Ref" if suffix == "Ref" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if suffix == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(cast(yaml.MappingNode, node), deep=True)
    return {name: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: Path | str = TEMPLATE) -> dict[str, Any]:
    loader = _CfnLoader(Path(path).read_text(encoding="utf-8"))  # a SafeLoader: plain data only
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()


@dataclass
class ResolvedTemplate:
    """The template, with parameters and the physical names/attributes of created resources."""

    template: dict[str, Any]
    region: str = "eu-west-1"
    account: str = "123456789012"
    name: str = "toqio-connector"
    parameter_values: dict[str, str] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> Ref value
    attributes: dict[tuple[str, str], str] = field(default_factory=dict)
    folder: Path = Path(".")  # where the template is: its relative paths start here

    @classmethod
    def read(cls, path: Path | str = TEMPLATE, **options: Any) -> ResolvedTemplate:
        """The template at ``path``, its paths taken relative to its folder."""
        return cls(load(path), folder=Path(path).parent, **options)

    def path(self, relative: str) -> Path:
        """A path the template names (a CodeUri...), from the template's folder."""
        return self.folder / relative

    @property
    def resources(self) -> dict[str, Any]:
        return self.template["Resources"]

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {lid: res for lid, res in self.resources.items() if res["Type"] == kind}

    def parameter(self, name: str) -> str:
        if name in self.parameter_values:
            return self.parameter_values[name]
        spec = self.template.get("Parameters", {}).get(name)
        if spec is None or "Default" not in spec:
            raise KeyError(f"template parameter {name} has no value")
        return str(spec["Default"])

    def _parameter_value(self, name: str) -> Any:
        """A parameter as ``Ref`` gives it: a list for a ``CommaDelimitedList``."""
        value = self.parameter(name)
        kind = self.template["Parameters"][name].get("Type", "String")
        return (
            [item.strip() for item in value.split(",")] if kind == "CommaDelimitedList" else value
        )

    def condition(self, name: str) -> bool:
        """The value of the template's condition ``name``."""
        return bool(self._truth(self.template["Conditions"][name]))

    def _truth(self, value: Any) -> bool:
        ((key, arg),) = value.items()
        if key == "Condition":
            return self.condition(arg)
        if key == "Fn::Equals":
            left, right = (self.resolve(part) for part in arg)
            return bool(left == right)
        if key == "Fn::Not":
            return not self._truth(arg[0])
        if key == "Fn::And":
            return all(self._truth(part) for part in arg)
        if key == "Fn::Or":
            return any(self._truth(part) for part in arg)
        raise NotImplementedError(f"the local runner does not evaluate the condition {key}")

    def _pseudo(self, name: str) -> str | None:
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account,
            "AWS::Partition": "aws",
            "AWS::StackName": self.name,
            "AWS::URLSuffix": "amazonaws.com",
        }.get(name)

    def ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        pseudo = self._pseudo(name)
        if pseudo is not None:
            return pseudo
        if name in self.template.get("Parameters", {}):
            return self._parameter_value(name)
        if name in self.refs:
            return self.refs[name]
        raise KeyError(f"!Ref {name}: not a parameter or a resource the runner created")

    def resolve(self, value: Any) -> Any:
        """Evaluate the intrinsics the runner understands; fail clearly on the others.
        What resolves to ``AWS::NoValue`` is left out of its list or mapping."""
        if isinstance(value, list):
            items = [self.resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" or key.startswith("Fn::"):
                return self._intrinsic(key, arg)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _intrinsic(self, key: str, arg: Any) -> Any:
        """The value of ``{key: arg}``: ``Ref`` or an ``Fn::`` the runner evaluates."""
        if key == "Ref":
            return self.ref(arg)
        if key == "Fn::GetAtt":
            return self._get_att(arg)
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::FindInMap":
            mapping, top, second = (self.resolve(part) for part in arg)
            return self.template["Mappings"][mapping][top][second]
        if key == "Fn::Join":
            separator, parts = arg
            return separator.join(str(part) for part in self.resolve(parts))
        if key == "Fn::If":
            name, if_true, if_false = arg
            return self.resolve(if_true if self.condition(name) else if_false)
        raise NotImplementedError(f"the local runner does not evaluate {key}")

    def _get_att(self, arg: Any) -> str:
        logical, attribute = arg if isinstance(arg, list) else arg.split(".", 1)
        try:
            return self.attributes[(logical, attribute)]
        except KeyError:
            raise KeyError(f"!GetAtt {logical}.{attribute} is not known locally") from None

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
        values = {name: self.resolve(value) for name, value in variables.items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in values:
                return str(values[name])
            if "." in name:
                logical, attribute = name.split(".", 1)
                return str(self.resolve({"Fn::GetAtt": [logical, attribute]}))
            return str(self.ref(name))

        return re.sub(r"\$\{([^}]+)\}", replace, text)

    def function_environment(self, logical_id: str) -> dict[str, str]:
        """Globals' variables overlaid with the function's own, resolved."""
        globals_env = (
            self.template.get("Globals", {}).get("Function", {}).get("Environment", {})
        ).get("Variables", {})
        own = self.resources[logical_id]["Properties"].get("Environment", {}).get("Variables", {})
        return {key: str(self.resolve(value)) for key, value in {**globals_env, **own}.items()}

    def function_property(self, logical_id: str, name: str, default: Any = None) -> Any:
        own = self.resources[logical_id]["Properties"]
        if name in own:
            return own[name]
        return self.template.get("Globals", {}).get("Function", {}).get(name, default)
