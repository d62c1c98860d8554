// Sample texts for token counting: ordinary prose of any length, random base64, and unbroken runs.
import { randomBytes } from 'node:crypto';
import { seededRandom } from './random.ts';

const SUBJECTS = [
  'The gateway', 'A careful reviewer', 'Every invoice', 'Our support team', 'The nightly job', 'A new customer', 'The ledger',
  'Her assistant', 'This small library', 'The city council', 'My neighbour', 'The old printer', 'A tired engineer', 'The museum guide',
];
const VERBS = [
  'checks', 'records', 'explains', 'forgets', 'rounds up', 'sends back', 'compares', 'summarises', 'questions', 'approves',
  'translates', 'misplaces', 'celebrates', 'reorganises',
];
const OBJECTS = [
  'the monthly statement', 'a refund request', 'every pending hold', 'three late payments', 'the weather report', 'a handwritten note',
  "last year's budget", 'the tomato harvest', 'an unusual request from Lisbon', 'the train timetable', 'twelve blue folders', 'the recipe',
];
const TAILS = [
  'before lunch.', 'without asking twice.', 'because the rules changed in March.', 'and nobody noticed.', ', which surprised everyone.',
  '— again.', '; then it rested for a while.', 'in under 40 minutes.', 'while the kettle boiled.', "although it wasn't asked to.",
];

/** Varied English sentences in paragraphs, exactly `length` characters (cut at the end). */
export function prose(length: number, seed = 1): string {
  const random = seededRandom(seed);
  const pick = (list: readonly string[]) => list[Math.floor(random() * list.length)]!;
  const parts: string[] = [];
  let total = 0;
  while (total < length) {
    const tail = pick(TAILS);
    let sentence = `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)}${tail.startsWith(',') || tail.startsWith(';') ? '' : ' '}${tail}`;
    if (random() < 0.2) sentence += ` (${Math.floor(random() * 10_000)} of them, ${Math.floor(random() * 100)}%)`;
    sentence += random() < 0.15 ? '\n\n' : ' ';
    parts.push(sentence);
    total += sentence.length;
  }
  return parts.join('').slice(0, length);
}

/** Random bytes as base64, exactly `length` characters. */
export function randomBase64(length: number): string {
  return randomBytes(Math.ceil((length * 3) / 4) + 3).toString('base64').slice(0, length);
}

/** One character repeated until the text is `bytes` bytes of UTF-8. */
export function run(character: string, bytes: number): string {
  return character.repeat(Math.floor(bytes / Buffer.byteLength(character)));
}
