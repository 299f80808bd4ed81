/*
 * The admin page's only two static files, served from memory (no CDN, no build step, works
 * offline). The script is plain ES2017 for any browser a till may have; it never builds HTML from
 * data itself except through textContent, and inserts only the fragments the server rendered
 * (and escaped) at /ui/*.
 */

export const APP_CSS = String.raw`
:root { --fg: #1d232a; --muted: #5b6670; --bg: #f4f6f8; --panel: #fff; --line: #d9dee3; --ok: #1e7b34; --bad: #b3261e; --warn: #a05a00; --accent: #0b5cad; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
html { font-size: 16px; }
body { margin: 0; font: 1rem/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif; color: var(--fg); background: var(--bg); }
header { padding: .75rem 1rem; background: var(--panel); border-bottom: 1px solid var(--line); }
h1 { font-size: 1.25rem; margin: 0; }
h2 { font-size: 1.1rem; margin: 0 0 .5rem; }
h2 small { font-weight: normal; color: var(--muted); font-size: .8rem; }
h3 { font-size: .9rem; margin: 0; color: var(--muted); font-weight: 600; }
.who, .refreshed { margin: .2rem 0 0; color: var(--muted); font-size: .85rem; word-break: break-all; }
.refreshed.bad { color: var(--bad); }
main { padding: .75rem; max-width: 72rem; margin: 0 auto; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(13rem, 1fr)); gap: .75rem; margin-bottom: .75rem; }
.card { background: var(--panel); border: 1px solid var(--line); border-left: .4rem solid var(--line); border-radius: .4rem; padding: .6rem .8rem; min-width: 0; }
.card.ok { border-left-color: var(--ok); }
.card.bad { border-left-color: var(--bad); }
.card.warn { border-left-color: var(--warn); }
.card .value { font-size: 1.35rem; font-weight: 700; margin: .2rem 0; overflow-wrap: anywhere; }
.card.ok .value { color: var(--ok); }
.card.bad .value { color: var(--bad); }
.card.warn .value { color: var(--warn); }
.card .sub { margin: 0; font-size: .8rem; color: var(--muted); overflow-wrap: anywhere; }
.panel { background: var(--panel); border: 1px solid var(--line); border-radius: .4rem; padding: .75rem; margin-bottom: .75rem; }
#token-panel { margin: .75rem; border-color: var(--accent); }
.help { color: var(--muted); font-size: .85rem; margin: 0 0 .5rem; }
form { display: flex; flex-wrap: wrap; gap: .5rem; align-items: flex-end; }
label { display: flex; flex-direction: column; font-size: .85rem; color: var(--muted); }
input { font: inherit; padding: .45rem .5rem; border: 1px solid var(--line); border-radius: .3rem; min-height: 2.5rem; color: var(--fg); background: #fff; }
input[type=search], input[type=password] { flex: 1 1 14rem; }
button { font: inherit; padding: .45rem .9rem; min-height: 2.5rem; border: 1px solid var(--accent); border-radius: .3rem; background: var(--accent); color: #fff; cursor: pointer; }
button.secondary { background: #fff; color: var(--accent); }
button.link { background: none; border: none; color: var(--accent); text-decoration: underline; padding: 0; min-height: 0; }
button:disabled { opacity: .5; cursor: default; }
.confirm { margin-top: .5rem; padding: .5rem; border: 1px solid var(--warn); border-radius: .3rem; background: #fff8ec; }
.confirm p { margin: 0 0 .5rem; }
#resend-progress { margin-top: .5rem; display: flex; gap: .5rem; align-items: center; }
progress { flex: 1 1 auto; height: 1.2rem; }
.msg { margin: .5rem 0 0; min-height: 1.2em; font-size: .9rem; flex-basis: 100%; }
.msg.error { color: var(--bad); }
.msg.ok { color: var(--ok); }
.empty { color: var(--muted); margin: 0; }
table.grid { width: 100%; border-collapse: collapse; font-size: .9rem; }
table.grid th, table.grid td { text-align: left; padding: .35rem .4rem; border-bottom: 1px solid var(--line); vertical-align: top; }
table.grid th { color: var(--muted); font-weight: 600; }
.num { text-align: right; }
td.err { color: var(--bad); overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: .8rem; font-size: .8rem; background: #eef1f4; white-space: nowrap; }
.badge.ok { background: #e3f3e6; color: var(--ok); }
.badge.failed { background: #fbe7e5; color: var(--bad); }
.badge.partial, .badge.running { background: #fff1dc; color: var(--warn); }
footer { text-align: center; padding: 0 0 1rem; }
/* the Fleet section: a row per terminal; its chart an inline SVG sized here (the CSP allows no inline style) */
#fleet-table td small { color: var(--muted); }
#fleet-table tr.attention td:first-child { border-left: .3rem solid var(--bad); padding-left: .4rem; }
svg.spark { display: block; width: 12rem; max-width: 100%; height: 2.5rem; }
#fleet-table .badge { white-space: normal; }
/* a small till screen: tables become stacked rows */
@media (max-width: 40rem) {
  html { font-size: 15px; }
  main { padding: .5rem; }
  .cards { grid-template-columns: 1fr 1fr; gap: .5rem; }
  .card .value { font-size: 1.1rem; }
  table.grid thead { display: none; }
  table.grid, table.grid tbody, table.grid tr, table.grid td { display: block; width: 100%; }
  table.grid tr { border-bottom: 1px solid var(--line); padding: .3rem 0; }
  table.grid td { border: none; padding: .1rem 0; }
  table.grid td[data-label]:not(:empty)::before { content: attr(data-label) ": "; color: var(--muted); font-size: .8rem; }
  .num { text-align: left; }
  form > * { flex: 1 1 100%; }
}
@media (max-width: 22rem) { .cards { grid-template-columns: 1fr; } }
`;

