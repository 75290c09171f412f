// Live page only: fetch the next server rendering every second, keeping the tables' sorting
// and how far each scrolling table was scrolled.
async function poll() {
  try {
    const r = await fetch('/fragment' + location.search);
    if (r.ok) {
      const text = await r.text();
      const scrolled = [...document.querySelectorAll('.scroll')].map(d => d.scrollTop);
      document.getElementById('page').innerHTML = text;
      document.querySelectorAll('.scroll').forEach((d, i) => { d.scrollTop = scrolled[i] || 0; });
      wire();
    }
  } catch (e) { /* the worker is busy or restarting: try again */ }
  setTimeout(poll, 1000);
}
