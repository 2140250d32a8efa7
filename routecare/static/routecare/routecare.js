// Small progressive enhancements; every page works without this file.
document.addEventListener("change", (event) => {
  const target = event.target;
  if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit")) {
    target.form.submit();
  }
});

// htmx always keeps the current path, which can name a person's record, in sessionStorage.
// RouteCare uses no htmx history, so nothing of it is kept in the browser.
sessionStorage.removeItem("htmx-current-path-for-history");

// A button that prints the page (e.g. a person's record, for them to keep).
document.addEventListener("click", (event) => {
  const target = event.target;
  if (target instanceof HTMLElement && target.hasAttribute("data-print")) {
    window.print();
  }
});

// Registering: the age is an age band or a birth year; a birth year alone answers it.
const ageAnswered = (year) => {
  for (const band of year.form.querySelectorAll("input[name=age_band]")) band.required = !year.value;
};
document.addEventListener("input", (event) => {
  const target = event.target;
  if (target instanceof HTMLInputElement && target.name === "birth_year" && target.form) {
    ageAnswered(target);
  }
});
document.querySelectorAll("form input[name=birth_year]").forEach(ageAnswered);

// The staff menu is one button on a phone; on a wide screen it is open, as a row of links.
const menu = document.querySelector("details[data-menu]");
if (menu) {
  const wide = window.matchMedia("(min-width: 60rem)");
  const fit = () => {
    menu.open = wide.matches;
  };
  fit();
  wide.addEventListener("change", fit);
}
