// The page's few behaviours (no inline script: the CSP forbids it).

// Copy buttons: <button data-copy-target="ID"> copies the text of element ID.
document.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('[data-copy-target]') : null;
  if (!button) return;
  const source = document.getElementById(button.getAttribute('data-copy-target'));
  if (!source || !navigator.clipboard) return;
  navigator.clipboard.writeText(source.textContent.trim()).then(() => {
    const label = button.textContent;
    button.textContent = 'Copied';
    setTimeout(() => (button.textContent = label), 1500);
  });
});

// The browser's autofill leaves empty style="" attributes on inputs; htmx's history snapshot would
// carry them back in on "Back", where the CSP (no inline style) refuses them. Drop them before saving.
document.addEventListener('htmx:beforeHistorySave', () => {
  for (const element of document.querySelectorAll('[style=""]')) element.removeAttribute('style');
});
