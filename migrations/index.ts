// Every migration in the order it runs. Forward-only; migrations never import app code.
import type { Migration } from 'kysely';
import * as foundation from './0001_foundation.ts';
import * as accounts from './0002_accounts.ts';
import * as creditsTab from './0003_credits_tab.ts';
import * as billing from './0005_billing.ts';
import * as limits from './0006_limits.ts';
import * as holdIndexes from './0007_hold_indexes.ts';
import * as rateLimitEvents from './0008_rate_limit_events.ts';
import * as apiSurfaces from './0009_api_surfaces.ts';
import * as upstreamAttempts from './0010_upstream_attempts.ts';
import * as keyControls from './0011_key_controls.ts';
import * as usageDaily from './0012_usage_daily.ts';
import * as leases from './0013_leases.ts';
import * as csvLinks from './0014_csv_links.ts';
import * as promo from './0015_promo.ts';
import * as admin from './0016_admin.ts';
import * as healthRuns from './0018_health_runs.ts';

export const migrations: Record<string, Migration> = {
  '0001_foundation': foundation,
  '0002_accounts': accounts,
  '0003_credits_tab': creditsTab,
  '0005_billing': billing,
  '0006_limits': limits,
  '0007_hold_indexes': holdIndexes,
  '0008_rate_limit_events': rateLimitEvents,
  '0009_api_surfaces': apiSurfaces,
  '0010_upstream_attempts': upstreamAttempts,
  '0011_key_controls': keyControls,
  '0012_usage_daily': usageDaily,
  '0013_leases': leases,
  '0014_csv_links': csvLinks,
  '0015_promo': promo,
  '0016_admin': admin,
  '0018_health_runs': healthRuns,
};
