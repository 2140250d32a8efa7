// Dashboard charts: people supported by period (Chart.js) and the points where people were
// supported, sized by how many (Leaflet over Natural Earth outlines: no map tiles, no
// requests outside RouteCare). The chart plots the periods table's total column (people
// supported), so it says what the table says; hidden values are drawn as gaps.
(() => {
  const data = JSON.parse(document.getElementById("indicator-data").textContent);
  const canvas = document.querySelector("[data-chart=series]");
  if (canvas && window.Chart) {
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [{ label: canvas.getAttribute("aria-label"), data: data.values,
                     backgroundColor: "#c8102e" }],
      },
      options: { animation: false, plugins: { legend: { display: false } },
                 scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
  }
  const box = document.querySelector("[data-indicator-map]");
  if (!box || !data.locations.length) {
    if (box) box.hidden = true;
    return;
  }
  const vendor = box.dataset.vendor;
  const load = (tag, attributes) => new Promise((resolve, reject) => {
    const element = document.createElement(tag);
    Object.assign(element, attributes);
    element.onload = resolve;
    element.onerror = reject;
    document.head.appendChild(element);
  });
  Promise.all([
    load("link", { rel: "stylesheet", href: vendor + "leaflet.css" }),
    load("script", { src: vendor + "leaflet.js" }),
    load("script", { src: vendor + "topojson-client.min.js" }),
  ]).then(async () => {
    const L = window.L;
    const map = L.map(box, { attributionControl: false });
    const world = await (await fetch(vendor + "countries-110m.json")).json();
    L.geoJSON(window.topojson.feature(world, world.objects.countries), {
      style: { color: "#777", weight: 1, fillColor: "#eee", fillOpacity: 1 },
    }).addTo(map);
    const largest = Math.max(...data.locations.map((place) => place.people || 1));
    const markers = data.locations.map((place) => {
      const radius = 4 + 20 * Math.sqrt((place.people || 1) / largest);
      const label = place.people === null ? place.name : `${place.name}: ${place.people}`;
      return L.circleMarker([place.lat, place.lon], {
        radius, color: "#c8102e", fillOpacity: 0.5,
      }).bindTooltip(label);
    });
    const group = L.featureGroup(markers).addTo(map);
    map.fitBounds(group.getBounds().pad(0.3));
    box.dataset.ready = "true";
  });
})();
