// Dependencies point one way (docs/architecture.md, "The parts"): the ledger imports nothing above it,
// and no two parts of src import each other, directly or round a longer loop. Read from the import
// lines of every file under src; a part is a folder of src, or a file at its top.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';

const ROOT = resolve('.');
const SRC = join(ROOT, 'src');

/** What the ledger may import: the layers below it. */
const BELOW_LEDGER = ['db', 'pricing', 'clock.ts', 'config.ts', 'month.ts'];

/**
 * Imports against the rule that other work is still to take out, each with where it comes from: none
 * is left. The test fails when one is gone too, so the list only shrinks; nothing may be added to it.
 */
const KNOWN_BACKWARDS: Record<string, string> = {};

interface Edge {
  from: string;
  to: string;
  /** One file and specifier that makes the edge, for the message. */
  example: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return /\.tsx?$/.test(entry.name) ? [path] : [];
  });
}

/** The part of the repository a file belongs to: src's folder or top-level file, or the top folder outside src ("views"). */
function partOf(path: string): string {
  const fromSrc = relative(SRC, path);
  if (!fromSrc.startsWith('..')) return fromSrc.split(sep)[0]!;
  return `../${relative(ROOT, path).split(sep)[0]}`;
}

// Relative specifiers only (packages are not parts): `from '…'`, `import '…'` and `import('…')`.
const IMPORT = /(?:\bfrom\s*|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+)'/g;

function edges(): Edge[] {
  const found = new Map<string, Edge>();
  for (const file of sourceFiles(SRC)) {
    const from = partOf(file);
    for (const match of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const to = partOf(resolve(dirname(file), match[1]!));
      const key = `${from} -> ${to}`;
      if (to !== from && !found.has(key)) found.set(key, { from, to, example: `${relative(ROOT, file)} imports '${match[1]}'` });
    }
  }
  return [...found.values()];
}

/** Each loop once, as the parts round it (Tarjan's strongly connected components of more than one part). */
function loops(graph: Edge[]): string[][] {
  const next = new Map<string, string[]>();
  for (const edge of graph) next.set(edge.from, [...(next.get(edge.from) ?? []), edge.to]);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (part: string) => {
    index.set(part, index.size);
    low.set(part, index.get(part)!);
    stack.push(part);
    onStack.add(part);
    for (const to of next.get(part) ?? []) {
      if (!index.has(to)) {
        visit(to);
        low.set(part, Math.min(low.get(part)!, low.get(to)!));
      } else if (onStack.has(to)) low.set(part, Math.min(low.get(part)!, index.get(to)!));
    }
    if (low.get(part) !== index.get(part)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== part);
    if (component.length > 1) found.push(component.sort());
  };
  for (const part of next.keys()) if (!index.has(part)) visit(part);
  return found;
}

const graph = edges();

test('the ledger imports only the layers below it (db, pricing, the clock, config, months), never views', () => {
  const upward = graph.filter((edge) => edge.from === 'ledger' && !BELOW_LEDGER.includes(edge.to));
  assert.equal(upward.map((edge) => edge.example), []);
});

test('no two parts of src import each other, directly or round a loop', () => {
  const forward = graph.filter((edge) => !(`${edge.from} -> ${edge.to}` in KNOWN_BACKWARDS));
  const described = loops(forward).map((parts) => {
    const inLoop = forward.filter((edge) => parts.includes(edge.from) && parts.includes(edge.to));
    return `${parts.join(', ')}: ${inLoop.map((edge) => edge.example).join('; ')}`;
  });
  assert.equal(described, []);
});

test('each known backward import is still there (take it off the list once it is gone)', () => {
  const present = new Set(graph.map((edge) => `${edge.from} -> ${edge.to}`));
  assert.equal(Object.keys(KNOWN_BACKWARDS).filter((edge) => !present.has(edge)), []);
});

test('the check sees a loop when there is one', () => {
  const made = [
    { from: 'a', to: 'b', example: 'a' },
    { from: 'b', to: 'c', example: 'b' },
    { from: 'c', to: 'a', example: 'c' },
    { from: 'c', to: 'd', example: 'c' },
  ];
  assert.equal(loops(made), [['a', 'b', 'c']]);
  assert.ok(graph.some((edge) => edge.from === 'gateway' && edge.to === 'ledger'), 'the import lines were read');
});

test.run();
