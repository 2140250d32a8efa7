// The public directory pages: offline after the first visit (service worker), and a map on
// request (Leaflet, loaded only when asked for, so the first load stays light on 2G). Without
// JavaScript the list works as it is.
(() => {
  const root = document.documentElement;

  // Offline: the service worker serves the last copy; say how old it is.
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/services-sw.js", { scope: "/" }).catch(() => {});
    navigator.serviceWorker.ready.then((registration) => {
      // Keep this page and its script for the next visit without a connection.
      const channel = new MessageChannel();
      channel.port1.onmessage = (event) => { root.dataset.offlineReady = event.data; };
      const keep = [location.href, ...[...document.scripts].map((s) => s.src).filter(Boolean)];
      registration.active.postMessage({ keep }, [channel.port2]);
    });
  }
  const notice = document.querySelector("[data-offline-notice]");
  const showOffline = () => { if (notice && !navigator.onLine) notice.hidden = false; };
  showOffline();
  window.addEventListener("offline", showOffline);
  window.addEventListener("online", () => { if (notice) notice.hidden = true; });
})();
