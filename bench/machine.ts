// Shared by the benchmarks: what machine a figure was measured on, percentiles, and appending to bench/RESULTS.md.
import { appendFileSync, existsSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';

export function machine(): string {
  const cpu = cpus();
  return `${cpu.length} × ${cpu[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
}

export function appendResults(title: string, lines: string[]): void {
  const file = new URL('./RESULTS.md', import.meta.url);
  if (!existsSync(file)) writeFileSync(file, '# Benchmark results\n\nEach section is one run; figures are ratios against a baseline measured in the same run.\n');
  appendFileSync(file, `\n## ${title} — ${new Date().toISOString()}\n\nMachine: ${machine()}\n\n${lines.join('\n')}\n`);
}

/** The p-th percentile (nearest rank) of ascending `sorted`. */
export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}
