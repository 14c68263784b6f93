// Passkey buttons on the IdP's pages (no inline script: the pages' CSP allows scripts from /assets
// only). A button with data-passkey="register" or "authenticate" asks its data-options URL for
// WebAuthn options, runs the browser ceremony with @simplewebauthn/browser (served by us from
// node_modules at /assets/vendor/simplewebauthn-browser.js), posts the result to its data-verify
// URL and follows the `next` address the server answers with.
(function () {
  'use strict';
  var lib = window.SimpleWebAuthnBrowser;

  function showError(message) {
    var el = document.getElementById('passkey-error');
    if (el) {
      el.textContent = message;
      el.hidden = false;
    }
  }

  async function post(url, csrf, body) {
    var res = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify(body),
    });
    var data = await res.json().catch(function () { return {}; });
    if (!res.ok) throw new Error(data.error_description || 'Something went wrong. Try again.');
    return data;
  }

  async function run(button) {
    var kind = button.getAttribute('data-passkey');
    var csrf = button.getAttribute('data-csrf');
    var emailField = document.getElementById('email');
    button.disabled = true;
    try {
      var options = await post(button.getAttribute('data-options'), csrf, { email: emailField ? emailField.value : '' });
      // The server may decide there is nothing to ask the authenticator (no passkey on the account).
      if (options.next) return window.location.assign(options.next);
      var response = kind === 'register'
        ? await lib.startRegistration({ optionsJSON: options })
        : await lib.startAuthentication({ optionsJSON: options });
      var result = await post(button.getAttribute('data-verify'), csrf, response);
      window.location.assign(result.next);
    } catch (err) {
      showError(err && err.name === 'NotAllowedError' ? 'The passkey request was cancelled or timed out.' : (err && err.message) || String(err));
      button.disabled = false;
    }
  }

  document.addEventListener('DOMContentLoaded', function () {
    var buttons = document.querySelectorAll('[data-passkey]');
    for (var i = 0; i < buttons.length; i++) {
      var button = buttons[i];
      if (!lib || !window.PublicKeyCredential) {
        button.disabled = true;
        showError('This browser cannot use passkeys.');
        continue;
      }
      button.addEventListener('click', function (event) { run(event.currentTarget); });
    }
  });
})();
