// Sign-in, sign-up and password-reset forms; each is both the partial htmx swaps and part of its page.
import { Field, FormError, HtmxForm } from '../form.tsx';
import { MIN_PASSWORD_LENGTH } from '../../src/auth/hasher.ts';
import { MAX_RESET_MAILS_PER_EMAIL } from '../../src/auth/password-reset.ts';

/** Under every new-password field; follows the rule passwordProblem checks. */
export const NEW_PASSWORD_HINT = `At least ${MIN_PASSWORD_LENGTH} characters.`;

export interface AuthFormProps {
  email?: string;
  errors?: Record<string, string>;
}

export function LoginForm(props: AuthFormProps & { signupOpen: boolean; notice?: string }) {
  const errors = props.errors ?? {};
  return (
    <HtmxForm action="/login" id="login-form">
      {props.notice ? <p class="notice" role="status">{props.notice}</p> : null}
      <FormError message={errors.form} />
      <Field label="Email" name="email" type="email" value={props.email} autocomplete="username" required error={errors.email} />
      <Field label="Password" name="password" type="password" autocomplete="current-password" required error={errors.password} />
      <p>
        <button type="submit">Sign in</button>
      </p>
      <p class="muted">
        <a href="/reset">Forgot your password?</a>
        {props.signupOpen ? (
          <>
            {' · '}
            <a href="/signup">Create an account</a>
          </>
        ) : null}
      </p>
    </HtmxForm>
  );
}

export function SignupForm(props: AuthFormProps) {
  const errors = props.errors ?? {};
  return (
    <HtmxForm action="/signup" id="signup-form">
      <FormError message={errors.form} />
      <Field label="Email" name="email" type="email" value={props.email} autocomplete="username" required error={errors.email} />
      <Field label="Password" name="password" type="password" autocomplete="new-password" required error={errors.password} hint={NEW_PASSWORD_HINT} />
      <p>
        <button type="submit">Create account</button>
      </p>
      <p class="muted">
        Have an account? <a href="/login">Sign in</a>
      </p>
    </HtmxForm>
  );
}

export function ResetRequestForm(props: AuthFormProps & { sent?: boolean }) {
  const errors = props.errors ?? {};
  if (props.sent) {
    return (
      <div id="reset-request-form" class="card" role="status">
        <p>If an account uses that email, a reset link is on its way. It works once, within one hour.</p>
        <p class="muted">At most {MAX_RESET_MAILS_PER_EMAIL} links an hour are sent to one email.</p>
        <p>
          <a href="/login">Back to sign in</a>
        </p>
      </div>
    );
  }
  return (
    <HtmxForm action="/reset" id="reset-request-form">
      <p>Enter the email of your account and we will send you a link to choose a new password.</p>
      <FormError message={errors.form} />
      <Field label="Email" name="email" type="email" value={props.email} autocomplete="username" required error={errors.email} />
      <p>
        <button type="submit">Send reset link</button>
      </p>
    </HtmxForm>
  );
}

export function ResetForm(props: { token: string; errors?: Record<string, string> }) {
  const errors = props.errors ?? {};
  return (
    <HtmxForm action={`/reset/${props.token}`} id="reset-form">
      <FormError message={errors.form} />
      <Field label="New password" name="password" type="password" autocomplete="new-password" required error={errors.password} hint={NEW_PASSWORD_HINT} />
      <p>
        <button type="submit">Set new password</button>
      </p>
    </HtmxForm>
  );
}
