// Live page only: fetch the next server rendering every second and keep the table sorting.
async function poll() {
  try {
    const r = await fetch('/fragment' + location.search);
    if (r.ok) { document.getElementById('page').innerHTML = await r.text(); wire(); }
  } catch (e) { /* the worker is busy or restarting: try again */ }
  setTimeout(poll, 1000);
}
