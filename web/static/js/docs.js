// Starts Swagger UI (vendored under /static/swagger-ui/) on /openapi.json.
// A file rather than an inline script, so the Content-Security-Policy can
// forbid inline scripts.
"use strict";

// QuillLayout is Swagger UI's BaseLayout as the page needs it. The page
// has its own <main>, which holds this, so the operations are a <div>
// rather than a second <main> inside the first. The page has its own
// heading and introduction, so Swagger UI's (a second <h1>) are left out,
// and so is the servers list: the document names one server, "/", and
// the list's <select> has no label. The rest is BaseLayout's, from the
// components it uses; while the document is loading or fails to,
// BaseLayout itself shows that.
function QuillLayoutPlugin(system) {
  const React = system.React;
  const e = React.createElement;
  class QuillLayout extends React.Component {
    render() {
      const { getComponent, specSelectors } = this.props;
      if (specSelectors.loadingStatus() !== "success" || !specSelectors.specStr()) {
        return e(getComponent("BaseLayout", true));
      }
      const Row = getComponent("Row");
      const Col = getComponent("Col");
      const SvgAssets = getComponent("SvgAssets");
      const Errors = getComponent("errors", true);
      const AuthorizeBtnContainer = getComponent("AuthorizeBtnContainer", true);
      const Operations = getComponent("operations", true);
      const Models = getComponent("Models", true);
      return e("div", { className: "swagger-ui" },
        e(SvgAssets),
        e(Errors),
        specSelectors.securityDefinitions()
          ? e("div", { className: "scheme-container" },
            e(Col, { className: "schemes wrapper", mobile: 12 }, e(AuthorizeBtnContainer)))
          : null,
        e("div", { id: "operations" },
          e(Row, null, e(Col, { mobile: 12, desktop: 12 }, e(Operations))),
          e(Row, null, e(Col, { mobile: 12, desktop: 12 }, e(Models)))));
    }
  }
  return { components: { QuillLayout } };
}

// fixAccessibility mends what Swagger UI's markup lacks for assistive
// technology, each time it renders (it keeps attributes it did not set):
//   - the dialog's close button, an icon, is named "Close";
//   - a button whose label is not its visible text ("Authorize", labelled
//     "Apply given OAuth2 credentials") gets a label that starts with the
//     text, as speech input users say what they see;
//   - a heading that skips levels (an <h6> under an <h4>) is announced one
//     level below the heading before it;
//   - code blocks, which scroll sideways, can take the keyboard's focus.
function fixAccessibility(root) {
  for (const b of root.querySelectorAll("button.close-modal:not([aria-label])")) {
    b.setAttribute("aria-label", "Close");
  }
  for (const b of root.querySelectorAll("button[aria-label]")) {
    const text = b.textContent.trim();
    const label = b.getAttribute("aria-label");
    if (text !== "" && !label.toLowerCase().includes(text.toLowerCase())) {
      b.setAttribute("aria-label", `${text}: ${label}`);
    }
  }
  let level = 2; // the page's <h2>, above Swagger UI
  for (const h of root.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
    const own = Number(h.tagName.slice(1));
    if (own > level + 1) {
      h.setAttribute("aria-level", String(level + 1));
    } else if (h.getAttribute("aria-level") !== null && own <= level + 1) {
      h.removeAttribute("aria-level");
    }
    level = Number(h.getAttribute("aria-level") || own);
  }
  for (const pre of root.querySelectorAll("pre:not([tabindex])")) {
    pre.tabIndex = 0;
  }
}

const swaggerRoot = document.getElementById("swagger-ui");
let fixing = false;
new MutationObserver(() => {
  if (!fixing) {
    fixing = true;
    fixAccessibility(swaggerRoot);
    fixing = false;
  }
}).observe(swaggerRoot, { childList: true, subtree: true });

window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  // Deep links would put a link inside each operation's toggle button,
  // a control inside a control, which screen readers cannot tell apart.
  deepLinking: false,
  plugins: [QuillLayoutPlugin],
  layout: "QuillLayout",
  presets: [SwaggerUIBundle.presets.apis],
  validatorUrl: null, // the default sends the document to a third-party validator
  withCredentials: false,
  // The token stays in the page's memory, never in localStorage.
  persistAuthorization: false,
  displayRequestDuration: true,
  // Highlighted JSON has colours below WCAG's contrast on Swagger UI's
  // dark code blocks; plain, it is white on dark grey.
  syntaxHighlight: false,
});
