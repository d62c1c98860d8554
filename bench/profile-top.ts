// `tsx bench/profile-top.ts FILE.cpuprofile [N]`: the N frames (default 30) with the most self time in a
// V8 CPU profile (node --cpu-prof; bench:gateway's BENCH_PROFILE_DIR), and the same summed by file, so
// where a metered call's time goes can be read without a browser; then the time under each of the
// project's own functions (src/, bench/): every sample given to the nearest such frame on its stack,
// so a library's or the database's work is counted against the code that asked for it.
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const [file, count] = process.argv.slice(2) as [string, string | undefined];
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = Number(count ?? 30);
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfUs = new Map<number, number>();
let totalUs = 0;
profile.samples.forEach((id, i) => {
  const deltaUs = profile.timeDeltas[i] ?? 0;
  selfUs.set(id, (selfUs.get(id) ?? 0) + deltaUs);
  totalUs += deltaUs;
});
const shortUrl = (url: string) => url.replace(/^file:\/\/.*?\/node_modules\//, 'node_modules/').replace(/^file:\/\/.*?\/(src|bench)\//, '$1/');
const byFrame = new Map<string, number>();
const byFile = new Map<string, number>();
for (const [id, us] of selfUs) {
  const frame = byId.get(id)!.callFrame;
  const where = shortUrl(frame.url) || '(native)';
  const name = `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
  byFrame.set(name, (byFrame.get(name) ?? 0) + us);
  const fileKey = where.startsWith('node_modules/') ? where.split('/').slice(0, where.split('/')[1]!.startsWith('@') ? 3 : 2).join('/') : where;
  byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + us);
}
const print = (title: string, map: Map<string, number>) => {
  console.log(`\n${title} (of ${(totalUs / 1000).toFixed(0)} ms sampled)`);
  for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${((100 * us) / totalUs).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}`);
};
const parentOf = new Map<number, number>();
for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
const ownFrame = (id: number): string => {
  for (let at: number | undefined = id; at !== undefined; at = parentOf.get(at)) {
    const frame = byId.get(at)!.callFrame;
    const where = shortUrl(frame.url);
    if (where.startsWith('src/') || where.startsWith('bench/')) return `${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`;
  }
  return '(no own frame: idle, GC, the runtime, libraries on their own)';
};
const byOwnFrame = new Map<string, number>();
for (const [id, us] of selfUs) {
  const name = ownFrame(id);
  byOwnFrame.set(name, (byOwnFrame.get(name) ?? 0) + us);
}
print('self time by frame', byFrame);
print('self time by file or package', byFile);
print('time under the nearest own frame (src/, bench/)', byOwnFrame);
