/* The site's behaviour that HTML attributes cannot say, in one static file: the
   Content-Security-Policy allows no inline script and no eval, so htmx runs with
   allowEval off (no hx-on handlers, no trigger filters) and these listeners do that work.

   data-request-errors   on a container: an HTMX request inside it that fails shows a message
                         in #request-error (the server's own text for a plain-text 403/503,
                         else data-forbidden for 403, else data-failed).
   data-cancel-on-escape Escape inside the element triggers its "cancel" event (hx-trigger="cancel").
   data-pause-when-hidden a polling element sends nothing while the tab is hidden, and polls
                         once ("visible") when the tab is shown again.
   data-fold-on-phone    a <details> closed on a narrow screen when it appears.
   data-print            a button that prints the page.
   data-import-progress="URL" inside a form: while the form's HTMX request runs, the URL is
                         asked every second and its plain-text answer shown (how far a long
                         workbook import is).
   data-reload-on-history on <body>: a page that back/forward must load afresh (the URL's
                         filters, not the state it was left in), from the back-forward cache
                         or through a history entry htmx pushed; loaded without defer, so this
                         holds even before htmx has started. */
(function () {
  "use strict";

  function showRequestError(event, kind) {
    var host = event.target.closest ? event.target.closest("[data-request-errors]") : null;
    if (!host) return;
    var box = document.getElementById("request-error");
    if (!box) return;
    var message = host.dataset.failed;
    if (kind === "response") {
      var xhr = event.detail.xhr;
      var type = xhr.getResponseHeader("Content-Type") || "";
      if ((xhr.status === 403 || xhr.status === 503) && type.indexOf("text/plain") === 0 && xhr.responseText) {
        message = xhr.responseText;
      } else if (xhr.status === 403) {
        message = host.dataset.forbidden || message;
      }
    }
    box.textContent = message;
    box.hidden = false;
  }

  document.addEventListener("htmx:responseError", function (event) { showRequestError(event, "response"); });
  document.addEventListener("htmx:sendError", function (event) { showRequestError(event, "send"); });

  document.addEventListener("keyup", function (event) {
    if (event.key !== "Escape" || !event.target.closest) return;
    var editor = event.target.closest("[data-cancel-on-escape]");
    if (editor && window.htmx) window.htmx.trigger(editor, "cancel");
  });

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (document.hidden && event.detail.elt.hasAttribute("data-pause-when-hidden")) {
      event.preventDefault();
    }
  });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden || !window.htmx) return;
    document.querySelectorAll("[data-pause-when-hidden]").forEach(function (element) {
      window.htmx.trigger(element, "visible");
    });
  });

  function reloadsOnHistory() {
    return document.body !== null && document.body.hasAttribute("data-reload-on-history");
  }
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && reloadsOnHistory()) window.location.reload();
  });
  window.addEventListener("popstate", function (event) {
    // Only entries htmx made (a fragment link's popstate carries no htmx state).
    if (event.state && event.state.htmx && reloadsOnHistory()) window.location.reload();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest("[data-print]")) window.print();
  });

  var progressTimers = new WeakMap();
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.detail.elt;
    var box = form.querySelector ? form.querySelector("[data-import-progress]") : null;
    if (!box || progressTimers.has(form)) return;
    progressTimers.set(form, window.setInterval(function () {
      window.fetch(box.dataset.importProgress, { credentials: "same-origin" }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        return response.status === 200 && type.indexOf("text/plain") === 0 ? response.text() : "";
      }).then(function (text) {
        if (text) box.textContent = text;
      }).catch(function () {});
    }, 1000));
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var timer = progressTimers.get(event.detail.elt);
    if (timer === undefined) return;
    window.clearInterval(timer);
    progressTimers.delete(event.detail.elt);
  });

  function foldOnPhone(root) {
    if (!window.matchMedia("(max-width: 720px)").matches) return;
    var scope = root && root.querySelectorAll ? root : document;
    if (scope.matches && scope.matches("details[data-fold-on-phone]")) scope.removeAttribute("open");
    scope.querySelectorAll("details[data-fold-on-phone]").forEach(function (panel) {
      panel.removeAttribute("open");
    });
  }
  // htmx:load comes for the page itself and for every swapped fragment.
  document.addEventListener("htmx:load", function (event) { foldOnPhone(event.detail.elt); });
})();
