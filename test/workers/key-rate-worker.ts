// A separate OS process counting one key's requests per minute in the test's database: it says
// "ready", waits for "go" on stdin so the processes start together, takes ATTEMPTS requests at once
// and prints how many were taken and refused as JSON.
//   DATABASE_URL API_KEY_ID REQUESTS_PER_MINUTE ATTEMPTS
import { createInterface } from 'node:readline';
import { systemClock } from '../../src/clock.ts';
import { KeyRateLimitedError } from '../../src/keys/controls.ts';
import { takeKeyRequest } from '../../src/keys/request-rate.ts';
import { openTestDatabase } from '../helpers/backend.ts';

const [url, keyIdText, rpmText, attemptsText] = process.argv.slice(2);
const db = openTestDatabase(url!);

console.log('ready');
const input = createInterface({ input: process.stdin });
for await (const line of input) if (line.trim() === 'go') break;
input.close();

const outcomes = await Promise.allSettled(Array.from({ length: Number(attemptsText) }, () => takeKeyRequest(db, systemClock, Number(keyIdText), Number(rpmText))));
const refused = outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof KeyRateLimitedError).length;
const errors = outcomes.filter((o) => o.status === 'rejected' && !(o.reason instanceof KeyRateLimitedError)).map((o) => String((o as PromiseRejectedResult).reason));
console.log(`result ${JSON.stringify({ taken: outcomes.filter((o) => o.status === 'fulfilled').length, refused, errors })}`);
await db.destroy();
