"use strict";
// A person's custom fields belong to its company, so the add form reloads itself with the
// company the marketer picks, and only when it differs from the company the fields on
// the page are for: Django's admin fires "change" on every related-object select when
// the page loads (issue 14: the add page reloaded itself four times a second).
document.addEventListener("change", (event) => {
  const select = event.target;
  if (!(select instanceof HTMLSelectElement)) return;
  if (!select.matches("select[data-reload-with-company]")) return;
  if (!select.value || select.value === select.dataset.reloadWithCompany) return;
  const params = new URLSearchParams(window.location.search);
  params.set("company", select.value);
  window.location.search = params.toString();
});
