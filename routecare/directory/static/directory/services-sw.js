// Service worker for the public directory pages only: network first, the last copy when
// offline. Staff pages and the API are never cached (they can carry personal data).
const CACHE = "routecare-directory-v1";
const PUBLIC = [/^\/[a-z]{2}\/services\//, /^\/static\/directory\//, /^\/static\/vendor\//,
  /^\/services\.geojson$/];

const isPublic = (url) => url.origin === self.location.origin
  && PUBLIC.some((pattern) => pattern.test(url.pathname));

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// A page asks for itself and what it uses to be kept, once the worker is ready.
self.addEventListener("message", (event) => {
  const urls = (event.data && event.data.keep || []).filter((url) => isPublic(new URL(url)));
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(urls))
    .then(() => event.ports[0] && event.ports[0].postMessage("kept"))
    .catch(() => event.ports[0] && event.ports[0].postMessage("failed")));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || !isPublic(url)) return;
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request).then((hit) => hit || Response.error())),
  );
});
