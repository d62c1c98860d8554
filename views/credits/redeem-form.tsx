// The promo code form on the Credits tab: posts normally (303 back to the tab) and, with htmx, swaps
// only itself when the code is refused, the field marked with what is wrong.
import { Field, HtmxForm } from '../form.tsx';

export interface RedeemFormProps {
  value?: string;
  error?: string;
}

export function RedeemForm(props: RedeemFormProps) {
  return (
    <HtmxForm action="/credits/redeem" id="redeem" class="card form redeem-form">
      <h2>Promo code</h2>
      <Field label="Code" name="code" value={props.value} error={props.error} autocomplete="off" hint="Promo credits are spent before the credits you bought, and expire." />
      <button type="submit">Redeem</button>
    </HtmxForm>
  );
}
