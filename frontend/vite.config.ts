import { defineConfig, type Plugin } from "vite";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import react from "@vitejs/plugin-react";
import { fileURLToPath } from "node:url";

const sdkSrc = fileURLToPath(new URL("../sdk/src/", import.meta.url));

const circuitsDir = fileURLToPath(new URL("../circuits/", import.meta.url));

/** Every published verification key under circuits/ (…verification_key*.json / *vkey*.json). */
function findVkeys(dir = circuitsDir, out: Record<string, string> = {}): Record<string, string> {
  if (!existsSync(dir)) return out;
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (f === "node_modules" || f.endsWith("_js")) continue;
    if (statSync(p).isDirectory()) findVkeys(p, out);
    else if (/(verification_key|vkey).*\.json$/i.test(f)) out[basename(f)] = p;
  }
  return out;
}

/**
 * Serves (dev) and emits (build) the circuits' verification keys under `vkey/`, so the audit page
 * re-verifies proofs against the published key. `vkey/record_count.json` is the prod key when
 * present, else the dev key; a deployment can name another with `vkeyUrl` in rapha.config.json.
 */
function vkeys(): Plugin {
  const pick = (m: Record<string, string>) =>
    Object.keys(m).find((k) => /prod/i.test(k)) ?? Object.keys(m).find((k) => /dev/i.test(k)) ?? Object.keys(m)[0];
  return {
    name: "rapha-vkeys",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const m = /^\/vkey\/([^?]+)/.exec(req.url ?? "");
        if (!m) return next();
        const all = findVkeys();
        const file = m[1] === "record_count.json" ? all[pick(all) ?? ""] : all[m[1]];
        if (!file) { res.statusCode = 404; return res.end("no such verification key"); }
        res.setHeader("content-type", "application/json");
        res.end(readFileSync(file));
      });
    },
    generateBundle() {
      const all = findVkeys();
      for (const [name, file] of Object.entries(all)) this.emitFile({ type: "asset", fileName: `vkey/${name}`, source: readFileSync(file) });
      const def = pick(all);
      if (def) this.emitFile({ type: "asset", fileName: "vkey/record_count.json", source: readFileSync(all[def]) });
    },
  };
}

// The dApp. `npm run dev:web` / `build:web` at the repository root.
export default defineConfig({
  base: "./", // hash-routed: the build works from any path of a static host
  plugins: [react(), vkeys()],
  // The dApp imports sdk modules by subpath (`@rapha/sdk/cohort`, `@rapha/sdk/abi`, …) straight from
  // TypeScript source, so each page pulls only what it uses (the sdk root also re-exports the prover).
  resolve: { alias: [{ find: /^@rapha\/sdk\/(.*)$/, replacement: `${sdkSrc}$1` }] },
  server: { host: "127.0.0.1", port: 5173, strictPort: false },
  preview: { host: "127.0.0.1", port: 4173 },
  build: {
    target: "es2022",
    outDir: "dist",
    sourcemap: false,
    manifest: true, // scripts/bench-web.ts reads the chunk graph
    chunkSizeWarningLimit: 4000,
  },
  test: {
    environment: "jsdom",
    include: ["test/**/*.test.{ts,tsx}"],
    setupFiles: ["test/setup.ts"],
  },
} as never);
