// The helpers of actions on the Team Management page. They find controls
// by what people read (a row's e-mail, a button's words, ARIA roles:
// menu, menuitem, dialog, alertdialog, status, alert), never by class
// names, and return where to click: the clicks are real mouse events,
// since many apps open their menus on pointerdown, which a script's
// element.click() never sends.
window.__idact = (() => {
  const norm = (s) => (s || '').replace(/\s+/g, ' ').trim();
  const visible = (el) => !!(el && (el.offsetWidth || el.offsetHeight || el.getClientRects().length));
  const label = (e) => norm(e.innerText || e.value || e.getAttribute('aria-label') || e.getAttribute('title'));
  const tableSel = 'table,[role=table],[role=grid],[role=treegrid]';
  const menuSel = '[role=menu]';
  const dialogSel = '[role=dialog],[role=alertdialog],dialog[open]';
  const enabled = (b) => !b.disabled && b.getAttribute('aria-disabled') !== 'true';
  // where scrolls el into view (only if needed: a virtualised list
  // re-renders on scroll) and gives the point to click.
  // moved says that the scroll moved it: a list may re-render on scroll
  // (a virtualised one does), so the caller looks again once it settles.
  const where = (el) => {
    const r0 = el.getBoundingClientRect();
    el.scrollIntoView({block: 'nearest', inline: 'nearest'});
    const r = el.getBoundingClientRect();
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    return {x: x, y: y, label: label(el), moved: r.top !== r0.top || r.left !== r0.left,
      inView: x >= 0 && y >= 0 && x < window.innerWidth && y < window.innerHeight};
  };
  // invitish: the row belongs to a list of invitations (a section whose
  // label names invitations) or says so in a cell of its own.
  const headingOf = (t) => {
    if (t.getAttribute('aria-label')) return t.getAttribute('aria-label');
    const ids = t.getAttribute('aria-labelledby');
    if (ids) return ids.split(/\s+/).map((i) => { const e = document.getElementById(i); return e ? e.innerText : ''; }).join(' ');
    for (let e = t.parentElement; e && e !== document.body; e = e.parentElement) {
      const h = e.querySelector('h1,h2,h3,h4,h5,h6,[role=heading]');
      if (h && (h.compareDocumentPosition(t) & Node.DOCUMENT_POSITION_FOLLOWING)) return h.innerText;
    }
    return '';
  };
  const invitish = (row) => {
    const t = row.closest(tableSel);
    if (t && /invit|pending/i.test(headingOf(t))) return true;
    const cells = row.querySelectorAll('td,[role=cell],[role=gridcell]');
    // A status cell says so in a word or two ("Invited", "Pending"); an
    // address that begins with "invit" is no status.
    return Array.from(cells).some((c) => /^(invited|invitation (sent|pending)|pending( invitation)?|awaiting( acceptance)?)$/i.test(norm(c.innerText)));
  };
  // rows are the data rows of the page's lists that show email in a cell
  // of their own, of the kind asked ('member' or 'invite').
  const rows = (email, kind) => {
    const want = email.toLowerCase();
    return Array.from(document.querySelectorAll('tr,[role=row]')).filter((r) => {
      if (!visible(r) || r.getAttribute('aria-hidden') === 'true' || r.querySelector('th,[role=columnheader]')) return false;
      const cells = r.querySelectorAll('td,[role=cell],[role=gridcell],[role=rowheader]');
      if (!Array.from(cells).some((c) => norm(c.innerText).toLowerCase() === want)) return false;
      return invitish(r) === (kind === 'invite');
    });
  };
  const menuButton = (row) => Array.from(row.querySelectorAll('button,[role=button],[aria-haspopup]')).filter(visible).filter(enabled)
    .find((b) => /^(menu|true)$/.test(b.getAttribute('aria-haspopup') || '') ||
      /\b(more|actions|options|menu)\b/i.test(b.getAttribute('aria-label') || '') || /^[⋯…⋮•·.]{1,3}$/.test(norm(b.innerText)));
  const visibleMenus = () => Array.from(document.querySelectorAll(menuSel)).filter(visible);
  return {
    // find looks for the row of email and, in it, a control whose words
    // match item; otherwise the row's menu button. The menus open now are
    // remembered, so that the menu the click opens can be told apart
    // (it may render anywhere: a portal at the end of body).
    find: (email, kind, item) => {
      const rs = rows(email, kind);
      if (rs.length !== 1) return {rows: rs.length};
      const re = new RegExp(item, 'i');
      const inline = Array.from(rs[0].querySelectorAll('button,a,[role=button]')).filter(visible).filter(enabled).find((b) => re.test(label(b)));
      if (inline) return {rows: 1, inline: where(inline)};
      const mb = menuButton(rs[0]);
      window.__idactBefore = visibleMenus();
      if (!mb) return {rows: 1};
      return {rows: 1, menu: where(mb)};
    },
    // item finds, in the menu the click opened, the item whose words
    // match item. Until a menu opens it reports none; an open menu
    // without the item reports what it offers.
    item: (item) => {
      const before = window.__idactBefore || [];
      const re = new RegExp(item, 'i');
      let menus = visibleMenus().filter((m) => !before.includes(m));
      const opener = document.querySelector('[aria-expanded=true][aria-controls]');
      if (opener) {
        const m = document.getElementById(opener.getAttribute('aria-controls'));
        if (m && visible(m)) menus = [m].concat(menus.filter((x) => x !== m));
      }
      if (!menus.length) return {open: false};
      const items = Array.from(menus[0].querySelectorAll('[role=menuitem],[role=menuitemradio],button,a')).filter(visible);
      const it = items.find((i) => enabled(i) && re.test(label(i)));
      if (!it) return {open: true, offered: items.map(label)};
      return {open: true, at: where(it)};
    },
    // dialog describes the dialog on top: its words, its buttons, and the
    // roles its role control offers.
    dialog: () => {
      const ds = Array.from(document.querySelectorAll(dialogSel)).filter(visible);
      if (!ds.length) return {open: false};
      const d = ds[ds.length - 1];
      const sel = d.querySelector('select');
      const opts = sel ? Array.from(sel.options).map((o) => norm(o.text)) :
        Array.from(d.querySelectorAll('[role=option],[role=radio],[role=menuitemradio]')).map(label);
      return {open: true, text: norm(d.innerText), buttons: Array.from(d.querySelectorAll('button,[role=button]')).filter(visible).map(label), options: opts};
    },
    // choose sets the dialog's role control to role: a native select (set
    // and announced with input and change events, as a user's choice is),
    // or an option or radio, clicked.
    choose: (role) => {
      const ds = Array.from(document.querySelectorAll(dialogSel)).filter(visible);
      if (!ds.length) return false;
      const d = ds[ds.length - 1];
      const sel = d.querySelector('select');
      if (sel) {
        const o = Array.from(sel.options).find((o) => norm(o.text).toLowerCase() === role.toLowerCase());
        if (!o) return false;
        sel.value = o.value;
        sel.dispatchEvent(new Event('input', {bubbles: true}));
        sel.dispatchEvent(new Event('change', {bubbles: true}));
        return norm(sel.options[sel.selectedIndex].text).toLowerCase() === role.toLowerCase();
      }
      const o = Array.from(d.querySelectorAll('[role=option],[role=radio],[role=menuitemradio]')).find((o) => label(o).toLowerCase() === role.toLowerCase());
      if (!o) return false;
      o.click();
      return true;
    },
    // button gives the point of the dialog's button whose words match re.
    button: (re) => {
      const ds = Array.from(document.querySelectorAll(dialogSel)).filter(visible);
      if (!ds.length) return null;
      const rx = new RegExp(re, 'i');
      const b = Array.from(ds[ds.length - 1].querySelectorAll('button,[role=button]')).filter(visible).filter(enabled).find((b) => rx.test(label(b)));
      return b ? where(b) : null;
    },
    // toasts are the page's live messages: role=status and role=alert
    // (the login page's own alerts are not toasts: no password field).
    toasts: () => Array.from(document.querySelectorAll('[role=status],[role=alert],[aria-live] > *')).filter(visible)
      .map((e) => ({text: norm(e.innerText), alert: e.getAttribute('role') === 'alert' || !!e.closest('[role=alert]')}))
      .filter((t) => t.text),
    // mask replaces, in the page's text and field values, every string
    // given (secrets found in what the screen shows) before a screenshot.
    mask: (secrets) => {
      let n = 0;
      const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
      for (let t = walk.nextNode(); t; t = walk.nextNode()) {
        let v = t.nodeValue;
        for (const s of secrets) if (v.includes(s)) { v = v.split(s).join('[REDACTED]'); n++; }
        if (v !== t.nodeValue) t.nodeValue = v;
      }
      for (const i of document.querySelectorAll('input,textarea')) {
        for (const s of secrets) if (i.value && i.value.includes(s)) { i.value = i.value.split(s).join('[REDACTED]'); n++; }
      }
      return n;
    },
    // shown is what the screen shows: the page's text and field values.
    shown: () => document.body.innerText + '\n' + Array.from(document.querySelectorAll('input:not([type=hidden]):not([type=password]),textarea')).map((i) => i.value).join('\n'),
  };
})();
true
