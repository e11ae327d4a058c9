// The console's one hand-written script (served from 'self', as the CSP
// asks): a form that writes is sent once. As a plain form (one htmx does
// not handle) is sent with POST, its buttons are disabled, so a second
// click while the first is on its way sends nothing; the server answers
// a copy that gets through anyway with the first's page (its form key).
(function () {
  'use strict';
  document.addEventListener('submit', function (e) {
    var form = e.target;
    // htmx cancels the submit events it sends itself; GET forms only read.
    if (e.defaultPrevented || !(form instanceof HTMLFormElement) || form.method !== 'post') {
      return;
    }
    if (form.hasAttribute('data-sending')) {
      e.preventDefault();
      return;
    }
    form.setAttribute('data-sending', '');
    // After this event: a button disabled during it would leave the form's
    // data (and a formaction) without it.
    setTimeout(function () {
      form.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  // A page brought back by the back button is usable again.
  window.addEventListener('pageshow', function (e) {
    if (!e.persisted) {
      return;
    }
    document.querySelectorAll('form[data-sending]').forEach(function (form) {
      form.removeAttribute('data-sending');
      form.querySelectorAll('button').forEach(function (b) { b.disabled = false; });
    });
  });
})();
