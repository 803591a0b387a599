// npm run bench:web — builds the dApp for production and writes reports/bench/web.json:
//   initialJsGzipBytes: gzip size of the JS the browser loads before any route chunk (the entry
//                       and its static imports / modulepreloads, as listed in dist/index.html)
//   defaultRouteJsGzipBytes: the same plus the default page (dataset catalogue) and its imports
//   totalJsGzipBytes:   gzip size of every JS chunk (routes, snarkjs, sdk builder, …)
import { execFileSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gzipSync } from "node:zlib";

const root = new URL("..", import.meta.url).pathname;
const dist = join(root, "frontend/dist");
execFileSync(join(root, "node_modules/.bin/vite"), ["build", "--config", "frontend/vite.config.ts", "frontend"], { cwd: root, stdio: "inherit" });

const gz = (f: string) => gzipSync(readFileSync(join(dist, f)), { level: 9 }).length;
const html = readFileSync(join(dist, "index.html"), "utf8");
const initial = [...html.matchAll(/(?:src|href)="(?:\.\/|\/)?(assets\/[^"]+\.js)"/g)].map((m) => m[1]);
const all = readdirSync(join(dist, "assets")).filter((f) => f.endsWith(".js")).map((f) => `assets/${f}`);
const chunks = Object.fromEntries(all.map((f) => [f.replace(/^assets\//, ""), gz(f)]));
// The default route (the dataset catalogue) = the entry + the Catalogue page chunk and its static imports.
type Chunk = { file: string; name?: string; imports?: string[]; isEntry?: boolean; src?: string };
const manifest = JSON.parse(readFileSync(join(dist, ".vite/manifest.json"), "utf8")) as Record<string, Chunk>;
const closure = (keys: string[], seen = new Set<string>()): Set<string> => {
  for (const k of keys) if (!seen.has(k)) { seen.add(k); closure(manifest[k]?.imports ?? [], seen); }
  return seen;
};
const entryKey = Object.keys(manifest).find((k) => manifest[k].isEntry)!;
const catKey = Object.keys(manifest).find((k) => k.endsWith("pages/Catalogue.tsx") || manifest[k].name === "Catalogue");
const routeFiles = [...closure([entryKey, ...(catKey ? [catKey] : [])])].map((k) => manifest[k].file).filter((f) => f.endsWith(".js"));
const result = {
  initialJsGzipBytes: initial.reduce((s, f) => s + gz(f), 0),
  defaultRouteJsGzipBytes: routeFiles.reduce((s, f) => s + gz(f), 0),
  totalJsGzipBytes: all.reduce((s, f) => s + gz(f), 0),
  initialJsFiles: initial,
  budgetInitialJsGzipBytes: 300 * 1024,
  chunksGzipBytes: chunks,
  builtAt: new Date().toISOString(),
};
mkdirSync(join(root, "reports/bench"), { recursive: true });
writeFileSync(join(root, "reports/bench/web.json"), JSON.stringify(result, null, 2) + "\n");
console.log(`initial JS ${(result.initialJsGzipBytes / 1024).toFixed(1)} kB gz (${initial.length} files), with the default route ${(result.defaultRouteJsGzipBytes / 1024).toFixed(1)} kB gz, total JS ${(result.totalJsGzipBytes / 1024).toFixed(1)} kB gz`);
if (result.initialJsGzipBytes > result.budgetInitialJsGzipBytes) {
  console.error("initial JS exceeds the 300 kB gzip budget");
  process.exitCode = 1;
}
