// Builds the web client into the Python package (cti/web/static): one bundle with mqtt.js,
// the page and its style sheet. Deterministic output (no timestamps, no source paths from
// this machine), so `make web-check` can tell whether the committed bundle is current.
import { build } from "esbuild";
import { copyFileSync, mkdirSync } from "node:fs";

// `node build.mjs DIR` builds elsewhere (the check that the committed bundle is current).
const out = process.argv[2] ?? "../cti/web/static";
mkdirSync(out, { recursive: true });
await build({
  entryPoints: ["src/main.ts"],
  bundle: true,
  minify: true,
  format: "esm",
  platform: "browser",
  target: ["chrome110", "firefox110", "safari16"],
  outfile: `${out}/app.js`,
  legalComments: "none",
  logLevel: "warning",
});
for (const file of ["index.html", "app.css"]) copyFileSync(`public/${file}`, `${out}/${file}`);
