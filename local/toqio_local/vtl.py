"""Just enough Velocity (VTL) to render the template's gateway responses locally.

Supports ``$var``, ``${var}``, ``$context.x``, ``#set($v = expr)`` with integer
arithmetic, and ``#if(cond) ... #else ... #end``. Rendering the template's own text
(rather than a copy of it) means the local runner, and the tests, exercise the very
date arithmetic that API Gateway runs.
"""

from __future__ import annotations

import ast
import operator
import re
from typing import Any

_BINARY = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.FloorDiv: operator.floordiv,  # Velocity divides integers as integers
    ast.Mod: operator.mod,
}
_COMPARE = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
    ast.Eq: operator.eq,
    ast.NotEq: operator.ne,
}
_VARIABLE = re.compile(r"\$!?\{?([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\}?")


def _balanced(text: str, start: int) -> int:
    """Index just past the parenthesis that closes the one at ``text[start]``."""
    depth = 0
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index + 1
    raise ValueError("unbalanced parentheses in VTL")


def _evaluate(expression: str, variables: dict[str, Any]) -> Any:
    python = _VARIABLE.sub(lambda m: m.group(1).replace(".", "__"), expression)
    python = python.replace("/", "//")
    names = {key.replace(".", "__"): value for key, value in variables.items()}

    def walk(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return names[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if isinstance(node, ast.Compare) and len(node.ops) == 1 and type(node.ops[0]) in _COMPARE:
            return _COMPARE[type(node.ops[0])](walk(node.left), walk(node.comparators[0]))
        raise ValueError(f"unsupported VTL expression: {expression}")

    return walk(ast.parse(python.strip(), mode="eval"))


def _parse(text: str, position: int = 0, stop: tuple[str, ...] = ()) -> tuple[list[Any], int, str]:
    """Nodes until one of ``stop`` directives; (nodes, position after it, which one)."""
    nodes: list[tuple[Any, ...]] = []
    while position < len(text):
        for word in stop:
            if text.startswith(word, position):
                return nodes, position + len(word), word
        if text.startswith("#set(", position):
            end = _balanced(text, position + 4)
            target, expression = text[position + 5 : end - 1].split("=", 1)
            nodes.append(("set", target.strip().lstrip("$"), expression))
            position = end
        elif text.startswith("#if(", position):
            end = _balanced(text, position + 3)
            condition = text[position + 4 : end - 1]
            then, position, word = _parse(text, end, ("#else", "#end"))
            otherwise: list[Any] = []
            if word == "#else":
                otherwise, position, _ = _parse(text, position, ("#end",))
            nodes.append(("if", condition, then, otherwise))
        elif text[position] == "$" and (match := _VARIABLE.match(text, position)):
            nodes.append(("var", match.group(1)))
            position = match.end()
        else:
            nodes.append(("text", text[position]))
            position += 1
    if stop:
        raise ValueError(f"VTL: missing {' or '.join(stop)}")
    return nodes, position, ""


def _run(nodes: list[Any], variables: dict[str, Any], out: list[str]) -> None:
    for node in nodes:
        kind = node[0]
        if kind == "text":
            out.append(node[1])
        elif kind == "var":
            out.append(str(variables[node[1]]))
        elif kind == "set":
            variables[node[1]] = _evaluate(node[2], variables)
        elif kind == "if":
            _run(node[2] if _evaluate(node[1], variables) else node[3], variables, out)


def render(template: str, context: dict[str, Any]) -> str:
    """Render ``template`` with ``$context.<key>`` taken from ``context``."""
    variables = {f"context.{key}": value for key, value in context.items()}
    out: list[str] = []
    _run(_parse(template)[0], variables, out)
    return "".join(out)
