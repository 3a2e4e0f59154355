
(function () {
  var form = document.getElementById('filters');
  var shown = document.getElementById('shown');
  var rows = document.querySelectorAll('.case');
  var selects = form.querySelectorAll('select');
  function readHash() {
    var state = {};
    location.hash.replace(/^#/, '').split('&').forEach(function (part) {
      var i = part.indexOf('=');
      if (i <= 0) return;
      try {
        state[decodeURIComponent(part.slice(0, i))] = decodeURIComponent(part.slice(i + 1));
      } catch (e) { /* a mangled fragment filters nothing */ }
    });
    return state;
  }
  function matches(row, key, want) {
    var have = row.getAttribute('data-' + key) || '';
    if (key !== 'status') return have === want;
    var tokens = have.split(' ');
    if (want === 'not-pass') return tokens.some(function (t) { return t !== 'pass'; });
    return tokens.indexOf(want) >= 0;
  }
  function apply() {
    var state = readHash();
    var wanted = [];
    selects.forEach(function (s) {
      var v = state[s.name] || '';
      var known = Array.prototype.some.call(s.options, function (o) { return o.value === v; });
      s.value = known ? v : '';
      if (s.value) wanted.push([s.name, s.value]);
    });
    var n = 0;
    rows.forEach(function (row) {
      var ok = wanted.every(function (w) { return matches(row, w[0], w[1]); });
      row.hidden = !ok;
      if (ok) n += 1;
    });
    shown.textContent = n + ' of ' + rows.length + ' cases shown';
  }
  form.addEventListener('change', function () {
    var parts = [];
    selects.forEach(function (s) {
      if (s.value) parts.push(encodeURIComponent(s.name) + '=' + encodeURIComponent(s.value));
    });
    location.hash = parts.join('&');
  });
  form.addEventListener('submit', function (e) { e.preventDefault(); });
  window.addEventListener('hashchange', apply);
  form.hidden = false;
  apply();
})();
