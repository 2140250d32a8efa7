// The public pages (directory, FAQ, feedback form): offline after the first visit of a country
// (service worker), honest about the age of a kept copy, and feedback written offline sent when
// the connection returns. Without JavaScript every page works as it is.
(() => {
  const root = document.documentElement;
  const lang = root.lang;
  // The country as the server understood it (upper case, or none if unknown).
  const country = (document.querySelector("main[data-country]") || { dataset: {} }).dataset
    .country || "";
  const show = (selector, visible = true) => {
    const element = document.querySelector(selector);
    if (element) element.hidden = !visible;
    return element;
  };

  // A copy kept for offline use (marked by the worker): say when its data was taken, and never
  // claim "open now" for a later time; a line whose time is over goes in any case.
  const kept = "fromCache" in root.dataset;
  const ageNotice = () => show("[data-offline-notice]", kept || !navigator.onLine);
  ageNotice();
  const overdue = () => {
    for (const line of document.querySelectorAll("[data-until]")) {
      if (kept || Date.parse(line.dataset.until) <= Date.now()) line.hidden = true;
    }
  };
  overdue();
  setInterval(overdue, 60 * 1000);  // a page left open past the next opening or closing
  window.addEventListener("offline", ageNotice);
  window.addEventListener("online", ageNotice);

  // Offline: this page and, once it has loaded, its country's pages, kept by the worker. A page
  // served through the worker was kept by it already: it is never asked for twice.
  if ("serviceWorker" in navigator) {
    const servedByWorker = Boolean(navigator.serviceWorker.controller);
    navigator.serviceWorker.register("/services-sw.js", { scope: "/" }).catch(() => {});
    const prefetch = [];
    if (country) {
      const query = `?country=${encodeURIComponent(country)}`;
      const points = (document.querySelector("[data-keep-points]") || { dataset: {} })
        .dataset.keepPoints || "";
      for (const code of points.split(" ").filter(Boolean)) {
        prefetch.push(`/${lang}/services/${code}/${query}`);
      }
      for (const page of ["services", "faq", "feedback", "offline"]) {
        prefetch.push(`/${lang}/${page}/${query}`);
      }
    }
    const here = location.pathname + location.search;
    const ask = (registration) => {
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => {
        root.dataset.offlineReady = event.data.kept ? "kept" : "failed";
      };
      const keep = servedByWorker ? []
        : [location.href, ...[...document.scripts].map((s) => s.src).filter(Boolean)];
      registration.active.postMessage(
        { keep, prefetch: prefetch.filter((url) => url !== here) }, [channel.port2],
      );
    };
    const ready = navigator.serviceWorker.ready;
    if (document.readyState === "complete") ready.then(ask);
    else window.addEventListener("load", () => ready.then(ask));
  }

  // Feedback written offline: kept in this browser until sent, then deleted. Only what the
  // form sends, never contact details; abuse and exploitation reports are never kept (they
  // need a connection: the form says why).
  const OUTBOX = "routecare-feedback-outbox";
  const outbox = () => {
    try { return JSON.parse(localStorage.getItem(OUTBOX)) || []; } catch { return []; }
  };
  const save = (items) => {
    if (items.length) localStorage.setItem(OUTBOX, JSON.stringify(items));
    else localStorage.removeItem(OUTBOX);
  };
  const parse = (html) => new DOMParser().parseFromString(html, "text/html");
  // The browser's CSRF cookie is what a form must match. A form page fetched in the background
  // while another was being opened can carry the token of a cookie set a moment later: the
  // cookie's own value is always valid.
  const csrfCookie = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1];
  const told = (text, reference) => {
    const notice = show("[data-outbox-sent]");
    if (!notice) return;
    notice.querySelector("[data-outbox-text]").textContent = text;
    notice.querySelector("[data-reference]").textContent = reference || "";
  };
  let sending = false;
  const send = async () => {
    if (sending || !navigator.onLine || !outbox().length) return;
    sending = true;
    try {
      for (const item of outbox()) {
        const address = `/${item.lang}/feedback/?country=${encodeURIComponent(item.country)}`;
        // Fetched first: it sets the CSRF cookie if there is none yet.
        const form = parse(await (await fetch(address, { cache: "no-store" })).text());
        const field = form.querySelector("[name=csrfmiddlewaretoken]");
        const token = csrfCookie() || (field && field.value);
        if (!token) break;
        const body = new URLSearchParams({
          csrfmiddlewaretoken: token, form_token: item.token, about: item.about,
          category: item.category, text: item.text,
        });
        const response = await fetch(address, { method: "POST", body });
        if (response.status === 429 || response.status === 403 || response.status >= 500) break;
        const answer = parse(await response.text());
        save(outbox().filter((other) => other.token !== item.token));
        const reference = answer.querySelector("[data-testid=feedback-reference]");
        const error = answer.querySelector("[data-testid=feedback-error]");
        const sentText = (document.querySelector("[data-outbox-text]") || {}).dataset;
        if (reference) told(sentText.sent, reference.textContent);
        else if (error) told(error.textContent, "");
      }
    } catch {
      // Still no connection: the messages stay kept for the next try.
    } finally {
      sending = false;
    }
  };
  window.addEventListener("online", send);
  send();

  const form = document.querySelector("[data-testid=feedback-form]");
  if (form) {
    const sensitiveNote = () => show("[data-offline-sensitive]", !navigator.onLine);
    sensitiveNote();
    window.addEventListener("offline", sensitiveNote);
    window.addEventListener("online", sensitiveNote);
    // Kept in this browser instead of sent: what a connection would carry now.
    const keep = () => {
      for (const selector of ["[data-offline-kept]", "[data-offline-contact]"]) show(selector, false);
      const data = new FormData(form);
      if (data.get("category") === "sensitive") {
        show("[data-offline-sensitive]").scrollIntoView();
        return;
      }
      if (data.get("contact_consent")) {
        show("[data-offline-contact]").scrollIntoView();
        return;
      }
      const random = crypto.getRandomValues(new Uint8Array(24));
      const token = btoa(String.fromCharCode(...random)).replace(/[+/=]/g, "");
      save([...outbox(), {
        lang, country, about: data.get("about"), category: data.get("category"),
        text: data.get("text"), token,
      }]);
      form.reset();
      show("[data-offline-kept]").scrollIntoView();
    };
    let checked = false;
    form.addEventListener("submit", (event) => {
      if (checked) {  // the connection answered a moment ago: the browser sends the form
        checked = false;
        const token = csrfCookie();
        if (token) form.elements.csrfmiddlewaretoken.value = token;
        return;
      }
      event.preventDefault();
      if (!navigator.onLine) {
        keep();
        return;
      }
      // A phone can say it is online with no connection (a lost signal, a captive Wi-Fi): ask
      // the server first, so that a message is kept rather than lost on the browser's error page.
      const probe = new AbortController();
      const timer = setTimeout(() => probe.abort(), 6000);
      fetch(location.href, { method: "HEAD", cache: "no-store", signal: probe.signal })
        .then((answer) => {
          if (!answer.ok) throw new Error(String(answer.status));
          checked = true;
          form.requestSubmit(event.submitter);
        })
        .catch(keep)
        .finally(() => clearTimeout(timer));
    });
  }
})();
