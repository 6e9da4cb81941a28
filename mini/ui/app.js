// furrow mini web UI: plain browser JavaScript, no build step, no external requests.
// Data comes from the Micro API on the same origin; live updates from the /micro/stream SSE feed
// (falls back to polling every 2 s when the stream is unavailable).
(function () {
  'use strict';
  const $ = (sel) => document.querySelector(sel);
  const FAILURE_COL = 'contexts_com_snowplowanalytics_snowplow_failure_1';
  const PAGE_SIZE = 25;
  const state = { page: 1, totalPages: 1, bucketMs: 5000, buckets: 60, selected: null, detailJson: '', recovery: null };

  async function api(path, body) {
    const res = await fetch(path, body === undefined ? {} : { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok && res.status !== 404) throw new Error(`${path}: HTTP ${res.status}`);
    const type = res.headers.get('content-type') || '';
    return type.includes('json') ? res.json() : res.text();
  }

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'class') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c !== null && c !== undefined) e.append(c instanceof Node ? c : document.createTextNode(String(c)));
    return e;
  }

  function fmtTime(ms, withDate) {
    const d = new Date(ms);
    const p = (n) => String(n).padStart(2, '0');
    const t = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
    return withDate ? `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${t}` : t;
  }

  // ------------------------------------------------------------------ header
  async function loadStatus() {
    try {
      const s = await api('/micro/status');
      const parts = [];
      if (s.collector) parts.push(el('span', {}, 'collector ', el('b', { text: s.collector })));
      if (s.ui) parts.push(el('span', {}, '   ui ', el('b', { text: s.ui })));
      if (s.enrichments) parts.push(el('span', {}, '   enrichments ', el('b', { text: s.enrichments.join(', ') || 'none' })));
      if (s.maxEvents) parts.push(el('span', {}, `   keeps the newest ${s.maxEvents} events`));
      $('#endpoints').replaceChildren(...parts);
    } catch (e) {
      $('#endpoints').textContent = String(e.message);
    }
  }

  function showSummary(s) {
    $('#count-total').textContent = s.total;
    $('#count-good').textContent = s.good;
    $('#count-bad').textContent = s.bad;
  }

  // ------------------------------------------------------------------ chart
  async function drawChart() {
    const data = await api(`/micro/timeline?bucketMs=${state.bucketMs}&buckets=${state.buckets}`);
    const svg = $('#chart');
    const W = 900, H = 180, L = 34, B = 18, T = 8;
    const n = data.buckets.length;
    const max = Math.max(1, ...data.buckets.map((b) => b.good + b.bad));
    const nice = Math.max(1, Math.ceil(max / 4)) * 4;
    const bw = (W - L) / n;
    const y = (v) => H - B - (v / nice) * (H - B - T);
    const NS = 'http://www.w3.org/2000/svg';
    const mk = (tag, attrs, text) => {
      const e = document.createElementNS(NS, tag);
      for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
      if (text !== undefined) e.textContent = text;
      return e;
    };
    const nodes = [];
    for (let i = 0; i <= 4; i++) {
      const v = (nice / 4) * i;
      nodes.push(mk('line', { x1: L, x2: W, y1: y(v), y2: y(v), class: 'grid' }));
      nodes.push(mk('text', { x: L - 4, y: y(v) + 3, 'text-anchor': 'end', class: 'axis' }, String(v)));
    }
    data.buckets.forEach((b, i) => {
      const x = L + i * bw + 1;
      const w = Math.max(1, bw - 2);
      if (b.good > 0) nodes.push(mk('rect', { x, y: y(b.good), width: w, height: y(0) - y(b.good), class: 'good' }, undefined));
      if (b.bad > 0) nodes.push(mk('rect', { x, y: y(b.good + b.bad), width: w, height: y(b.good) - y(b.good + b.bad), class: 'bad' }));
      if (i % Math.ceil(n / 6) === 0) nodes.push(mk('text', { x: x, y: H - 4, class: 'axis' }, fmtTime(b.start, state.bucketMs >= 1800000)));
    });
    svg.replaceChildren(...nodes);
  }

  // ------------------------------------------------------------------ events table
  function currentQuery() {
    const filters = [];
    for (const col of ['event_name', 'app_id', 'event_id']) {
      const v = $(`#f-${col}`).value.trim();
      if (v) filters.push({ column: col, value: v });
    }
    const anyCol = $('#f-any-col').value.trim();
    const anyVal = $('#f-any-val').value.trim();
    if (anyCol && anyVal) filters.push({ column: anyCol, value: anyVal });
    const valid = $('#f-valid').value;
    return { filters, validEvents: valid === '' ? null : valid === 'true', page: state.page, pageSize: PAGE_SIZE };
  }

  function schemaOrFailure(row) {
    const failure = row[FAILURE_COL];
    if (failure && failure[0]) return `${failure[0].failureType}: ${(failure[0].errors || [])[0] || ''}`;
    if (row.event_vendor) return `${row.event_vendor}/${row.event_name}/${row.event_version}`;
    return '';
  }

  let loadEvents = async function () {
    const res = await api('/micro/events', currentQuery());
    state.totalPages = Math.max(1, res.totalPages);
    if (state.page > state.totalPages) state.page = state.totalPages;
    const body = $('#events tbody');
    if (res.events.length === 0) {
      body.replaceChildren(el('tr', { class: 'empty-row' }, el('td', { colspan: 6, text: 'No events yet: point a tracker at this collector.' })));
    } else {
      body.replaceChildren(
        ...res.events.map((row) => {
          const failed = !!row[FAILURE_COL];
          const tr = el(
            'tr',
            { 'data-event-id': row.event_id || '', onclick: () => select(row, tr) },
            el('td', {}, el('span', { class: `badge ${failed ? 'bad' : 'good'}`, text: failed ? 'bad' : 'good' })),
            el('td', { class: 'mono', text: (row.collector_tstamp || '').replace('T', ' ').replace('Z', '') }),
            el('td', { text: row.event_name || row.event || '' }),
            el('td', { title: schemaOrFailure(row), text: schemaOrFailure(row) }),
            el('td', { text: row.app_id || '' }),
            el('td', { class: 'mono', title: row.event_id || '', text: row.event_id ? row.event_id.slice(0, 8) + '…' : '' }),
          );
          if (state.selected && row.event_id === state.selected) tr.classList.add('sel');
          return tr;
        }),
      );
    }
    $('#page-info').textContent = `page ${state.page} of ${state.totalPages} · ${res.totalItems} matching`;
    $('#prev').disabled = state.page <= 1;
    $('#next').disabled = state.page >= state.totalPages;
  };

  function highlight(json) {
    const esc = json.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    return esc.replace(/("(?:\\u[a-fA-F0-9]{4}|\\[^u]|[^\\"])*"(\s*:)?|\b(?:true|false|null)\b|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)/g, (m) => {
      let cls = 'json-num';
      if (m.startsWith('"')) cls = m.endsWith(':') ? 'json-key' : 'json-str';
      else if (/true|false|null/.test(m)) cls = 'json-lit';
      return `<span class="${cls}">${m}</span>`;
    });
  }

  async function select(row, tr) {
    for (const r of document.querySelectorAll('#events tbody tr.sel')) r.classList.remove('sel');
    tr.classList.add('sel');
    state.selected = row.event_id || null;
    let detail = row;
    let title = row.event_name || row.event || 'event';
    if (row.event_id) {
      const found = await api(`/micro/events/${encodeURIComponent(row.event_id)}`);
      if (found.records && found.records.length) {
        const r = found.records[0];
        detail = r.valid ? { eventType: r.event.eventType, schema: r.event.schema, contexts: r.event.contexts, event: r.event.event, rawEvent: r.event.rawEvent } : { type: r.type, messages: r.messages, badRow: r.badRow, rawEvent: r.event.rawEvent, collectorPayload: r.event.collectorPayload };
        title = `${r.valid ? 'good' : 'bad'} · ${row.event_id}`;
      }
    }
    state.detailJson = JSON.stringify(detail, null, 2);
    $('#detail').classList.remove('empty');
    $('#detail-title').textContent = title;
    $('#detail-json').innerHTML = highlight(state.detailJson);
    $('#copy').disabled = false;
  }

  // ------------------------------------------------------------------ groups and schemas
  async function loadGroups() {
    const groups = await api('/micro/bad-groups');
    const body = $('#groups tbody');
    if (groups.length === 0) body.replaceChildren(el('tr', { class: 'empty-row' }, el('td', { colspan: 5, text: 'No bad rows.' })));
    else
      body.replaceChildren(
        ...groups.map((g) =>
          el(
            'tr',
            {},
            el('td', {}, el('span', { class: 'badge bad', text: g.type })),
            el('td', { class: 'wrap', text: g.message }),
            el('td', { class: 'num', text: g.count }),
            el('td', { class: 'mono', text: fmtTime(g.lastSeen) }),
            el('td', {}, el('button', { type: 'button', class: 'recover', text: 'Recover…', onclick: () => openRecovery(g) })),
          ),
        ),
      );
    if (state.recovery) {
      const g = groups.find((x) => x.type === state.recovery.type && x.message === state.recovery.message);
      $('#recovery-count').textContent = g ? g.count : 0;
    }
  }

  // ------------------------------------------------------------------ recovery of a bad-row group
  // A fix is turned into recovery steps (docs/recovery.md); preview runs it on the group's first row (the enricher
  // re-validates it), apply sends every fixed row to the raw stream, after which the events arrive as good.
  const SCHEMA_IN = /iglu:[a-zA-Z0-9._-]+\/[a-zA-Z0-9_-]+\/jsonschema\/\d+-\d+-\d+/;

  function openRecovery(g) {
    state.recovery = { type: g.type, message: g.message };
    $('#recovery').hidden = false;
    $('#recovery-type').textContent = g.type;
    $('#recovery-message').textContent = g.message;
    $('#recovery-count').textContent = g.count;
    $('#recovery-result').textContent = '';
    const m = SCHEMA_IN.exec(g.message);
    if (m) {
      const parts = m[0].split('-');
      $('#fix-from').value = m[0];
      $('#fix-to').value = parts.slice(0, -1).join('-') + '-' + (Number(parts[parts.length - 1]) + 1);
    }
    const field = /\$\.([A-Za-z0-9_]+): is not defined in the schema/.exec(g.message);
    if (field) $('#fix-path').value = '$.raw.parameters.ue_pr.data.data.' + field[1];
    $('#fix-kind').value = field ? 'remove' : m ? 'schema' : 'none';
    showFixFields();
    $('#recovery').scrollIntoView({ block: 'nearest' });
  }

  function showFixFields() {
    const kind = $('#fix-kind').value;
    const show = (cls, on) => document.querySelectorAll(`#recovery .${cls}`).forEach((e) => (e.hidden = !on));
    show('fix-schema', kind === 'schema');
    show('fix-path', kind === 'remove' || kind === 'set');
    show('fix-value', kind === 'set');
    show('fix-steps', kind === 'steps');
  }

  function fixSteps() {
    const kind = $('#fix-kind').value;
    if (kind === 'schema') return [{ op: 'SetSchema', from: $('#fix-from').value.trim(), to: $('#fix-to').value.trim() }];
    if (kind === 'remove') return [{ op: 'Remove', path: $('#fix-path').value.trim() }];
    if (kind === 'set') {
      const v = $('#fix-value').value;
      let value = v;
      try { value = JSON.parse(v); } catch (e) { /* text */ }
      return [{ op: 'Set', path: $('#fix-path').value.trim(), value }];
    }
    if (kind === 'steps') return JSON.parse($('#fix-steps').value);
    return [];
  }

  async function recoveryCall(what) {
    const out = $('#recovery-result');
    let steps;
    try {
      steps = fixSteps();
    } catch (e) {
      out.textContent = `the steps are not JSON: ${e.message}`;
      return;
    }
    out.textContent = what === 'preview' ? 'previewing…' : 'applying…';
    const res = await fetch(`/micro/recovery/${what}`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...state.recovery, steps }) });
    const body = await res.json().catch(() => ({ error: `HTTP ${res.status}` }));
    if (!res.ok) {
      out.textContent = `error: ${body.error || res.status}`;
      return;
    }
    const show = (v) => (v === undefined ? '(none)' : JSON.stringify(v));
    if (what === 'preview') {
      const lines = [`preview on 1 of ${body.rows} rows: ${body.outcome === 'recovered' ? 'recovered' : body.outcome === 'failed' ? 'still failing' : 'skipped'}` + (body.reason ? ` — ${body.reason}` : '')];
      for (const c of body.changes) lines.push(`  ${c.path}: ${show(c.before)} → ${show(c.after)}`);
      if (body.changes.length === 0) lines.push('  (no field changed)');
      out.textContent = lines.join('\n');
      out.dataset.outcome = body.outcome;
    } else {
      out.textContent = `applied to ${body.read} rows: recovered ${body.recovered} (${body.records} records sent to the enricher), still failing ${body.failed}, skipped ${body.skipped}` +
        (body.reasons.length ? '\n' + body.reasons.map((r) => '  ' + r).join('\n') : '');
      out.dataset.outcome = 'applied';
    }
  }

  $('#fix-kind').addEventListener('change', showFixFields);
  $('#recovery-preview').addEventListener('click', () => recoveryCall('preview'));
  $('#recovery-apply').addEventListener('click', () => recoveryCall('apply'));
  $('#recovery-close').addEventListener('click', () => {
    state.recovery = null;
    $('#recovery').hidden = true;
  });

  async function loadSchemas() {
    const schemas = await api('/micro/schemas');
    const body = $('#schemas tbody');
    if (schemas.length === 0) body.replaceChildren(el('tr', { class: 'empty-row' }, el('td', { colspan: 5, text: 'No schemas seen yet.' })));
    else
      body.replaceChildren(
        ...schemas.map((s) => {
          const m = /^iglu:([^/]+)\/([^/]+)\/jsonschema\/(\d+-\d+-\d+)$/.exec(s.schema);
          const link = m ? el('a', { href: `/micro/iglu/${m[1]}/${m[2]}/jsonschema/${m[3]}`, target: '_blank', text: s.schema }) : s.schema;
          return el(
            'tr',
            {},
            el('td', { class: 'mono wrap' }, link),
            el('td', { class: 'num', text: s.event || '' }),
            el('td', { class: 'num', text: s.context || '' }),
            el('td', { class: 'num', text: s.derived || '' }),
            el('td', { class: 'num', text: s.failed || '' }),
          );
        }),
      );
  }

  async function loadColumns() {
    const cols = await api('/micro/columns');
    $('#columns').replaceChildren(...cols.map((c) => el('option', { value: c })));
  }

  // ------------------------------------------------------------------ refresh loop
  let refreshing = false;
  let again = false;
  async function refresh() {
    if (refreshing) {
      again = true;
      return;
    }
    refreshing = true;
    try {
      showSummary(await api('/micro/all'));
      await Promise.all([drawChart(), loadEvents(), loadGroups(), loadSchemas()]);
    } catch (e) {
      $('#live-text').textContent = `error: ${e.message}`;
    } finally {
      refreshing = false;
      if (again) {
        again = false;
        setTimeout(refresh, 300);
      }
    }
  }

  function setLive(on, text) {
    $('#live-dot').classList.toggle('on', on);
    $('#live-text').textContent = text;
  }

  function connect() {
    let poll = null;
    const startPolling = () => {
      if (poll) return;
      setLive(false, 'polling every 2 s');
      poll = setInterval(refresh, 2000);
    };
    if (!window.EventSource) return startPolling();
    const es = new EventSource('/micro/stream');
    es.addEventListener('summary', (ev) => {
      if (poll) {
        clearInterval(poll);
        poll = null;
      }
      setLive(true, 'live');
      showSummary(JSON.parse(ev.data));
      refresh();
    });
    es.onerror = () => startPolling();
  }

  // ------------------------------------------------------------------ shareable view (filters in the URL hash)
  const HASH_FIELDS = ['f-valid', 'f-event_name', 'f-app_id', 'f-event_id', 'f-any-col', 'f-any-val'];
  function saveHash() {
    const q = new URLSearchParams();
    for (const id of HASH_FIELDS) {
      const v = $(`#${id}`).value;
      if (v) q.set(id.slice(2), v);
    }
    if (state.page > 1) q.set('page', String(state.page));
    history.replaceState(null, '', q.toString() ? `#${q}` : location.pathname + location.search);
  }
  function loadHash() {
    const q = new URLSearchParams(location.hash.slice(1));
    for (const id of HASH_FIELDS) {
      const v = q.get(id.slice(2));
      if (v !== null) $(`#${id}`).value = v;
    }
    state.page = Math.max(1, Number(q.get('page')) || 1);
  }
  const origLoadEvents = loadEvents;
  loadEvents = async function () {
    saveHash();
    return origLoadEvents();
  };

  // ------------------------------------------------------------------ wiring
  let typing = null;
  for (const id of ['#f-event_name', '#f-app_id', '#f-event_id', '#f-any-col', '#f-any-val', '#f-valid']) {
    $(id).addEventListener('input', () => {
      clearTimeout(typing);
      typing = setTimeout(() => {
        state.page = 1;
        loadEvents();
      }, 250);
    });
  }
  $('#f-clear').addEventListener('click', () => {
    for (const id of ['#f-event_name', '#f-app_id', '#f-event_id', '#f-any-col', '#f-any-val']) $(id).value = '';
    $('#f-valid').value = '';
    state.page = 1;
    loadEvents();
  });
  $('#prev').addEventListener('click', () => {
    state.page = Math.max(1, state.page - 1);
    loadEvents();
  });
  $('#next').addEventListener('click', () => {
    state.page = Math.min(state.totalPages, state.page + 1);
    loadEvents();
  });
  for (const b of document.querySelectorAll('#range button')) {
    b.addEventListener('click', () => {
      for (const o of document.querySelectorAll('#range button')) o.classList.remove('on');
      b.classList.add('on');
      state.bucketMs = Number(b.dataset.bucket);
      state.buckets = Number(b.dataset.buckets);
      drawChart();
    });
  }
  $('#reset').addEventListener('click', async () => {
    if (!confirm('Delete every stored event?')) return;
    await api('/micro/reset', {});
    $('#detail').classList.add('empty');
    $('#detail-title').textContent = 'Select an event';
    refresh();
  });
  $('#copy').addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(state.detailJson);
      $('#copy').textContent = 'copied';
      setTimeout(() => ($('#copy').textContent = 'copy JSON'), 1200);
    } catch {
      $('#copy').textContent = 'copy failed';
    }
  });
  setInterval(drawChart, 5000); // the time axis moves even when nothing arrives

  loadHash();
  loadStatus();
  loadColumns();
  refresh();
  connect();
})();
