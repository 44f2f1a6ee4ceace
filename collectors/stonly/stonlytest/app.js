(function () {
  const root = document.getElementById('root');
  const C = (n) => CFG.cls + n;
  const labels = CFG.renamed
    ? {name: 'Person', email: 'Contact', role: 'Access', activity: 'Seen', groups: 'Teams', joined: 'Since', status: 'State', actions: ''}
    : {name: 'Name', email: 'Email', role: 'Role', activity: 'Last activity', groups: 'Groups', joined: 'Joined', status: 'Status', actions: ''};
  let members = [], total = 0, page = 0, loading = false;
  let membersLoaded = false, invitesLoaded = false;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  async function get(url) {
    const r = await fetch(url, {credentials: 'same-origin'});
    if (r.status === 401) { location.href = '/login?expired=1'; throw new Error('expired'); }
    return r.json();
  }
  function esc(s) { const d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
  // A role shown without plain text, as icon-heavy designs do.
  function roleCell(m, i) {
    const r = esc(m.role);
    switch (CFG.roleStyle) {
      case 'icon': return '<span role="img" aria-label="' + r + '" class="' + C('ri') + '"></span>';
      case 'title': return '<span title="' + r + '" class="' + C('ri') + '"><i class="' + C('rg') + '"></i></span>';
      case 'css': return '<span class="' + C('rc') + '" data-r="' + r + '"></span>';
      case 'decorated': return '\n   <span class="' + C('badge') + '">' + r + ['', ' ▾', ' ⌄', '  '][i % 4] + '</span>\n ';
      case 'blank': return '<span class="' + C('badge') + '"></span>';
    }
    return '<span class="' + C('badge') + '">' + r + '</span>';
  }
  function cell(m, col, i) {
    switch (col) {
      case 'name': return esc(m.name);
      case 'email': return esc(m.email);
      case 'role':
        if (CFG.roleSelect && m.role !== 'Owner' && !m.status) {
          return '<select aria-label="Role">' + ['Admin', 'Member'].map((r) =>
            '<option' + (r === m.role ? ' selected' : '') + '>' + r + '</option>').join('') + '</select>';
        }
        return roleCell(m, i);
      case 'status': return esc(m.status || 'Active');
      case 'activity': {
        if (!m.lastActive || m.lastActive.startsWith('0001')) return 'Never';
        return '<time datetime="' + esc(m.lastActive) + '">' + esc(new Date(m.lastActive).toDateString()) + '</time>';
      }
      case 'actions': return kebab(m);
      case 'groups': return 'All content';
      case 'joined': return '2024';
    }
    return '';
  }
  // The actions column has no visible header, only one for screen readers.
  function head(c) { return c === 'actions' ? '<span class="' + C('sr') + '">Actions</span>' : labels[c]; }
  const rowH = 30, viewH = 360, overscan = 3;
  function rowHTML(m, cols, i, cellRole) {
    if (CFG.layout === 'table') {
      return '<tr class="' + C('tr') + (leaving.has(m.email) ? ' ' + C('gone') : '') + '"' + (CFG.virtual ? ' style="height:' + rowH + 'px"' : '') + '>' + cols.map((c) => '<td class="' + C('td') + '">' + cell(m, c, i) + '</td>').join('') + '</tr>';
    }
    return '<div role="row" class="' + C('r') + (leaving.has(m.email) ? ' ' + C('gone') : '') + '"' + (CFG.virtual ? ' style="height:' + rowH + 'px"' : '') + '>' + cols.map((c) => '<div role="' + cellRole + '" class="' + C('c') + '">' + cell(m, c, i) + '</div>').join('') + '</div>';
  }
  // body renders rows[from:to), with spacers standing in for the rest
  // when the list is virtualised.
  function body(rows, cols, from, to, cellRole) {
    let h = '';
    const spacer = (n) => CFG.layout === 'table'
      ? '<tr aria-hidden="true" style="height:' + (n * rowH) + 'px"></tr>'
      : '<div aria-hidden="true" style="height:' + (n * rowH) + 'px"></div>';
    if (from > 0) h += spacer(from);
    for (let i = from; i < to; i++) h += rowHTML(rows[i], cols, i, cellRole);
    if (to < rows.length) h += spacer(rows.length - to);
    return h;
  }
  function grid(rows, cols, label, id, virt) {
    const win = virt ? [0, Math.min(rows.length, Math.ceil(viewH / rowH) + overscan)] : [0, rows.length];
    let h;
    if (CFG.layout === 'table') {
      h = '<table class="' + C('tbl') + '" aria-labelledby="' + id + '"><thead><tr>' +
        cols.map((c) => '<th class="' + C('th') + '">' + head(c) + '</th>').join('') + '</tr></thead><tbody data-v="' + (virt ? 1 : 0) + '">';
      h += body(rows, cols, win[0], win[1], 'cell') + '</tbody></table>';
    } else {
      const role = CFG.layout === 'grid' ? 'grid' : 'table', cellRole = CFG.layout === 'grid' ? 'gridcell' : 'cell';
      h = '<div role="' + role + '" class="' + C('g') + '" aria-labelledby="' + id + '"><div role="rowgroup"><div role="row" class="' + C('r') + '">' +
        cols.map((c) => '<div role="columnheader" class="' + C('ch') + '">' + head(c) + '</div>').join('') + '</div></div><div role="rowgroup" data-v="' + (virt ? 1 : 0) + '">';
      h += body(rows, cols, win[0], win[1], cellRole) + '</div></div>';
    }
    if (virt) h = '<div class="' + C('vs') + '" style="height:' + viewH + 'px;overflow-y:auto">' + h + '</div>';
    return h;
  }
  let invitations = [];
  // Admin controls, in the shapes admin consoles use (WAI-ARIA APG "Menu
  // Button" and "Alert and Message Dialogs" patterns): a row's "⋯" menu
  // button opens a role=menu; destructive items ask in a role=alertdialog;
  // the server's answer is a toast (role=status, or role=alert on error);
  // a removed row fades and disappears after a delay. With CFG.portal the
  // menus and dialogs render at the end of body and a menu opens on
  // pointerdown, as Radix UI's DropdownMenu (a React portal) does.
  const leaving = new Set();
  // A virtualised list recycles its rows as it scrolls, so its menus and
  // dialogs live in a portal (react-window with Radix).
  const portal = CFG.portal || CFG.virtual;
  function kebab(m) {
    const key = esc(m.email);
    return '<button type="button" class="' + C('kb') + '" aria-haspopup="menu" aria-expanded="false" aria-label="More actions for ' + key +
      '" data-kebab="' + key + '" data-kind="' + (m.invite ? 'invite' : 'member') + '">⋯</button>';
  }
  function find(email, kind) {
    if (kind === 'invite') return invitations.find((i) => i.email === email);
    return members.find((m) => m.email === email);
  }
  let open = null; // the open menu: {menu, button}
  function closeMenu() {
    if (!open) return;
    open.button.setAttribute('aria-expanded', 'false');
    open.button.removeAttribute('aria-controls');
    open.menu.remove();
    open = null;
  }
  let menuSeq = 0;
  function openMenu(btn) {
    closeMenu();
    const email = btn.getAttribute('data-kebab'), kind = btn.getAttribute('data-kind');
    const who = find(email, kind);
    if (!who) return;
    let items;
    if (kind === 'invite') items = [['Resend invitation', () => toast('Invitation sent again to ' + email, false)], ['Revoke invitation', () => confirmRevoke(who)]];
    else if (who.role === 'Owner') items = [['Transfer ownership', () => toast('Only the Owner can transfer ownership of this team.', false)]]; // no remove, no role change
    else items = [['Change role', () => changeRole(who)], [CFG.renamedMenu ? 'Deactivate member' : 'Remove from team', () => confirmRemove(who)]];
    const menu = document.createElement('div');
    menu.setAttribute('role', 'menu');
    menu.id = C('m') + (++menuSeq);
    menu.className = C('menu');
    menu.setAttribute('aria-label', 'Actions for ' + email);
    menu.style.cssText = 'background:#fff;border:1px solid #ccd;box-shadow:0 2px 8px #0003;padding:4px;z-index:50;min-width:180px;';
    for (const [label, run] of items) {
      const it = document.createElement('div');
      it.setAttribute('role', 'menuitem');
      it.tabIndex = -1;
      it.className = C('mi');
      it.style.cssText = 'padding:6px 10px;cursor:pointer';
      it.textContent = label;
      it.addEventListener('click', () => { closeMenu(); run(); });
      menu.appendChild(it);
    }
    btn.setAttribute('aria-expanded', 'true');
    if (portal) {
      const r = btn.getBoundingClientRect();
      // Placed below the button, or above it when the window has no room
      // below (as floating-ui's flip does).
      menu.style.position = 'fixed';
      menu.style.left = Math.max(0, r.right - 180) + 'px';
      menu.style.top = (r.bottom + 2) + 'px';
      menu.style.visibility = 'hidden';
      btn.setAttribute('aria-controls', menu.id);
      const wrap = document.createElement('div');
      wrap.setAttribute('data-radix-popper-content-wrapper', '');
      wrap.appendChild(menu);
      document.body.appendChild(wrap);
      const h = menu.getBoundingClientRect().height;
      if (r.bottom + 2 + h > window.innerHeight) menu.style.top = Math.max(0, r.top - 2 - h) + 'px';
      menu.style.visibility = '';
      open = {menu: wrap, button: btn};
    } else {
      menu.style.position = 'absolute';
      btn.parentElement.style.position = 'relative';
      btn.insertAdjacentElement('afterend', menu);
      open = {menu: menu, button: btn};
    }
  }
  const onTrigger = (ev) => {
    const btn = ev.target.closest && ev.target.closest('[data-kebab]');
    if (!btn) {
      if (open && !open.menu.contains(ev.target)) closeMenu();
      return;
    }
    if (portal && ev.type === 'pointerdown' && ev.button !== 0) return;
    ev.preventDefault();
    if (open && open.button === btn) closeMenu(); else openMenu(btn);
  };
  // A portal menu opens on pointerdown (a script's element.click() does
  // not open it, a real click does); an inline one on click.
  document.addEventListener(portal ? 'pointerdown' : 'click', onTrigger);
  document.addEventListener('keydown', (e) => { if (e.key === 'Escape') { closeMenu(); closeDialog(); } });
  let dlg = null;
  function closeDialog() { if (dlg) { dlg.remove(); dlg = null; } }
  function dialog(role, title, bodyHTML, buttons) {
    closeDialog();
    const back = document.createElement('div');
    back.style.cssText = 'position:fixed;inset:0;background:#0004;display:flex;align-items:center;justify-content:center;z-index:60';
    const d = document.createElement('div');
    d.setAttribute('role', role);
    d.setAttribute('aria-modal', 'true');
    d.setAttribute('aria-labelledby', C('dt'));
    d.setAttribute('aria-describedby', C('dd'));
    d.className = C('dlg');
    d.style.cssText = 'background:#fff;padding:16px 20px;max-width:460px;border-radius:6px';
    d.innerHTML = '<h2 id="' + C('dt') + '">' + esc(title) + '</h2><div id="' + C('dd') + '">' + bodyHTML + '</div><div class="' + C('dbar') + '"></div>';
    const bar = d.querySelector('.' + C('dbar'));
    for (const [label, run, primary] of buttons) {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = label;
      b.className = C(primary ? 'bp' : 'bs');
      b.addEventListener('click', run);
      bar.appendChild(b);
    }
    back.appendChild(d);
    (portal ? document.body : document.getElementById(C('layer')) || document.body).appendChild(back);
    dlg = back;
    return d;
  }
  function toast(text, error) {
    let box = document.getElementById(C('toasts'));
    if (!box) {
      box = document.createElement('div');
      box.id = C('toasts');
      box.className = C('toasts');
      box.style.cssText = 'position:fixed;bottom:16px;right:16px;z-index:70';
      document.body.appendChild(box);
    }
    const t = document.createElement('div');
    t.setAttribute('role', error ? 'alert' : 'status');
    t.className = C(error ? 'terr' : 'tok');
    t.style.cssText = 'background:' + (error ? '#a22' : '#263') + ';color:#fff;padding:8px 12px;margin-top:6px;border-radius:4px';
    t.textContent = text;
    box.appendChild(t);
    setTimeout(() => t.remove(), 8000);
  }
  async function send(method, url, body) {
    const st = window.__APP_STATE__ || {};
    const r = await fetch(url, {method: method, credentials: 'same-origin',
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': st.csrfToken || ''}, body: body ? JSON.stringify(body) : undefined});
    if (r.status === 401) { location.href = '/login?expired=1'; throw new Error('expired'); }
    let d = {};
    try { d = await r.json(); } catch (e) { d = {}; }
    if (!r.ok) {
      closeDialog();
      toast(r.status >= 500 || !d.message ? 'Something went wrong. Please try again.' : d.message, true);
      return null;
    }
    return d;
  }
  const api = (kind, email) => '/api/v1/teams/' + encodeURIComponent(CFG.team) + '/' + (kind === 'invite' ? 'invitations' : 'members') + '/' + encodeURIComponent(email);
  function who(m) { return m.name ? '<strong>' + esc(m.name) + '</strong> (' + esc(m.email) + ')' : '<strong>' + esc(m.email) + '</strong>'; }
  function disappear(kind, email) {
    leaving.add(email);
    render();
    setTimeout(() => {
      leaving.delete(email);
      if (kind === 'invite') invitations = invitations.filter((i) => i.email !== email);
      else { members = members.filter((m) => m.email !== email); total--; }
      render();
    }, CFG.removeDelay);
  }
  function confirmRemove(m) {
    dialog('alertdialog', 'Remove member', 'Remove ' + who(m) + ' from ' + esc(CFG.teamName) + '? They will lose access to this team at once.', [
      ['Cancel', closeDialog, false],
      ['Remove', async () => {
        const d = await send('DELETE', api('member', m.email));
        if (!d) return;
        closeDialog();
        toast('Member removed', false);
        disappear('member', m.email);
      }, true]]);
  }
  function confirmRevoke(iv) {
    dialog('alertdialog', 'Revoke invitation', 'Revoke the invitation sent to ' + who(iv) + '? The link in their e-mail will stop working.', [
      ['Cancel', closeDialog, false],
      ['Revoke', async () => {
        const d = await send('DELETE', api('invite', iv.email));
        if (!d) return;
        closeDialog();
        toast('Invitation revoked', false);
        disappear('invite', iv.email);
      }, true]]);
  }
  function changeRole(m) {
    // Ownership is transferred, not assigned: the Owner is not offered.
    const opts = ['Admin', 'Member'].map((r) => '<option' + (r === m.role ? ' selected' : '') + '>' + r + '</option>').join('');
    const d = dialog('dialog', 'Change role', '<p>Choose the role of ' + who(m) + ' in ' + esc(CFG.teamName) + '.</p><label>Role <select aria-label="New role" class="' + C('rs') + '">' + opts + '</select></label>', [
      ['Cancel', closeDialog, false],
      ['Save', async () => {
        const role = d.querySelector('select').value;
        const res = await send('PATCH', api('member', m.email), {role: role});
        if (!res) return;
        closeDialog();
        const x = members.find((y) => y.email === m.email);
        if (x) x.role = res.role || role;
        toast('Role updated', false);
        render();
      }, true]]);
  }

  function listRows() {
    if (!CFG.inviteRows) return members;
    return members.concat(invitations.map((iv, i) => ({email: iv.email, role: iv.role, name: '', lastActive: '', status: i % 2 ? 'Pending' : 'Invited', invite: true})));
  }
  function render() {
    const all = listRows();
    const cols = (CFG.inviteRows ? CFG.columns.concat(['status']) : CFG.columns).concat(['actions']);
    const shown = (CFG.inviteRows ? total + invitations.length : total) + CFG.countOffset;
    let h = '<style>.' + C('sr') + '{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}.' + C('gone') + '{opacity:.4}.' + C('rc') + '::before{content:attr(data-r)}.' + C('ri') + '{display:inline-block;width:12px;height:12px;background:#88a;border-radius:6px}</style>';
    h += '<section class="' + C('sec') + '"><h2 id="mh" class="' + C('h2') + '">Members</h2>';
    // A hint an Admin sees too: it must not read as a refusal.
    h += '<p class="' + C('hint') + '">Only the Owner can transfer ownership of this team.</p>';
    if (membersLoaded && !CFG.hideCount) h += '<p class="' + C('cnt') + '">' + shown + (shown === 1 ? ' member' : ' members') + '</p>';
    if (membersLoaded && all.length === 0 && !CFG.silentEmpty) h += '<p>This team has no members yet.</p>';
    let rows = membersLoaded ? all : [];
    if (CFG.paging === 'pages') rows = rows.slice(page * CFG.pageSize, (page + 1) * CFG.pageSize);
    h += grid(rows, cols, 'Members', 'mh', CFG.virtual);
    if (CFG.paging === 'pages') {
      const pages = Math.max(1, Math.ceil(total / CFG.pageSize));
      h += '<nav aria-label="Pagination" class="' + C('pg') + '"><button class="' + C('pb') + '" data-p="prev"' + (page === 0 ? ' disabled' : '') + '>Previous</button>';
      for (let i = 0; i < pages; i++) h += '<button class="' + C('pn') + '" data-p="' + i + '"' + (i === page ? ' aria-current="page"' : '') + '>' + (i + 1) + '</button>';
      h += '<button class="' + C('pb') + '" data-p="next"' + (page >= pages - 1 ? ' disabled' : '') + '>Next</button></nav>';
    }
    if (CFG.paging === 'loadmore' && members.length < total) h += '<button class="' + C('lm') + '" id="' + C('lm') + '">Load more</button>';
    if (CFG.paging === 'scroll' && members.length < total) h += '<div class="' + C('sentinel') + '" style="height:4px"></div><p>Loading more…</p>';
    h += '</section>';
    if (!CFG.inviteRows) {
      h += '<section class="' + C('sec') + '"><h2 id="ih">Pending invitations</h2>';
      if (invitesLoaded) {
        h += invitations.length === 0 ? '<p>No pending invitations.</p>' :
          grid(invitations.map((i) => ({email: i.email, role: i.role, name: '', lastActive: '', invite: true})), ['email', 'role', 'actions'], 'Pending invitations', 'ih', false);
      }
      h += '</section>';
    }
    // A virtualised list keeps its scroll position across renders.
    const vs = root.querySelector('.' + C('vs'));
    const top = vs ? vs.scrollTop : 0;
    root.innerHTML = h;
    wire(rows, cols);
    const nvs = root.querySelector('.' + C('vs'));
    if (nvs && top) { nvs.scrollTop = top; windowRows(nvs, rows, cols); }
  }
  // windowRows renders the rows in view of the scrolling container.
  function windowRows(vs, rows, cols) {
    const from = Math.max(0, Math.floor(vs.scrollTop / rowH) - overscan);
    const to = Math.min(rows.length, Math.ceil((vs.scrollTop + viewH) / rowH) + overscan);
    const tb = vs.querySelector('[data-v="1"]');
    tb.innerHTML = body(rows, cols, from, to, CFG.layout === 'grid' ? 'gridcell' : 'cell');
  }
  async function fetchMore() {
    if (loading) return;
    loading = true;
    await sleep(CFG.loadDelay);
    const d = await get('/api/v1/teams/' + CFG.team + '/members?offset=' + members.length + '&limit=' + CFG.pageSize);
    members = members.concat(d.members || []); total = d.total;
    loading = false;
    render();
  }
  function wire(rows, cols) {
    root.querySelectorAll('[data-p]').forEach((b) => b.addEventListener('click', async () => {
      const p = b.getAttribute('data-p');
      const pages = Math.ceil(total / CFG.pageSize);
      const want = p === 'next' ? page + 1 : p === 'prev' ? page - 1 : +p;
      if (want < 0 || want >= pages) return;
      while (members.length < Math.min(total, (want + 1) * CFG.pageSize)) {
        await sleep(CFG.loadDelay);
        const d = await get('/api/v1/teams/' + CFG.team + '/members?offset=' + members.length + '&limit=' + CFG.pageSize);
        members = members.concat(d.members || []);
      }
      page = want; render();
    }));
    const lm = document.getElementById(C('lm'));
    if (lm) lm.addEventListener('click', fetchMore);
    const s = root.querySelector('.' + C('sentinel'));
    if (s) {
      const io = new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting)) { io.disconnect(); fetchMore(); } });
      io.observe(s);
    }
    const vs = root.querySelector('.' + C('vs'));
    if (vs) vs.addEventListener('scroll', () => windowRows(vs, rows, cols));
  }
  async function loadInvitations() {
    invitations = (await get('/api/v1/teams/' + CFG.team + '/invitations')).invitations || [];
    invitesLoaded = true;
  }
  (async function () {
    if (CFG.staged) render(); // headers at once, rows later
    await sleep(CFG.renderDelay);
    const first = CFG.paging && CFG.paging !== 'virtual' ? CFG.pageSize : 100000;
    const d = await get('/api/v1/teams/' + CFG.team + '/members?offset=0&limit=' + first);
    members = d.members || []; total = d.total;
    if (CFG.staged && !CFG.inviteRows) {
      membersLoaded = true;
      render();
      await sleep(CFG.inviteDelay);
      await loadInvitations();
    } else {
      await loadInvitations();
      membersLoaded = true;
    }
    render();
  })();
})();
