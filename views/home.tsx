// The public front page: what tokentab is and the current rate card.
import type { Rate } from '../src/db/schema.ts';
import { creditsText } from '../src/pricing/format.ts';

export function Home(props: { rates: Rate[] }) {
  return (
    <>
      <h1>Prepaid credits for AI usage</h1>
      <p>Buy credits once, spend them through an OpenAI-compatible API or the playground, and see every call on the Credits tab.</p>
      <section aria-labelledby="rates-title">
        <h2 id="rates-title">Rate card</h2>
        <table>
          <caption>Credits per 1,000 tokens. 1,000 credits = $1.00.</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col" class="num">Input</th>
              <th scope="col" class="num">Cached input</th>
              <th scope="col" class="num">Output</th>
            </tr>
          </thead>
          <tbody>
            {props.rates.map((r) => (
              <tr>
                <th scope="row">{`${r.label} (${r.model})`}</th>
                <td class="num" data-mc={r.input_mc_per_1k}>{creditsText(r.input_mc_per_1k)}</td>
                <td class="num" data-mc={r.cached_input_mc_per_1k}>{creditsText(r.cached_input_mc_per_1k)}</td>
                <td class="num" data-mc={r.output_mc_per_1k}>{creditsText(r.output_mc_per_1k)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        <p>We only charge based on actual token usage.</p>
      </section>
    </>
  );
}
