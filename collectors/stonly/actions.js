// Each function returns true when it did something.
window.__idgraph = {
  visible: (el) => !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length)),
  buttons: () => Array.from(document.querySelectorAll('button,a,[role=button]')).filter(window.__idgraph.visible)
    .filter((b) => !b.disabled && b.getAttribute('aria-disabled') !== 'true'),
  loadMore: () => {
    const b = window.__idgraph.buttons().find((b) => /^(load|show) more/i.test((b.innerText || '').trim()));
    if (!b) return false;
    b.scrollIntoView(); b.click(); return true;
  },
  next: () => {
    const b = window.__idgraph.buttons().find((b) => /^next( page)?\s*[›»>→]?$/i.test((b.innerText || '').trim()) || /^next/i.test(b.getAttribute('aria-label') || ''));
    if (!b) return false;
    b.scrollIntoView(); b.click(); return true;
  },
  scroll: () => {
    const rows = document.querySelectorAll('tr,[role=row]');
    if (rows.length) rows[rows.length - 1].scrollIntoView({block: 'end'});
    window.scrollTo(0, document.body.scrollHeight);
    document.querySelectorAll('*').forEach((e) => { if (e.scrollHeight > e.clientHeight + 4 && getComputedStyle(e).overflowY.match(/auto|scroll/)) e.scrollTop = e.scrollHeight; });
    return true;
  },
  // settle resolves true once the DOM has changed and then stayed quiet
  // for 20ms (a render that arrives in pieces is waited out), or false
  // after cap ms without a change.
  settle: (cap) => new Promise((resolve) => {
    let quiet, changed = false;
    const o = new MutationObserver(() => { changed = true; clearTimeout(quiet); quiet = setTimeout(done, 20); });
    const limit = setTimeout(done, cap);
    function done() { o.disconnect(); clearTimeout(quiet); clearTimeout(limit); resolve(changed); }
    o.observe(document, {subtree: true, childList: true, attributes: true, characterData: true});
  }),
  // settled runs the action name, then waits for the page to settle.
  settled: (name, cap) => {
    const p = window.__idgraph.settle(cap);
    return window.__idgraph[name]() ? p : false;
  },
  teams: () => {
    const seen = {}, out = [];
    for (const a of document.querySelectorAll('a[href]')) {
      const m = new URL(a.href, location.href).pathname.match(/^\/app\/[^/]+\/([A-Za-z0-9_-]+)(\/|$)/);
      if (!m || seen[m[1]]) continue;
      const name = (a.innerText || a.getAttribute('aria-label') || '').replace(/\s+/g, ' ').trim();
      if (!name || /^(settings|team management|dashboard)$/i.test(name)) continue;
      seen[m[1]] = true; out.push({id: m[1], name: name});
    }
    const here = location.pathname.match(/^\/app\/[^/]+\/([A-Za-z0-9_-]+)(\/|$)/);
    if (here && !seen[here[1]]) out.push({id: here[1], name: ''});
    return out;
  },
};
true
