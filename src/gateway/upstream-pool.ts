// The upstreams a call may go to: one SDK client per configured upstream (UPSTREAMS_FILE, or the one of
// OPENAI_*), and for each rate card model the ordered list of (upstream, the model name it is sent as).
import type OpenAI from 'openai';
import type { UpstreamsConfig } from '../upstreams-file.ts';
import type { ImageSizer } from './image-source.ts';
import { createUpstreamClient } from './upstream.ts';

/** One place a call can be sent: the upstream's name (on the usage row), its client, and the model name it knows. */
export interface UpstreamTarget {
  readonly name: string;
  readonly client: OpenAI;
  /** The model as this upstream names it (an Azure deployment, an Ollama tag); the usage row keeps the rate card's. */
  readonly model: string;
}

export class UpstreamPool {
  /** Every upstream key, so none is ever passed on in an error's text. */
  readonly secrets: readonly string[];
  private readonly clients = new Map<string, OpenAI>();
  private readonly targets = new Map<string, readonly UpstreamTarget[]>();

  constructor(
    private readonly config: UpstreamsConfig,
    callTimeoutMs: number,
    /** How the demo model sizes prompts' images: the same limits and fetch share as the hold's. */
    images?: ImageSizer,
  ) {
    for (const spec of config.upstreams) {
      this.clients.set(spec.name, createUpstreamClient({ baseUrl: spec.baseUrl, apiKey: spec.apiKey, headers: spec.headers, timeoutMs: spec.headersTimeoutMs ?? callTimeoutMs, ...(images ? { images } : {}) }));
    }
    this.secrets = config.upstreams.flatMap((spec) => (spec.apiKey ? [spec.apiKey] : []));
  }

  /** Where a call for this rate card model goes, in the order tried; empty when no upstream serves it. Asked only for models on the card (reserve checks it first), so the map stays as small as the card. */
  forModel(model: string): readonly UpstreamTarget[] {
    const known = this.targets.get(model);
    if (known) return known;
    const names = this.config.routes[model] ?? this.config.upstreams.filter((spec) => spec.models === null).map((spec) => spec.name);
    const targets = names.map((name) => {
      const spec = this.config.upstreams.find((each) => each.name === name)!;
      return Object.freeze({ name, client: this.clients.get(name)!, model: spec.models?.[model] ?? model });
    });
    if (targets.length > 0) this.targets.set(model, Object.freeze(targets));
    return targets;
  }
}
