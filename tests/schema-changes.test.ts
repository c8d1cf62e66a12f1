import { readFileSync } from 'node:fs';
import { type Change, CriticalityLevel, diff } from '@graphql-inspector/core';
import { buildSchema as buildSchemaFromSdl } from 'graphql';
import { describe, expect, it } from 'vitest';
import { buildSchema } from '../src/schema.js';

// The schema clients were last promised (schema/released/schema.graphql, written by
// `npm run schema:release`) against the schema this tree serves. A breaking change fails here
// unless schema/released/accepted-breaks.json records it with the reason it was accepted.

interface AcceptedBreak {
  /** graphql-inspector's change type, for example FIELD_REMOVED. */
  type: string;
  /** The schema coordinate it applies to, for example Article.source. */
  path: string;
  /** Why clients may be broken by it. */
  reason: string;
}

const RELEASED = new URL('../schema/released/', import.meta.url);
const released = buildSchemaFromSdl(readFileSync(new URL('schema.graphql', RELEASED), 'utf8'));
const accepted: AcceptedBreak[] = JSON.parse(readFileSync(new URL('accepted-breaks.json', RELEASED), 'utf8'));

const describeChange = (change: Change) => `${change.type} ${change.path ?? ''}: ${change.message}`;
const isAccepted = (change: Change) => accepted.some((a) => a.type === change.type && a.path === change.path);

describe('the schema against the last released one', () => {
  it('breaks nothing clients rely on, unless the break is recorded as accepted', async () => {
    const changes = await diff(released, buildSchema());
    const breaking = changes.filter((c) => c.criticality.level === CriticalityLevel.Breaking);
    const unacknowledged = breaking.filter((c) => !isAccepted(c)).map(describeChange);
    expect(unacknowledged, 'breaking changes: undo them, or record each in schema/released/accepted-breaks.json with a reason').toEqual([]);
  });

  it('records only accepted breaks that still happen, each with a reason', async () => {
    const breaking = (await diff(released, buildSchema())).filter((c) => c.criticality.level === CriticalityLevel.Breaking);
    const stale = accepted.filter((a) => !breaking.some((c) => c.type === a.type && c.path === a.path));
    expect(stale, 'accepted breaks that no longer happen: remove them').toEqual([]);
    expect(accepted.filter((a) => !a.reason?.trim())).toEqual([]);
  });
});
