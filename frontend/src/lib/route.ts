import { useEffect, useState } from "react";

/** A tiny hash router: `#/page?x=y`. No dependency, works from any static host. */
export interface Route { page: string; params: URLSearchParams }

export function parseHash(h: string): Route {
  const s = h.replace(/^#\/?/, "");
  const [p, q = ""] = s.split("?");
  return { page: p || "catalogue", params: new URLSearchParams(q) };
}

export function useRoute(): Route {
  const [r, setR] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const f = () => setR(parseHash(location.hash));
    addEventListener("hashchange", f);
    return () => removeEventListener("hashchange", f);
  }, []);
  return r;
}

export function go(page: string, params?: Record<string, string>) {
  const q = params ? `?${new URLSearchParams(params)}` : "";
  location.hash = `#/${page}${q}`;
}
