// quill's only script, and an optional one: every page works without it.
// "Older posts" is a plain link to the next page; with this script the
// next page's posts are added below instead. "Preview" on the post form
// posts the form to its preview route and shows the page that comes back;
// with this script only that page's preview replaces this one's, and what
// is typed stays as it is. Requests go to this origin only (the
// Content-Security-Policy allows nothing else).
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

document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-preview]");
  if (!button || !button.form) {
    return;
  }
  event.preventDefault();
  const form = button.form;
  const shown = document.getElementById("preview");
  button.setAttribute("aria-busy", "true");
  try {
    const res = await fetch(button.formAction, {
      method: "POST",
      body: new URLSearchParams(new FormData(form)),
      credentials: "same-origin",
      headers: { Accept: "text/html" },
    });
    const page = new DOMParser().parseFromString(await res.text(), "text/html");
    const preview = page.getElementById("preview");
    const error = page.getElementById("content-error");
    if (!preview || (!res.ok && !error)) {
      throw new Error(`HTTP ${res.status}`);
    }
    shown.replaceWith(document.adoptNode(preview));
    const mine = document.getElementById("content-error");
    if (error) {
      if (mine) {
        mine.replaceWith(document.adoptNode(error));
      } else {
        document.getElementById("content-hint").after(document.adoptNode(error));
      }
    } else if (mine) {
      mine.remove();
    }
    button.removeAttribute("aria-busy");
  } catch {
    form.requestSubmit(button); // fall back to the plain form post
  }
});
