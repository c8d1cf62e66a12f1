import { readFileSync } from 'node:fs';
import { generate } from '@graphql-codegen/cli';
import { isEnumType, isInputObjectType, isInterfaceType, isObjectType, isScalarType, isUnionType } from 'graphql';
import { describe, expect, it } from 'vitest';
import config from '../codegen.js';
import { DEFAULT_PAGE_SIZE } from '../src/providers/lists.js';
import { DEFAULT_RELATED } from '../src/providers/related.js';
import { buildSchema } from '../src/schema.js';

const schema = buildSchema();

/** What Apollo's subgraph library adds (`_service`, `_entities` and the federation spec's types): Apollo's, not the API's. */
const isFederationSpec = (name: string) => name.startsWith('_') || name.startsWith('link__') || name.startsWith('federation__');

describe('the schema', () => {
  it.each([
    ['plain', schema],
    ['as a federation subgraph', buildSchema({ federation: true })],
  ])('describes every type, field, argument and enum value (the SDL is the API documentation): %s', (_, schema) => {
    const missing: string[] = [];
    for (const type of Object.values(schema.getTypeMap())) {
      if (isFederationSpec(type.name) || (isScalarType(type) && ['String', 'Int', 'Float', 'Boolean', 'ID'].includes(type.name))) continue;
      if (!type.description) missing.push(type.name);
      if (isObjectType(type) || isInterfaceType(type) || isInputObjectType(type)) {
        for (const field of Object.values(type.getFields())) {
          if (isFederationSpec(field.name)) continue;
          if (!field.description) missing.push(`${type.name}.${field.name}`);
          for (const arg of 'args' in field ? field.args : []) {
            if (!arg.description) missing.push(`${type.name}.${field.name}(${arg.name})`);
          }
        }
      }
      if (isEnumType(type)) {
        for (const value of type.getValues()) if (!value.description) missing.push(`${type.name}.${value.name}`);
      }
      if (isUnionType(type) && type.getTypes().length === 0) missing.push(`${type.name} has no members`);
    }
    expect(missing).toEqual([]);
  });

  it("keeps the DateTime scalar's description as written in the SDL, plain and as a subgraph", () => {
    const sdl = readFileSync(new URL('../schema/base.graphql', import.meta.url), 'utf8');
    const written = /"""\n([\s\S]*?)\n"""\nscalar DateTime/.exec(sdl)?.[1];
    expect(written).toBeTruthy();
    expect(schema.getType('DateTime')?.description).toBe(written);
    expect(buildSchema({ federation: true }).getType('DateTime')?.description).toBe(written);
  });

  it('declares the same defaults the resolvers fall back to when a client passes null', () => {
    const query = schema.getQueryType()!.getFields();
    expect(query.articles!.args.find((a) => a.name === 'first')!.defaultValue).toBe(DEFAULT_PAGE_SIZE);
    const article = schema.getType('Article');
    if (!isObjectType(article)) throw new Error('Article is not an object type');
    expect(article.getFields().related!.args.find((a) => a.name === 'first')!.defaultValue).toBe(DEFAULT_RELATED);
  });

  it('has generated resolver types and client artifacts (schema/generated/) that match the SDL (run `npm run codegen` when this fails)', async () => {
    const outputs = await generate({ ...config, cwd: process.cwd(), silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      expect(readFileSync(output.filename, 'utf8'), `${output.filename} is stale: run npm run codegen`).toBe(output.content);
    }
  });
});
