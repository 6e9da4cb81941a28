/** CallRail call-complete webhooks: GET querystring → call_complete event. */
import type { Adapter } from '../adapter.js';
import type { AdapterSchemas } from './schemas.js';
import { fail, formatParams, inputData, rawEvent, toParams, unstructParams, withoutTrackerParams } from './support.js';

const FORMAT = { bools: ['first_call', 'answered'], ints: ['duration'], dateTimes: ['datetime'] } as const;

export function callrailAdapter(schemas: AdapterSchemas): Adapter {
  const schema = schemas.callrail.call_complete;
  return {
    vendor: 'com.callrail',
    version: 'v1',
    failureKind: 'adapter_failures',
    toRawEvents(payload) {
      const params = toParams(payload.querystring);
      if (params.size === 0) return fail(inputData('querystring', null, 'empty querystring'));
      const data = formatParams(withoutTrackerParams(params), FORMAT);
      return { ok: true, events: [rawEvent(payload, unstructParams('com.callrail-v1', 'srv', params, schema, data))] };
    },
  };
}
