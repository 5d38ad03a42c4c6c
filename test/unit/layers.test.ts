/**
 * The import graph of src/, read with the TypeScript compiler: no cycles, and no import that
 * runs back up a layer. Layers, top to bottom: the entry points; pool/ (the master's side);
 * hosting/ (runs matches) and hosts/ (this host among the others on one Redis); http/ and cluster/
 * (the edges: HTTP, IPC); store/; quiz/ (the pure engine); limits/ and protocol/; then the
 * leaves at the top of src/ (config, log, metrics…), which import nothing of the layers. A
 * file may import its own folder and anything below.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(__dirname, '..', '..', 'src');
const ENTRIES = new Set(['matchServer.ts', 'matchServerMaster.ts', 'matchServerWorker.ts', 'apiServer.ts']);
const LAYERS: Record<string, number> = { pool: 1, hosting: 2, hosts: 2, http: 3, cluster: 3, store: 4, quiz: 5, limits: 6, protocol: 6 };
const LEAF = 7;

function layerOf(rel: string): number {
  if (!rel.includes('/')) return ENTRIES.has(rel) ? 0 : LEAF;
  const layer = LAYERS[rel.split('/')[0]!];
  if (layer === undefined) throw new Error(`src/${rel}: its folder has no layer; add it to LAYERS in ${path.basename(__filename)}`);
  return layer;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** file → the files of src/ it imports (type-only imports count: they are a dependency too). */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of sourceFiles(SRC)) {
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const deps: string[] = [];
    sf.forEachChild((node) => {
      if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) {
        const spec = node.moduleSpecifier.text;
        if (spec.startsWith('.')) deps.push(path.relative(SRC, path.resolve(path.dirname(file), spec) + '.ts'));
      }
    });
    graph.set(path.relative(SRC, file), deps);
  }
  return graph;
}

/** Strongly connected components of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

describe('src/ layering', () => {
  const graph = importGraph();

  it('reads every file and resolves every relative import to a file of src/', () => {
    expect(graph.size).toBeGreaterThan(40);
    const missing = [...graph].flatMap(([f, deps]) => deps.filter((d) => !graph.has(d)).map((d) => `${f} -> ${d}`));
    expect(missing).toEqual([]);
  });

  it('has no import cycle', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('has no import that runs back up (or sideways across) a layer', () => {
    const upward = [...graph].flatMap(([f, deps]) =>
      deps.filter((d) => path.dirname(d) !== path.dirname(f) && layerOf(d) <= layerOf(f)).map((d) => `${f} -> ${d}`),
    );
    expect(upward).toEqual([]);
  });

  it('keeps every file of src/ within about 400 lines', () => {
    const long = [...graph.keys()].map((f) => [f, readFileSync(path.join(SRC, f), 'utf8').split('\n').length] as const).filter(([, n]) => n > 400);
    expect(long).toEqual([]);
  });
});