export const APP_JS = String.raw`(function () {
  'use strict';
  var boot = JSON.parse(document.getElementById('cfx-boot').textContent);
  var T = boot.t;
  var TOKEN_KEY = 'cfx.admin.token';

  function $(id) { return document.getElementById(id); }
  function fill(s, vars) {
    return String(s).replace(/\{(\w+)\}/g, function (m, k) { return vars[k] !== undefined ? String(vars[k]) : m; });
  }
  function say(el, text, kind) {
    if (!el) return;
    el.textContent = text || '';
    el.className = 'msg' + (kind ? ' ' + kind : '');
  }
  function getToken() {
    try { return sessionStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function setToken(v) {
    try { if (v) sessionStorage.setItem(TOKEN_KEY, v); else sessionStorage.removeItem(TOKEN_KEY); } catch (e) { /* private mode */ }
  }
  function withLang(path) {
    return path + (path.indexOf('?') >= 0 ? '&' : '?') + 'lang=' + encodeURIComponent(boot.lang);
  }

  // every call: JSON in and out; the token (when one is kept) as a bearer header
  function call(method, path, body) {
    var headers = { 'Accept': 'application/json' };
    var tok = getToken();
    if (tok) headers['Authorization'] = 'Bearer ' + tok;
    var init = { method: method, headers: headers, cache: 'no-store' };
    if (body !== undefined) { headers['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
    return fetch(path, init).then(function (res) {
      return res.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!res.ok) {
          var err = new Error((data && data.error && data.error.message) || (res.status + ' ' + res.statusText));
          err.status = res.status;
          err.code = data && data.error && data.error.code;
          err.field = data && data.error && data.error.field;
          if (res.status === 401 && boot.tokenRequired) askToken(T.tokenRejected);
          throw err;
        }
        return data;
      });
    });
  }
  // the page's parts; beyond loopback they need the token like every other call
  function fragment(path) {
    var headers = { 'Accept': 'text/html' };
    var tok = getToken();
    if (tok) headers['Authorization'] = 'Bearer ' + tok;
    return fetch(withLang(path), { cache: 'no-store', headers: headers }).then(function (res) {
      if (res.status === 401 && tok) askToken(T.tokenRejected);
      if (!res.ok) throw new Error(res.status + ' ' + res.statusText);
      return res.text();
    });
  }

  // ---- token: asked once, kept in this tab (sessionStorage)
  function askToken(message) {
    setToken('');
    $('token-panel').hidden = false;
    say($('token-message'), message || '', message ? 'error' : '');
    $('token-input').focus();
  }
  if (boot.tokenRequired) {
    $('token-form').addEventListener('submit', function (ev) {
      ev.preventDefault();
      var v = $('token-input').value.trim();
      if (!v) return;
      setToken(v);
      call('GET', '/api/auth').then(function (r) {
        if (r && r.authorized) {
          $('token-input').value = '';
          $('token-panel').hidden = true;
          say($('token-message'), '');
          if (boot.shell) refresh();
        } else askToken(T.tokenRejected);
      }, function (e) { say($('token-message'), fill(T.failed, { message: e.message }), 'error'); });
    });
    var forget = $('token-forget');
    if (forget) forget.addEventListener('click', function () { askToken(''); });
    if (!getToken()) askToken('');
  }

  // ---- status cards, exchange log, quarantine: server-rendered parts, refreshed
  var refreshing = false;
  function refresh() {
    // without a token the shell's parts would only be refused: wait for one
    if (refreshing || (boot.shell && !getToken())) return Promise.resolve();
    refreshing = true;
    var office = boot.role === 'office';
    return Promise.all([fragment('/ui/cards'), fragment('/ui/log'), fragment('/ui/quarantine'), office ? fragment('/ui/fleet') : Promise.resolve('')]).then(function (parts) {
      $('cards').innerHTML = parts[0];
      $('log-body').innerHTML = parts[1];
      $('quarantine-body').innerHTML = parts[2];
      if (office) $('fleet-body').innerHTML = parts[3];
      var r = $('refreshed');
      r.className = 'refreshed';
      r.textContent = fill(T.updated, { time: new Date().toLocaleTimeString() });
    }, function (e) {
      var r = $('refreshed');
      r.className = 'refreshed bad';
      r.textContent = fill(T.notAnswering, { message: e.message });
    }).then(function () { refreshing = false; });
  }
  setInterval(refresh, boot.refreshMs);
  // the shell came without data (beyond loopback): fill it in at once when a token is kept
  if (boot.shell && getToken()) refresh();

  // ---- quarantine: retry
  $('quarantine-body').addEventListener('click', function (ev) {
    var b = ev.target;
    if (!b || !b.classList || !b.classList.contains('retry')) return;
    b.disabled = true;
    call('POST', '/api/quarantine/' + encodeURIComponent(b.getAttribute('data-id')) + '/retry').then(function (r) {
      say($('quarantine-message'), fill(T.retried, { file: r.fileName }), 'ok');
      return refresh();
    }, function (e) {
      b.disabled = false;
      say($('quarantine-message'), fill(T.failed, { message: e.message }), 'error');
    });
  });

  // ---- resend a period: check the dates, show how many sales it holds, confirm, follow the run
  var form = $('resend-form');
  if (form) {
    var period = null;
    var confirmBox = $('resend-confirm');
    var msg = $('resend-message');
    var busy = function (on) { $('resend-submit').disabled = on; $('resend-yes').disabled = on; };
    form.addEventListener('submit', function (ev) {
      ev.preventDefault();
      confirmBox.hidden = true;
      var from = $('resend-from').value;
      var to = $('resend-to').value;
      if (!from || !to) { say(msg, T.datesRequired, 'error'); return; }
      if (from > to) { say(msg, T.fromAfterTo, 'error'); $('resend-from').focus(); return; }
      say(msg, T.counting);
      busy(true);
      call('GET', '/api/sales?from=' + from + '&to=' + to + '&limit=0').then(function (r) {
        busy(false);
        if (!r.count) { say(msg, fill(T.nothingToResend, { from: from, to: to }), ''); return; }
        period = { from: from, to: to };
        say(msg, '');
        $('resend-confirm-text').textContent = fill(T.confirmResend, { from: from, to: to, n: r.count });
        confirmBox.hidden = false;
        $('resend-yes').focus();
      }, function (e) { busy(false); say(msg, fill(T.failed, { message: e.message }), 'error'); });
    });
    $('resend-no').addEventListener('click', function () { confirmBox.hidden = true; period = null; say(msg, ''); });
    $('resend-yes').addEventListener('click', function () {
      if (!period) return;
      var p = period;
      period = null;
      confirmBox.hidden = true;
      busy(true);
      call('POST', '/api/resend', p).then(function (r) {
        showProgress(0, r.total);
        follow(r.runId);
      }, function (e) { busy(false); say(msg, fill(T.resendFailed, { message: e.message }), 'error'); });
    });
    var showProgress = function (done, total) {
      $('resend-progress').hidden = false;
      $('resend-bar').max = Math.max(total, 1);
      $('resend-bar').value = done;
      $('resend-progress-text').textContent = fill(T.resending, { done: done, total: total });
    };
    var follow = function (runId) {
      call('GET', '/api/runs/' + runId).then(function (run) {
        var pr = (run.details && run.details.progress) || { done: 0, total: 0 };
        if (run.result === 'running') {
          showProgress(pr.done || 0, pr.total || 0);
          setTimeout(function () { follow(runId); }, 400);
          return;
        }
        busy(false);
        $('resend-progress').hidden = true;
        if (run.result === 'ok') say(msg, fill(T.resent, { n: run.files }), 'ok');
        else say(msg, fill(T.resendFailed, { message: (run.error && run.error.message) || run.result }), 'error');
        refresh();
      }, function (e) {
        setTimeout(function () { follow(runId); }, 1000);
        say(msg, fill(T.failed, { message: e.message }), 'error');
      });
    };
  }

  // ---- catalog search (code, barcode or name prefix), 20 at a time
  var PAGE = 20;
  var query = { q: '', offset: 0 };
  var searchTimer = null;
  function cell(tr, text, cls) {
    var td = document.createElement('td');
    td.textContent = text;
    if (cls) td.className = cls;
    tr.appendChild(td);
  }
  function search(append) {
    var q = query.q;
    call('GET', '/api/catalog?q=' + encodeURIComponent(q) + '&limit=' + PAGE + '&offset=' + query.offset).then(function (r) {
      if (q !== query.q) return;
      var body = $('catalog-body');
      var tbody = body.querySelector('tbody');
      if (!append || !tbody) {
        body.textContent = '';
        if (!r.items.length) {
          var p = document.createElement('p');
          p.className = 'empty';
          p.textContent = T.noResults;
          body.appendChild(p);
          $('catalog-more').hidden = true;
          return;
        }
        var table = document.createElement('table');
        table.className = 'grid';
        table.id = 'catalog-table';
        var head = document.createElement('tr');
        [T.colCode, T.colBarcodes, T.colName, T.colPrice].forEach(function (h, i) {
          var th = document.createElement('th');
          th.textContent = h;
          if (i === 3) th.className = 'num';
          head.appendChild(th);
        });
        var thead = document.createElement('thead');
        thead.appendChild(head);
        table.appendChild(thead);
        tbody = document.createElement('tbody');
        table.appendChild(tbody);
        body.appendChild(table);
      }
      r.items.forEach(function (it) {
        var tr = document.createElement('tr');
        cell(tr, it.code);
        cell(tr, (it.barcodes || []).join(', '));
        cell(tr, it.name + (it.enabled === false ? ' (' + T.disabled + ')' : ''));
        cell(tr, it.price, 'num');
        var labels = [T.colCode, T.colBarcodes, T.colName, T.colPrice];
        for (var i = 0; i < tr.children.length; i++) tr.children[i].setAttribute('data-label', labels[i]);
        tbody.appendChild(tr);
      });
      $('catalog-more').hidden = !r.hasMore;
    }, function (e) {
      $('catalog-body').textContent = fill(T.failed, { message: e.message });
    });
  }
  $('catalog-form').addEventListener('submit', function (ev) {
    ev.preventDefault();
    query = { q: $('catalog-q').value.trim(), offset: 0 };
    search(false);
  });
  $('catalog-q').addEventListener('input', function () {
    if (searchTimer) clearTimeout(searchTimer);
    searchTimer = setTimeout(function () {
      query = { q: $('catalog-q').value.trim(), offset: 0 };
      search(false);
    }, 300);
  });
  $('catalog-more').addEventListener('click', function () {
    query.offset += PAGE;
    search(true);
  });
})();
`;
