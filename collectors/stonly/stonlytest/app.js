(function () {
  const root = document.getElementById('root');
  const C = (n) => CFG.cls + n;
  const labels = CFG.renamed
    ? {name: 'Person', email: 'Contact', role: 'Access', activity: 'Seen', groups: 'Teams', joined: 'Since'}
    : {name: 'Name', email: 'Email', role: 'Role', activity: 'Last activity', groups: 'Groups', joined: 'Joined'};
  let members = [], total = 0, page = 0, loading = false;
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  async function get(url) {
    const r = await fetch(url, {credentials: 'same-origin'});
    if (r.status === 401) { location.href = '/login?expired=1'; throw new Error('expired'); }
    return r.json();
  }
  function esc(s) { const d = document.createElement('div'); d.textContent = s == null ? '' : String(s); return d.innerHTML; }
  function cell(m, col) {
    switch (col) {
      case 'name': return esc(m.name);
      case 'email': return esc(m.email);
      case 'role':
        if (CFG.roleSelect && m.role !== 'Owner') {
          return '<select aria-label="Role">' + ['Admin', 'Member'].map((r) =>
            '<option' + (r === m.role ? ' selected' : '') + '>' + r + '</option>').join('') + '</select>';
        }
        return '<span class="' + C('badge') + '">' + esc(m.role) + '</span>';
      case 'activity': {
        if (!m.lastActive || m.lastActive.startsWith('0001')) return 'Never';
        return '<time datetime="' + esc(m.lastActive) + '">' + esc(new Date(m.lastActive).toDateString()) + '</time>';
      }
      case 'groups': return 'All content';
      case 'joined': return '2024';
    }
    return '';
  }
  function grid(rows, cols, label, id) {
    if (CFG.layout === 'table') {
      let h = '<table class="' + C('tbl') + '" aria-labelledby="' + id + '"><thead><tr>' +
        cols.map((c) => '<th class="' + C('th') + '">' + labels[c] + '</th>').join('') + '</tr></thead><tbody>';
      h += rows.map((m) => '<tr class="' + C('tr') + '">' + cols.map((c) => '<td class="' + C('td') + '">' + cell(m, c) + '</td>').join('') + '</tr>').join('');
      return h + '</tbody></table>';
    }
    const role = CFG.layout === 'grid' ? 'grid' : 'table', cellRole = CFG.layout === 'grid' ? 'gridcell' : 'cell';
    let h = '<div role="' + role + '" class="' + C('g') + '" aria-labelledby="' + id + '"><div role="rowgroup"><div role="row" class="' + C('r') + '">' +
      cols.map((c) => '<div role="columnheader" class="' + C('ch') + '">' + labels[c] + '</div>').join('') + '</div></div><div role="rowgroup">';
    h += rows.map((m) => '<div role="row" class="' + C('r') + '">' + cols.map((c) => '<div role="' + cellRole + '" class="' + C('c') + '">' + cell(m, c) + '</div>').join('') + '</div>').join('');
    return h + '</div></div>';
  }
  let invitations = [];
  function render() {
    const shown = total + CFG.countOffset;
    let h = '<section class="' + C('sec') + '"><h2 id="mh" class="' + C('h2') + '">Members</h2>';
    if (!CFG.hideCount) h += '<p class="' + C('cnt') + '">' + shown + (shown === 1 ? ' member' : ' members') + '</p>';
    if (total === 0 && !CFG.silentEmpty) h += '<p>This team has no members yet.</p>';
    let rows = members;
    if (CFG.paging === 'pages') rows = members.slice(page * CFG.pageSize, (page + 1) * CFG.pageSize);
    h += grid(rows, CFG.columns, 'Members', 'mh');
    if (CFG.paging === 'pages') {
      const pages = Math.max(1, Math.ceil(total / CFG.pageSize));
      h += '<nav aria-label="Pagination" class="' + C('pg') + '"><button class="' + C('pb') + '" data-p="prev"' + (page === 0 ? ' disabled' : '') + '>Previous</button>';
      for (let i = 0; i < pages; i++) h += '<button class="' + C('pn') + '" data-p="' + i + '"' + (i === page ? ' aria-current="page"' : '') + '>' + (i + 1) + '</button>';
      h += '<button class="' + C('pb') + '" data-p="next"' + (page >= pages - 1 ? ' disabled' : '') + '>Next</button></nav>';
    }
    if (CFG.paging === 'loadmore' && members.length < total) h += '<button class="' + C('lm') + '" id="' + C('lm') + '">Load more</button>';
    if (CFG.paging === 'scroll' && members.length < total) h += '<div class="' + C('sentinel') + '" style="height:4px"></div><p>Loading more…</p>';
    h += '</section><section class="' + C('sec') + '"><h2 id="ih">Pending invitations</h2>';
    h += invitations.length === 0 ? '<p>No pending invitations.</p>' :
      grid(invitations.map((i) => ({email: i.email, role: i.role, name: '', lastActive: ''})), ['email', 'role'], 'Pending invitations', 'ih');
    h += '</section>';
    root.innerHTML = h;
    wire();
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
  function wire() {
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
  }
  (async function () {
    await sleep(CFG.renderDelay);
    const first = CFG.paging ? CFG.pageSize : 100000;
    const d = await get('/api/v1/teams/' + CFG.team + '/members?offset=0&limit=' + first);
    members = d.members || []; total = d.total;
    invitations = (await get('/api/v1/teams/' + CFG.team + '/invitations')).invitations || [];
    render();
  })();
})();
