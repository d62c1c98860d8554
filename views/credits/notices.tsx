// Notices above the Credits tab (a cap at 80% or 100%, a declined auto-recharge), each dismissible.
import type { Notice } from '../../src/db/schema.ts';

export function NoticesList(props: { notices: Notice[] }) {
  if (props.notices.length === 0) return null;
  return (
    <div id="notices">
      {props.notices.map((notice) => (
        <div class={`banner-inline ${notice.kind === 'auto_recharge_failed' ? 'banner-bad' : 'banner-warn'} notice-item`} role="status" data-notice-kind={notice.kind}>
          <span>{notice.message}</span>
          <form method="post" action={`/notices/${notice.id}/dismiss`} hx-post={`/notices/${notice.id}/dismiss`} hx-target="closest .notice-item" hx-swap="outerHTML">
            <button type="submit" class="link" aria-label="Dismiss this notice">
              Dismiss
            </button>
          </form>
        </div>
      ))}
    </div>
  );
}
