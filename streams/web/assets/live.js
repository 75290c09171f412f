// Sorts the server-rendered tables: click a column header (again to reverse). Cells carry their
// raw value in data-v. Nothing else: every figure is already in the markup.
const sorts = {};
function sortTable(t) {
  const s = sorts[t.id];
  if (!s) return;
  const heads = t.tHead.rows[0].cells, body = t.tBodies[0];
  for (const th of heads) {
    th.classList.toggle('sorted', th.cellIndex === s.col);
    th.classList.toggle('desc', th.cellIndex === s.col && s.desc);
  }
  const num = heads[s.col].dataset.type === 'num', lang = document.documentElement.lang;
  const value = r => r.cells[s.col].dataset.v;
  const rows = [...body.rows].sort((a, b) => {
    const x = value(a), y = value(b);
    const c = num ? (x === '' ? -Infinity : +x) - (y === '' ? -Infinity : +y)
                  : x.localeCompare(y, lang);
    return (s.desc ? -c : c) || 0;
  });
  rows.forEach(r => body.appendChild(r));
}
function wire() {
  document.querySelectorAll('table.sortable').forEach(t => {
    sortTable(t);
    for (const th of t.tHead.rows[0].cells) th.onclick = () => {
      const cur = sorts[t.id] || {};
      sorts[t.id] = {col: th.cellIndex, desc: cur.col === th.cellIndex ? !cur.desc : false};
      sortTable(t);
    };
  });
}
wire();
