// A furrow forward JS transformation: transform(event, payload) runs once per event for its destination.
// `event` is the read-only JSON view of the enriched event; `payload` is the target's default payload.
// Return the payload to send, or null to skip the event for this destination.
function transform(event, payload) {
  if (event.app_id === 'test') return null;
  if (payload.properties) payload.properties.country = event.geo_country || 'unknown';
  return payload;
}
