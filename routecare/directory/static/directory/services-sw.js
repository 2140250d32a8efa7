// Service worker for the public pages only (directory, FAQ, feedback and pre-registration
// forms): network first, the last copy when offline. Staff pages and the API are never cached
// (they can carry personal data); nor is anything posted (a feedback message or a
// pre-registration is kept by the page, see services.js and preregistration/register.js).
const CACHE = "routecare-public-v2";
const PUBLIC = [/^\/[a-z]{2}\/services\/(?!booklet\.pdf$)/,
  /^\/[a-z]{2}\/(faq|feedback|offline|register)\/$/, /^\/static\/(directory|preregistration)\//,
  /^\/static\/vendor\//, /^\/services\.geojson$/];
// A kept page older than this is fetched again when a page asks for it to be kept.
const REFRESH_MS = 12 * 3600 * 1000;

// Only the addresses of filters and countries are kept: never a search typed in the FAQ.
const KEPT_QUERY = new Set(["country", "service", "from", "direction", "open_now", "lang"]);

const isPublic = (url) => url.origin === self.location.origin
  && PUBLIC.some((pattern) => pattern.test(url.pathname));
const keepable = (url) => [...url.searchParams.keys()].every((name) => KEPT_QUERY.has(name));

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(
  caches.keys()
    .then((names) => Promise.all(names.filter((n) => n !== CACHE).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()),
));

const fresh = (response) => {
  const date = Date.parse(response.headers.get("date") || "");
  return Number.isFinite(date) && Date.now() - date < REFRESH_MS;
};

// Keep one address: nothing when a recent copy is kept. "mine" is a page the browser has just
// loaded itself (before this worker controlled it): its copy is taken from the browser's HTTP
// cache where it is there, so the page is not downloaded twice.
const keep = async (cache, address, mine) => {
  const url = new URL(address, self.location.origin);
  if (!isPublic(url) || !keepable(url)) return 0;
  const kept = await cache.match(url.href, { ignoreVary: true });
  if (kept && fresh(kept)) return 0;
  const response = await fetch(url.href, { cache: mine ? "force-cache" : "default" });
  if (!response.ok || response.redirected) return 0;
  await cache.put(url.href, response);
  return 1;
};

// A page asks for itself ("keep", only when it was not served through this worker) and, after
// it has loaded, for the pages to have at hand offline ("prefetch": its country's point pages,
// the FAQ, the feedback form). One at a time: on 2G they must not compete with what the person
// opens next.
self.addEventListener("message", (event) => {
  const data = event.data || {};
  const reply = (answer) => event.ports[0] && event.ports[0].postMessage(answer);
  event.waitUntil(caches.open(CACHE).then(async (cache) => {
    let fetched = 0;
    for (const address of data.keep || []) fetched += await keep(cache, address, true);
    for (const address of data.prefetch || []) fetched += await keep(cache, address, false);
    return fetched;
  }).then((fetched) => reply({ kept: true, fetched }), () => reply({ kept: false })));
});

// A copy from the cache is marked, so that the page says how old it is and stops claiming
// "open now" (services.js).
const marked = async (response) => {
  if (!(response.headers.get("content-type") || "").startsWith("text/html")) return response;
  const body = (await response.text()).replace("<html ", "<html data-from-cache ");
  // The body is decoded already: only the headers that still hold (no length, no encoding).
  const headers = new Headers();
  for (const name of ["content-type", "content-security-policy", "date"]) {
    if (response.headers.has(name)) headers.set(name, response.headers.get(name));
  }
  return new Response(body, { status: response.status, headers });
};

// Offline, a page that was never kept (another filter, another country): our own offline page
// in the page's language, with links to what was kept, rather than the browser's error page.
const offlinePage = async (url) => {
  const lang = url.pathname.split("/")[1];
  const country = url.searchParams.get("country") || "";
  const cache = await caches.open(CACHE);
  return await cache.match(`/${lang}/offline/?country=${encodeURIComponent(country)}`)
    || await cache.match(`/${lang}/offline/`, { ignoreSearch: true })
    || Response.error();
};

const fromCache = async (request) => {
  const hit = await caches.match(request, { ignoreVary: true });
  if (hit) return marked(hit);
  if (request.mode === "navigate") return marked(await offlinePage(new URL(request.url)));
  return Response.error();
};

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !isPublic(url)) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok && !response.redirected && keepable(url)) {
          const copy = response.clone();
          event.waitUntil(caches.open(CACHE).then((cache) => cache.put(event.request, copy)));
        }
        return response;
      })
      .catch(() => fromCache(event.request)),
  );
});
