import { GraphQLScalarType, Kind } from 'graphql';
import { scalarError } from '../errors.js';

const BEIJING_OFFSET_MS = 8 * 3600_000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** Epoch ms → `2023-04-23T09:40:36+08:00`: Beijing wall-clock time with its offset, milliseconds only when present. */
export function formatBeijing(ms: number): string {
  const iso = new Date(ms + BEIJING_OFFSET_MS).toISOString();
  const seconds = ms % 1000 === 0 ? iso.slice(0, 19) : iso.slice(0, 23);
  return `${seconds}+08:00`;
}

function parse(value: unknown): Date {
  if (typeof value !== 'string' || !RFC3339.test(value)) {
    throw scalarError(`DateTime must be an RFC 3339 string with an offset, such as 2023-04-23T09:40:36+08:00`);
  }
  const date = new Date(value);
  if (Number.isNaN(date.getTime())) throw scalarError(`DateTime "${value}" is not a real date`);
  return date;
}

// graphql-scalars' DateTime always writes UTC (Z); the portal shows Beijing
// time, and clients should not have to convert, hence this small scalar.
// graphql-tools copies every property of a scalar resolver onto the schema's
// type, description included, so it repeats schema/base.graphql's (a test
// keeps the two equal).
export const DateTime = new GraphQLScalarType<Date, string>({
  name: 'DateTime',
  description: [
    'An instant in time as an RFC 3339 string with an explicit offset, for example',
    '`2023-04-23T09:40:36+08:00`. newsgraph writes every time in Beijing time',
    "(+08:00), the newsroom's own clock, and accepts any offset as input.",
  ].join('\n'),
  serialize(value) {
    const ms = value instanceof Date ? value.getTime() : value;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) throw scalarError(`cannot serialize ${String(value)} as DateTime`);
    return formatBeijing(ms);
  },
  parseValue: parse,
  parseLiteral(ast) {
    if (ast.kind !== Kind.STRING) throw scalarError('DateTime must be given as a string', ast);
    return parse(ast.value);
  },
});
