// A CSV download read in keyset batches: each batch is one short statement (no snapshot held open,
// charging never waits behind it), written as one chunk, and the next is read only when the client
// has taken the last (a pull stream), so memory stays flat however long the history is.
import type { SelectQueryBuilder } from 'kysely';
import type { Cursor } from '../db/cursor.ts';
import { keysetQuery } from '../db/keyset.ts';

export const EXPORT_BATCH_ROWS = 2_000;

interface Row {
  created_at_ms: number;
  id: number;
}

/**
 * Streams `header` then every row of `query` newest first, formatted by `format`.
 * `query` must select from one table with `created_at_ms` and `id` columns.
 */
export function batchedCsv<R extends Row>(query: SelectQueryBuilder<any, any, R>, header: string, format: (row: R) => string, batchRows = EXPORT_BATCH_ROWS): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let position: Cursor | null = null;
  let headerSent = false;
  let done = false;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (!headerSent) {
          headerSent = true;
          controller.enqueue(encoder.encode(header));
          return;
        }
        if (done) return;
        // keysetQuery fetches one row more than the page it is given: here, exactly batchRows.
        const rows = (await keysetQuery(query, position, batchRows - 1).execute()) as R[];
        if (rows.length > 0) {
          let text = '';
          for (const row of rows) text += format(row);
          controller.enqueue(encoder.encode(text));
          const last = rows[rows.length - 1]!;
          position = { direction: 'older', createdAtMs: last.created_at_ms, id: last.id };
        }
        if (rows.length < batchRows) {
          done = true;
          controller.close();
        }
      },
    },
    // One batch buffered ahead at most: the next statement runs only when the client catches up.
    { highWaterMark: 1 },
  );
}
