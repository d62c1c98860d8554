// Entry point of `npm run cli -- COMMAND`: runs one command and exits with its code.
import { runCli } from './run.ts';

process.exitCode = await runCli(process.argv.slice(2));
