// The pre-registration form offline (issue 24). Online it posts as it does without JavaScript.
// Offline (or when the server does not answer) the answers are kept in this browser, without
// allergies, medicines or a phone number (health and contact details are never kept on the
// phone: the page says so), sent by themselves when the connection returns, then deleted from
// the browser; the code the server gives is shown in place of the form.
(() => {
  const OUTBOX = "routecare-preregistration-outbox";
  // The only fields ever kept: what a volunteer would ask at the point anyway.
  const KEPT = new Set(["sex", "birth_year", "age_band", "travel_group", "languages", "services",
    "consents"]);
  const lang = document.documentElement.lang;
  const show = (selector, visible = true) => {
    const element = document.querySelector(selector);
    if (element) element.hidden = !visible;
    return element;
  };
  const outbox = () => {
    try { return JSON.parse(localStorage.getItem(OUTBOX)) || []; } catch { return []; }
  };
  const save = (items) => {
    if (items.length) localStorage.setItem(OUTBOX, JSON.stringify(items));
    else localStorage.removeItem(OUTBOX);
  };
  const parse = (html) => new DOMParser().parseFromString(html, "text/html");
  const csrfCookie = () => (document.cookie.match(/(?:^|; )csrftoken=([^;]+)/) || [])[1];

  const newToken = () => {
    const random = crypto.getRandomValues(new Uint8Array(24));
    return btoa(String.fromCharCode(...random)).replace(/[+/=]/g, "");
  };
  // The server's answer (the code, or why the form was refused) replaces the form; the answers
  // to several forms kept on one phone (a family) are shown one after the other.
  let answered = 0;
  const showAnswer = (answer) => {
    const shown = answer.querySelector("main");
    const main = document.querySelector("main");
    if (!shown || !main) return;
    if (answered++ === 0) main.innerHTML = shown.innerHTML;
    else main.insertAdjacentHTML("beforeend", `<hr>${shown.innerHTML}`);
  };

  let sending = false;
  const send = async () => {
    if (sending || !navigator.onLine || !outbox().length) return;
    sending = true;
    try {
      for (const item of outbox()) {
        const address = `/${item.lang}/register/`;
        // Fetched first: it sets the CSRF cookie if there is none yet.
        const page = parse(await (await fetch(address, { cache: "no-store" })).text());
        const field = page.querySelector("[name=csrfmiddlewaretoken]");
        const token = csrfCookie() || (field && field.value);
        if (!token) break;
        const body = new URLSearchParams({ csrfmiddlewaretoken: token, form_token: item.token });
        for (const [name, value] of item.fields) body.append(name, value);
        const response = await fetch(address, { method: "POST", body });
        if (response.status === 429 || response.status === 403 || response.status >= 500) break;
        const answer = parse(await response.text());
        save(outbox().filter((other) => other.token !== item.token));
        showAnswer(answer);
      }
    } catch {
      // Still no connection: the answers stay kept for the next try.
    } finally {
      sending = false;
    }
  };
  window.addEventListener("online", send);
  send();

  const form = document.querySelector("[data-prereg-form]");
  if (!form) return;
  // A page from the service worker's copy carries the token of the last form sent from this
  // phone: sent again, it would show that person's code. Each page load gets its own.
  if (form.elements.form_token) form.elements.form_token.value = newToken();
  const healthNote = () => show("[data-prereg-offline-health]", !navigator.onLine);
  healthNote();
  window.addEventListener("offline", healthNote);
  window.addEventListener("online", healthNote);

  const keep = () => {
    const fields = [...new FormData(form)].filter(([name, value]) => KEPT.has(name) && value);
    save([...outbox(), { lang, token: newToken(), fields }]);
    form.reset();
    show("[data-prereg-offline-health]");
    show("[data-prereg-offline-kept]").scrollIntoView();
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
    // A phone can say it is online with no connection: ask the server first, so that the
    // answers are kept rather than lost on the browser's error page.
    const probe = new AbortController();
    const timer = setTimeout(() => probe.abort(), 6000);
    fetch(location.pathname, { method: "HEAD", cache: "no-store", signal: probe.signal })
      .then((answer) => {
        if (!answer.ok) throw new Error(String(answer.status));
        checked = true;
        form.requestSubmit(event.submitter);
      })
      .catch(keep)
      .finally(() => clearTimeout(timer));
  });
})();
