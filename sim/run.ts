// `npm run sim -- --backend sqlite|postgres --seed N --trials K [--ops N] [--processes P] [--users U]
// [--spread-ms MS]`: runs K seeded trials (seeds N, N+1, …), one summary line each; any violated
// invariant prints its seed and the command that replays it, and the run exits 1.
import { parseArgs } from 'node:util';

const USAGE = 'usage: npm run sim -- --backend sqlite|postgres --seed N --trials K [--ops N] [--processes P] [--users U] [--spread-ms MS]';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

function integerOption(value: string | undefined, name: string, fallback: number, low: number, high: number): number {
  if (value === undefined) return fallback;
  if (!/^\d{1,10}$/.test(value) || Number(value) < low || Number(value) > high) fail(`--${name} must be a whole number from ${low} to ${high}, got "${value}"`);
  return Number(value);
}

let parsed;
try {
  parsed = parseArgs({
    options: {
      backend: { type: 'string' },
      seed: { type: 'string' },
      trials: { type: 'string' },
      ops: { type: 'string' },
      processes: { type: 'string' },
      users: { type: 'string' },
      'spread-ms': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  }).values;
} catch (error) {
  fail((error as Error).message);
}
const backend = parsed.backend ?? 'sqlite';
if (backend !== 'sqlite' && backend !== 'postgres') fail(`--backend must be sqlite or postgres, got "${backend}"`);
const seed = integerOption(parsed.seed, 'seed', Math.floor(Math.random() * 1_000_000), 0, 2 ** 31);
const trials = integerOption(parsed.trials, 'trials', 1, 1, 1_000_000);
const size = {
  processes: integerOption(parsed.processes, 'processes', backend === 'postgres' ? 3 : 2, 1, 8),
  users: integerOption(parsed.users, 'users', 3, 1, 50),
  operations: integerOption(parsed.ops, 'ops', 40, 1, 5_000),
  spreadMs: integerOption(parsed['spread-ms'], 'spread-ms', 1_500, 0, 600_000),
};

// The test helpers pick the database by TEST_BACKEND when they load: set it before they do.
process.env.TEST_BACKEND = backend;
const { runTrial } = await import('./trial.ts');

const replay = (trialSeed: number) =>
  `npm run sim -- --backend ${backend} --seed ${trialSeed} --trials 1 --ops ${size.operations} --processes ${size.processes} --users ${size.users} --spread-ms ${size.spreadMs}`;

const startedMs = Date.now();
const failing: number[] = [];
let operations = 0;
for (let i = 0; i < trials; i++) {
  const trialSeed = seed + i;
  let line: string;
  try {
    const result = await runTrial(trialSeed, size);
    operations += result.operations;
    const calls = Object.entries(result.outcomes).map(([outcome, n]) => `${n} ${outcome}`).join(', ');
    line = `trial ${i + 1}/${trials} ${backend} seed ${trialSeed}: ${result.mix}; calls ${calls}; ${result.holdsLeft} holds left by a kill; ${result.violations.length} violations; ${(result.ms / 1000).toFixed(1)} s`;
    if (result.violations.length > 0) {
      failing.push(trialSeed);
      line += result.violations.map((v) => `\n  VIOLATION seed ${trialSeed}: ${v}`).join('') + `\n  replay: ${replay(trialSeed)}`;
    }
  } catch (error) {
    failing.push(trialSeed);
    line = `trial ${i + 1}/${trials} ${backend} seed ${trialSeed}: ERROR ${(error as Error).stack}\n  replay: ${replay(trialSeed)}`;
  }
  console.log(line);
}
const seconds = ((Date.now() - startedMs) / 1000).toFixed(0);
console.log(
  `sim ${backend}: ${trials} trials (seeds ${seed}–${seed + trials - 1}), ${operations} operations, ${size.processes} processes, ${failing.length} failing${failing.length > 0 ? ` (seeds ${failing.join(', ')})` : ''}, ${seconds} s`,
);
process.exit(failing.length > 0 ? 1 : 0);
