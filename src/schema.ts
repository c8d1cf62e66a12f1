import { readdirSync, readFileSync } from 'node:fs';
import type { DocumentNode } from 'graphql';
import { gql } from 'graphql-tag';

const SCHEMA_DIR = new URL('../schema/', import.meta.url);

/** The SDL files of schema/, one per domain, in a stable order. */
export function loadTypeDefs(): DocumentNode[] {
  return readdirSync(SCHEMA_DIR)
    .filter((name) => name.endsWith('.graphql'))
    .sort()
    .map((name) => gql(readFileSync(new URL(name, SCHEMA_DIR), 'utf8')));
}
