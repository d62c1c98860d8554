// `npm test`: the typecheck, then every test file in its own process with a time limit, then one
// closing line `N passed, M failed` that sums every part (uvu prints per-file totals only).
import { spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const FILE_TIMEOUT_MS = Number(process.env.TEST_FILE_TIMEOUT_MS ?? 240_000);
const only = process.argv.slice(2);

function run(command, args, timeoutMs) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    let output = '';
    const keep = (chunk) => {
      output += chunk;
      process.stdout.write(chunk);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {}
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: timedOut ? 'timeout' : code, output });
    });
  });
}

let passed = 0;
let failed = 0;

if (only.length === 0) {
  console.log('# typecheck (tsc --noEmit)');
  const typecheck = await run('npx', ['tsc', '--noEmit'], 300_000);
  if (typecheck.code === 0) passed++;
  else failed++;
}

const files = (only.length > 0 ? only : readdirSync('test').filter((f) => f.endsWith('.test.ts') || f.endsWith('.test.tsx')).sort().map((f) => join('test', f)));
for (const file of files) {
  console.log(`\n# ${file}`);
  const result = await run(process.execPath, ['--import', 'tsx', file], FILE_TIMEOUT_MS);
  const total = /Total:\s+(\d+)/.exec(result.output);
  const ok = /Passed:\s+(\d+)/.exec(result.output);
  const skipped = /Skipped:\s+(\d+)/.exec(result.output);
  if (!total || !ok) {
    console.log(`# ${file}: ${result.code === 'timeout' ? `timed out after ${FILE_TIMEOUT_MS / 1000} s` : `exited ${result.code} without uvu totals`}`);
    failed++;
    continue;
  }
  const filePassed = Number(ok[1]);
  const fileFailed = Number(total[1]) - filePassed - Number(skipped?.[1] ?? 0);
  passed += filePassed;
  failed += fileFailed;
  if (result.code !== 0 && fileFailed === 0) {
    console.log(`# ${file}: exited ${result.code}`);
    failed++;
  }
}

console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
