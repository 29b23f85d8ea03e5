// quill's only script, and an optional one: every page works without it.
// "Preview" on the post form posts the form to its preview route and shows
// the page that comes back; with this script only that page's preview
// replaces this one's, and what is typed stays as it is. Requests go to
// this origin only (the Content-Security-Policy allows nothing else).
"use strict";

// Times in the reader's time zone. The server writes <time data-local
// datetime="…Z">, its text in UTC; this rewrites the text in the
// browser's zone and language, in each of roots.
function showLocalTimes(roots) {
  const format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  for (const el of roots.flatMap((root) => Array.from(root.querySelectorAll("time[data-local]")))) {
    const t = new Date(el.getAttribute("datetime"));
    if (!Number.isNaN(t.getTime())) {
      el.title = el.textContent; // the UTC text, on hover
      el.textContent = format.format(t);
    }
  }
}

// Pages of posts. "Older posts" is a plain link to the next page
// (?cursor=…). With this script the next page's posts are added below
// instead, and its URL goes into the address bar, so that reloading or
// sharing keeps the reader's place; Back and Forward step through the
// pages added, showing the posts up to that page.
const pager = {
  pages: [], // each page shown: { items: its <li>s, next: its "Older posts" URL or "" }
  shown: 0, // how many of pages are in the list
};

function setUpPager() {
  const list = document.getElementById("posts");
  if (!list) {
    return;
  }
  const link = document.querySelector("a[data-load-more]");
  pager.pages = [{ items: Array.from(list.children), next: link ? link.href : "" }];
  pager.shown = 1;
  history.replaceState({ quillPage: 0 }, "", location.href);
}

// showPages puts the first n loaded pages in the list, and points "Older
// posts" at the page after them.
function showPages(n) {
  const list = document.getElementById("posts");
  const link = document.querySelector("a[data-load-more]");
  for (let i = pager.shown; i < n; i++) {
    list.append(...pager.pages[i].items);
  }
  for (let i = pager.shown - 1; i >= n; i--) {
    for (const item of pager.pages[i].items) {
      item.remove();
    }
  }
  pager.shown = n;
  const next = pager.pages[n - 1].next;
  if (link) {
    link.hidden = next === "";
    if (next !== "") {
      link.href = next;
    }
  }
}

async function loadOlder(link) {
  link.setAttribute("aria-busy", "true");
  const url = link.href;
  try {
    const res = await fetch(url, { headers: { Accept: "text/html" }, credentials: "same-origin" });
    if (!res.ok) {
      throw new Error(`HTTP ${res.status}`);
    }
    const page = new DOMParser().parseFromString(await res.text(), "text/html");
    const items = Array.from(page.querySelectorAll("#posts > li")).map((item) => document.adoptNode(item));
    showLocalTimes(items);
    const next = page.querySelector("a[data-load-more]");
    // Pages after the one shown (left by Back) give way to the new one.
    pager.pages.length = pager.shown;
    pager.pages.push({ items, next: next ? next.href : "" });
    showPages(pager.pages.length);
    history.pushState({ quillPage: pager.pages.length - 1 }, "", url);
    link.removeAttribute("aria-busy");
    // Keyboard and screen reader users go on from the first new post.
    const first = items[0] && items[0].querySelector("h2 a");
    if (first) {
      first.focus();
    }
  } catch {
    window.location.assign(url); // fall back to the plain link
  }
}

document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-load-more]");
  if (!link || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey || event.button !== 0) {
    return;
  }
  event.preventDefault();
  if (link.getAttribute("aria-busy") !== "true") {
    loadOlder(link);
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

window.addEventListener("popstate", (event) => {
  const i = event.state && event.state.quillPage;
  if (typeof i !== "number") {
    return;
  }
  if (i < pager.pages.length) {
    showPages(i + 1);
  } else {
    window.location.reload(); // a page this document never loaded
  }
});

// A form shown again puts autofocus on the first field to fix, but a
// browser that opens the page at a section (#password) skips autofocus,
// and moves the focus to that section once the page has loaded; the
// field gets the focus then, the section being in view already.
function focusFieldToFix() {
  const field = document.querySelector("[autofocus]");
  if (field && document.activeElement !== field) {
    field.focus({ preventScroll: true });
  }
}

showLocalTimes([document]);
setUpPager();
if (document.readyState === "complete") {
  focusFieldToFix();
} else {
  window.addEventListener("load", () => setTimeout(focusFieldToFix, 0));
}
