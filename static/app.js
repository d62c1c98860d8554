// The page's few behaviours (no inline script: the CSP forbids it).

// Copy buttons: <button data-copy-target="ID"> copies the text of element ID; one marked data-copy-now
// copies as soon as htmx brings it in (a new CSV link: "Copy link" was the click). If the browser
// refuses (no clipboard, the click too long ago), the button stays there to press.
function copyFrom(button) {
  const source = document.getElementById(button.getAttribute('data-copy-target'));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(
    () => {
      const label = button.textContent;
      button.textContent = 'Copied';
      setTimeout(() => (button.textContent = label), 1500);
    },
    () => {},
  );
}
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-copy-target]') : null;
  if (button) copyFrom(button);
});
document.addEventListener('htmx:afterSwap', (event) => {
  const button = event.detail.target && event.detail.target.querySelector('[data-copy-now]');
  if (button) copyFrom(button);
});

// The browser's autofill leaves empty style="" attributes on inputs; htmx's history snapshot would
// carry them back in on "Back", where the CSP (no inline style) refuses them. Drop them before saving.
document.addEventListener('htmx:beforeHistorySave', () => {
  for (const element of document.querySelectorAll('[style=""]')) element.removeAttribute('style');
});

// Filter controls always show the filters of the rows under them (README, The Credits tab). A table's
// results carry the query that produced them (data-filters); its form names them (data-results).
// `asAttributes` writes the markup (a history snapshot), otherwise the live controls are set.
function matchFilterControls(root, asAttributes) {
  for (const form of root.querySelectorAll('form[data-results]')) {
    const results = root.querySelector(form.getAttribute('data-results'));
    if (!results || !results.hasAttribute('data-filters')) continue;
    const filters = new URLSearchParams(results.getAttribute('data-filters'));
    for (const control of form.querySelectorAll('select[name], input[name]')) {
      const value = filters.get(control.getAttribute('name')) || '';
      if (control.tagName === 'SELECT') {
        for (const option of control.querySelectorAll('option')) {
          if (asAttributes) option.toggleAttribute('selected', option.value === value);
          else option.selected = option.value === value;
        }
      } else if (asAttributes) control.setAttribute('value', value);
      else control.value = value;
    }
  }
}

// htmx snapshots the page for "Back" as markup, where a select shows the option its markup chose,
// not the one picked since, and it snapshots it just before the new rows arrive (with the controls
// already changed for them). The snapshot is corrected to the rows it holds.
document.addEventListener('htmx:historyItemCreated', (event) => {
  const item = event.detail.item;
  const template = document.createElement('template');
  template.innerHTML = item.content;
  matchFilterControls(template.content, true);
  item.content = template.innerHTML;
});
// A page restored by htmx, or by the browser's back-forward cache, shows the controls of its rows.
document.addEventListener('htmx:historyRestore', () => matchFilterControls(document, false));
window.addEventListener('pageshow', (event) => event.persisted && matchFilterControls(document, false));

// Errors htmx does not swap in (a refused form, a server error, a lost connection) are said where the
// user is: at the top of the form that sent the request (or beside the element), and cleared on its
// next request. Errors a page renders itself (400, 402, 413, 422, 429 with the field marked) are swapped.
const STATUS_TEXT = {
  0: 'The server could not be reached. Check your connection and try again.',
  403: 'This page is out of date, or was opened from another site: reload it and try again.',
  404: 'That is no longer there: reload the page.',
  413: 'That is too large to send.',
  429: 'Too many requests at once: wait a moment and try again.',
};

function requestErrorText(xhr) {
  const type = xhr.getResponseHeader('content-type') || '';
  const line = type.startsWith('text/plain') ? xhr.responseText.trim().slice(0, 300) : '';
  if (line) return line;
  if (STATUS_TEXT[xhr.status]) return STATUS_TEXT[xhr.status];
  return `Something went wrong on the server (error ${xhr.status}). Try again in a moment.`;
}

function errorPlace(element) {
  return element.closest('form') || element;
}

function showRequestError(element, message) {
  const place = errorPlace(element);
  let box = place.querySelector(':scope > .request-error');
  if (!box) {
    box = document.createElement('p');
    box.className = 'form-error request-error';
    box.setAttribute('role', 'alert');
    if (place.tagName === 'FORM' || place.tagName === 'SECTION') place.prepend(box);
    else place.after(box);
  }
  box.textContent = message;
}

document.addEventListener('htmx:beforeRequest', (event) => {
  const place = errorPlace(event.detail.elt);
  const box = place.tagName === 'FORM' || place.tagName === 'SECTION' ? place.querySelector(':scope > .request-error') : place.nextElementSibling;
  if (box && box.classList.contains('request-error')) box.remove();
});
document.addEventListener('htmx:afterRequest', (event) => {
  const { xhr, elt, failed } = event.detail;
  if (!xhr || xhr.status < 400) return;
  // Swapped answers show themselves; an answer told not to swap (HX-Reswap: none) or not swapped is said here.
  if (failed || xhr.getResponseHeader('HX-Reswap') === 'none') showRequestError(elt, requestErrorText(xhr));
});
document.addEventListener('htmx:sendError', (event) => showRequestError(event.detail.elt, STATUS_TEXT[0]));

// Spend over time: typing a date means a custom range, so the range select follows (without
// JavaScript the select is chosen by hand; the dates count only with "Custom range").
document.addEventListener('input', (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || input.type !== 'date' || !input.closest('#spend-chart-filters')) return;
  const range = input.form && input.form.elements.namedItem('range');
  if (range instanceof HTMLSelectElement) range.value = 'custom';
});
