// The hand-written kysely Database types: one interface per table, columns as the migrations make them.
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

/** promo: a redemption code's credits; expiry: what was left of a promo grant when it ended. */
export type LedgerEntryType = 'purchase' | 'auto_recharge' | 'grant' | 'usage' | 'refund' | 'adjustment' | 'promo' | 'expiry';
export type HoldStatus = 'pending' | 'settled' | 'voided' | 'expired';
export type UsageStatus = 'ok' | 'aborted' | 'upstream_error';
/** Which endpoint a usage row metered. */
export type UsageEndpoint = 'chat' | 'responses' | 'embeddings';
/** What a rate prices: a chat model (chat completions, Responses) or an embedding model. */
export type RateKind = 'chat' | 'embeddings';
export type RoundingModeColumn = 'exact' | 'ceil';

/** 0 or 1: booleans are stored as integers so the schema reads the same on SQLite and PostgreSQL. */
export type Flag = 0 | 1;

export interface UsersTable {
  id: Generated<number>;
  email: string;
  /** Lower-cased email: the UNIQUE column that makes sign-in case-insensitive. */
  email_normalized: string;
  password_hash: string;
  low_balance_threshold_mc: ColumnType<number, number | undefined, number>;
  is_admin: ColumnType<Flag, Flag | undefined, Flag>;
  created_at_ms: number;
  /** 1 once the low-balance email for the current dip went out; re-armed at or above the threshold. */
  low_balance_alerted: ColumnType<Flag, Flag | undefined, Flag>;
  /** Set by an admin (migration 0016): no sign-in, no API calls, until re-enabled (null). */
  disabled_at_ms: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface WalletsTable {
  user_id: number;
  balance_mc: number;
  held_mc: number;
  updated_at_ms: number;
  /** Σ remaining_mc of the user's live promo grants (part of balance_mc, spent first, never clawed back). */
  promo_mc: ColumnType<number, number | undefined, number>;
}

export interface LedgerEntriesTable {
  id: Generated<number>;
  user_id: number;
  type: LedgerEntryType;
  amount_mc: number;
  balance_after_mc: number;
  /** What was asked for but could not be taken (never below zero): adjustments and clawbacks. */
  shortfall_mc: ColumnType<number, number | undefined, number>;
  reference: string;
  idempotency_key: string | null;
  created_at_ms: number;
}

export interface HoldsTable {
  id: Generated<number>;
  user_id: number;
  api_key_id: number | null;
  request_id: string;
  model: string;
  rate_id: number;
  amount_mc: number;
  input_mc_per_1k: number;
  cached_input_mc_per_1k: number;
  output_mc_per_1k: number;
  rounding_mode: RoundingModeColumn;
  status: HoldStatus;
  created_at_ms: number;
  expires_at_ms: number;
  ended_at_ms: number | null;
  /** The process lease it was placed under (process_leases.id); null before 0013 and outside a server. */
  lease_id: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface UsageTable {
  id: Generated<number>;
  request_id: string;
  user_id: number;
  hold_id: number;
  api_key_id: number | null;
  model: string;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  input_mc_per_1k: number;
  cached_input_mc_per_1k: number;
  output_mc_per_1k: number;
  rounding_mode: RoundingModeColumn;
  hold_mc: number;
  charged_mc: number;
  shortfall_mc: number;
  status: UsageStatus;
  estimated: Flag;
  latency_ms: number;
  upstream_response_id: string | null;
  created_at_ms: number;
  endpoint: Generated<UsageEndpoint>;
  /** Output tokens the model spent reasoning (billed as output; included in output_tokens). */
  reasoning_tokens: Generated<number>;
  /** The upstream that answered the call (or failed last); null before UPSTREAMS_FILE existed. */
  upstream: string | null;
  /** Each upstream tried and how it ended: "primary: 500; secondary: ok". */
  upstream_attempts: string | null;
}

export interface RatesTable {
  id: Generated<number>;
  model: string;
  /** 1, 2, 3… per model; the highest is the current rate. Old versions are never edited. */
  version: number;
  label: string;
  input_mc_per_1k: number;
  cached_input_mc_per_1k: number;
  output_mc_per_1k: number;
  max_output_tokens: number;
  created_at_ms: number;
  kind: Generated<RateKind>;
  /** Set (on every version of the model) when an admin retires it: calls to it get 400 model_retired. */
  retired_at_ms: ColumnType<number | null, number | null | undefined, number | null>;
}

/** One admin action (migration 0016): who did what to whom, why, and when. Never edited. */
export interface AdminActionsTable {
  id: Generated<number>;
  admin_user_id: number;
  action: string;
  target_user_id: number | null;
  target: string;
  reason: string;
  detail: string;
  created_at_ms: number;
}

export interface PackagesTable {
  id: string;
  name: string;
  price_cents: number;
  currency: string;
  credits_mc: number;
  best_value: Flag;
  sort_order: number;
  active: Flag;
  created_at_ms: number;
}

export interface SessionsTable {
  /** SHA-256 (hex) of the cookie's token. */
  id: string;
  user_id: number;
  expires_at_ms: number;
  created_at_ms: number;
}

export interface ApiKeysTable {
  id: Generated<number>;
  user_id: number;
  name: string;
  /** The first characters of the key, shown so people can tell keys apart. */
  prefix: string;
  key_hash: string;
  created_at_ms: number;
  last_used_at_ms: number | null;
  revoked_at_ms: number | null;
  /** Monthly spending limit of this key; null = none. */
  monthly_limit_mc: ColumnType<number | null, number | null | undefined, number | null>;
  max_in_flight: ColumnType<number, number | undefined, number>;
  /** The models this key may call, as a JSON array of model names; null = every model (src/keys/controls.ts). */
  allowed_models: ColumnType<string | null, string | null | undefined, string | null>;
  /** The client addresses it may be used from, as a JSON array of CIDRs ("203.0.113.0/24"); null = any. */
  allowed_cidrs: ColumnType<string | null, string | null | undefined, string | null>;
  /** From this instant the key answers 401 key_expired; null = never. */
  expires_at_ms: ColumnType<number | null, number | null | undefined, number | null>;
  /** Requests it may make in any 60 seconds; null = no limit. */
  requests_per_minute: ColumnType<number | null, number | null | undefined, number | null>;
}

/** One rate-limited event (a sign-in attempt, a reset request) under its scope, e.g. `ip:203.0.113.7`. */
export interface RateLimitEventsTable {
  id: Generated<number>;
  scope_key: string;
  created_at_ms: number;
}

export interface PasswordResetsTable {
  id: Generated<number>;
  user_id: number;
  token_hash: string;
  expires_at_ms: number;
  used_at_ms: number | null;
  created_at_ms: number;
}

export type MailStatus = 'pending' | 'sending' | 'sent' | 'kept';

export interface MailOutboxTable {
  id: Generated<number>;
  to_address: string;
  subject: string;
  body_text: string;
  status: MailStatus;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at_ms: number;
  claimed_until_ms: number | null;
  last_error: string | null;
  created_at_ms: number;
  sent_at_ms: number | null;
}

export interface MonthlySpendTable {
  user_id: number;
  /** "2026-11": the UTC month the hold was placed in. */
  month: string;
  model: string;
  /** 0 for playground calls, which have no key. */
  api_key_id: number;
  charged_mc: number;
  calls: number;
}

/** The daily rollup of usage rows (migration 0012): one row per user, UTC day, model, key and endpoint. */
export interface UsageDailyTable {
  user_id: number;
  /** "2026-11-05": the UTC day of the usage rows' created_at_ms. */
  day: string;
  model: string;
  /** 0 for playground calls, which have no key. */
  api_key_id: number;
  endpoint: UsageEndpoint;
  calls: number;
  input_tokens: number;
  cached_input_tokens: number;
  output_tokens: number;
  reasoning_tokens: number;
  charged_mc: number;
}

export interface AppSettingsTable {
  name: string;
  value: string;
}

export type PurchaseStatus = 'pending' | 'paid' | 'cancelled' | 'expired' | 'failed' | 'mismatch';
export type PaymentMode = 'stripe' | 'demo';

export interface PurchasesTable {
  id: Generated<number>;
  /** pur_…: the id Stripe sees (metadata, client_reference_id, Idempotency-Key) and URLs carry. */
  public_id: string;
  user_id: number;
  package_id: string;
  package_name: string;
  price_cents: number;
  currency: string;
  credits_mc: number;
  save_card: Flag;
  payment_mode: PaymentMode;
  status: PurchaseStatus;
  checkout_session_id: string | null;
  checkout_url: string | null;
  payment_intent_id: string | null;
  charge_id: string | null;
  receipt_url: string | null;
  /** What the paid Checkout Session said (amount_subtotal, currency), kept for a mismatch's report. */
  paid_amount_cents: number | null;
  paid_currency: string | null;
  /** The highest cumulative refunded amount seen on the charge. */
  amount_refunded_cents: ColumnType<number, number | undefined, number>;
  dispute_id: string | null;
  dispute_status: string | null;
  dispute_amount_cents: ColumnType<number, number | undefined, number>;
  /** Taken back from the balance for refunds and disputes, net of what a won dispute gave back. */
  clawed_back_mc: ColumnType<number, number | undefined, number>;
  /** Clawback that could not be taken (the balance was spent or held). */
  shortfall_mc: ColumnType<number, number | undefined, number>;
  /** The first success return: the pending card polls for two minutes from here. */
  returned_at_ms: number | null;
  paid_at_ms: number | null;
  created_at_ms: number;
  updated_at_ms: number;
  /** checkout: bought on a Checkout page, credited under checkout:{session}; auto_recharge: paid off-session, under pi:{intent}. */
  kind: ColumnType<'checkout' | 'auto_recharge', 'checkout' | 'auto_recharge' | undefined, 'checkout' | 'auto_recharge'>;
}

export interface BillingCustomersTable {
  user_id: number;
  stripe_customer_id: string;
  created_at_ms: number;
}

export interface StripeEventsTable {
  id: string;
  type: string;
  processed_at_ms: number;
}

export interface DemoCheckoutSessionsTable {
  id: string;
  purchase_public_id: string;
  amount_subtotal_cents: number;
  currency: string;
  status: 'open' | 'complete' | 'expired';
  payment_status: 'paid' | 'unpaid';
  created_at_ms: number;
  paid_at_ms: number | null;
}

export interface BillingSettingsTable {
  user_id: number;
  auto_recharge_enabled: Flag;
  auto_recharge_threshold_mc: number;
  auto_recharge_package_id: string | null;
  auto_recharge_monthly_limit: number;
  monthly_cap_mc: number | null;
  updated_at_ms: number;
}

export interface ModelCapsTable {
  user_id: number;
  model: string;
  cap_mc: number;
}

export interface SavedCardsTable {
  user_id: number;
  payment_method_id: string;
  brand: string;
  last4: string;
  created_at_ms: number;
}

export type AutoRechargeStatus = 'pending' | 'succeeded' | 'failed';

export interface AutoRechargesTable {
  id: Generated<number>;
  user_id: number;
  package_id: string;
  package_name: string;
  price_cents: number;
  currency: string;
  credits_mc: number;
  payment_method_id: string;
  status: AutoRechargeStatus;
  payment_intent_id: string | null;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at_ms: number;
  /** A worker took it until then; past it (the worker died), another may. */
  claimed_until_ms: ColumnType<number | null, number | null | undefined, number | null>;
  failure_reason: string | null;
  created_at_ms: number;
  updated_at_ms: number;
}

export interface JobLeasesTable {
  /** The job: one row each (e.g. "hold-sweeper"). */
  name: string;
  /** The process that holds it (ProcessIdentity.holder). */
  holder: string;
  expires_at_ms: number;
}

export interface ProcessLeasesTable {
  id: Generated<number>;
  holder: string;
  started_at_ms: number;
  expires_at_ms: number;
  /** null while the lease lives; then when it was ended (a clean stop) or reaped (lapsed). */
  ended_at_ms: number | null;
}

export interface NoticesTable {
  id: Generated<number>;
  user_id: number;
  kind: string;
  /** UNIQUE: the same notice is raised once (e.g. "cap:user:2026-11:80"). */
  dedupe_key: string;
  message: string;
  dismissed_at_ms: number | null;
  created_at_ms: number;
}

/** A signed CSV link (src/exports/csv-links.ts): one export with its exact filters, for one user. */
export interface CsvLinksTable {
  id: Generated<number>;
  user_id: number;
  export_kind: 'usage' | 'ledger';
  /** The canonical query string (no "?"), as the Download CSV link writes it; "" for no filters. */
  query: string;
  /** SHA-256 hex of the link's secret; the secret itself is only ever in the URL. */
  secret_hash: string;
  created_at_ms: number;
  expires_at_ms: number;
  revoked_at_ms: number | null;
  last_used_at_ms: number | null;
}

export interface PromoCodesTable {
  id: Generated<number>;
  /** SHA-256 (hex) of the normalised code: the code itself is shown once, when the batch is made. */
  code_hash: string;
  code_hint: string;
  batch: string;
  credits_mc: number;
  credits_last_ms: number;
  max_redemptions: number;
  redemptions: ColumnType<number, number | undefined, number>;
  valid_until_ms: number;
  created_at_ms: number;
}

/** A redemption, and the grant it made. */
export interface PromoGrantsTable {
  id: Generated<number>;
  code_id: number;
  user_id: number;
  amount_mc: number;
  remaining_mc: number;
  expired_mc: ColumnType<number, number | undefined, number>;
  expires_at_ms: number;
  ended_at_ms: number | null;
  created_at_ms: number;
}
export type PromoCode = Selectable<PromoCodesTable>;
export type PromoGrant = Selectable<PromoGrantsTable>;

export interface Database {
  users: UsersTable;
  wallets: WalletsTable;
  ledger_entries: LedgerEntriesTable;
  promo_codes: PromoCodesTable;
  promo_grants: PromoGrantsTable;
  holds: HoldsTable;
  usage: UsageTable;
  rates: RatesTable;
  packages: PackagesTable;
  sessions: SessionsTable;
  api_keys: ApiKeysTable;
  rate_limit_events: RateLimitEventsTable;
  password_resets: PasswordResetsTable;
  mail_outbox: MailOutboxTable;
  monthly_spend: MonthlySpendTable;
  usage_daily: UsageDailyTable;
  app_settings: AppSettingsTable;
  billing_settings: BillingSettingsTable;
  model_caps: ModelCapsTable;
  saved_cards: SavedCardsTable;
  auto_recharges: AutoRechargesTable;
  notices: NoticesTable;
  purchases: PurchasesTable;
  billing_customers: BillingCustomersTable;
  stripe_events: StripeEventsTable;
  demo_checkout_sessions: DemoCheckoutSessionsTable;
  job_leases: JobLeasesTable;
  process_leases: ProcessLeasesTable;
  csv_links: CsvLinksTable;
  admin_actions: AdminActionsTable;
  audit_runs: AuditRunsTable;
  worker_runs: WorkerRunsTable;
}

export type User = Selectable<UsersTable>;
export type Wallet = Selectable<WalletsTable>;
export type LedgerEntry = Selectable<LedgerEntriesTable>;
export type Hold = Selectable<HoldsTable>;
export type Usage = Selectable<UsageTable>;
export type Rate = Selectable<RatesTable>;
export type CsvLink = Selectable<CsvLinksTable>;
export type Package = Selectable<PackagesTable>;
export type NewUsage = Insertable<UsageTable>;
export type Session = Selectable<SessionsTable>;
export type ApiKey = Selectable<ApiKeysTable>;
export type Mail = Selectable<MailOutboxTable>;
export type Purchase = Selectable<PurchasesTable>;
export type AdminAction = Selectable<AdminActionsTable>;

export type AuditRunSource = 'console' | 'cli';

/** One audit run (migration 0018): the health page lists them, newest first. */
export interface AuditRunsTable {
  id: Generated<number>;
  source: AuditRunSource;
  /** Who pressed "Run the audit now"; null for the CLI. */
  admin_user_id: number | null;
  violations: number;
  /** Violations by invariant, as words; empty when clean. */
  summary: string;
  duration_ms: number;
  created_at_ms: number;
}
export type AuditRun = Selectable<AuditRunsTable>;

/** A background worker's last round (migration 0018), overwritten by each. */
export interface WorkerRunsTable {
  name: string;
  holder: string;
  started_at_ms: number;
  finished_at_ms: number;
  outcome: 'ok' | 'failed';
  detail: string;
  last_ok_at_ms: number | null;
}
export type WorkerRun = Selectable<WorkerRunsTable>;
export type Notice = Selectable<NoticesTable>;
export type AutoRecharge = Selectable<AutoRechargesTable>;
export type BillingSettings = Selectable<BillingSettingsTable>;
