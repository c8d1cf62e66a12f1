import type { GraphQLResolveInfo } from 'graphql';

/**
 * Whether the client gave argument `name` a value itself, rather than leaving
 * it to the schema default. An explicit null counts as not given, as it does
 * for every count argument.
 */
export function isArgumentGiven(info: GraphQLResolveInfo, name: string): boolean {
  return info.fieldNodes.some((node) =>
    node.arguments?.some((arg) => {
      if (arg.name.value !== name || arg.value.kind === 'NullValue') return false;
      // A variable the operation did not receive (or received as null) leaves the default in place.
      return arg.value.kind !== 'Variable' || info.variableValues[arg.value.name.value] != null;
    }),
  );
}
