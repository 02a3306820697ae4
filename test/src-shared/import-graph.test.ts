import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** Relative imports of a TypeScript file, resolved to repository paths. */
function localImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const specs = [...source.matchAll(/^(?:import|export)[^'"]*from\s+'(\.[^']+)'/gm)].map((m) => m[1] as string);
  return specs.map((s) => path.join(path.dirname(file), s.endsWith('.ts') ? s : `${s}.ts`));
}

/** The first import cycle among `files` (as a path list), or null. */
function findCycle(files: string[], importsOf: (file: string) => string[] = localImports): string[] | null {
  const state = new Map<string, 'open' | 'done'>();
  const visit = (file: string, trail: string[]): string[] | null => {
    if (state.get(file) === 'done') return null;
    if (state.get(file) === 'open') return [...trail.slice(trail.indexOf(file)), file];
    state.set(file, 'open');
    for (const next of importsOf(file).filter((f) => files.includes(f))) {
      const cycle = visit(next, [...trail, file]);
      if (cycle) return cycle;
    }
    state.set(file, 'done');
    return null;
  };
  for (const file of files) {
    const cycle = visit(file, []);
    if (cycle) return cycle;
  }
  return null;
}

describe('import structure', () => {
  const shared = readdirSync('src-shared')
    .filter((f) => f.endsWith('.ts'))
    .map((f) => path.join('src-shared', f));

  it('src-shared has no import cycles', () => {
    expect(findCycle(shared)).toBeNull();
  });

  it('finds a cycle where there is one (the check can fail)', () => {
    const edges: Record<string, string[]> = { a: ['b'], b: ['c'], c: ['a'], d: [] };
    expect(findCycle(['d', 'a', 'b', 'c'], (f) => edges[f] ?? [])).toEqual(['a', 'b', 'c', 'a']);
    expect(findCycle(['d', 'a', 'b'], (f) => edges[f] ?? [])).toBeNull();
  });

  it('the shared primitives import nothing', () => {
    expect(readFileSync('src-shared/primitives.ts', 'utf8')).not.toMatch(/^import /m);
  });

  it('the engine does not import the reports, and reports reach the engine only through EngineApi', () => {
    const engineFiles = readdirSync('src-main/engine', { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join('src-main/engine', f));
    for (const file of engineFiles) expect(localImports(file).some((f) => f.startsWith('src-main/report/'))).toBe(false);
    const reportFiles = readdirSync('src-main/report')
      .filter((f) => f.endsWith('.ts'))
      .map((f) => path.join('src-main/report', f));
    for (const file of reportFiles) expect(localImports(file)).not.toContain('src-main/engine/engine.ts');
  });
});
