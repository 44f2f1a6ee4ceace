(() => {
  // The page's text is read once: innerText lays out the whole page.
  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const visible = (el) => !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length));
  const cellOf = (c) => {
    const sel = c.querySelector('select');
    if (sel && sel.selectedIndex >= 0) return {t: norm(sel.options[sel.selectedIndex].text)};
    const tm = c.querySelector('time[datetime]');
    return {t: norm(c.innerText), d: tm ? tm.getAttribute('datetime') : ''};
  };
  const labelOf = (t) => {
    const byId = (ids) => norm(ids.split(/\s+/).map((i) => { const e = document.getElementById(i); return e ? e.innerText : ''; }).join(' '));
    for (let e = t; e && e !== document.body; e = e.parentElement) {
      if (e.getAttribute('aria-label')) return norm(e.getAttribute('aria-label'));
      if (e.getAttribute('aria-labelledby')) return byId(e.getAttribute('aria-labelledby'));
      if (e !== t) {
        const h = e.querySelector('h1,h2,h3,h4,h5,h6,[role=heading]');
        if (h && (h.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING)) return norm(h.innerText);
      }
    }
    return '';
  };
  const text = document.body.innerText;
  const out = {
    url: location.href, title: document.title,
    login: visible(document.querySelector('input[type=password]')),
    mfa: !!document.querySelector('input[autocomplete=one-time-code]') || /verification code|two-factor|2-step/i.test(text),
    captcha: /captcha|not a robot/i.test(text),
    alert: norm(Array.from(document.querySelectorAll('[role=alert]')).map((e) => e.innerText).join(' ')),
    tables: [], counts: [], empty: false, next: false, loadMore: false, busy: false,
  };
  const tableSel = 'table,[role=table],[role=grid],[role=treegrid]';
  const cands = Array.from(document.querySelectorAll(tableSel)).filter(visible);
  for (const t of cands) {
    if (t.parentElement && t.parentElement.closest(tableSel)) continue;
    let headers = [], rows = [];
    if (t.tagName === 'TABLE' && !t.getAttribute('role')) {
      const hr = t.tHead && t.tHead.rows.length ? t.tHead.rows[0] : (t.rows[0] && t.rows[0].querySelector('th') ? t.rows[0] : null);
      headers = hr ? Array.from(hr.cells).map((c) => norm(c.innerText)) : [];
      rows = Array.from(t.rows).filter((r) => r !== hr && r.parentElement.tagName !== 'THEAD').map((r) => Array.from(r.cells).map(cellOf));
    } else {
      const rs = Array.from(t.querySelectorAll('[role=row]'));
      const hrow = rs.find((r) => r.querySelector('[role=columnheader]'));
      headers = hrow ? Array.from(hrow.querySelectorAll('[role=columnheader]')).map((c) => norm(c.innerText)) : [];
      rows = rs.filter((r) => r !== hrow).map((r) => Array.from(r.querySelectorAll('[role=cell],[role=gridcell],[role=rowheader]')).map(cellOf));
    }
    out.tables.push({label: labelOf(t), headers: headers, rows: rows});
  }
  // A member count is the whole text of one short element ("32 members",
  // "Members (32)", "Members · 32"), never digits that happen to precede
  // the word on another line.
  const countRe = /^(?:(\d[\d,.\u202f\u00a0]*)\s+(?:team\s+)?members?|members?\s*(?:[(:·\-–]\s*)?(\d[\d,.\u202f\u00a0]*)\)?)$/i;
  for (const e of document.querySelectorAll('h1,h2,h3,h4,h5,h6,p,span,div,strong,caption,label,[role=status],[role=heading]')) {
    if (!visible(e) || e.children.length > 2) continue;
    const t = norm(e.innerText);
    if (t.length > 40) continue;
    const m = t.match(countRe);
    if (m) out.counts.push(m[1] || m[2]);
  }
  out.empty = /no (other )?members|only member of this team/i.test(text);
  const buttons = Array.from(document.querySelectorAll('button,a,[role=button]')).filter(visible);
  const enabled = (b) => !b.disabled && b.getAttribute('aria-disabled') !== 'true';
  out.next = buttons.some((b) => (/^next( page)?\s*[›»>→]?$/i.test(norm(b.innerText)) || /^next/i.test(b.getAttribute('aria-label') || '')) && enabled(b));
  out.loadMore = buttons.some((b) => /^(load|show) more/i.test(norm(b.innerText)) && enabled(b));
  out.busy = /loading/i.test(text) || !!document.querySelector('[aria-busy=true]');
  return out;
})()
