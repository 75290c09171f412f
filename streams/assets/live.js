// The live page and the static report: draws the snapshot JSON as tables and SVG charts.
const fmt = n => (n === null || n === undefined) ? '–' : Number(n).toLocaleString('en-US');
const pct = r => (r === null || r === undefined) ? '–' : (100 * r).toFixed(2) + '%';
const sorts = {};
function el(id) { return document.getElementById(id); }
function esc(s) { const d = document.createElement('div'); d.textContent = s; return d.innerHTML; }
function table(id, rows, cols) {
  const state = sorts[id] || {};
  if (state.col) rows = [...rows].sort((a, b) => {
    const x = a[state.col], y = b[state.col];
    const c = (typeof x === 'number' && typeof y === 'number') ? x - y : String(x).localeCompare(String(y));
    return state.desc ? -c : c; });
  const head = cols.map(([k, label]) =>
    `<th data-col="${k}" class="${state.col === k ? 'sorted' : ''}">${label}${state.col === k ? (state.desc ? ' ▼' : ' ▲') : ''}</th>`).join('');
  const body = rows.map(r => '<tr>' + cols.map(([k, , f]) =>
    `<td>${f ? f(r[k], r) : esc(r[k] ?? '')}</td>`).join('') + '</tr>').join('');
  el(id).innerHTML = `<table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
  el(id).querySelectorAll('th').forEach(th => th.onclick = () => {
    const col = th.dataset.col, cur = sorts[id] || {};
    sorts[id] = {col, desc: cur.col === col ? !cur.desc : false}; draw(window.snapshot); });
}
function bars(id, rows, label, value, cls) {
  const max = Math.max(1e-9, ...rows.map(r => r[value] || 0)), h = 22, w = 420;
  const svg = rows.map((r, i) => {
    const bw = Math.round((w - 230) * (r[value] || 0) / max);
    return `<text x="0" y="${i * h + 15}" font-size="12">${esc(String(r[label]))}</text>` +
      `<rect class="${cls || 'bar'}" x="150" y="${i * h + 4}" width="${bw}" height="14"></rect>` +
      `<text x="${155 + bw}" y="${i * h + 15}" font-size="11">${typeof r[value] === 'number' && r[value] < 1 ? pct(r[value]) : fmt(r[value])}</text>`;
  }).join('');
  el(id).innerHTML = `<svg width="100%" viewBox="0 0 ${w} ${Math.max(h, rows.length * h)}">${svg}</svg>`;
}
function map(id, communes, points) {
  const all = communes.concat(points);
  if (!all.length) { el(id).innerHTML = '<p class="muted">no data yet</p>'; return; }
  const lats = all.map(r => r.latitude), lons = all.map(r => r.longitude);
  const [a, b, c, d] = [Math.min(...lats), Math.max(...lats), Math.min(...lons), Math.max(...lons)];
  const W = 420, H = 320, x = lon => 10 + (W - 20) * (lon - c) / Math.max(d - c, 1e-6),
        y = lat => H - 10 - (H - 20) * (lat - a) / Math.max(b - a, 1e-6);
  const maxGap = Math.max(1, ...communes.map(r => r.gap_score || 0));
  const dots = communes.map(r => `<circle cx="${x(r.longitude)}" cy="${y(r.latitude)}" r="${3 + 9 * (r.gap_score || 0) / maxGap}" fill="#e07b3999"><title>${esc(r.commune_name || '')}: gap ${fmt(Math.round(r.gap_score))}</title></circle>`).join('') +
    points.map(r => `<rect x="${x(r.longitude) - 2}" y="${y(r.latitude) - 2}" width="4" height="4" fill="#12355b"><title>${esc(r.kind)} ${esc(r.operator)}</title></rect>`).join('');
  el(id).innerHTML = `<svg width="100%" viewBox="0 0 ${W} ${H}">${dots}</svg><div class="sub">circles: communes sized by coverage gap · squares: access points (synthetic coordinates)</div>`;
}
function draw(s) {
  window.snapshot = s; const P = s.panels;
  el('period').textContent = s.period; el('generated').textContent = s.generated_at;
  const n = (P.nation_stat || [])[0] || {};
  el('nation').innerHTML = `<span class="headline" id="nation-headline">${fmt(n.paid_cashless)} / ${fmt(n.due)}</span> <span class="sub">(${pct(n.cashless_rate)}) paid cashless of beneficiaries due</span>`;
  el('provinces').innerHTML = (P.province_stats || []).map(r =>
    `<div class="province"><b>${esc(r.province)}</b>: <span id="headline-${r.province_code}">${fmt(r.paid_cashless)} / ${fmt(r.due)} (${pct(r.cashless_rate)})</span></div>`).join('') || '<p class="muted">no data yet</p>';
  bars('trend', P.trend || [], 'period', 'cashless_rate');
  bars('channels', P.channel_mix || [], 'channel', 'payments', 'bar2');
  table('communes', P.commune_table || [], [['commune', 'Commune'], ['province', 'Province'],
    ['commune_code', 'Code'], ['due', 'Due', fmt], ['paid', 'Paid', fmt],
    ['paid_cashless', 'Cashless', fmt], ['cashless_rate', 'Rate', pct]]);
  table('coverage', (P.coverage_gaps || []).slice(0, 50), [['commune_name', 'Commune'],
    ['province_name', 'Province'], ['beneficiaries_due', 'Due', fmt], ['cashless_rate', 'Rate', pct],
    ['access_points_per_10k', 'Access /10k', v => v === null ? '–' : v.toFixed(1)],
    ['nearest_atm_km', 'Nearest ATM km', v => v === null ? 'none' : v.toFixed(1)],
    ['gap_score', 'Gap score', v => fmt(Math.round(v))]]);
  map('map', P.commune_map || [], P.access_point_map || []);
  const h = (P.freshness || [])[0] || {}, rate = (P.events_per_s || []).slice(-1)[0] || {};
  el('health').innerHTML = `<table><tbody>
    <tr><td>events processed (last hour)</td><td id="health-events">${fmt(h.events)}</td></tr>
    <tr><td>events/s (latest)</td><td>${fmt(Math.round(rate.events_per_s || 0))}</td></tr>
    <tr><td>dead letters</td><td>${fmt(h.dead_letters)}</td></tr>
    <tr><td>latest event time</td><td>${esc(h.latest_event_at || '–')}</td></tr>
    <tr><td>last health row</td><td>${esc(h.last_health_row || '–')}</td></tr></tbody></table>`;
  bars('dead', P.dead_letters || [], 'error_class', 'events', 'bar2');
}
