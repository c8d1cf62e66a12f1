import { createLoaders, type Loaders } from './data/loaders.js';
import type { ContentStore } from './data/store.js';

/** What every resolver receives: the store, reached through this request's loaders. */
export interface Context {
  store: ContentStore;
  loaders: Loaders;
}

export function createContext(store: ContentStore): Context {
  return { store, loaders: createLoaders(store) };
}
