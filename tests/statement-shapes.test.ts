import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { StatementShapes } from '../src/data/statement-shapes.js';

interface Db {
  items: { id: number; name: string; kind: string };
}

describe('statements compiled once per shape', () => {
  const sqlite = new SQLite(':memory:');
  sqlite.exec(`CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL, kind TEXT NOT NULL);
    INSERT INTO items VALUES (1, 'one', 'a'), (2, 'two', 'b'), (3, 'three', 'a');`);
  const statements: string[] = [];
  const db = new Kysely<Db>({
    dialect: new SqliteDialect({ database: sqlite }),
    log: (event) => void statements.push(event.query.sql),
  });
  const shapes = new StatementShapes(db);
  afterAll(() => db.destroy());

  const byIds = (ids: number[], kind: string) =>
    shapes.rows(`items ${ids.length}`, [kind, ...ids], (v) =>
      db
        .selectFrom('items')
        .select('name')
        .where('id', 'in', v.slice(1) as number[])
        .where('kind', '=', v[0] as string)
        .orderBy('id'),
    );

  it('runs each call with its own values, and a list of another length as a shape of its own', async () => {
    expect(await byIds([1, 2, 3], 'a')).toEqual([{ name: 'one' }, { name: 'three' }]);
    expect(await byIds([1, 2, 3], 'b')).toEqual([{ name: 'two' }]);
    expect(await byIds([2], 'b')).toEqual([{ name: 'two' }]);
    expect(await byIds([3], 'b')).toEqual([]);
    expect(new Set(statements)).toEqual(
      new Set([
        'select "name" from "items" where "id" in (?, ?, ?) and "kind" = ? order by "id"',
        'select "name" from "items" where "id" in (?) and "kind" = ? order by "id"',
      ]),
    );
  });

  it('refuses a builder that changes a value before it reaches the SQL', async () => {
    await expect(
      shapes.rows('converted', ['2'], (v) => db.selectFrom('items').select('name').where('id', '=', Number(v[0]))),
    ).rejects.toThrow('statement shape converted: values 0 never reach its SQL');
  });
});
