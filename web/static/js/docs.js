// Starts Swagger UI (vendored under /static/swagger-ui/) on /openapi.json.
// A file rather than an inline script, so the Content-Security-Policy can
// forbid inline scripts.
"use strict";

window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  layout: "BaseLayout",
  presets: [SwaggerUIBundle.presets.apis],
  validatorUrl: null, // the default sends the document to a third-party validator
  withCredentials: false,
  persistAuthorization: false,
  displayRequestDuration: true,
});
