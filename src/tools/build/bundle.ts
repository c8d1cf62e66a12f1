// `npm run build`, after tsc: bundles the compiled server (dist/main.js) and the packages it
// imports into one file, dist/newsgraph.mjs, which `npm start` runs. Node resolved and read about
// 1,500 module files at every start; as one file the server was ready on the 100,000-article store
// in 0.9–1.1 s instead of 1.7–2.0 s (see BENCHMARKS.md).
// It runs from source (tsx), apart from the service it bundles, so dist/ holds the service alone.
import { build } from 'esbuild';

const DIST = new URL('../../../dist/', import.meta.url);

await build({
  entryPoints: [new URL('main.js', DIST).pathname],
  outfile: new URL('newsgraph.mjs', DIST).pathname,
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Native addons load their compiled .node files from node_modules; pg-native is pg's optional native driver.
  external: ['better-sqlite3', '@node-rs/jieba', 'pg-native'],
  // The packages are mostly CommonJS: inside an ES module bundle, their require() of Node's own modules needs this.
  banner: {
    js: "import { createRequire as __newsgraphCreateRequire } from 'node:module'; const require = __newsgraphCreateRequire(import.meta.url);",
  },
  // The map lets a stack trace be read against src/ (node --enable-source-maps, when debugging; npm start does
  // without, so the first stack trace does not parse it); without the sources' text the map is a third the size.
  sourcemap: true,
  sourcesContent: false,
  logLevel: 'warning',
});
