(() => {
  // The page's text is read once: innerText lays out the whole page.
  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const visible = (el) => !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length));
  // pseudo is the text CSS puts before or after el (content: "Admin" or
  // attr(...)), which innerText leaves out.
  const pseudo = (el) => {
    for (const p of ['::before', '::after']) {
      const c = getComputedStyle(el, p).content;
      if (c && c !== 'none' && c !== 'normal') {
        const t = norm(c.replace(/^["']|["']$/g, ''));
        if (t) return t;
      }
    }
    return '';
  };
  // A cell with no text may still say something: an icon's aria-label or
  // title, an image's alt text, or CSS-generated content.
  const quietText = (c) => {
    for (const e of [c, ...c.querySelectorAll('*')]) {
      const t = norm(e.getAttribute('aria-label') || e.getAttribute('title') || (e.tagName === 'IMG' ? e.getAttribute('alt') : '') || pseudo(e));
      if (t) return t;
    }
    return '';
  };
  const cellOf = (c) => {
    const sel = c.querySelector('select');
    if (sel && sel.selectedIndex >= 0) return {t: norm(sel.options[sel.selectedIndex].text)};
    const tm = c.querySelector('time[datetime]');
    return {t: norm(c.innerText) || quietText(c), d: tm ? tm.getAttribute('datetime') : ''};
  };
  // Rows that hold no data: spacers of a virtualised list, separators.
  const dataRow = (r) => r.getAttribute('aria-hidden') !== 'true';
  const chrome = 'header,nav,[role=menu],[role=listbox],[role=navigation],button,a,option,select';
  // The team is positively empty only when the member list's own section
  // says so: a whole short element such as "This team has no members yet",
  // never a word in a team name elsewhere on the page ("Latino Members").
  const emptyRe = /^(this team has |there are )?no (other )?(team )?members( yet| in this team)?[.!]?$|^you('re| are) the only member of this team[.!]?$/i;
  const saysEmpty = (t) => {
    let scope = t.parentElement;
    for (let i = 0; i < 4 && scope && scope !== document.body && !scope.querySelector('h1,h2,h3,h4,h5,h6,[role=heading]'); i++) scope = scope.parentElement;
    if (!scope || scope === document.body) scope = t.parentElement;
    for (const e of scope.querySelectorAll('p,span,div,strong,em,td,li,[role=status]')) {
      if (e.children.length > 2 || e.closest(chrome) || !visible(e)) continue;
      if (emptyRe.test(norm(e.innerText))) return true;
    }
    return false;
  };
  // scrollerOf is the element that scrolls the rows inside the page (not
  // the page itself), or null.
  const scrollerOf = (t, rows) => {
    const start = rows.length ? rows[0] : t;
    for (let e = start.parentElement; e && e !== document.body && e !== document.documentElement; e = e.parentElement) {
      if (e.scrollHeight > e.clientHeight + 4 && /auto|scroll/.test(getComputedStyle(e).overflowY)) return e;
    }
    return null;
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
    tables: [], counts: [], empty: false, denied: '', invitesPending: false, next: false, loadMore: false, busy: false,
  };
  const tableSel = 'table,[role=table],[role=grid],[role=treegrid]';
  const cands = Array.from(document.querySelectorAll(tableSel)).filter(visible);
  for (const t of cands) {
    if (t.parentElement && t.parentElement.closest(tableSel)) continue;
    let headers = [], rowEls = [], rows = [];
    if (t.tagName === 'TABLE' && !t.getAttribute('role')) {
      const hr = t.tHead && t.tHead.rows.length ? t.tHead.rows[0] : (t.rows[0] && t.rows[0].querySelector('th') ? t.rows[0] : null);
      headers = hr ? Array.from(hr.cells).map((c) => norm(c.innerText) || quietText(c)) : [];
      rowEls = Array.from(t.rows).filter((r) => r !== hr && r.parentElement.tagName !== 'THEAD' && dataRow(r) && r.cells.length);
      rows = rowEls.map((r) => Array.from(r.cells).map(cellOf));
    } else {
      const rs = Array.from(t.querySelectorAll('[role=row]'));
      const hrow = rs.find((r) => r.querySelector('[role=columnheader]'));
      headers = hrow ? Array.from(hrow.querySelectorAll('[role=columnheader]')).map((c) => norm(c.innerText) || quietText(c)) : [];
      rowEls = rs.filter((r) => r !== hrow && dataRow(r));
      rows = rowEls.map((r) => Array.from(r.querySelectorAll('[role=cell],[role=gridcell],[role=rowheader]')).map(cellOf)).filter((r) => r.length);
    }
    // A list that scrolls inside the page and whose rendered rows are far
    // shorter than what it scrolls over renders only the rows in view.
    const sc = scrollerOf(t, rowEls);
    let virtual = false, atEnd = true;
    if (sc) {
      const h = rowEls.reduce((n, r) => n + r.getBoundingClientRect().height, 0);
      // When the rendered rows are at least as tall as the distance the
      // container scrolls, its first and last screens together hold them
      // all (one scroll to the end reads the rest); otherwise rows exist
      // only while in view, and the list is read screen by screen.
      virtual = h < sc.scrollHeight - sc.clientHeight;
      atEnd = sc.scrollTop + sc.clientHeight >= sc.scrollHeight - 2;
    }
    // covered: the rows in view are rendered (a list that has not caught
    // up with its scroll position shows spacers there).
    let covered = true;
    if (virtual) {
      const box = sc.getBoundingClientRect(), set = new Set(rowEls);
      for (const f of [0.1, 0.5, 0.9]) {
        const el = document.elementFromPoint(box.left + Math.min(20, box.width / 2), box.top + box.height * f);
        if (!el || !sc.contains(el) || el.closest('thead,[role=columnheader]')) continue;
        const r = el.closest('tr,[role=row]');
        if (!r || !set.has(r)) covered = false;
      }
    }
    out.tables.push({label: labelOf(t), headers: headers, rows: rows, empty: rows.length === 0 && saysEmpty(t), virtual: virtual, atEnd: atEnd, covered: covered});
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
  out.empty = out.tables.some((t) => t.empty);
  // Team Management refused: the account is not (or no longer) an Admin.
  out.denied = norm((document.querySelector('main,[role=main]') || document.body).innerText)
    .match(/(access denied|forbidden|not authori[sz]ed|(don't|do not|doesn't|does not) have (the )?(access|permission|rights)|you need (the |an )?(admin|owner)|only (the )?(owner|admins?)( and (the )?(admins|owner))? (of this team )?can (access|manage|see|view))[^.]*\.?/i);
  out.denied = out.denied ? out.denied[0] : '';
  // An invitations section whose content has not arrived yet: a heading
  // that names invitations, with neither a list nor a "none" under it.
  out.invitesPending = Array.from(document.querySelectorAll('h1,h2,h3,h4,h5,h6,[role=heading]')).filter(visible).some((h) => {
    if (!/invit/i.test(h.innerText)) return false;
    const sec = h.parentElement;
    return !sec.querySelector(tableSel) && !/no (pending )?invit/i.test(sec.innerText);
  });
  const buttons = Array.from(document.querySelectorAll('button,a,[role=button]')).filter(visible);
  const enabled = (b) => !b.disabled && b.getAttribute('aria-disabled') !== 'true';
  out.next = buttons.some((b) => (/^next( page)?\s*[›»>→]?$/i.test(norm(b.innerText)) || /^next/i.test(b.getAttribute('aria-label') || '')) && enabled(b));
  out.loadMore = buttons.some((b) => /^(load|show) more/i.test(norm(b.innerText)) && enabled(b));
  out.busy = /loading/i.test(text) || !!document.querySelector('[aria-busy=true]');
  return out;
})()
