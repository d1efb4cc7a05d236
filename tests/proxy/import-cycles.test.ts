import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const proxyFiles = readdirSync(join(root, 'proxy'), { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts'))
  .map((file) => `proxy/${file.split('\\').join('/')}`)
  .sort();

type ImportGraph = Map<string, string[]>;

/** Every cycle of `graph`, each as the path that closes it (a → b → a), found once by a depth-first walk. */
function cyclesOf(graph: ImportGraph): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (file: string): void => {
    state.set(file, 'open');
    path.push(file);
    for (const imported of graph.get(file) ?? []) {
      if (state.get(imported) === 'open') cycles.push([...path.slice(path.indexOf(imported)), imported].join(' → '));
      else if (!state.has(imported)) visit(imported);
    }
    path.pop();
    state.set(file, 'done');
  };
  for (const file of [...graph.keys()].sort()) if (!state.has(file)) visit(file);
  return cycles;
}

/** What loads at run time: esbuild's metafile of a bundle of every proxy/ module (type-only imports are erased, as in the running proxy). */
async function runtimeGraph(): Promise<ImportGraph> {
  const result = await build({
    absWorkingDir: root,
    entryPoints: proxyFiles,
    bundle: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    packages: 'external',
    outdir: 'out',
    logLevel: 'silent',
  });
  const graph: ImportGraph = new Map();
  for (const [file, input] of Object.entries(result.metafile.inputs)) {
    if (file.startsWith('proxy/')) graph.set(file, input.imports.map((imported) => imported.path).filter((path) => path.startsWith('proxy/')));
  }
  return graph;
}

/** Every import a reader follows, `import type` included: TypeScript's own pre-processing of each file. */
function declaredGraph(): ImportGraph {
  const graph: ImportGraph = new Map();
  for (const file of proxyFiles) {
    const { importedFiles } = ts.preProcessFile(readFileSync(join(root, file), 'utf8'), true, true);
    const local = importedFiles
      .map((imported) => imported.fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => relative(root, resolve(root, dirname(file), name)).split('\\').join('/').replace(/\.js$/, '.ts'))
      .filter((path) => path.startsWith('proxy/'));
    graph.set(file, local);
  }
  return graph;
}

describe('proxy/ imports', () => {
  it('finds a cycle when there is one (the check can fail)', () => {
    const graph: ImportGraph = new Map([
      ['proxy/a.ts', ['proxy/b.ts']],
      ['proxy/b.ts', ['proxy/c.ts']],
      ['proxy/c.ts', ['proxy/a.ts']],
      ['proxy/d.ts', ['proxy/a.ts']],
    ]);
    expect(cyclesOf(graph)).toEqual(['proxy/a.ts → proxy/b.ts → proxy/c.ts → proxy/a.ts']);
  });

  it('has no import cycle among the modules that load at run time (esbuild metafile)', async () => {
    const graph = await runtimeGraph();
    // The walk saw the tree: every proxy module, and the pipeline's own imports among them.
    expect(graph.size).toBe(proxyFiles.length);
    expect(graph.get('proxy/pipeline/pipeline.ts')).toContain('proxy/pipeline/steps.ts');
    expect(cyclesOf(graph)).toEqual([]);
  });

  it('has no import cycle either once type-only imports are counted', () => {
    const graph = declaredGraph();
    expect(graph.get('proxy/transport/front-door.ts')).toContain('proxy/pipeline/pipeline.ts');
    expect(cyclesOf(graph)).toEqual([]);
  });

  it('has no cycle among the transport, serving and wire folders: transport stands on serving, both on wire, which stands on nothing of the proxy', () => {
    const layers = ['proxy/transport/', 'proxy/serving/', 'proxy/wire/'];
    const folders: ImportGraph = new Map(layers.map((folder) => [folder, []]));
    for (const [file, imports] of declaredGraph()) {
      const from = layers.find((folder) => file.startsWith(folder));
      if (!from) continue;
      for (const imported of imports) {
        const to = layers.find((folder) => imported.startsWith(folder));
        if (to && to !== from && !folders.get(from)!.includes(to)) folders.get(from)!.push(to);
      }
    }
    expect(folders.get('proxy/transport/')).toContain('proxy/serving/');
    expect(cyclesOf(folders)).toEqual([]);
    expect(folders.get('proxy/wire/')).toEqual([]);
  });
});
