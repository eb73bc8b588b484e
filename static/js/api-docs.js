// The API's browsable docs (templates api/docs.html): Swagger UI started from our own files,
// its settings read from the page's data attributes, so no inline script is needed.
(function () {
  "use strict";
  const body = document.body;
  const settings = JSON.parse(body.dataset.settings || "{}");
  window.SwaggerUIBundle(
    Object.assign(settings, {
      url: body.dataset.openapiUrl,
      dom_id: "#swagger-ui",
      presets: [window.SwaggerUIBundle.presets.apis],
    }),
  );
})();
