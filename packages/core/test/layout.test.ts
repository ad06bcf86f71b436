import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The layout of core as a rule: each folder is one part on one floor, and a part imports only from its
 * own floor or below, so no circle of imports can form. The entries (each folder's `index.ts`, the front
 * door) re-export from anywhere.
 */
const FLOORS: Record<string, number> = {
  '.': 0, // errors, job vocabulary, logger, phone
  util: 0,
  limiter: 1,
  client: 2,
  rules: 3,
  queue: 4,
  people: 5,
  guard: 6,
  telemetry: 7,
  delivery: 8,
  webhooks: 9,
  notifier: 10,
  http: 11,
  dashboard: 12,
};

const src = fileURLToPath(new URL('../src/', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return sources(file);
    return name.endsWith('.ts') ? [path.relative(src, file)] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(path.join(src, file), 'utf8');
  return [...text.matchAll(/from\s+'(\.{1,2}\/[^']+)'/g)].map((m) =>
    path.relative(src, path.resolve(path.dirname(path.join(src, file)), (m[1] as string).replace(/\.js$/, '.ts'))),
  );
}

const partOf = (file: string) => (file.includes(path.sep) ? (file.split(path.sep)[0] as string) : '.');
const files = sources(src);
const graph = new Map(files.map((file) => [file, importsOf(file)]));

describe('the layout of core', () => {
  it('has every folder on a floor, and at most 10 files at its root', () => {
    for (const file of files) expect(FLOORS[partOf(file)], `${file}: a folder with no floor`).toBeDefined();
    expect(files.filter((file) => partOf(file) === '.').length).toBeLessThanOrEqual(10);
  });

  it('imports only from its own floor or below (the entries excepted)', () => {
    const upward: string[] = [];
    for (const [file, imports] of graph) {
      if (path.basename(file) === 'index.ts') continue;
      for (const target of imports) {
        if ((FLOORS[partOf(target)] as number) > (FLOORS[partOf(file)] as number)) upward.push(`${file} → ${target}`);
      }
    }
    expect(upward).toEqual([]);
  });

  it('has no circle of imports', () => {
    const done = new Set<string>();
    const onPath: string[] = [];
    const circles: string[] = [];
    const visit = (file: string) => {
      if (onPath.includes(file)) {
        circles.push([...onPath.slice(onPath.indexOf(file)), file].join(' → '));
        return;
      }
      if (done.has(file)) return;
      onPath.push(file);
      for (const target of graph.get(file) ?? []) visit(target);
      onPath.pop();
      done.add(file);
    };
    for (const file of files) visit(file);
    expect(circles).toEqual([]);
  });
});
