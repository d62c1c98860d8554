// The packages of credits on sale: every read of the packages table (the seed writes it) and what each
// is worth (bonus, $ per 1k credits, savings against Starter). Here, below billing, settings and the
// Credits tab, so each of them reads packages without importing another.
import type { DB } from '../db/connect.ts';
import type { Package } from '../db/schema.ts';
import type { Trx } from '../db/transaction.ts';

/** The packages on sale, in display order. */
export async function activePackages(db: DB): Promise<Package[]> {
  return db.selectFrom('packages').selectAll().where('active', '=', 1).orderBy('sort_order').execute();
}

/** A package that is on sale now; undefined when unknown or withdrawn. Inside a transaction, pass it. */
export async function packageOnSale(executor: DB | Trx, packageId: string): Promise<Package | undefined> {
  return executor.selectFrom('packages').selectAll().where('id', '=', packageId).where('active', '=', 1).executeTakeFirst();
}

/** A package's name, on sale or not (a setting can name one since withdrawn); null when unknown. */
export async function packageName(db: DB, packageId: string): Promise<string | null> {
  return (await db.selectFrom('packages').select('name').where('id', '=', packageId).executeTakeFirst())?.name ?? null;
}

/** At the base price, one cent buys 10 credits = 10,000 mc (1,000 credits = $1.00). */
const BASE_MC_PER_CENT = 10_000;

export interface PackageOffer {
  pkg: Package;
  /** Credits beyond the base price, in mc (0 for Starter and Basic). */
  bonusMc: number;
  /** The bonus as tenths of a percent of the base credits: 50 → "5%". */
  bonusTenthsPercent: number;
  /** Dollars per 1,000 credits in millicents (thousandths of a cent): exact enough to show $0.952. */
  millicentsPer1kCredits: number;
  /** Savings in $ per 1k credits against the reference package, in tenths of a percent (48 → "4.8%"); 0 when none. */
  savingsTenthsPercent: number;
}

function roundedDiv(numerator: number, denominator: number): number {
  return Math.floor((2 * numerator + denominator) / (2 * denominator));
}

/** Offers in display order; the reference for savings is the package named "starter", or the first. */
export function packageOffers(packages: Package[]): PackageOffer[] {
  const reference = packages.find((p) => p.id === 'starter') ?? packages[0];
  return packages.map((pkg) => {
    const baseMc = pkg.price_cents * BASE_MC_PER_CENT;
    const bonusMc = Math.max(0, pkg.credits_mc - baseMc);
    // $ per 1k credits = price / (credits / 1000) = price_cents·1000 millicents / (credits_mc / 1e6).
    const millicentsPer1kCredits = roundedDiv(pkg.price_cents * 1_000 * 1_000_000, pkg.credits_mc);
    // savings = 1 − (price/credits) / (refPrice/refCredits) = (refPrice·credits − price·refCredits) / (refPrice·credits)
    const savingsTenthsPercent = reference
      ? Math.max(0, roundedDiv(1_000 * (reference.price_cents * pkg.credits_mc - pkg.price_cents * reference.credits_mc), reference.price_cents * pkg.credits_mc))
      : 0;
    return { pkg, bonusMc, bonusTenthsPercent: roundedDiv(bonusMc * 1_000, baseMc), millicentsPer1kCredits, savingsTenthsPercent };
  });
}
