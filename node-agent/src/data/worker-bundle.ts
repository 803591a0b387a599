// The data worker (worker.ts) as one JavaScript module, so a worker thread starts without the
// TypeScript loader: tsx resolves and transpiles each of its ~100 modules (zod's among them) on a
// loader thread, ~0.6 s and ~0.8 CPU-s per worker on 2 vCPUs; the bundle starts in ~0.35 s and
// ~0.4 CPU-s. Built with esbuild (our sources and the sdk's; npm packages stay imports) into
// node_modules/.cache/rapha, named by the sources it is built from, so an edited source is rebuilt.
import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { buildSync, version as esbuildVersion } from "esbuild";

const AGENT = fileURLToPath(new URL("../..", import.meta.url));
const ENTRY = join(AGENT, "src/data/worker.ts");
/** where the worker's sources live: any change under them names a new bundle */
const SOURCES = [join(AGENT, "src/data"), join(AGENT, "../sdk/src")];

function sourceStamp(): string {
  const h = createHash("sha256").update(esbuildVersion);
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(ts|json)$/.test(e.name)) {
        const st = statSync(p);
        h.update(`${p}\0${st.size}\0${st.mtimeMs}\n`);
      }
    }
  };
  for (const d of SOURCES) walk(d);
  return h.digest("hex").slice(0, 16);
}

const cached = new Map<string, URL | undefined>();

/**
 * The bundled worker's file URL, built on first use (~0.1 s) and reused while its sources are
 * unchanged; undefined when it cannot be built or written (the caller runs the TypeScript sources).
 */
export function dataWorkerBundle(cacheDir = join(AGENT, "node_modules/.cache/rapha")): URL | undefined {
  if (cached.has(cacheDir)) return cached.get(cacheDir);
  let url: URL | undefined;
  try {
    const out = join(cacheDir, `data-worker-${sourceStamp()}.mjs`);
    if (!existsSync(out)) {
      const deps = Object.keys((JSON.parse(readFileSync(join(AGENT, "package.json"), "utf8")) as { dependencies: Record<string, string> }).dependencies);
      const r = buildSync({ entryPoints: [ENTRY], bundle: true, platform: "node", format: "esm", target: "node22", write: false, external: [...deps, ...deps.map((d) => `${d}/*`)], logLevel: "silent" });
      mkdirSync(cacheDir, { recursive: true });
      // written whole then renamed: a process starting a worker at the same moment never reads half a file
      const tmp = `${out}.${process.pid}.tmp`;
      writeFileSync(tmp, r.outputFiles[0]!.text);
      renameSync(tmp, out);
    }
    url = pathToFileURL(out);
  } catch {
    url = undefined;
  }
  cached.set(cacheDir, url);
  return url;
}
