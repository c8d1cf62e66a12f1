/**
 * The project's root (package.json, schema/, data/): one directory above
 * this module, whether it runs as TypeScript from src/, compiled in dist/,
 * or inside the bundle `npm start` runs (dist/newsgraph.mjs). Files the
 * server reads at run time are found from here, not from their own module.
 */
export const ROOT = new URL('../', import.meta.url);
