// Filters for the smtpspec HTML report and matrix. The state lives in the
// URL fragment (#verdict=fail,error&level=MUST&q=ehlo, plus expand=yes to
// open the cases shown) so that a filtered view can be linked to; a
// fragment without "=" is an ordinary anchor. A
// row's data-verdict lists its verdicts (one in a report, one per target
// in a matrix) and the row shows when any of them is checked.
(function () {
  'use strict';
  var all = function (sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); };
  var rows = all('tr.case');
  var groups = all('section.group');
  var boxes = all('#filters input[type=checkbox]');
  var search = document.getElementById('q');
  var shown = document.getElementById('shown');
  var none = document.getElementById('none');
  var differ = document.getElementById('differ'); // matrix only

  function any(values, on) {
    return values.split(' ').some(function (v) { return on.indexOf(v) >= 0; });
  }

  function checked(name) {
    return boxes.filter(function (b) { return b.name === name && b.checked; }).map(function (b) { return b.value; });
  }

  function apply() {
    var verdicts = checked('verdict');
    var levels = checked('level');
    var terms = search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    rows.forEach(function (r) {
      var ok = any(r.dataset.verdict, verdicts) &&
        any(r.dataset.level, levels) &&
        (!differ || !differ.checked || r.dataset.differ === 'yes') &&
        terms.every(function (t) { return r.dataset.search.indexOf(t) >= 0; });
      r.hidden = !ok;
      if (ok) { n++; }
    });
    groups.forEach(function (g) { g.hidden = !g.querySelector('tr.case:not([hidden])'); });
    shown.textContent = n + ' of ' + rows.length + ' cases shown';
    none.hidden = n > 0;
  }

  // fragment is the filter state as a fragment, naming only what differs
  // from "everything shown".
  function fragment() {
    var parts = [];
    ['verdict', 'level'].forEach(function (name) {
      var on = checked(name);
      if (on.length !== boxes.filter(function (b) { return b.name === name; }).length) {
        parts.push(name + '=' + on.join(','));
      }
    });
    if (differ && differ.checked) { parts.push('differ=yes'); }
    if (search.value) { parts.push('q=' + encodeURIComponent(search.value)); }
    return parts.join('&');
  }

  function save() {
    var f = fragment();
    try {
      history.replaceState(null, '', f ? '#' + f : location.pathname + location.search);
    } catch (e) {
      // Some browsers refuse replaceState on file:// pages; the filters
      // still work, they just are not kept in the address.
    }
  }

  // load reads a filter fragment (or an empty one, meaning everything)
  // into the filters and applies them. An anchor leaves the filters alone
  // and opens the case or cell it names.
  function load() {
    var h = location.hash.slice(1);
    if (h && h.indexOf('=') < 0) {
      var target = document.getElementById(decodeURIComponent(h));
      var details = target && (target.tagName === 'DETAILS' ? target : target.querySelector('details'));
      if (details) {
        details.open = true;
        target.scrollIntoView();
      }
      return;
    }
    var p = {};
    h.split('&').forEach(function (kv) {
      var i = kv.indexOf('=');
      if (i > 0) { p[kv.slice(0, i).toLowerCase()] = decodeURIComponent(kv.slice(i + 1)); }
    });
    boxes.forEach(function (b) {
      var want = p[b.name];
      if (b === differ) {
        b.checked = want === 'yes';
        return;
      }
      b.checked = want === undefined || want.toLowerCase().split(',').indexOf(b.value.toLowerCase()) >= 0;
    });
    search.value = p.q || '';
    apply();
    if (p.expand === 'yes') { expand(); }
  }

  function expand() {
    rows.forEach(function (r) { if (!r.hidden) { r.querySelector('details').open = true; } });
  }

  boxes.forEach(function (b) { b.addEventListener('change', function () { apply(); save(); }); });
  search.addEventListener('input', function () { apply(); save(); });
  window.addEventListener('hashchange', load);
  document.getElementById('expand').addEventListener('click', expand);
  document.getElementById('collapse').addEventListener('click', function () {
    all('details').forEach(function (d) { d.open = false; });
  });
  document.addEventListener('keydown', function (e) {
    if (e.key === '/' && document.activeElement !== search) {
      e.preventDefault();
      search.focus();
    }
  });
  document.getElementById('filters').hidden = false;
  load();
}());
