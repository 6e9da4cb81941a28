/**
 * Target factory: maps a destination's `target.type` to its implementation and builds its I/O client
 * (an HTTP client with the destination's own sockets, or a Kinesis client). Nothing else creates clients.
 */
import { createKinesisClient } from '../../streams/aws-clients.js';
import type { DestinationConfig } from '../config.js';
import type { KinesisSender } from '../../streams/kinesis/kinesis-writer.js';
import { HttpClient } from '../http-client.js';
import type { ForwardTarget } from '../target.js';
import { AmplitudeTarget } from './amplitude.js';
import { BrazeTarget } from './braze.js';
import { Ga4Target } from './ga4.js';
import { HttpTarget } from './http.js';
import { KinesisTarget } from './kinesis.js';
import { MixpanelTarget } from './mixpanel.js';

export interface TargetDeps {
  /** Kinesis client for a Kinesis target (tests pass one pointing at kinesalite or a fault-injecting wrapper). */
  kinesisClient?: (dest: DestinationConfig) => KinesisSender;
}

export function createTarget(dest: DestinationConfig, deps: TargetDeps = {}): ForwardTarget {
  const t = dest.target;
  switch (t.type) {
    case 'http':
      return new HttpTarget(t, new HttpClient(dest.concurrency));
    case 'ga4':
      return new Ga4Target(t, new HttpClient(dest.concurrency));
    case 'amplitude':
      return new AmplitudeTarget(t, new HttpClient(dest.concurrency));
    case 'mixpanel':
      return new MixpanelTarget(t, new HttpClient(dest.concurrency));
    case 'braze':
      return new BrazeTarget(t, new HttpClient(dest.concurrency));
    case 'kinesis': {
      const client =
        deps.kinesisClient?.(dest) ??
        createKinesisClient({ ...(t.region ? { region: t.region } : {}), ...(t.endpoint ? { endpoint: t.endpoint } : {}), requestTimeoutMs: dest.requestTimeoutMs });
      return new KinesisTarget(t, client);
    }
  }
}
