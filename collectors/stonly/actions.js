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
  // vscroll moves every list that scrolls inside the page by most of a
  // screen, so that a virtualised list renders its next rows while the
  // previous screen's last rows stay in view (no row is skipped).
  vscroll: () => {
    let moved = false;
    for (const e of document.querySelectorAll('*')) {
      if (e === document.body || e === document.documentElement || e.scrollHeight <= e.clientHeight + 4) continue;
      if (!/auto|scroll/.test(getComputedStyle(e).overflowY) || !e.querySelector('tr,[role=row]')) continue;
      const before = e.scrollTop;
      e.scrollIntoView({block: 'nearest'});
      e.scrollTop = before + Math.max(1, Math.floor(e.clientHeight * 0.8));
      if (e.scrollTop !== before) {
        // A tab in the background gets its scroll events only with its
        // (throttled) frames: deliver one now, as the browser will.
        e.dispatchEvent(new Event('scroll'));
        moved = true;
      }
    }
    return moved;
  },
  // logout clicks the app's own sign-out control.
  logout: () => {
    const re = /^(log ?out|sign ?out|log off|sign off)$/i;
    const b = Array.from(document.querySelectorAll('button,a,[role=button],[role=menuitem],input[type=submit]'))
      .find((b) => re.test((b.innerText || b.value || b.getAttribute('aria-label') || '').trim()));
    if (!b) return false;
    b.click(); return true;
  },
  // openSwitcher clicks a closed menu button that belongs to a team
  // switcher (its own label or its container's names teams).
  openSwitcher: () => {
    const b = window.__idgraph.switcherButton();
    if (!b) return false;
    b.click(); return true;
  },
  switcherButton: () => {
    const teamish = /team|workspace|switch/i;
    for (const b of document.querySelectorAll('button,[role=button],[aria-haspopup]')) {
      if (!window.__idgraph.visible(b) || !b.hasAttribute('aria-haspopup') && !b.hasAttribute('aria-expanded')) continue;
      if (b.getAttribute('aria-expanded') === 'true') continue;
      const box = b.closest('[aria-label],[aria-labelledby]');
      const label = (b.getAttribute('aria-label') || '') + ' ' + (box ? window.__idgraph.label(box) : '');
      if (teamish.test(label)) return b;
    }
    return null;
  },
  label: (e) => {
    if (e.getAttribute('aria-label')) return e.getAttribute('aria-label');
    return (e.getAttribute('aria-labelledby') || '').split(/\s+/).map((i) => { const x = document.getElementById(i); return x ? x.textContent : ''; }).join(' ');
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
  // teams lists the teams the page offers. A team is a link to a team's
  // pages (prefix + id, the shape of stonly.team_path) inside a team
  // switcher: a menu or list labelled as choosing a team, possibly hidden
  // until opened. Without such a switcher, links to two or more teams do.
  // Other links under /app/ (the knowledge base, insights, the team's own
  // pages) are not teams.
  teams: (prefix) => {
    const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
    const esc = prefix.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const re = new RegExp('^' + esc + '([A-Za-z0-9_-]+)(/|$)');
    const teamish = /team|workspace|switch/i;
    const boxOf = (a) => {
      for (let e = a.parentElement; e && e !== document.body; e = e.parentElement) {
        const role = e.getAttribute('role') || '';
        if (/^(menu|listbox)$/.test(role) || ((e.hasAttribute('aria-label') || e.hasAttribute('aria-labelledby')) && teamish.test(window.__idgraph.label(e)))) return e;
      }
      return null;
    };
    const inBox = [], loose = [];
    for (const a of document.querySelectorAll('a[href]')) {
      const m = new URL(a.href, location.href).pathname.match(re);
      if (!m) continue;
      const name = norm(a.textContent || a.getAttribute('aria-label') || a.getAttribute('title'));
      (boxOf(a) ? inBox : loose).push({id: m[1], name: name});
    }
    const uniq = (list) => {
      const seen = {}, out = [];
      for (const t of list) {
        if (seen[t.id]) { if (!seen[t.id].name) seen[t.id].name = t.name; continue; }
        seen[t.id] = {id: t.id, name: t.name}; out.push(seen[t.id]);
      }
      return out;
    };
    const here = (location.pathname.match(re) || [])[1] || '';
    let list = uniq(inBox), switcher = list.length > 0;
    if (!switcher) {
      const nav = /^(settings|team management|team settings|dashboard|guides|home|overview|members)$/i;
      list = uniq(loose.filter((t) => t.name && !nav.test(t.name)));
      if (list.filter((t) => t.id !== here).length === 0) list = [];
      switcher = list.length > 0;
    }
    // A switcher may list only the other teams: the current one is a team.
    if (switcher && here && !list.some((t) => t.id === here)) list.push({id: here, name: ''});
    return {teams: list, switcher: switcher, opener: !!window.__idgraph.switcherButton(), here: here};
  },
};
true
