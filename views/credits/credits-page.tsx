// The Credits tab: banners, balance and spend, spend over time, packages, usage, ledger, rate card and estimator.
import type { Child } from 'hono/jsx';
import type { PackageOffer } from '../../src/pricing/packages.ts';
import type { Notice, Rate } from '../../src/db/schema.ts';
import type { LimitsSummary } from '../../src/settings/summary.ts';
import { NoticesList } from './notices.tsx';
import type { WalletSummary } from '../../src/ledger/wallet.ts';
import type { MonthSpend } from '../../src/usage/usage-queries.ts';
import { BalanceCard } from './balance-card.tsx';
import type { LivePromo } from '../../src/ledger/promo-grants.ts';
import { RedeemForm, type RedeemFormProps } from './redeem-form.tsx';
import { LowBalanceBanner } from './banners.tsx';
import { Estimator, type EstimatorValues } from './estimator.tsx';
import type { Estimate } from '../../src/credits/estimate.ts';
import { LedgerSection, type LedgerResultsProps } from './ledger-table.tsx';
import { PackagesGrid } from './packages.tsx';
import { RateCard } from './rate-card.tsx';
import { SpendThisMonth } from './spend.tsx';
import { SpendChartSection, type SpendChartSectionProps } from './spend-chart.tsx';
import { UsageSection, type UsageFiltersProps, type UsageResultsProps } from './usage-table.tsx';

export interface CreditsPageProps {
  wallet: WalletSummary;
  /** The live promo grants, for the balance card. */
  promo: LivePromo[];
  limits: LimitsSummary;
  notices: Notice[];
  thresholdMc: number;
  outOfCredits: boolean;
  /** Never had a credit: welcomed, with no low-balance banner. */
  newAccount: boolean;
  canBuy: boolean;
  offers: PackageOffer[];
  rates: Rate[];
  modelLabels: Map<string, string>;
  spend: MonthSpend;
  runOutDays: number | null;
  chart: SpendChartSectionProps;
  usage: { filters: UsageFiltersProps; results: UsageResultsProps };
  ledger: { raw: Record<string, string>; filterErrors?: Record<string, string>; results: LedgerResultsProps };
  estimator: { values: EstimatorValues; estimate: Estimate | null; errors?: Record<string, string> };
  /** The promo code form as last submitted (a refused code and why), or empty. */
  redeem?: RedeemFormProps;
  /** The purchases list (the billing feature's component), when there is one. */
  purchases?: Child;
}

export function CreditsPage(props: CreditsPageProps) {
  return (
    <>
      <h1>Credits</h1>
      <LowBalanceBanner newAccount={props.newAccount} balanceMc={props.wallet.balanceMc} thresholdMc={props.thresholdMc} canBuy={props.canBuy} />
      <NoticesList notices={props.notices} />
      <div class="overview">
        <BalanceCard wallet={props.wallet} outOfCredits={props.outOfCredits} canBuy={props.canBuy} limits={props.limits} promo={props.promo} newAccount={props.newAccount} runOutDays={props.runOutDays} />
        <SpendThisMonth spend={props.spend} modelLabels={props.modelLabels} />
      </div>
      <RedeemForm {...(props.redeem ?? {})} />
      <SpendChartSection {...props.chart} />
      <PackagesGrid offers={props.offers} canBuy={props.canBuy} />
      <UsageSection filters={props.usage.filters} results={props.usage.results} />
      <LedgerSection raw={props.ledger.raw} filterErrors={props.ledger.filterErrors} results={props.ledger.results} />
      {props.purchases ?? null}
      <div class="pricing">
        <RateCard rates={props.rates} />
        <Estimator rates={props.rates.filter((r) => r.kind === 'chat')} values={props.estimator.values} estimate={props.estimator.estimate} errors={props.estimator.errors} />
      </div>
    </>
  );
}
