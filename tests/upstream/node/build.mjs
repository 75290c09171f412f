// Bundles interpolate.mjs with Grafana Scenes' own interpolation code for Node (test-only).
// Scenes' modules import React, @grafana/ui and @grafana/runtime for rendering and data
// fetching; template-variable interpolation does not run any of that code, so those packages
// (peer dependencies, not installed: .npmrc legacy-peer-deps) are replaced by an inert stub.
// Everything on the interpolation path (@grafana/scenes, @grafana/data, @grafana/schema) is the
// real npm code. Usage: node build.mjs OUTFILE
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url)); // not import.meta.dirname: Node 18 too

// The names Scenes imports from each stubbed package, so that the stub can export them.
function importedNames() {
  const names = new Map();
  const pattern = /import\s+(?:[\w$]+\s*,\s*)?\{([^}]*)\}\s*from\s*['"]([^'"]+)['"]/g;
  for (const pkg of ['@grafana/scenes', '@grafana/data']) {
   const root = join(HERE, 'node_modules', pkg, 'dist/esm');
   for (const entry of readdirSync(root, { recursive: true })) {
    if (!/\.m?js$/.test(entry)) continue;
    for (const m of readFileSync(join(root, entry), 'utf8').matchAll(pattern)) {
      const set = names.get(m[2]) ?? new Set();
      for (const part of m[1].split(',')) {
        const name = part.trim().split(/\s+as\s+/)[0].trim();
        if (name) set.add(name);
      }
      names.set(m[2], set);
    }
   }
  }
  return names;
}
const NAMES = importedNames();

const STUBBED = /^(react|react-dom|react-router-dom|react-use|@grafana\/ui|@grafana\/runtime|@grafana\/e2e-selectors|@grafana\/i18n|@emotion\/.*|@floating-ui\/.*|@tanstack\/.*|@leeoniya\/ufuzzy|react-grid-layout|react-virtualized-auto-sizer)(\/.*)?$/;

const stub = {
  name: 'stub-ui',
  setup(b) {
    b.onResolve({ filter: STUBBED }, (args) => ({ path: args.path, namespace: 'stub' }));
    b.onLoad({ filter: /.*/, namespace: 'stub' }, (args) => ({
      contents: [
        'import stub from "./stub-module.cjs";',
        'export default stub;',
        ...[...(NAMES.get(args.path) ?? [])].map((n) => `export const ${n} = stub.${n};`),
      ].join('\n'),
      resolveDir: HERE,
      loader: 'js',
    }));
  },
};

await build({
  entryPoints: [`${HERE}/interpolate.mjs`],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node18',
  outfile: process.argv[2],
  plugins: [stub],
  logLevel: 'warning',
  banner: { js: "import { createRequire as __cr } from 'module'; const require = __cr(import.meta.url);" },
});
