// quill's only script, and an optional one: every page works without it.
// "Older posts" is a plain link to the next page; with this script the
// next page's posts are added below instead. Requests go to this origin
// only (the Content-Security-Policy allows nothing else).
"use strict";

document.addEventListener("click", async (event) => {
  const link = event.target.closest("a[data-load-more]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) {
    return;
  }
  event.preventDefault();
  link.setAttribute("aria-busy", "true");
  try {
    const res = await fetch(link.href, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!res.ok) {
      throw new Error(`HTTP ${res.status}`);
    }
    const page = new DOMParser().parseFromString(await res.text(), "text/html");
    const list = document.getElementById("posts");
    for (const item of page.querySelectorAll("#posts > li")) {
      list.append(document.adoptNode(item));
    }
    const next = page.querySelector("a[data-load-more]");
    if (next) {
      link.setAttribute("href", next.getAttribute("href"));
      link.removeAttribute("aria-busy");
    } else {
      link.closest(".more").remove();
    }
  } catch {
    window.location.assign(link.href); // fall back to the plain link
  }
});
