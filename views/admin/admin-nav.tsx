// The console's own links, above each of its pages.
const LINKS = [
  { href: '/admin/users', label: 'Users' },
  { href: '/admin/rates', label: 'Rate card' },
  { href: '/admin/purchases', label: 'Purchases' },
  { href: '/admin/packages', label: 'Packages' },
  { href: '/admin/health', label: 'Health' },
];

export function AdminNav(props: { current: string }) {
  return (
    <nav class="admin-nav" aria-label="Admin">
      {LINKS.map((link) => (
        <a href={link.href} aria-current={props.current === link.href ? 'page' : undefined}>
          {link.label}
        </a>
      ))}
    </nav>
  );
}
