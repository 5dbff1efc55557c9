"""What a document may ask for, checked with the GraphQL validation rules before anything runs.

- Depth: the longest chain of nested selections, fragments followed, introspection fields
  (`__schema`, `__type`, `ofType`…) counted like any other. The standard introspection query
  fits; a deeper `ofType` chain does not.
- Cost: every field selected costs 1 (fragments counted where they are spread, so a fragment
  spread many times costs many times); a field under a list costs `LIST_FACTOR` times, as it
  may be resolved once per element (not under the introspection types: the schema's own
  description is static); a root mutation field costs `MUTATION_COST` (each is a
  write) and a root query field `QUERY_COST`. Aliases do not make a field cheaper.

A document over either limit is refused as a whole, with a GraphQL error whose
`extensions.code` is `DEPTH_LIMIT_EXCEEDED` or `COST_LIMIT_EXCEEDED`; nothing of it runs.
"""

from __future__ import annotations

from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNonNull,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    ValidationContext,
    ValidationRule,
)
from graphql.type.introspection import SchemaMetaFieldDef, TypeMetaFieldDef

MAX_DEPTH = 15
MAX_COST = 1500
MUTATION_COST = 100
QUERY_COST = 10
LIST_FACTOR = 10


def _fragments(context: ValidationContext) -> dict[str, FragmentDefinitionNode]:
    return {
        definition.name.value: definition
        for definition in context.document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }


def _depth(
    selection_set: SelectionSetNode | None,
    fragments: dict[str, FragmentDefinitionNode],
    memo: dict[str, int],
    seen: frozenset[str] = frozenset(),
) -> int:
    """The depth below `selection_set` (a leaf field is 1). Each fragment's depth is computed
    once; a fragment cycle (refused by the standard rules anyway) is not followed."""
    if selection_set is None:
        return 0
    deepest = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            deepest = max(deepest, 1 + _depth(selection.selection_set, fragments, memo, seen))
        elif isinstance(selection, InlineFragmentNode):
            deepest = max(deepest, _depth(selection.selection_set, fragments, memo, seen))
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is None or name in seen:
                continue
            if name not in memo:
                memo[name] = _depth(fragment.selection_set, fragments, memo, seen | {name})
            deepest = max(deepest, memo[name])
    return deepest


class DepthLimit(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
        depth = _depth(node.selection_set, _fragments(self.context), {})
        if depth > MAX_DEPTH:
            self.report_error(
                GraphQLError(
                    f"The document is {depth} levels deep; at most {MAX_DEPTH} are allowed "
                    "(introspection fields count).",
                    node,
                    extensions={"code": "DEPTH_LIMIT_EXCEEDED"},
                )
            )


def _unwrap(type_: Any) -> tuple[Any, bool]:
    """The named type under NonNull and List wrappers, and whether a list was among them."""
    is_list = False
    while isinstance(type_, GraphQLNonNull | GraphQLList):
        is_list = is_list or isinstance(type_, GraphQLList)
        type_ = type_.of_type
    return type_, is_list


class _Budget(Exception):
    """The cost went past MAX_COST: counting stops at once."""


class CostLimit(ValidationRule):
    def enter_operation_definition(self, node: OperationDefinitionNode, *_args) -> None:
        schema = self.context.schema
        mutation = node.operation == OperationType.MUTATION
        self.fragments = _fragments(self.context)
        root = schema.mutation_type if mutation else schema.query_type
        try:
            self._cost(
                node.selection_set,
                root,
                factor=1,
                field_cost=MUTATION_COST if mutation else QUERY_COST,
                seen=frozenset(),
                total=[0],
            )
        except _Budget:
            self.report_error(
                GraphQLError(
                    f"The document costs more than {MAX_COST} (each field 1, times "
                    f"{LIST_FACTOR} under a list; each mutation {MUTATION_COST}, each query "
                    f"{QUERY_COST}).",
                    node,
                    extensions={"code": "COST_LIMIT_EXCEEDED"},
                )
            )

    def _field_type(self, parent_type: Any, name: str) -> Any:
        if name == "__schema":
            return SchemaMetaFieldDef.type
        if name == "__type":
            return TypeMetaFieldDef.type
        fields = getattr(parent_type, "fields", None)
        field = fields.get(name) if fields else None
        return field.type if field is not None else None

    def _cost(
        self,
        selection_set: SelectionSetNode | None,
        parent_type: Any,
        *,
        factor: int,
        field_cost: int,
        seen: frozenset[str],
        total: list[int],
    ) -> None:
        """Adds the cost of `selection_set` to `total[0]`; a fragment spread costs 1 of its own
        (so nesting spreads cannot make counting itself expensive)."""
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total[0] += field_cost * factor
                if total[0] > MAX_COST:
                    raise _Budget
                named, is_list = _unwrap(self._field_type(parent_type, selection.name.value))
                # The schema's description is static: its lists do not multiply.
                multiplies = is_list and not getattr(named, "name", "").startswith("__")
                self._cost(
                    selection.selection_set,
                    named,
                    factor=factor * (LIST_FACTOR if multiplies else 1),
                    field_cost=1,
                    seen=seen,
                    total=total,
                )
                continue
            total[0] += factor
            if total[0] > MAX_COST:
                raise _Budget
            if isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                inner = self.context.schema.get_type(condition.name.value) if condition else None
                self._cost(
                    selection.selection_set,
                    inner or parent_type,
                    factor=factor,
                    field_cost=field_cost,
                    seen=seen,
                    total=total,
                )
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                inner = self.context.schema.get_type(fragment.type_condition.name.value)
                self._cost(
                    fragment.selection_set,
                    inner or parent_type,
                    factor=factor,
                    field_cost=field_cost,
                    seen=seen | {name},
                    total=total,
                )
