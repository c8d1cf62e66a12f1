import type { GraphQLResolveInfo } from 'graphql';

/** Whether the client wrote `name` in this field's arguments itself, rather than leaving it to the schema default. */
export function isArgumentGiven(info: GraphQLResolveInfo, name: string): boolean {
  return info.fieldNodes.some((node) =>
    node.arguments?.some((arg) => {
      if (arg.name.value !== name) return false;
      // A variable the operation did not receive leaves the default in place.
      return arg.value.kind !== 'Variable' || info.variableValues[arg.value.name.value] !== undefined;
    }),
  );
}
