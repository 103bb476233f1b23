// Swagger UI for the REST API at /swagger-ui (SafeKit's path), served from the binary: the assets come
// from the swagger-ui-dist npm package as text imports, so no CDN and no file read at run time.
import type { Env, Hono } from "hono";
import bundleJs from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "text" };
import css from "swagger-ui-dist/swagger-ui.css" with { type: "text" };

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>safekit REST API</title>
<link rel="stylesheet" href="/swagger-ui/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/swagger-ui/swagger-ui-bundle.js"></script>
<script src="/swagger-ui/init.js"></script>
</body>
</html>
`;

// In a file of its own so a Content-Security-Policy without 'unsafe-inline' can apply to the page.
const INIT =
  `window.ui = SwaggerUIBundle({ url: "/api/openapi.json", dom_id: "#swagger-ui", validatorUrl: null,
  deepLinking: true, withCredentials: true });
`;

const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'";

export function mountSwaggerUi<E extends Env>(h: Hono<E>): void {
  const send = (body: string, type: string) =>
    new Response(body, {
      headers: {
        "content-type": type,
        "cache-control": "public, max-age=3600",
        "content-security-policy": CSP,
      },
    });
  h.get("/swagger-ui", (c) => c.redirect("/swagger-ui/", 301));
  h.get("/swagger-ui/", () => send(PAGE, "text/html; charset=utf-8"));
  h.get("/swagger-ui/index.html", () => send(PAGE, "text/html; charset=utf-8"));
  h.get("/swagger-ui/swagger-ui.css", () => send(css, "text/css; charset=utf-8"));
  h.get("/swagger-ui/swagger-ui-bundle.js", () => send(bundleJs, "text/javascript; charset=utf-8"));
  h.get("/swagger-ui/init.js", () => send(INIT, "text/javascript; charset=utf-8"));
}
