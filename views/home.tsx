// The public front page: what tokentab is and the current rate card.
import type { Rate } from '../src/db/schema.ts';
import { RateCard } from './credits/rate-card.tsx';

export function Home(props: { rates: Rate[] }) {
  return (
    <>
      <h1>Prepaid credits for AI usage</h1>
      <p>Buy credits once, spend them through an OpenAI-compatible API or the playground, and see every call on the Credits tab.</p>
      <RateCard rates={props.rates} />
    </>
  );
}
