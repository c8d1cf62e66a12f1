import type { Compilable, CompiledQuery, Kysely } from 'kysely';

/** Stands for the statement's i-th value while its shape is compiled. */
class Slot {
  constructor(readonly index: number) {}
}

interface Shape {
  compiled: CompiledQuery;
  /** For each parameter of the compiled SQL, the value it takes: the index of a run's value, or -1 for a constant of the shape. */
  sources: number[];
}

/** Shapes kept: an `IN` list of each length up to DataLoader's batch size is a shape of its own. */
const MAX_SHAPES = 500;

/**
 * The store's per-page statements (an article by slug, its credits, its
 * tags, teasers, the section tree), built and compiled by Kysely once per
 * shape and then run with each call's values. Kysely builds an operation
 * tree and compiles it to SQL on every run; for these short statements
 * that was about as long as SQLite took to answer them.
 *
 * `key` names everything about the statement that is not among `values`:
 * the builder, flags that change its SQL, the length of each list. The
 * builder gets stand-ins for the values and must pass them to Kysely as
 * they are (a stand-in it converted would never reach the SQL, which is
 * caught when the shape is compiled).
 */
export class StatementShapes<DB> {
  private readonly shapes = new Map<string, Shape>();

  constructor(private readonly db: Kysely<DB>) {}

  async rows<R>(key: string, values: readonly unknown[], build: (values: readonly unknown[]) => Compilable<R>): Promise<R[]> {
    const shape = this.shapes.get(key) ?? this.compile(key, values.length, build);
    const { compiled, sources } = shape;
    const parameters = sources.map((source, i) => (source < 0 ? compiled.parameters[i] : values[source]));
    const result = await this.db.executeQuery<R>({ ...compiled, parameters } as CompiledQuery<R>);
    return result.rows;
  }

  private compile<R>(key: string, count: number, build: (values: readonly unknown[]) => Compilable<R>): Shape {
    const slots = Array.from({ length: count }, (_, i) => new Slot(i));
    const compiled = build(slots).compile();
    const sources = compiled.parameters.map((parameter) => (parameter instanceof Slot ? parameter.index : -1));
    const missing = slots.filter((slot) => !sources.includes(slot.index));
    if (missing.length) throw new Error(`statement shape ${key}: values ${missing.map((s) => s.index).join(', ')} never reach its SQL`);
    if (this.shapes.size >= MAX_SHAPES) this.shapes.delete(this.shapes.keys().next().value!);
    const shape = { compiled, sources };
    this.shapes.set(key, shape);
    return shape;
  }
}
