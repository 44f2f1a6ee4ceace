(function () {
  const root = document.getElementById('root');
  const C = (n) => CFG.cls + n;
  const labels = CFG.renamed
    ? {name: 'Person', email: 'Contact', role: 'Access', activity: 'Seen', groups: 'Teams', joined: 'Since', status: 'State'}
    : {name: 'Name', email: 'Email', role: 'Role', activity: 'Last activity', groups: 'Groups', joined: 'Joined', status: 'Status'};
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
      case 'groups': return 'All content';
      case 'joined': return '2024';
    }
    return '';
  }
  const rowH = 30, viewH = 360, overscan = 3;
  function rowHTML(m, cols, i, cellRole) {
    if (CFG.layout === 'table') {
      return '<tr class="' + C('tr') + '"' + (CFG.virtual ? ' style="height:' + rowH + 'px"' : '') + '>' + cols.map((c) => '<td class="' + C('td') + '">' + cell(m, c, i) + '</td>').join('') + '</tr>';
    }
    return '<div role="row" class="' + C('r') + '"' + (CFG.virtual ? ' style="height:' + rowH + 'px"' : '') + '>' + cols.map((c) => '<div role="' + cellRole + '" class="' + C('c') + '">' + cell(m, c, i) + '</div>').join('') + '</div>';
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
        cols.map((c) => '<th class="' + C('th') + '">' + labels[c] + '</th>').join('') + '</tr></thead><tbody data-v="' + (virt ? 1 : 0) + '">';
      h += body(rows, cols, win[0], win[1], 'cell') + '</tbody></table>';
    } else {
      const role = CFG.layout === 'grid' ? 'grid' : 'table', cellRole = CFG.layout === 'grid' ? 'gridcell' : 'cell';
      h = '<div role="' + role + '" class="' + C('g') + '" aria-labelledby="' + id + '"><div role="rowgroup"><div role="row" class="' + C('r') + '">' +
        cols.map((c) => '<div role="columnheader" class="' + C('ch') + '">' + labels[c] + '</div>').join('') + '</div></div><div role="rowgroup" data-v="' + (virt ? 1 : 0) + '">';
      h += body(rows, cols, win[0], win[1], cellRole) + '</div></div>';
    }
    if (virt) h = '<div class="' + C('vs') + '" style="height:' + viewH + 'px;overflow-y:auto">' + h + '</div>';
    return h;
  }
  let invitations = [];
  function listRows() {
    if (!CFG.inviteRows) return members;
    return members.concat(invitations.map((iv, i) => ({email: iv.email, role: iv.role, name: '', lastActive: '', status: i % 2 ? 'Pending' : 'Invited'})));
  }
  function render() {
    const all = listRows();
    const cols = CFG.inviteRows ? CFG.columns.concat(['status']) : CFG.columns;
    const shown = (CFG.inviteRows ? total + invitations.length : total) + CFG.countOffset;
    let h = '<style>.' + C('rc') + '::before{content:attr(data-r)}.' + C('ri') + '{display:inline-block;width:12px;height:12px;background:#88a;border-radius:6px}</style>';
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
          grid(invitations.map((i) => ({email: i.email, role: i.role, name: '', lastActive: ''})), ['email', 'role'], 'Pending invitations', 'ih', false);
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
