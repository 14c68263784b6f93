// For browsers that cannot run module scripts (loaded with `nomodule`, so a browser that runs
// main.js never fetches this). The page's script used to be one classic script, and such a
// browser got the "unsupported" screen with the QR hand-off from it; this keeps that, with the
// same status poll as handoff.js. Plain ES5 on purpose: it runs where nothing newer does.
(function () {
  'use strict';
  var configEl = document.getElementById('capture-config');
  if (!configEl) return;
  var config = JSON.parse(configEl.textContent || '{}');
  if (config.state !== 'capture') return;

  function show(name) { // as states.js's show()
    var sections = document.querySelectorAll('section.state');
    for (var i = 0; i < sections.length; i++) sections[i].hidden = sections[i].id !== 'state-' + name;
    var heading = document.querySelector('#state-' + name + ' h1');
    if (heading) heading.focus();
  }

  show('unsupported');

  if (!window.fetch) return; // nothing to poll with; the QR code and the link still work
  var pollTimer = setInterval(function () {
    fetch(config.statusUrl + (config.handoff ? '?handoff=1' : ''), { cache: 'no-store' })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (!s.finished) return;
        clearInterval(pollTimer);
        if (s.redirect) window.location.assign(s.redirect);
        else if (s.status === 'Approved' || s.status === 'Declined' || s.status === 'In Review') show('done');
        else show('expired');
      })
      .catch(function () { /* keep polling */ });
  }, 3000);
}());
