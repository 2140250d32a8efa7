// The service point map, only when asked for: Leaflet with OpenStreetMap tiles, and Natural
// Earth country outlines when tiles cannot load (offline). Used by the public and staff pages.
(() => {
  // The map, only when asked for.
  const button = document.querySelector("[data-map-button]");
  const box = document.querySelector("[data-map]");
  if (!button || !box) return;
  button.hidden = false;
  const load = (tag, attributes) => new Promise((resolve, reject) => {
    const element = document.createElement(tag);
    Object.assign(element, attributes);
    element.onload = resolve;
    element.onerror = reject;
    document.head.appendChild(element);
  });
  // Without a connection the map cannot load: say so (the list works as it is).
  const offline = document.querySelector("[data-map-offline]");
  const cannotLoad = () => {
    if (offline) offline.hidden = false;
    button.disabled = false;
  };
  button.addEventListener("click", () => {
    if (!navigator.onLine) return cannotLoad();
    if (offline) offline.hidden = true;
    return show().catch(cannotLoad);
  });
  const show = async () => {
    button.disabled = true;
    const vendor = box.dataset.vendor;
    await Promise.all([
      load("link", { rel: "stylesheet", href: vendor + "leaflet.css" }),
      load("script", { src: vendor + "leaflet.js" }),
    ]);
    box.hidden = false;
    const L = window.L;
    const map = L.map(box, { attributionControl: true });
    let outlined = false;
    const outline = async () => {
      // No tiles (offline, or blocked): country outlines from Natural Earth instead.
      if (outlined) return;
      outlined = true;
      await load("script", { src: vendor + "topojson-client.min.js" });
      const world = await (await fetch(vendor + "countries-110m.json")).json();
      const shapes = window.topojson.feature(world, world.objects.countries);
      L.geoJSON(shapes, { style: { color: "#777", weight: 1, fillColor: "#eee", fillOpacity: 1 } })
        .addTo(map).bringToBack();
    };
    const tiles = L.tileLayer("https://tile.openstreetmap.org/{z}/{x}/{y}.png", {
      maxZoom: 17, attribution: "© OpenStreetMap",
    });
    tiles.on("tileerror", outline);
    tiles.addTo(map);
    if (!navigator.onLine) outline();
    const points = await (await fetch(box.dataset.geojson)).json();
    const layer = L.geoJSON(points, {
      onEachFeature: (feature, marker) => {
        const link = document.createElement("a");
        link.href = feature.properties.url;
        link.textContent = feature.properties.name;
        marker.bindPopup(link);
      },
    }).addTo(map);
    const bounds = layer.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.2)); else map.setView([10, -80], 4);
  };
})();
