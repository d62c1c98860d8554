// What the gateway tells whoever watches it (the app's metrics, src/metrics/): a call charged, an
// upstream failure, a group of holds or settles committed. Plain callbacks, free of HTTP and of any
// metrics library; a gateway without a watcher is handed NO_GATEWAY_EVENTS.
import type { UpstreamFailureKind } from './errors.ts';

export interface SettledCallEvent {
  endpoint: 'chat' | 'responses' | 'embeddings';
  /** The usage row's status: ok, aborted, upstream_error. */
  status: string;
  /** From the call's start to its settle (a stream's whole length). */
  latencyMs: number;
  chargedMc: number;
}

export interface GatewayEvents {
  /** Once per settled call, after its charge committed. */
  callSettled(event: SettledCallEvent): void;
  /** Once per failed upstream attempt; `failedOver`: the next upstream is tried for the same call. */
  upstreamFailed(kind: UpstreamFailureKind, failedOver: boolean): void;
  /** Once per committed group of holds or settles, with its number of writes. */
  groupCommitted(batch: 'hold' | 'settle', writes: number): void;
}

export const NO_GATEWAY_EVENTS: GatewayEvents = {
  callSettled: () => {},
  upstreamFailed: () => {},
  groupCommitted: () => {},
};
