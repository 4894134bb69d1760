// Builds the GraphiQL page assets into internal/graphiql/dist, which the Go
// binary embeds. Run with `npm ci && npm run build` (or `go generate
// ./internal/graphiql`). The output is byte-for-byte repeatable: esbuild's
// output depends only on its inputs, and file names carry a content hash so
// the Go handler can serve them as immutable.
import { rm, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';

const here = path.dirname(fileURLToPath(import.meta.url));
const outdir = path.resolve(here, '../../internal/graphiql/dist');

const common = {
  absWorkingDir: here,
  bundle: true,
  minify: true,
  format: 'iife',
  platform: 'browser',
  target: 'es2022',
  // Monaco's ESM sources import their CSS; graphiql/dist/style.css already
  // carries all of it, built separately below.
  loader: { '.css': 'empty' },
  define: { 'process.env.NODE_ENV': '"production"' },
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
  outdir,
};

// entryOutputs maps each entry point's name to the file esbuild wrote for it.
function entryOutputs(result, names) {
  const byEntry = {};
  for (const [file, meta] of Object.entries(result.metafile.outputs)) {
    if (meta.entryPoint) byEntry[meta.entryPoint] = path.basename(file);
  }
  const out = {};
  for (const [name, entry] of Object.entries(names)) {
    const file = byEntry[entry];
    if (!file) throw new Error(`no output for entry ${entry}`);
    out[name] = file;
  }
  return out;
}

await rm(outdir, { recursive: true, force: true });
await mkdir(outdir, { recursive: true });

// 1. Monaco's three workers, each a standalone classic-worker script.
const workerEntries = {
  editor: 'node_modules/monaco-editor/esm/vs/editor/editor.worker.js',
  json: 'node_modules/monaco-editor/esm/vs/language/json/json.worker.js',
  graphql: 'node_modules/monaco-graphql/esm/graphql.worker.js',
};
const workers = await esbuild.build({
  ...common,
  entryPoints: Object.entries(workerEntries).map(([name, input]) => ({
    in: input,
    out: `${name}.worker`,
  })),
  entryNames: '[name]-[hash]',
});
const workerFiles = entryOutputs(workers, workerEntries);

// 2. The page script, told the workers' hashed names at build time.
const page = await esbuild.build({
  ...common,
  entryPoints: [{ in: 'src/main.js', out: 'graphiql' }],
  entryNames: '[name]-[hash]',
  define: {
    ...common.define,
    __WORKER_FILES__: JSON.stringify(workerFiles),
  },
});
const pageFiles = entryOutputs(page, { script: 'src/main.js' });

// 3. GraphiQL's stylesheet (Monaco's CSS and fonts are already inline in it).
const style = await esbuild.build({
  ...common,
  entryPoints: [{ in: 'node_modules/graphiql/dist/style.css', out: 'graphiql' }],
  entryNames: '[name]-[hash]',
  loader: {},
});
const styleFiles = entryOutputs(style, {
  style: 'node_modules/graphiql/dist/style.css',
});

// The manifest tells the Go handler which files the page loads.
const manifest = {
  script: pageFiles.script,
  style: styleFiles.style,
  workers: workerFiles,
};
await writeFile(
  path.join(outdir, 'manifest.json'),
  JSON.stringify(manifest, null, 2) + '\n',
);
console.log(JSON.stringify(manifest));
