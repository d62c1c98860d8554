// The account page: change email, change password, sign out everywhere.
import type { User } from '../src/db/schema.ts';
import { Field, FormError, HtmxForm } from './form.tsx';
import { NEW_PASSWORD_HINT } from './auth/forms.tsx';

export function EmailForm(props: { email: string; errors?: Record<string, string>; saved?: boolean }) {
  const errors = props.errors ?? {};
  return (
    <HtmxForm action="/account/email" id="email-form">
      <h2>Email</h2>
      {props.saved ? <p class="notice" role="status">Your email is now {props.email}.</p> : null}
      <FormError message={errors.form} />
      <Field label="New email" name="new_email" type="email" value={props.email} autocomplete="email" required error={errors.new_email} />
      <Field label="Current password" name="current_password" type="password" autocomplete="current-password" required error={errors.email_password} />
      <p>
        <button type="submit">Change email</button>
      </p>
    </HtmxForm>
  );
}

export function PasswordForm(props: { errors?: Record<string, string> }) {
  const errors = props.errors ?? {};
  return (
    <HtmxForm action="/account/password" id="password-form">
      <h2>Password</h2>
      <p class="muted">Changing it signs you out on every other device.</p>
      <FormError message={errors.form} />
      <Field label="Current password" name="current_password" type="password" autocomplete="current-password" required error={errors.current_password} />
      <Field label="New password" name="new_password" type="password" autocomplete="new-password" required error={errors.new_password} hint={NEW_PASSWORD_HINT} />
      <p>
        <button type="submit">Change password</button>
      </p>
    </HtmxForm>
  );
}

export interface AccountPageProps {
  user: User;
  notice?: string;
  /** What the email form shows after a failed change: the typed address and its errors. */
  emailValue?: string;
  emailErrors?: Record<string, string>;
  passwordErrors?: Record<string, string>;
}

export function AccountPage(props: AccountPageProps) {
  return (
    <>
      <h1>Account</h1>
      {props.notice ? <p class="notice" role="status">{props.notice}</p> : null}
      <EmailForm email={props.emailValue ?? props.user.email} errors={props.emailErrors} />
      <PasswordForm errors={props.passwordErrors} />
      <form class="card form" method="post" action="/account/sign-out-everywhere">
        <h2>Sessions</h2>
        <p class="muted">Signs out every browser that is signed in to this account, this one included.</p>
        <button type="submit" class="secondary">Sign out everywhere</button>
      </form>
    </>
  );
}
