"""The review page's inline CSS and its per-query explorer (plain JS, no library): rendered from the embedded JSON
that rag.report_page writes, so 500 queries × several arms filter by rebuilding one table body, and a query's
documents and answers are rendered only when it is opened."""

STYLE = """
:root{--ok:#1a7f37;--bad:#c0392b;--muted:#666;--line:#ddd}
body{font:15px/1.45 system-ui,-apple-system,Segoe UI,sans-serif;margin:0 auto;max-width:1360px;padding:0 1.2em 3em;
color:#222}
header{display:flex;align-items:baseline;gap:2em;border-bottom:2px solid var(--line);margin-bottom:.4em}
h1{font-size:22px;margin:.6em 0 .4em}nav a{margin-right:1.1em;color:#1f5fa8;text-decoration:none}
h2{border-bottom:2px solid var(--line);padding-bottom:.2em;margin-top:1.6em;font-size:19px}h3{font-size:16px}
table{border-collapse:collapse;margin:.5em 0;font-size:13px}th,td{border:1px solid #d6d6d6;padding:3px 8px;
text-align:left;vertical-align:top}th{background:#f4f4f4}code{background:#f3f3f3;padding:0 3px;font-size:12px}
pre{background:#f6f6f6;padding:.6em;overflow:auto;font-size:12px;white-space:pre-wrap}
.missing{color:var(--muted);font-style:italic}.intro{margin:.4em 0 .1em;color:#333}
ul.headline{list-style:none;padding:0;margin:.2em 0 .5em;font-size:17px}
ul.headline li{padding:.25em .6em;border-left:5px solid #bbb;margin:.25em 0;background:#fafafa}
ul.headline li.verdict-better{border-color:var(--ok)}ul.headline li.verdict-worse{border-color:var(--bad)}
.word{text-transform:uppercase;font-size:13px;letter-spacing:.04em}
.verdict-better .word{color:var(--ok)}.verdict-worse .word{color:var(--bad)}.verdict-no .word{color:var(--muted)}
table.cards{font-size:14px}table.cards td{white-space:nowrap;padding:4px 12px}
table.cards .v{font-size:18px;font-weight:600;display:inline}
.d{font-size:12.5px;display:inline;margin-left:.6em}.better,td.better{color:var(--ok)}.worse,td.worse{color:var(--bad)}.no{color:var(--muted)}
.charts{display:flex;flex-wrap:wrap;gap:.6em 1.2em;align-items:flex-start}
svg.chart{max-width:100%;height:auto;font:11px system-ui,sans-serif;background:#fff}
svg .t{font-size:12.5px;font-weight:600;text-anchor:middle}svg .tick{fill:#555;text-anchor:middle}
svg .lab{text-anchor:end;font-size:12px}svg .ytick{fill:#555;text-anchor:end}svg .pair{font-weight:700;font-size:12.5px}svg .leg{font-size:12px}svg .in{fill:#fff;font-size:11px;text-anchor:middle}
svg .grid{stroke:#e6e6e6}svg .zero{stroke:#444;stroke-dasharray:3 3}
table.grid td,table.grid th{white-space:nowrap}table.compact td{text-align:right}
details{margin:.6em 0}summary{cursor:pointer;color:#1f5fa8}
.controls{position:sticky;top:0;z-index:2;background:#fff;padding:.5em 0;border-bottom:1px solid var(--line);
display:flex;flex-wrap:wrap;gap:.5em 1em;align-items:center}
.controls select,.controls input{font:inherit;padding:2px 4px;width:auto}.controls input[type=search]{width:20em}
.chips button{font:inherit;font-size:13px;border:1px solid #bbb;background:#f7f7f7;border-radius:14px;
padding:2px 10px;margin-right:3px;cursor:pointer}.chips button.on{background:#1f5fa8;color:#fff;border-color:#1f5fa8}
#qtable{width:100%}#qtable tr.q{cursor:pointer}#qtable tr.q:hover{background:#f2f7fd}
#qtable td.n{text-align:right;white-space:nowrap}
.o{font-size:12px;padding:0 7px;border-radius:8px;background:#eee;white-space:nowrap}
.up{color:var(--ok)}.down{color:var(--bad)}.o.fixed{background:#d8f0dd;color:#135d29}.o.regressed{background:#f8d9d5;color:#8e2418}
.detail td{background:#fcfcfc}.arms{display:flex;gap:.8em;flex-wrap:wrap}
.armcol{flex:1 1 300px;min-width:280px;border-top:4px solid #999;padding:.3em .5em;background:#fff}
.armcol h4{margin:.1em 0 .3em}.docs{padding-left:1.6em;margin:.3em 0;font-size:13px}.docs li{margin:.25em 0}
.docs li.rel{background:#e7f5ea}.docs .snip{color:#555;font-size:12px}.relmark{color:var(--ok);font-weight:700}
.answer{font-size:13.5px;margin-top:.4em;white-space:pre-wrap}.yes{color:var(--ok);font-weight:600}
.nope{color:var(--bad);font-weight:600}.diff{display:flex;gap:1em}.diff>div{flex:1;font-size:13.5px;
background:#fff;border:1px solid var(--line);padding:.4em .6em;white-space:pre-wrap}
del{background:#fbd6d1;text-decoration:none}ins{background:#cdeed4;text-decoration:none}
ul.facts{font-size:13.5px}
"""

