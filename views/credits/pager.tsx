// Newer / Older links for a keyset page: plain links that htmx turns into a table swap with a pushed URL.
import { tableAnchor } from '../../src/credits/table-links.ts';

/** The links carry the table's anchor: without JavaScript the next page opens at the table, and htmx scrolls back to its top. */
/** Nothing at all when the rows fit one page: two dead links would only suggest there is more. */
export function Pager(props: { label: string; basePath: string; target: string; newerQuery: string | null; olderQuery: string | null }) {
  if (props.newerQuery === null && props.olderQuery === null) return null;
  const link = (query: string | null, text: string, rel: string) =>
    query === null ? (
      <span class="pager-off" aria-disabled="true">
        {text}
      </span>
    ) : (
      <a href={`${props.basePath}${query}${tableAnchor(props.basePath)}`} hx-get={`${props.basePath}${query}${tableAnchor(props.basePath)}`} hx-target={props.target} hx-swap="outerHTML" hx-push-url="true" rel={rel}>
        {text}
      </a>
    );
  return (
    <nav class="pager" aria-label={props.label}>
      {link(props.newerQuery, '← Newer', 'prev')}
      {link(props.olderQuery, 'Older →', 'next')}
    </nav>
  );
}
