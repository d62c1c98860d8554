// /admin/packages: every package (on sale or not) with a form to change it, a form to add one, and the log.
import type { AdminActionRow } from '../../src/admin/actions.ts';
import type { Package } from '../../src/db/schema.ts';
import { creditsExactText, priceText } from '../../src/money-text.ts';
import { ActionsLog } from './actions-log.tsx';
import { AdminInput } from './fields.tsx';
import type { FormProblem } from './user-page.tsx';

export interface PackagesPageProps {
  packages: Package[];
  actions: AdminActionRow[];
  problem: FormProblem | null;
  notice: string | null;
}


const dollars = (cents: number) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

function PackageFields(props: { form: string; pkg: Package | null; problem: FormProblem | null }) {
  const p = props.pkg;
  const mine = props.problem?.form === props.form;
  const active = mine ? props.problem!.values.active === '1' : p ? p.active === 1 : true;
  return (
    <>
      <AdminInput form={props.form} name="name" label="Name" value={p?.name ?? ''} problem={props.problem} />
      <AdminInput form={props.form} name="price" label="Price (dollars)" value={p ? dollars(p.price_cents) : ''} problem={props.problem} />
      <AdminInput form={props.form} name="credits" label="Credits" value={p ? creditsExactText(p.credits_mc) : ''} problem={props.problem} />
      <AdminInput form={props.form} name="sort_order" label="Order (lower first)" value={p ? String(p.sort_order) : ''} problem={props.problem} />
      <div class="field">
        <label>
          <input type="checkbox" name="active" value="1" checked={active} /> On sale
        </label>
      </div>
      <AdminInput form={props.form} name="reason" label="Reason" value="" problem={props.problem} />
    </>
  );
}

export function PackagesPage(props: PackagesPageProps) {
  return (
    <>
      {props.notice ? <p class="notice" role="status">{props.notice}</p> : null}
      {props.packages.map((pkg) => (
        <details class="card admin-package" data-package={pkg.id} data-active={String(pkg.active)} open={props.problem?.form === `package-${pkg.id}`}>
          <summary>
            <strong>{pkg.name}</strong> <code>{pkg.id}</code> · {priceText(pkg.price_cents, pkg.currency)} · {creditsExactText(pkg.credits_mc)} credits · {pkg.active ? 'on sale' : 'not on sale'}
          </summary>
          <form id={`package-${pkg.id}`} class="form" method="post" action="/admin/packages/change">
            <input type="hidden" name="id" value={pkg.id} />
            <input type="hidden" name="form" value={`package-${pkg.id}`} />
            <PackageFields form={`package-${pkg.id}`} pkg={pkg} problem={props.problem} />
            <button type="submit">Save</button>
          </form>
        </details>
      ))}
      <form id="add-package" class="card form" method="post" action="/admin/packages/add">
        <h2>Add a package</h2>
        <input type="hidden" name="form" value="add-package" />
        <AdminInput form="add-package" name="id" label="Id (lower-case letters, digits, -)" value="" problem={props.problem} />
        <PackageFields form="add-package" pkg={null} problem={props.problem} />
        <button type="submit">Add the package</button>
      </form>
      <ActionsLog rows={props.actions} />
    </>
  );
}