SCRIPT = r"""
(function () {
  const D = JSON.parse(document.getElementById('explorer-data').textContent);
  const root = document.getElementById('explorer-root');
  if (!root) return;
  if (!D.queries.length) { root.innerHTML = '<p class="missing">No per-query results here yet.</p>'; return; }
  const COLOURS = ['#1f77b4','#ff7f0e','#2ca02c','#d62728','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22'];
  const LABEL = {fixed: 'fixed', regressed: 'regressed', both_hit: 'both hit', both_miss: 'both miss'};
  const esc = s => String(s).replace(/[&<>"]/g, c => ({'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]));
  const ranked = D.arms.filter(a => D.queries.some(q => (q.r && a in q.r) || (q.r4 && a in q.r4)));
  const answered = new Set(D.answerArms);
  D.queries.forEach((q, i) => {
    q.i = i;
    q.words = (q.id + ' ' + q.q + ' ' + Object.values(q.a || {}).join(' ')).toLowerCase();
  });
  const state = {a: ranked[0], b: ranked.find(x => x !== ranked[0] && !D.brackets.includes(x)) || ranked[1],
                 outcome: '', text: '', sort: '', limit: 600, answered: false};
  const nAnswered = D.queries.filter(q => q.a).length;

  // step 3's ranks decide a pair's outcome at its fix-k when both arms ran there, else step 4's at its top-k
  function source(a, b) {
    return D.retrievalArms.includes(a) && D.retrievalArms.includes(b) ? ['r', D.fixK] : ['r4', D.topK];
  }
  function rank(q, arm, src) { const m = q[src]; return m && arm in m ? m[arm] : null; }
  function outcome(q, a, b) {
    const [s, k] = source(a, b), ra = rank(q, a, s), rb = rank(q, b, s);
    if (ra === null || rb === null) return null;
    const ha = ra > 0 && ra <= k, hb = rb > 0 && rb <= k;
    return hb && !ha ? 'fixed' : ha && !hb ? 'regressed' : hb ? 'both_hit' : 'both_miss';
  }
  function change(q, a, b) {
    const [s] = source(a, b), ra = rank(q, a, s), rb = rank(q, b, s);
    if (ra === null || rb === null) return null;
    const none = D.depth + 1;
    return (ra || none) - (rb || none);
  }
  const rankText = r => r === null || r === undefined ? '–' : r === 0 ? 'none' : String(r);
  const opts = sel => ranked.map(a => `<option${a === sel ? ' selected' : ''}>${esc(a)}</option>`).join('');

  root.innerHTML =
    `<div class="controls" id="controls">compare <select id="arm-a">${opts(state.a)}</select> →
     <select id="arm-b">${opts(state.b)}</select><span class="chips" id="chips"></span>
     <input id="search" type="search" placeholder="search queries and answers">
     ${nAnswered && nAnswered < D.queries.length ? `<label><input type="checkbox" id="answered">
       only the ${nAnswered} answered in step 4</label>` : ''}
     <label>sort <select id="sort"><option value="">as evaluated</option>
     <option value="gain">rank change: most improved first</option>
     <option value="loss">rank change: most worsened first</option></select></label>
     <span><b id="shown"></b> of ${D.queries.length} queries</span></div>
     <p class="note" id="rule"></p>
     <table id="qtable"><thead></thead><tbody></tbody></table><div id="more"></div>`;
  const tbody = root.querySelector('#qtable tbody'), thead = root.querySelector('#qtable thead');

  function chips(counts) {
    const items = [['', 'all', D.queries.length], ...Object.keys(LABEL).map(o => [o, LABEL[o], counts[o] || 0])];
    root.querySelector('#chips').innerHTML = items.map(([o, l, n]) =>
      `<button data-outcome="${o}" class="${o === state.outcome ? 'on' : ''}">${l} <small>${n}</small></button>`
    ).join('');
  }

  function render() {
    const t0 = performance.now();
    const a = state.a, b = state.b, [src, k] = source(a, b);
    const counts = {};
    const text = state.text.toLowerCase();
    let rows = [];
    for (const q of D.queries) {
      q.o = outcome(q, a, b); q.dr = change(q, a, b);
      if (q.o) counts[q.o] = (counts[q.o] || 0) + 1;
      if (state.outcome && q.o !== state.outcome) continue;
      if (text && !q.words.includes(text)) continue;
      if (state.answered && !q.a) continue;
      rows.push(q);
    }
    if (state.sort) {
      const sign = state.sort === 'gain' ? -1 : 1;
      rows = rows.slice().sort((x, y) => (x.dr === null) - (y.dr === null) || sign * ((x.dr || 0) - (y.dr || 0)));
    }
    chips(counts);
    root.querySelector('#rule').textContent = src === 'r'
      ? `fixed: ${a} has no relevant document in its top ${k} and ${b} has (step 3, Hit@${k}); regressed: the reverse.`
      : `fixed: ${a} has no relevant passage among the ${k} in its prompt and ${b} has (step 4); regressed: the reverse.`;
    const withAnswers = answered.has(a) || answered.has(b);
    thead.innerHTML = `<tr><th>query</th><th>outcome</th><th>first relevant rank: ${esc(a)}</th><th>${esc(b)}</th>` +
      `<th>rank change</th>${withAnswers ? `<th>answer ${esc(a)}</th><th>answer ${esc(b)}</th>` : ''}</tr>`;
    const mark = (q, arm) => !q.c || !(arm in q.c) || q.c[arm] === null ? '' :
      q.c[arm] ? '<span class="yes">✓ correct</span>' : '<span class="nope">✗ wrong</span>';
    const html = [];
    for (const q of rows.slice(0, state.limit)) {
      html.push(`<tr class="q" data-i="${q.i}" data-id="${esc(q.id)}" data-outcome="${q.o || ''}">` +
        `<td>${esc(q.q || q.id)}</td><td>${q.o ? `<span class="o ${q.o}">${LABEL[q.o]}</span>` : ''}</td>` +
        `<td class="n">${rankText(rank(q, a, src))}</td><td class="n">${rankText(rank(q, b, src))}</td>` +
        `<td class="n">${q.dr === null ? '' : q.dr > 0 ? '<span class="up">▲ ' + q.dr + '</span>' : q.dr < 0 ?
          '<span class="down">▼ ' + (-q.dr) + '</span>' : '='}</td>` +
        (withAnswers ? `<td>${mark(q, a)}</td><td>${mark(q, b)}</td>` : '') + '</tr>');
    }
    tbody.innerHTML = html.join('');
    root.querySelector('#shown').textContent = rows.length;
    root.querySelector('#more').innerHTML = rows.length > state.limit
      ? `<button id="show-more">show ${rows.length - state.limit} more</button>` : '';
    window.__explorerRenderMs = performance.now() - t0;
  }

  function words(s) { return (s || '').split(/(\s+)/).filter(w => w.length); }
  function diff(x, y) {  // word-level LCS; answers are short
    const a = words(x), b = words(y), n = a.length, m = b.length;
    const L = Array.from({length: n + 1}, () => new Uint16Array(m + 1));
    for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--)
      L[i][j] = a[i] === b[j] ? L[i + 1][j + 1] + 1 : Math.max(L[i + 1][j], L[i][j + 1]);
    const left = [], right = [];
    let i = 0, j = 0;
    while (i < n && j < m) {
      if (a[i] === b[j]) { left.push(esc(a[i])); right.push(esc(b[j])); i++; j++; }
      else if (L[i + 1][j] >= L[i][j + 1]) left.push(/^\s+$/.test(a[i]) ? a[i] : `<del>${esc(a[i])}</del>`), i++;
      else right.push(/^\s+$/.test(b[j]) ? b[j] : `<ins>${esc(b[j])}</ins>`), j++;
    }
    for (; i < n; i++) left.push(`<del>${esc(a[i])}</del>`);
    for (; j < m; j++) right.push(`<ins>${esc(b[j])}</ins>`);
    return [left.join(''), right.join('')];
  }

  function armColumn(q, arm) {
    const colour = COLOURS[D.arms.indexOf(arm) % COLOURS.length];
    const rel = new Set(q.rel);
    const docs = (q.t && q.t[arm]) || [];
    const r3 = q.r && arm in q.r ? q.r[arm] : null, r4 = q.r4 && arm in q.r4 ? q.r4[arm] : null;
    const facts = [];
    if (r3 !== null) facts.push(`first relevant rank <b>${r3 || 'none in the top ' + D.depth}</b>`);
    if (r4 !== null && r3 === null) facts.push(`first relevant passage in the prompt: <b>${r4 || 'none'}</b>`);
    const list = docs.map(d => {
      const [id, title, snip] = D.docs[d];
      return `<li class="${rel.has(d) ? 'rel' : ''}"><b>${esc(title)}</b> <code>${esc(id)}</code>` +
        (rel.has(d) ? ' <span class="relmark">✓ relevant</span>' : '') +
        (snip ? `<div class="snip">${esc(snip)}</div>` : '') + '</li>';
    }).join('');
    const answer = q.a && arm in q.a
      ? `<div class="answer"><b>answer</b> ${q.c[arm] === null ? '' : q.c[arm] ? '<span class="yes">✓ correct</span>'
        : '<span class="nope">✗ wrong</span>'}<br>${esc(q.a[arm]) || '<i>(empty)</i>'}</div>` : '';
    return `<div class="armcol" data-arm="${esc(arm)}" style="border-top-color:${colour}"><h4>${esc(arm)}</h4>` +
      `<div>${facts.join(' · ')}</div>` +
      (docs.length ? `<ol class="docs">${list}</ol>` : '<p class="missing">no documents (the question alone)</p>') +
      answer + '</div>';
  }

  function detail(q) {
    const arms = D.arms.filter(arm => (q.t && arm in q.t) || (q.a && arm in q.a));
    const relevant = q.rel.map(d => `${esc(D.docs[d][1])} <code>${esc(D.docs[d][0])}</code>`).join('; ') || 'none';
    let sideBySide = '';
    if (q.a && state.a in q.a && state.b in q.a) {
      const [x, y] = diff(q.a[state.a], q.a[state.b]);
      sideBySide = `<h4>answers side by side (words only in one of them marked)</h4><div class="diff">` +
        `<div><b>${esc(state.a)}</b><br>${x}</div><div><b>${esc(state.b)}</b><br>${y}</div></div>`;
    }
    return `<tr class="detail" data-for="${esc(q.id)}"><td colspan="7"><p><code>${esc(q.id)}</code> · relevant: ` +
      `${relevant}</p>${sideBySide}<div class="arms">${arms.map(arm => armColumn(q, arm)).join('')}</div></td></tr>`;
  }

  root.addEventListener('click', ev => {
    const chip = ev.target.closest('#chips button');
    if (chip) { state.outcome = chip.dataset.outcome; state.limit = 600; render(); return; }
    if (ev.target.id === 'show-more') { state.limit += 600; render(); return; }
    const tr = ev.target.closest('tr.q');
    if (!tr) return;
    const next = tr.nextElementSibling;
    if (next && next.classList.contains('detail')) { next.remove(); return; }
    tr.insertAdjacentHTML('afterend', detail(D.queries[+tr.dataset.i]));
  });
  root.querySelector('#arm-a').addEventListener('change', e => { state.a = e.target.value; render(); });
  root.querySelector('#arm-b').addEventListener('change', e => { state.b = e.target.value; render(); });
  const only = root.querySelector('#answered');
  if (only) only.addEventListener('change', e => { state.answered = e.target.checked; render(); });
  root.querySelector('#sort').addEventListener('change', e => { state.sort = e.target.value; render(); });
  let timer;
  root.querySelector('#search').addEventListener('input', e => {
    clearTimeout(timer);
    timer = setTimeout(() => { state.text = e.target.value.trim(); state.limit = 600; render(); }, 60);
  });
  render();
})();
"""
